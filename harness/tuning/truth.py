"""Ground truth and scores: what an alert should have detected in a corpus, and how well a
variant of it did. Pure: run records and alert instances in, numbers out (docs/tuning.md).

Every fault of a run is an incident. An alert is *meant for* an incident when the run's
scenario expected it to fire for that fault. A firing of the alert (from ``fired_at`` to its
resolution, or the run's end) is a true positive when it overlaps an incident it is meant for,
or the ``grace`` after its end; any other firing is a false positive, wherever it falls. Recall
is per incident, precision per firing; detection is from the incident's start to its first true
firing (0 when the alert was already firing); the false alerts per day are counted over the
time no incident the alert is meant for was under way (nor its grace): a firing during another
layer's fault is false, so that time is time it could have been false in.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields

DEFAULT_GRACE = 600.0  # seconds after an incident's end in which a firing still belongs to it


@dataclass(frozen=True)
class Incident:
    fault: str
    start: float
    end: float
    meant_for: frozenset[str]  # the alerts the scenario expected to fire for it


@dataclass(frozen=True)
class RunTruth:
    """One run folder of the corpus: its incidents and what its scenario expected."""

    run: str  # the folder's name
    duration: float
    incidents: tuple[Incident, ...]
    silent: frozenset[str] = frozenset()  # alerts the scenario expected never to fire
    judged: frozenset[str] | None = None  # None: every alert; else (unexpected_alerts: ignore) only these

    def quiet_seconds(self, grace: float, alert: str | None = None) -> float:
        """Time outside the incidents ``alert`` is meant for (every incident when None) and
        their grace: where any firing of it is a false alert."""
        spans = sorted(
            (max(0.0, i.start), min(self.duration, i.end + grace))
            for i in self.incidents
            if alert is None or alert in i.meant_for
        )
        busy, reach = 0.0, 0.0
        for start, end in spans:
            start = max(start, reach)
            if end > start:
                busy += end - start
                reach = end
        return max(0.0, self.duration - busy)


@dataclass(frozen=True)
class Firing:
    """One alert instance that fired: seconds since its run's start."""

    fired_at: float
    resolved_at: float | None

    def overlaps(self, incident: Incident, grace: float) -> bool:
        """Whether this firing belongs to ``incident``: it overlaps it or the ``grace`` after it."""
        until = math.inf if self.resolved_at is None else self.resolved_at
        return self.fired_at <= incident.end + grace and until >= incident.start


def run_truth(name: str, verdict: dict[str, object]) -> RunTruth:
    """A run's truth from its ``verdict.json``: the faults as recorded, and which alert each
    expectation anchored to a fault expected (``silent`` ones: the alerts that must stay quiet)."""
    faults = verdict.get("faults") or []
    expectations = verdict.get("expectations") or []
    assert isinstance(faults, list) and isinstance(expectations, list)
    meant: dict[str, set[str]] = {}
    silent: set[str] = set()
    for e in expectations:
        alert, fault, text = e.get("alert"), e.get("fault"), str(e.get("expected", ""))
        if text.endswith(" never fires"):
            silent.add(str(alert))
        elif fault is not None and " fires " in text:
            meant.setdefault(str(fault), set()).add(str(alert))
    incidents = tuple(
        Incident(str(f["name"]), float(f["start"]), float(f["end"]), frozenset(meant.get(str(f["name"]), ())))
        for f in faults
    )
    duration = verdict.get("simulated_seconds")
    assert isinstance(duration, int | float)
    # A scenario that ignores unexpected alerts says nothing of the alerts it does not name:
    # their firings there are neither true nor false.
    named = {str(e.get("alert")) for e in expectations}
    judged = frozenset(named) if verdict.get("unexpected_alerts") == "ignore" else None
    return RunTruth(name, float(duration), incidents, frozenset(silent), judged)


@dataclass
class Score:
    """One alert variant over the corpus."""

    incidents: int = 0
    detected: int = 0
    true_firings: int = 0
    false_firings: int = 0
    quiet_seconds: float = 0.0
    detection: list[float] = field(default_factory=list)  # first true firing - incident start, per detected incident
    reset: list[float] = field(default_factory=list)  # last resolution - incident end, per detected and resolved one

    @property
    def precision(self) -> float | None:
        fired = self.true_firings + self.false_firings
        return None if fired == 0 else self.true_firings / fired

    @property
    def recall(self) -> float | None:
        return None if self.incidents == 0 else self.detected / self.incidents

    @property
    def detection_median(self) -> float | None:
        return _quantile(self.detection, 0.5)

    @property
    def false_per_day(self) -> float | None:
        return None if self.quiet_seconds <= 0 else self.false_firings * 86400.0 / self.quiet_seconds

    def add(self, other: Score) -> None:
        """Fold ``other`` in: the scores of two sets of runs as one (every field is a sum or a
        list of per-incident values, so a field added later is folded too)."""
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def summary(self) -> dict[str, float | int | None]:
        return {
            "incidents": self.incidents,
            "detected": self.detected,
            "recall": self.recall,
            "precision": self.precision,
            "true_firings": self.true_firings,
            "false_firings": self.false_firings,
            "false_per_day": self.false_per_day,
            "detection_median": self.detection_median,
            "detection_p95": _quantile(self.detection, 0.95),
            "reset_median": _quantile(self.reset, 0.5),
            "quiet_days": self.quiet_seconds / 86400.0,
        }


def _quantile(values: Sequence[float], q: float) -> float | None:
    """The median, or the nearest-rank ``q`` quantile (p95 of 20 values is the 19th)."""
    if not values:
        return None
    if q == 0.5:
        return float(statistics.median(values))
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def score_run(
    score: Score, alert: str, truth: RunTruth, firings: Iterable[Firing], grace: float = DEFAULT_GRACE
) -> None:
    """Add one run's firings of one variant of ``alert`` (the original rule's name) to ``score``;
    nothing when the run's scenario does not judge ``alert`` (``unexpected_alerts: ignore``)."""
    if truth.judged is not None and alert not in truth.judged:
        return
    mine = [i for i in truth.incidents if alert in i.meant_for]
    score.incidents += len(mine)
    score.quiet_seconds += truth.quiet_seconds(grace, alert)
    hits: dict[int, list[Firing]] = {}
    for firing in sorted(firings, key=lambda f: f.fired_at):
        owner = next((k for k, i in enumerate(mine) if firing.overlaps(i, grace)), None)
        if owner is None:
            score.false_firings += 1
        else:
            score.true_firings += 1
            hits.setdefault(owner, []).append(firing)
    for k, found in hits.items():
        incident = mine[k]
        score.detected += 1
        score.detection.append(max(0.0, found[0].fired_at - incident.start))  # already firing: detected at once
        resolved = [f.resolved_at for f in found]
        if all(r is not None for r in resolved):
            score.reset.append(max(r for r in resolved if r is not None) - incident.end)
