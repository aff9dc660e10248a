"""Fault injectors: each switches a chaos hook of the service on and off over its admin API.

The metrics then move because the service really saw slow or failing requests
(design.md, decision 3), never because a value was written.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from sim.gateway import ServiceGateway
from sim.records import FaultRecord, SimResult
from sim.specs import FaultKind, FaultSpec


class FaultInjectionError(RuntimeError):
    """The service refused a chaos switch: the run would not test what it claims to."""


def _chaos_body(fault: FaultSpec) -> dict[str, float]:
    if fault.kind is FaultKind.LATENCY_SPIKE:
        return {"delay_seconds": fault.magnitude}
    if fault.kind is FaultKind.ERROR_BURST:
        return {"error_rate": fault.magnitude}
    raise ValueError(f"fault kind {fault.kind!r} has no chaos switch")


def inject(
    env: simpy.Environment, gateway: ServiceGateway, fault: FaultSpec, result: SimResult
) -> Generator[simpy.Event, Any, None]:
    yield env.timeout(fault.start)
    started = env.now
    reply = yield gateway.request("PUT", f"/admin/chaos/{fault.name}", json=_chaos_body(fault), admin=True)
    _check(reply, fault, "switch on")
    yield env.timeout(fault.duration)
    reply = yield gateway.request("DELETE", f"/admin/chaos/{fault.name}", admin=True)
    _check(reply, fault, "switch off")
    result.faults.append(FaultRecord(fault.name, fault.kind, started, env.now, fault.magnitude))


def _check(reply: Any, fault: FaultSpec, what: str) -> None:
    if not reply.ok:
        raise FaultInjectionError(
            f"fault {fault.name!r}: the service refused to {what} its chaos hook "
            f"(status {reply.status}, {reply.error or reply.text[:200]})"
        )
