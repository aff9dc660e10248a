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


@dataclass
class TargetScrapes:
    """One scrape target's scrapes: a replica of the service (``instance``, and ``version`` when
    the fleet is labelled), or an exporter of the world's. ``ended``: when it went away (a
    replica removed), so its series are marked stale then, as Prometheus does when a target
    disappears."""

    instance: str
    version: str | None = None
    scrapes: list[Scrape] = field(default_factory=list)
    ended: float | None = None


@dataclass(frozen=True)
class GateResult:
    """One gate at one decision: what Prometheus answered (None: no data)."""

    gate: str
    value: float | None
    samples: float | None
    verdict: str  # "pass", "fail" or "inconclusive"


@dataclass(frozen=True)
class RolloutDecision:
    """A decision of a rollout or the autoscaler, at simulated second ``time``."""

    time: float
    action: str  # "scale", "step", "analysis", "hold", "smoke", "switch", "promote" or "rollback"
    step: float | None = None  # the traffic fraction of the new version after the decision
    gates: tuple[GateResult, ...] = ()
    detail: str = ""


@dataclass
class RolloutRecord:
    name: str
    kind: str
    version: str
    old_version: str
    started: float
    outcome: str = "in_progress"  # "promoted", "rolled_back" or "in_progress" at the run's end
    at_step: float | None = None  # the traffic fraction the outcome was decided at
    ended: float | None = None
    decisions: list[RolloutDecision] = field(default_factory=list)


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
    targets: list[TargetScrapes] = field(default_factory=list)  # the service's replicas, in start order
    desk_scrapes: list[Scrape] = field(default_factory=list)  # the trading desks' /metrics, scraped alongside
    faults: list[FaultRecord] = field(default_factory=list)
    responses: Counter[str] = field(default_factory=Counter)
    failed_at: list[float] = field(default_factory=list)  # when each /predict that did not answer 200 ended
    feed_responses: Counter[str] = field(default_factory=Counter)
    feedback_responses: Counter[str] = field(default_factory=Counter)
    lag: list[float] = field(default_factory=list)  # live only: seconds each event came late on the wall clock
    wall_start: float | None = None  # live only: the wall time (Unix) of the world's second 0
    controller_scrapes: list[Scrape] = field(default_factory=list)  # the rollout controller's, when labelled
    rollouts: list[RolloutRecord] = field(default_factory=list)
    scaling: list[RolloutDecision] = field(default_factory=list)  # the autoscaler's changes

    @property
    def scrapes(self) -> list[Scrape]:
        """The first replica's scrapes: the service's, in a world of one replica."""
        return self.targets[0].scrapes if self.targets else []
