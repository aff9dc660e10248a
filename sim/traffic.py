"""Client traffic: Poisson arrivals of /predict requests, served by the server model; the desk
learns each prediction's outcome."""

from __future__ import annotations

import json
import random
from bisect import bisect
from collections.abc import Generator
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

import simpy

from sim.desk import Desk
from sim.gateway import Reply, ServiceGateway
from sim.market import Market
from sim.profile import PEAK, PROFILES
from sim.records import SimResult
from sim.server import ServerModel
from sim.specs import TrafficSpec


@dataclass
class TrafficState:
    """What faults change about traffic while the run goes on."""

    multiplier: float = 1.0
    ramps: dict[str, float] = field(default_factory=dict)  # each ramp's current factor, by fault name


def clients(
    env: simpy.Environment,
    gateway: ServiceGateway,
    traffic: TrafficSpec,
    server: ServerModel,
    state: TrafficState,
    market: Market,
    desk: Desk,
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
        symbol = rng.choice(population.symbols)
        body: dict[str, Any] = {"symbol": symbol}
        tick = market.states[symbol]
        if traffic.client_features:
            body["features"] = {k: round(v, 6) for k, v in tick.factors.items()}
        headers = {"X-Client": population.name}
        env.process(_request(env, gateway, server, body, headers, desk, tick.up, result))


def _request(
    env: simpy.Environment,
    gateway: ServiceGateway,
    server: ServerModel,
    body: dict[str, Any],
    headers: dict[str, str],
    desk: Desk,
    up: bool,
    result: SimResult,
) -> Generator[simpy.Event, Any, None]:
    """One request; ``up`` is the direction the market will take over the prediction's horizon."""
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
    result.responses[reply.label] += 1
    prediction_id = _prediction_id(reply)
    if prediction_id is not None:
        desk.record(prediction_id, up)


def _prediction_id(reply: Reply) -> str | None:
    if reply.status != 200:
        return None
    value = json.loads(reply.content).get("prediction_id")
    return value if isinstance(value, str) else None
