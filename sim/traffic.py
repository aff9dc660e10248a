"""Client traffic: Poisson arrivals of /predict requests, served by the server model."""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Generator
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

import simpy

from sim.feed import features
from sim.gateway import ServiceGateway
from sim.profile import PEAK, PROFILES
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
    """A Poisson process whose rate follows the profile, by thinning; each request its own process."""
    profile, peak = PROFILES[traffic.profile], PEAK[traffic.profile]
    shares = list(accumulate(p.share for p in traffic.populations))
    while True:
        yield env.timeout(rng.expovariate(traffic.rate * peak * state.multiplier))
        if rng.random() * peak > profile(gateway.now_unix()):
            continue
        population = traffic.populations[bisect(shares, rng.random() * shares[-1])]
        body: dict[str, Any] = {"symbol": rng.choice(population.symbols)}
        if traffic.client_features:
            body["features"] = features(rng)
        headers = {"X-Client": population.name}
        env.process(_request(env, gateway, server, body, headers, result))


def _request(
    env: simpy.Environment,
    gateway: ServiceGateway,
    server: ServerModel,
    body: dict[str, Any],
    headers: dict[str, str],
    result: SimResult,
) -> Generator[simpy.Event, Any, None]:
    arrived = env.now
    with server.cores.request() as core:
        yield core
        work = server.service_time()
        reply = yield gateway.request(
            "POST",
            "/predict",
            json=body,
            service_time=work,
            queue_time=env.now - arrived,
            arrived=arrived,
            headers=headers,
        )
        yield env.timeout(work)
    result.responses[str(reply.status) if reply.status is not None else "error"] += 1
