"""The feature pipeline: publishes every symbol's latest factor values on a cadence."""

from __future__ import annotations

import random
from collections.abc import Generator
from typing import Any

import simpy

from service.model import FEATURES  # the service's contract: the factors it predicts from
from sim.gateway import ServiceGateway
from sim.records import SimResult


def features(rng: random.Random) -> dict[str, float]:
    return {f: round(rng.gauss(0.0, 1.0), 6) for f in FEATURES}


def feed(
    env: simpy.Environment,
    gateway: ServiceGateway,
    symbols: tuple[str, ...],
    interval: float,
    rng: random.Random,
    result: SimResult,
) -> Generator[simpy.Event, Any, None]:
    while True:
        now = gateway.now_unix()
        updates = [{"symbol": s, "timestamp": now, "features": features(rng)} for s in symbols]
        reply = yield gateway.request("POST", "/features", json={"updates": updates})
        result.feed_responses[str(reply.status) if reply.status is not None else "error"] += 1
        yield env.timeout(interval)
