"""The SRE Workbook's table, measured: its six ways to alert on a 99.9 % availability SLO
(chapter 5, "Alerting on SLOs") scored over simulated incidents, beside the figures the chapter
publishes. Pure: a tune's firings and a corpus' truths in, rows out (notebooks/workbook_slo.ipynb).

The chapter computes its figures from the window arithmetic alone, for a constant error ratio
seen continuously. A measurement differs where that idealisation does: Prometheus sees errors
at scrapes and decides at evaluations (15 s each here), ``rate()`` extrapolates, errors come
from a finite number of requests, and a run holds the history its lead-in gave it. Each
comparison says which of these moved the number, and by how much.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from harness.tuning.sweep import CorpusRun
from harness.tuning.truth import Firing, Score, score_run

PAGE, TICKET = "ErrorBudgetPage", "ErrorBudgetTicket"
STEP_SLACK = 60.0  # two scrapes and two evaluations at 15 s: the most the sampling can add


@dataclass(frozen=True)
class Approach:
    number: int
    title: str
    page: str  # the expression's name in tuning/workbook/approaches.yaml
    ticket: str | None = None


APPROACHES = (
    Approach(1, "Target error rate >= SLO threshold (10m)", "1: error rate >= SLO over 10m"),
    Approach(2, "Increased alert window (36h)", "2: error rate > SLO over 36h"),
    Approach(3, "Incrementing alert duration (for: 1h)", "3: error rate > SLO over 1m"),
    Approach(4, "Alert on burn rate (36 over 1h)", "4: burn rate > 36 over 1h"),
    Approach(5, "Multiple burn rates", "5: burn rates 14.4 over 1h, 6 over 6h", "5: burn rate 1 over 3d"),
    Approach(6, "Multiwindow, multi-burn-rate", "6: multiwindow, multi-burn-rate", "6: multiwindow, multi-burn-rate"),
)

# The corpus' incidents, by fault name (scenarios/workbook/).
INCIDENTS = {
    "total-outage": "total outage",
    "burn-35x": "35x burn",
    "errors-at-slo-rate": "errors at the SLO rate",
    "spikes-every-10m": "spikes every 10 min",
}


@dataclass(frozen=True)
class Published:
    """One figure of the chapter: what it says, for which approach, incident and criterion."""

    approach: int
    criterion: str  # detection | reset | recall | alerts_per_day | alerts_per_incident
    incident: str  # a fault name of INCIDENTS
    value: float  # seconds, a ratio, or a count
    says: str  # the chapter's claim, in our words
    derived: bool = False  # worked out from the chapter's expression rather than printed in it
    why: str = ""  # what can move the measurement away from it
    history: float = 0.0  # the clean history before the incident the figure assumes (its window)


PUBLISHED = (
    Published(
        1,
        "detection",
        "total-outage",
        0.6,
        "0.6 s to detect a total outage (10 min x 0.1 %)",
        why="Prometheus sees the first failures at the next scrape and decides at the next evaluation.",
    ),
    Published(
        1,
        "alerts_per_day",
        "errors-at-slo-rate",
        144,
        "up to 144 alerts a day at the SLO's error rate, with the SLO met",
        why="Each alert lasts until the 10-minute window holds fewer errors than 0.1 % of its requests: "
        "how often that flips depends on the traffic (at 1 request/s one error is already 0.17 %).",
    ),
    Published(
        2,
        "detection",
        "total-outage",
        130,
        "2 min 10 s to detect a total outage (36 h x 0.1 %)",
        why="The 36-hour window must hold 36 hours of clean history before the outage.",
        history=36 * 3600,
    ),
    Published(
        2,
        "reset",
        "total-outage",
        36 * 3600,
        "keeps firing for 36 hours after the outage",
        why="The alert stops once the outage has left the 36-hour window; a run must last that long after it.",
    ),
    Published(
        3,
        "detection",
        "total-outage",
        3600,
        "1 hour to detect a total outage, the same as a 0.2 % one",
        why="`for: 1h` counts from the first evaluation that sees errors.",
    ),
    Published(
        3,
        "recall",
        "spikes-every-10m",
        0.0,
        "an SLI that keeps dipping back within the SLO may never alert",
        why="Every return below the threshold restarts the hour of `for`.",
    ),
    Published(
        4,
        "detection",
        "total-outage",
        130,
        "good detection: 2 min 10 s for a total outage (1 h x 3.6 %)",
        derived=True,
        why="Prometheus sees the first failures at the next scrape and decides at the next evaluation.",
        history=3600,
    ),
    Published(
        4,
        "reset",
        "total-outage",
        58 * 60,
        "58 minutes to reset after a total outage",
        why="The outage must last at least an hour for the window to be full of errors when it ends.",
    ),
    Published(
        4,
        "recall",
        "burn-35x",
        0.0,
        "a 35x burn never alerts, yet spends the 30-day budget in 20.5 hours",
        why="The errors must stay under 3.6 % over every hour: random errors at 3.5 % cross it now and then.",
    ),
    Published(
        5,
        "alerts_per_incident",
        "total-outage",
        3,
        "one fast incident raises several alerts (the chapter's example: three) unless suppressed",
        why="Counted as the pages and tickets that fire for one incident.",
    ),
    Published(
        5,
        "reset",
        "total-outage",
        3 * 86400,
        "an even longer reset, from the three-day window (about three days)",
        derived=True,
        why="The ticket stops once the outage has left the 3-day window; a run must last that long after it.",
    ),
    Published(
        6,
        "recall",
        "burn-35x",
        1.0,
        "good recall: the 35x burn pages (its hour passes 14.4x after about 24 minutes)",
        derived=True,
        why="",
    ),
    Published(
        6,
        "reset",
        "total-outage",
        30 * 60,
        "resets with the short window of the pair that fired (30 min for 6h/30m)",
        derived=True,
        why="After a long outage the 6h/30m pair is the last to clear.",
    ),
    Published(
        6,
        "alerts_per_day",
        "errors-at-slo-rate",
        0,
        "good precision: no page while the SLO is met",
        why="",
    ),
)


@dataclass
class Measured:
    """An approach's alert (page or ticket) over the runs of one incident kind."""

    approach: int
    alert: str  # PAGE or TICKET
    incident: str
    score: Score
    firings_per_incident: float | None  # every firing that overlapped an incident, per detected one
    tail: float  # the shortest time a run of this kind went on after its incident ended
    history: float  # the shortest clean time before its incident began


