"""The scraper: GET /metrics every interval, stamped with simulated time, kept verbatim.

The raw bodies are kept (not parsed here) so the harness can store them exactly as
Prometheus' scrape loop would, failed scrapes included.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from sim.gateway import ServiceGateway
from sim.records import Scrape, SimResult


def scraper(
    env: simpy.Environment, gateway: ServiceGateway, interval: float, result: SimResult
) -> Generator[simpy.Event, Any, None]:
    while True:
        reply = yield gateway.request("GET", "/metrics")
        if reply.ok:
            result.scrapes.append(Scrape(env.now, reply.text))
        else:
            result.scrapes.append(Scrape(env.now, None))
        yield env.timeout(interval)
