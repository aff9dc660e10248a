"""The scraper: GET /metrics every interval, stamped with simulated time, kept verbatim.

The raw bodies are kept (not parsed here) so the harness can store them exactly as
Prometheus' scrape loop would, failed scrapes included. The trading desks' own ``/metrics``
(the ``trading-desk`` job) is read at the same instants: it lives in the simulated world, so
reading it is a call, not an exchange. Each replica of the service is its own target, scraped
once it is ready; a replica removed is marked ended at the next scrape, as Prometheus ends a
target that left service discovery. The rollout controller's state (a labelled fleet's) is a
third target read like the desks'.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import simpy

from sim.book import TradeBook
from sim.fleet import Fleet
from sim.records import Scrape, SimResult


def scraper(
    env: simpy.Environment,
    fleet: Fleet,
    interval: float,
    result: SimResult,
    book: TradeBook,
    controller: Callable[[float], str] | None = None,
) -> Generator[simpy.Event, Any, None]:
    while True:
        now = env.now
        for replica in fleet.replicas:
            target = replica.target
            if target.ended is not None:
                continue
            if replica.removed_at is not None:
                target.ended = now
            elif now >= replica.ready_at:
                reply = yield replica.gateway.request("GET", "/metrics")
                target.scrapes.append(Scrape(now, reply.text if reply.ok else None))
        result.desk_scrapes.append(Scrape(now, book.exposition(now)))
        if controller is not None:
            result.controller_scrapes.append(Scrape(now, controller(now)))
        yield env.timeout(interval)