Firings = dict[str, dict[str, list[list[float | None]]]]  # firings.json: variant key -> run -> firings


def load(tune_dir: Path) -> tuple[dict[str, dict[str, object]], Firings]:
    """tune.json's rows by variant key, and firings.json."""
    rows = json.loads((tune_dir / "tune.json").read_text(encoding="utf-8"))["variants"]
    fired = json.loads((tune_dir / "firings.json").read_text(encoding="utf-8"))
    return {str(r["key"]): r for r in rows}, fired


def variant_key(rows: dict[str, dict[str, object]], alert: str, name: str | None) -> str | None:
    """The key of ``alert``'s variant tried as the expression named ``name``."""
    if name is None:
        return None
    for key, row in rows.items():
        if row["alert"] == alert and row.get("expression") == name:
            return key
    return None


def measure(tune_dir: Path, corpus: list[CorpusRun], grace: float) -> list[Measured]:
    """Each approach's page (and ticket) scored per incident kind, over the runs that hold it."""
    rows, fired = load(tune_dir)
    out = []
    for approach in APPROACHES:
        for alert, name in ((PAGE, approach.page), (TICKET, approach.ticket)):
            key = variant_key(rows, alert, name)
            if key is None:
                continue
            mine = fired.get(key, {})
            for fault in INCIDENTS:
                held = [(r, [i for i in r.truth.incidents if i.fault == fault]) for r in corpus]
                runs = [(r, incidents) for r, incidents in held if incidents]
                if not runs:
                    continue
                score = Score()
                overlapping = 0
                for run, incidents in runs:
                    found = [Firing(float(a or 0.0), b) for a, b in mine.get(run.folder.name, [])]
                    score_run(score, alert, run.truth, found, grace)
                    overlapping += sum(f.overlaps(i, grace) for f in found for i in incidents)
                tail = min(r.truth.duration - max(i.end for i in incidents) for r, incidents in runs)
                history = min(min(i.start for i in incidents) for _, incidents in runs)
                per = None if score.detected == 0 else overlapping / score.detected
                out.append(Measured(approach.number, alert, fault, score, per, tail, history))
    return out


