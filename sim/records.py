"""What a simulated run observed: scrapes as they were answered, faults as they happened."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sim.specs import FaultKind


@dataclass(frozen=True)
class Scrape:
    """One GET /metrics at simulated second ``time``; ``body`` is None when it failed."""

    time: float
    body: str | None

    @property
    def ok(self) -> bool:
        return self.body is not None


@dataclass(frozen=True)
class FaultRecord:
    name: str
    kind: FaultKind
    start: float
    end: float
    magnitude: float


@dataclass
class SimResult:
    duration: float
    scrapes: list[Scrape] = field(default_factory=list)
    desk_scrapes: list[Scrape] = field(default_factory=list)  # the trading desks' /metrics, scraped alongside
    faults: list[FaultRecord] = field(default_factory=list)
    responses: Counter[str] = field(default_factory=Counter)
    feed_responses: Counter[str] = field(default_factory=Counter)
    feedback_responses: Counter[str] = field(default_factory=Counter)
    lag: list[float] = field(default_factory=list)  # live only: seconds each event came late on the wall clock
    wall_start: float | None = None  # live only: the wall time (Unix) of the world's second 0
