"""Text output of a run for a terminal: the summary table and progress lines."""

from __future__ import annotations

import sys
import textwrap
from typing import TextIO

from harness.run import RunResult


class ProgressPrinter:
    """A RunListener that prints phases and simulated progress to stderr.

    On a terminal the simulated minutes count up on one line; elsewhere (CI logs, files) a line
    every tenth of the run, so a day-long scenario logs ten lines, not three hundred.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self._live = bool(getattr(self.stream, "isatty", lambda: False)())
        self._next_tenth = 1
        self._open_line = False

    def phase_started(self, phase: str) -> None:
        print(f"  {phase} ...", file=self.stream, flush=True)

    def phase_finished(self, phase: str, seconds: float) -> None:
        if self._open_line:
            print(file=self.stream)
            self._open_line = False
        print(f"  {phase} done in {seconds:.2f}s", file=self.stream, flush=True)

    def simulated(self, now: float, total: float) -> None:
        line = f"    simulated {now / 60:.0f} of {total / 60:.0f} min ({100 * now / total:.0f} %)"
        if self._live:
            print(f"\r{line}", end="", file=self.stream, flush=True)
            self._open_line = True
        elif now >= total * self._next_tenth / 10:
            print(line, file=self.stream, flush=True)
            self._next_tenth = int(10 * now // total) + 1


def _t(value: float | None) -> str:
    return "-" if value is None else f"{value:g}s"


def summary(result: RunResult) -> str:
    lines = [f"scenario {result.scenario.name}  seed {result.seed}  {'PASSED' if result.passed else 'FAILED'}"]
    lines.append(f"{'':2}{'result':6}  {'expectation':62}  observed")
    for e in result.verdict.expectations:
        # Wrapped, never cut: the end of an expectation (its resolve window) is what a reader checks.
        first, *rest = textwrap.wrap(e.description, 62) or [""]
        lines.append(f"{'':2}{'ok' if e.passed else 'FAIL':6}  {first:62}  {e.observed}")
        lines += [f"{'':10}{more}" for more in rest]
    fired = [a for a in result.alerts if a.fired_at is not None]
    lines.append(f"  alerts fired: {len(fired)}")
    for a in fired:
        lines.append(
            f"    {a.alertname:24} active {_t(a.active_at):>8}  fired {_t(a.fired_at):>8}  "
            f"resolved {_t(a.resolved_at):>8}"
        )
    if result.replay is not None:
        sent = result.replay.notifications
        lines.append(
            f"  notifications: {sum(n.delivered for n in sent)} delivered"
            + (f", {sum(not n.delivered for n in sent)} refused" if any(not n.delivered for n in sent) else "")
            + (f" (Alertmanager at {result.replay.speed:g}x)" if result.drill is None else " (live)")
        )
        incidents: dict[str, int] = {}
        for n in sent:
            names = ", ".join(sorted(n.names())) or "?"
            if n.incident is not None:  # PagerDuty: one incident per dedup key; a later trigger updates it
                again = n.incident in incidents and n.status == "firing"
                number = incidents.setdefault(n.incident, len(incidents) + 1)
                names += f"  (incident {number}{', update' if again else ''})"
            at = f", delivered at {n.delivered_at:.0f}s" if n.delivered_at is not None else ""
            tries = f"  {len(n.attempts)} attempts{at}" if len(n.attempts) > 1 else ""
            got = "" if n.delivered else "  REFUSED"
            lines.append(f"    {n.time:>7.0f}s  {n.receiver:28} {n.kind:9} {n.status:8} {names}{tries}{got}")
    t = result.timings
    if result.drill is not None:
        lag = result.drill.get("world_lag") or {}
        assert isinstance(lag, dict)
        late = (
            f"; the world ran late by {lag['median'] * 1000:.1f} ms (median), {lag['max']:.3f}s at worst" if lag else ""
        )
        ran = result.drill.get("ran_seconds")
        ran = ran if isinstance(ran, float | int) else result.scenario.duration
        lines.append(
            f"  live drill: {float(ran) / 60:.2f} of {result.scenario.duration / 60:.2f} min of wall time{late}"
        )
    else:
        lines.append(
            f"  {result.scenario.duration / 60:g} simulated min in {t.get('total', 0):.1f}s wall "
            f"(simulate {t.get('simulate', 0):.1f}s, write {t.get('write', 0):.1f}s, "
            f"evaluate {t.get('evaluate', 0):.1f}s)"
        )
    if result.out_dir is not None:
        lines.append(f"  run folder: {result.out_dir}")
    return "\n".join(lines)