def _measured_value(p: Published, found: Iterable[Measured]) -> tuple[float | None, Measured | None, str]:
    """The measurement a published figure is compared with: (value, its source, a note)."""
    items = [m for m in found if m.approach == p.approach and m.incident == p.incident]
    page = next((m for m in items if m.alert == PAGE), None)
    ticket = next((m for m in items if m.alert == TICKET), None)
    if p.criterion == "alerts_per_incident":
        per = [m.firings_per_incident for m in items if m.firings_per_incident is not None]
        if not per:
            return None, None, ""
        return sum(per), page, "pages and tickets that fired for one incident"
    chosen = ticket if (p.criterion == "reset" and p.approach == 5) else page
    if chosen is None:
        return None, None, "no run of this incident in the corpus"
    s = chosen.score
    if p.criterion == "detection":
        return s.detection_median, chosen, ""
    if p.criterion == "recall":
        return s.recall, chosen, ""
    if p.criterion == "alerts_per_day":
        return s.false_per_day, chosen, f"{s.false_firings} alerts in {s.quiet_seconds / 86400:.1f} days"
    if p.criterion == "reset":
        value = s.summary()["reset_median"]
        if value is None and s.detected:
            return None, chosen, f"still firing when the run ended, {duration_text(chosen.tail)} after the incident"
        return (None if value is None else float(value)), chosen, ""
    raise ValueError(p.criterion)


def compare(p: Published, found: list[Measured]) -> dict[str, object]:
    """One row of the table: the chapter's figure, ours, and whether they agree (and why not)."""
    value, source, note = _measured_value(p, found)
    verdict, reason = "differs", p.why
    if value is None:
        if source is not None and p.criterion == "reset" and source.score.detected and source.tail < p.value:
            verdict, reason = "beyond the run", f"{note}; the chapter's figure lies later"
        elif source is not None and p.criterion == "reset" and source.score.detected:
            verdict, reason = "differs", f"{note}, later than the chapter's figure. {p.why}"
        else:
            verdict, reason = "not measured", note or "the approach never fired for this incident"
    elif p.criterion in ("detection", "reset"):
        delta = value - p.value
        if abs(delta) <= STEP_SLACK + 0.1 * p.value:
            verdict = "agrees"
            reason = "" if abs(delta) < 1 else f"{delta:+.0f} s: the scrape and evaluation steps"
        elif source is not None and source.history < p.history:
            reason = (
                f"the runs held {duration_text(source.history)} of clean history before the incident, "
                f"the window {duration_text(p.history)}: the errors weigh more in a window mostly empty"
            )
    elif p.criterion == "recall":
        verdict, reason = ("agrees", "") if value == p.value else ("differs", p.why)
    elif p.criterion == "alerts_per_day":
        agrees = value == 0 if p.value == 0 else 0 < value <= p.value
        verdict = "agrees" if agrees else "differs"
        reason = f"{note}. {p.why}".strip(" .") if p.why else note
    elif p.criterion == "alerts_per_incident":
        verdict = "agrees" if value >= p.value else "differs"
        reason = note
    return {
        "approach": p.approach,
        "incident": INCIDENTS[p.incident],
        "criterion": p.criterion.replace("_", " "),
        "workbook": p.says + (" (derived)" if p.derived else ""),
        "published": _show(p.criterion, p.value),
        "measured": "-" if value is None else _show(p.criterion, value),
        "verdict": verdict,
        "why": reason,
    }


def table(found: list[Measured]) -> list[dict[str, object]]:
    return [compare(p, found) for p in PUBLISHED]


def criteria(found: list[Measured]) -> list[dict[str, object]]:
    """The chapter's four criteria per approach and alert, over every incident kind it is meant
    for (recall, detection, reset) and the time it must stay quiet (precision, alerts a day)."""
    out = []
    for approach in APPROACHES:
        for alert in (PAGE, TICKET):
            mine = [m for m in found if m.approach == approach.number and m.alert == alert]
            if not mine:
                continue
            total = Score()
            for m in mine:
                total.add(m.score)
            row: dict[str, object] = {"approach": approach.number, "alert": "page" if alert == PAGE else "ticket"}
            summary = total.summary()
            row.update(
                precision=summary["precision"],
                recall=summary["recall"],
                alerts_per_day=summary["false_per_day"],
                detection_median=summary["detection_median"],
                reset_median=summary["reset_median"],
            )
            for m in mine:
                label = INCIDENTS[m.incident]
                row[f"detect: {label}"] = m.score.detection_median
            out.append(row)
    return out


def duration_text(seconds: float) -> str:
    if seconds >= 86400 and seconds % 3600 == 0:
        return f"{seconds / 86400:g} d" if seconds % 86400 == 0 else f"{seconds / 3600:g} h"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.1f} s"


def _show(criterion: str, value: float) -> str:
    if criterion in ("detection", "reset"):
        return duration_text(value)
    if criterion == "recall":
        return f"{value:.2f}"
    return f"{value:.1f}" if value % 1 else f"{value:.0f}"
