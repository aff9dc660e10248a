"""Fault injectors. Each enters at a boundary (design.md, decision 3): the service's chaos
hooks over its admin API, the traffic the clients send, the server's CPU, the process
itself, the rows the feed publishes, or the market. The metrics then move because the
service really saw it, never because a value was written.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import simpy

from sim.feed import FeedFaults
from sim.fleet import Fleet
from sim.gateway import Reply
from sim.market import Market
from sim.records import FaultRecord, SimResult
from sim.specs import FEED_FAULTS, FaultKind, FaultSpec
from sim.traffic import TrafficState
from sim.transport import Transport


class FaultInjectionError(RuntimeError):
    """A fault could not be injected: the run would not test what it claims to."""


@dataclass
class Boundaries:
    """Everything a fault can act on. The service's faults (chaos hooks, CPU, a crash) hit every
    replica running when they start: a bad dependency or a bad config reaches every pod."""

    env: simpy.Environment
    fleet: Fleet
    traffic: TrafficState
    market: Market
    feed: FeedFaults
    restart: Callable[[], Transport] | None = None
    # A live drill's: kill the real process at a crash (so Prometheus' scrapes fail, as they
    # would), and hear of every switch as it happens (the drill's journal and rollback).
    kill: Callable[[], None] | None = None
    on_switch: Callable[[FaultSpec, bool, float], None] | None = None


_CHAOS: dict[FaultKind, Callable[[float], dict[str, Any]]] = {
    FaultKind.LATENCY_SPIKE: lambda m: {"delay_seconds": m},
    FaultKind.ERROR_BURST: lambda m: {"error_rate": m},
    FaultKind.CPU_HOG: lambda m: {"cpu_cores": m},
    FaultKind.FEATURE_STORE_OUTAGE: lambda m: {"feature_store_down": True},
    FaultKind.PERIODIC_ERRORS: lambda m: {"error_every": round(m)},
}


CHAOS_KINDS = frozenset(_CHAOS)  # faults the service's chaos hooks carry, named after the fault


def _switch_on(b: Boundaries, fault: FaultSpec, until: float) -> Generator[simpy.Event, Any, None]:
    if fault.kind in _CHAOS:
        for replica in b.fleet.live():
            reply = yield replica.gateway.request(
                "PUT", f"/admin/chaos/{fault.name}", json=_CHAOS[fault.kind](fault.magnitude), admin=True
            )
            _check(reply, fault, "switch on")
            if fault.kind is FaultKind.CPU_HOG:
                b.env.process(replica.server.hog(fault.magnitude, until))
    elif fault.kind is FaultKind.TRAFFIC_SURGE:
        b.traffic.multiplier *= fault.magnitude
    elif fault.kind is FaultKind.TRAFFIC_RAMP:
        b.env.process(_ramp(b, fault, until))
    elif fault.kind in FEED_FAULTS:
        b.feed.start(fault)
    elif fault.kind is FaultKind.REGIME_CHANGE:
        b.market.override(fault.name, fault.regime, fault.magnitude)
    elif fault.kind is FaultKind.LOW_CONFIDENCE:
        b.market.dampen(fault.name, fault.magnitude)
    elif fault.kind is FaultKind.SERVICE_CRASH:
        if b.restart is None:
            raise FaultInjectionError(
                f"fault {fault.name!r}: a crash needs a service alertdrill can restart "
                "(in-process or --spawn, not --service-url)"
            )
        if b.kill is not None:
            b.kill()
        for replica in b.fleet.live():
            replica.gateway.crash()


def _switch_off(b: Boundaries, fault: FaultSpec) -> Generator[simpy.Event, Any, None]:
    if fault.kind in _CHAOS:
        for replica in b.fleet.live():
            if replica.gateway.down:  # a crash already took the chaos hook with the process
                continue
            reply = yield replica.gateway.request("DELETE", f"/admin/chaos/{fault.name}", admin=True)
            if reply.status != 404:  # restarted, or started, since: nothing to switch off
                _check(reply, fault, "switch off")
    elif fault.kind is FaultKind.TRAFFIC_SURGE:
        b.traffic.multiplier /= fault.magnitude
    elif fault.kind is FaultKind.TRAFFIC_RAMP:
        b.traffic.multiplier /= b.traffic.ramps.pop(fault.name, 1.0)
    elif fault.kind in FEED_FAULTS:
        b.feed.stop(fault)
    elif fault.kind is FaultKind.REGIME_CHANGE:
        b.market.release(fault.name)
    elif fault.kind is FaultKind.LOW_CONFIDENCE:
        b.market.undampen(fault.name)
    elif fault.kind is FaultKind.SERVICE_CRASH:
        assert b.restart is not None
        for replica in b.fleet.live():
            if replica.gateway.down:
                first = replica is b.fleet.replicas[0]
                replica.gateway.restart(
                    b.restart() if first or b.fleet.launch is None else b.fleet.launch(replica.build)
                )


RAMP_STEP = 60.0  # a ramp climbs once a simulated minute


def _ramp(b: Boundaries, fault: FaultSpec, until: float) -> Generator[simpy.Event, Any, None]:
    """Traffic grows linearly from its rate to ``magnitude`` times it by ``until`` (organic growth)."""
    start = b.env.now
    while b.env.now < until - 1e-9:
        factor = 1.0 + (fault.magnitude - 1.0) * (b.env.now - start) / max(until - start, 1e-9)
        b.traffic.multiplier *= factor / b.traffic.ramps.get(fault.name, 1.0)
        b.traffic.ramps[fault.name] = factor
        yield b.env.timeout(min(RAMP_STEP, until - b.env.now))


def inject(b: Boundaries, fault: FaultSpec, result: SimResult) -> Generator[simpy.Event, Any, None]:
    env = b.env
    yield env.timeout(fault.start)
    # Recorded when it starts, with its planned end: a fault may end with the run, when no
    # event is processed any more. Switches happen exactly on time, so the plan is the truth.
    result.faults.append(FaultRecord(fault.name, fault.kind, env.now, fault.end, fault.magnitude))
    if fault.flap_on is None or fault.flap_off is None:
        yield from _switch_on(b, fault, fault.end)
        _told(b, fault, True)
        yield env.timeout(fault.duration)
        yield from _switch_off(b, fault)
        _told(b, fault, False)
    else:
        while env.now < fault.end - 1e-9:
            on_until = min(fault.end, env.now + fault.flap_on)
            yield from _switch_on(b, fault, on_until)
            _told(b, fault, True)
            yield env.timeout(on_until - env.now)
            yield from _switch_off(b, fault)
            _told(b, fault, False)
            yield env.timeout(max(0.0, min(fault.end, env.now + fault.flap_off) - env.now))


def _told(b: Boundaries, fault: FaultSpec, on: bool) -> None:
    if b.on_switch is not None:
        b.on_switch(fault, on, b.env.now)


def _check(reply: Reply, fault: FaultSpec, what: str) -> None:
    if not reply.ok:
        raise FaultInjectionError(
            f"fault {fault.name!r}: the service refused to {what} its chaos hook "
            f"(status {reply.status}, {reply.error or reply.text[:200]})"
        )
