"""The scraper: GET /metrics every interval, stamped with simulated time, kept verbatim.

The raw bodies are kept (not parsed here) so the harness can store them exactly as
Prometheus' scrape loop would, failed scrapes included. The trading desks' own ``/metrics``
(the ``trading-desk`` job) is read at the same instants: it lives in the simulated world, so
reading it is a call, not an exchange.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from sim.book import TradeBook
from sim.gateway import ServiceGateway
from sim.records import Scrape, SimResult


def scraper(
    env: simpy.Environment, gateway: ServiceGateway, interval: float, result: SimResult, book: TradeBook
) -> Generator[simpy.Event, Any, None]:
    while True:
        reply = yield gateway.request("GET", "/metrics")
        if reply.ok:
            result.scrapes.append(Scrape(env.now, reply.text))
        else:
            result.scrapes.append(Scrape(env.now, None))
        result.desk_scrapes.append(Scrape(env.now, book.exposition(env.now)))
        yield env.timeout(interval)
