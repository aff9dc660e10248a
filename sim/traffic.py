"""Client traffic: Poisson arrivals of /predict requests, served by the server model."""

from __future__ import annotations

import random
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import simpy

from sim.feed import features
from sim.gateway import ServiceGateway
from sim.records import SimResult
from sim.server import ServerModel
from sim.specs import TrafficSpec


@dataclass
class TrafficState:
    """What faults change about traffic while the run goes on."""

    multiplier: float = 1.0


def clients(
    env: simpy.Environment,
    gateway: ServiceGateway,
    traffic: TrafficSpec,
    server: ServerModel,
    state: TrafficState,
    rng: random.Random,
    result: SimResult,
) -> Generator[simpy.Event, Any, None]:
    """Arrivals with exponential gaps at the current rate, each served in its own process."""
    while True:
        yield env.timeout(rng.expovariate(traffic.rate * state.multiplier))
        body: dict[str, Any] = {"symbol": rng.choice(traffic.symbols)}
        if traffic.client_features:
            body["features"] = features(rng)
        env.process(_request(env, gateway, server, body, result))


def _request(
    env: simpy.Environment, gateway: ServiceGateway, server: ServerModel, body: dict[str, Any], result: SimResult
) -> Generator[simpy.Event, Any, None]:
    arrived = env.now
    with server.cores.request() as core:
        yield core
        work = server.service_time()
        reply = yield gateway.request(
            "POST", "/predict", json=body, service_time=work, queue_time=env.now - arrived, arrived=arrived
        )
        yield env.timeout(work)
    result.responses[str(reply.status) if reply.status is not None else "error"] += 1
