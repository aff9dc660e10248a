"""Client traffic: Poisson arrivals of /predict requests from a set of symbols."""

from __future__ import annotations

import math
import random
from collections.abc import Generator
from typing import Any

import simpy

from service.model import FEATURES  # the service's contract: the factors it predicts from
from sim.gateway import ServiceGateway
from sim.records import SimResult
from sim.specs import ServerSpec, TrafficSpec


def clients(
    env: simpy.Environment,
    gateway: ServiceGateway,
    traffic: TrafficSpec,
    server: ServerSpec,
    rng: random.Random,
    result: SimResult,
) -> Generator[simpy.Event, Any, None]:
    """Send requests with exponential gaps; tally the replies by status."""
    mu = math.log(server.service_time_median)
    while True:
        yield env.timeout(rng.expovariate(traffic.rate))
        body = {
            "symbol": rng.choice(traffic.symbols),
            "features": {f: round(rng.gauss(0.0, 1.0), 6) for f in FEATURES},
        }
        service_time = rng.lognormvariate(mu, server.service_time_sigma)
        reply = yield gateway.request("POST", "/predict", json=body, service_time=service_time)
        result.responses[str(reply.status) if reply.status is not None else "error"] += 1
