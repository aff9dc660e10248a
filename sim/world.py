"""Builds the simulated world for one run and drives it against a service."""

from __future__ import annotations

import random
from collections.abc import Callable

import httpx
import simpy

from sim.driver import drive
from sim.faults import Boundaries, inject
from sim.feed import feed
from sim.gateway import ServiceGateway
from sim.records import SimResult
from sim.scrape import scraper
from sim.server import ServerModel
from sim.specs import WorldSpec
from sim.traffic import TrafficState, clients


def stream(seed: int, name: str) -> random.Random:
    """An independent generator per purpose, so adding one stream never shifts another."""
    return random.Random(f"{seed}:{name}")


async def simulate(
    spec: WorldSpec,
    transport: httpx.AsyncBaseTransport,
    base_url: str = "http://service",
    admin_token: str | None = None,
    on_progress: Callable[[float], None] | None = None,
    restart: Callable[[], httpx.AsyncBaseTransport] | None = None,
) -> SimResult:
    """Run the world for ``spec.duration`` simulated seconds against the service behind ``transport``.

    ``restart`` starts a fresh service process and returns its transport; a crash fault needs it.
    """
    env = simpy.Environment()
    result = SimResult(duration=spec.duration)
    gateway = ServiceGateway(env, transport, httpx.URL(base_url), spec.start_unix, admin_token)
    server = ServerModel(env, spec.server, stream(spec.seed, "server"))
    boundaries = Boundaries(env, gateway, server, TrafficState(), restart)
    try:
        env.process(scraper(env, gateway, spec.scrape_interval, result))
        env.process(
            clients(env, gateway, spec.traffic, server, boundaries.traffic, stream(spec.seed, "traffic"), result)
        )
        symbols = spec.traffic.all_symbols
        env.process(feed(env, gateway, symbols, spec.feed_interval, stream(spec.seed, "feed"), result))
        for fault in spec.faults:
            env.process(inject(boundaries, fault, result))
        await drive(env, gateway, spec.duration, on_progress)
    finally:
        await gateway.aclose()
    result.faults.sort(key=lambda f: (f.start, f.name))
    return result
