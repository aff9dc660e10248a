"""Simulation against reality: a drill's fire and resolve times beside those of the same scenario
simulated, with the bound the two should agree within.

Why they differ at all: a simulated run scrapes at 0, S, 2S, ... and evaluates each group at 0,
I, 2I, ... from the run's start; the live Prometheus scrapes its target at its own offset within
S, and evaluates each group at the offset its rule manager gives it within I (the group's
*phase*, read from ``/api/v1/rules``). Moving the scrape grid shifts when the data shows by up to
one scrape interval either way, and the evaluation grid when the condition is seen by up to one
evaluation interval, plus the group's phase against the simulated grid. So the bound for an
alert is ``S + I + phase``; everything else — the world, the seed, the service, the rules — is
the same. Notification times are shown too, but not bounded: Alertmanager's group timers start
from the first alert of a group and add their own phase (``group_interval``).
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.engine import RuleGroup
from harness.notify import Notification
from harness.run import RunResult


@dataclass(frozen=True)
class Row:
    """One expectation, simulated and live; ``what`` is ``fired`` or ``resolved`` (after the fault's
    start or end) or ``heard`` (the first delivered notification about the alert)."""

    expectation: str
    what: str
    simulated: float | None
    live: float | None
    bound: float | None  # None: shown, not bounded

    @property
    def difference(self) -> float | None:
        return None if self.simulated is None or self.live is None else self.live - self.simulated

    @property
    def within(self) -> bool:
        """Inside the bound; an expectation one side saw and the other did not is not."""
        if self.bound is None:
            return True
        if self.simulated is None and self.live is None:
            return True
        diff = self.difference
        return diff is not None and abs(diff) <= self.bound + 1e-6

    def record(self) -> dict[str, object]:
        return {
            "expectation": self.expectation,
            "what": self.what,
            "simulated": _round(self.simulated),
            "live": _round(self.live),
            "difference": _round(self.difference),
            "bound": self.bound,
            "within": self.within,
        }


def compare(
    live: RunResult,
    simulated: RunResult,
    rule_groups: list[RuleGroup],
    scrape_interval: float,
    phases: dict[str, float],
) -> list[Row]:
    """Per alert expectation, fire and resolve times; per notification expectation, when it was heard."""
    groups = {rule.name: g for g in rule_groups for rule in g.alerting_rules}
    rows = []
    pairs = zip(live.verdict.expectations, simulated.verdict.expectations, strict=False)
    for mine, theirs in pairs:
        if mine.description != theirs.description or not mine.alert or mine.fault is None:
            continue
        if mine.fired_after is None and theirs.fired_after is None:
            continue  # a silence, or an expectation neither saw fire
        group = groups.get(mine.alert)
        bound = None if group is None else scrape_interval + group.interval + phases.get(group.name, group.interval)
        rows.append(Row(mine.description, "fired", theirs.fired_after, mine.fired_after, bound))
        if mine.resolved_after is not None or theirs.resolved_after is not None:
            rows.append(Row(mine.description, "resolved", theirs.resolved_after, mine.resolved_after, bound))
    for e in live.scenario.notifications or ():
        if e.silent or e.alert is None or e.fault is None:
            continue
        start = next((f.start for f in live.sim.faults if f.name == e.fault), None)
        if start is None:
            continue
        sim_at, live_at = (_heard(r, e.receiver, e.alert, start) for r in (simulated, live))
        rows.append(Row(f"{e.receiver} hears {e.alert} after {e.fault} starts", "heard", sim_at, live_at, None))
    return rows


def _heard(result: RunResult, receiver: str, alert: str, start: float) -> float | None:
    found: list[Notification] = result.replay.notifications if result.replay is not None else []
    times = [
        (n.delivered_at or n.time) - start
        for n in found
        if n.delivered and n.receiver == receiver and n.status == "firing" and alert in n.names() and n.time >= start
    ]
    return min(times, default=None)


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def report(drill: dict[str, object]) -> str:
    """The comparison a drill recorded (verdict.json's ``drill.compare``), as a table."""
    records = drill.get("compare")
    if not isinstance(records, list):
        return "  (no comparison)"
    rows = [Row(r["expectation"], r["what"], r["simulated"], r["live"], r["bound"]) for r in records]
    head = "  simulated vs live, seconds after the fault (bound: scrape + evaluation interval + the group's phase):"
    return head + "\n" + table(rows)


def table(rows: list[Row]) -> str:
    lines = [f"  {'':6}{'expectation':58} {'':8} {'simulated':>9} {'live':>8} {'diff':>7} {'bound':>7}"]
    for r in rows:
        mark = "" if r.bound is None else ("ok" if r.within else "OUT")

        def t(x: float | None) -> str:
            return "-" if x is None else f"{x:.1f}s"

        diff = "-" if r.difference is None else f"{r.difference:+.1f}s"
        bound = "-" if r.bound is None else f"±{r.bound:.1f}s"
        lines.append(
            f"  {mark:6}{r.expectation[:58]:58} {r.what:8} {t(r.simulated):>9} {t(r.live):>8} {diff:>7} {bound:>7}"
        )
    return "\n".join(lines)
