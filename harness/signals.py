"""What an alert watches, for plots: the signal left of an alert's threshold comparison.

``histogram_quantile(...) > 0.025`` watches ``histogram_quantile(...)`` against 0.025. The
expression is parsed (``harness.promql``) and split at its outermost comparison with a number
(after taking the first operand of a top-level ``and``/``or``/``unless``); the signal is that
comparison's left operand as the rule writes it, and Prometheus then evaluates it with
``query_range`` like any rule. Expressions of another shape have no signal to plot, nor have
the (Prometheus-valid) ones alertdrill's parser cannot read: a plot is not worth a failed run.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from harness.engine import EvaluationWindow, Labels, RecordingRule, RuleGroup, evaluation_times, query_range
from harness.errors import PromQLError
from harness.promql import threshold


@dataclass(frozen=True)
class Signal:
    expr: str
    op: str
    threshold: float


def signal_of(expr: str) -> Signal | None:
    try:
        found = threshold(expr)
    except PromQLError:
        return None
    return None if found is None else Signal(found.signal, found.op, found.value)


@dataclass(frozen=True)
class SignalSeries:
    """What an alert watched (its expression left of the threshold), as Prometheus evaluated it."""

    alert: str
    expr: str
    op: str
    threshold: float
    points: tuple[tuple[float, Labels, float], ...]  # (seconds since start, labels, value)


def evaluate_signals(
    client: httpx.Client, url: str, groups: list[RuleGroup], window: EvaluationWindow
) -> list[SignalSeries]:
    """What each alert watched, evaluated by Prometheus at its group's times: for plots only, so
    asked for only when a run folder is written (one more ``query_range`` per alert), after
    ``evaluate_groups`` has written the recording rules' outputs the signals may read."""
    out: list[SignalSeries] = []
    for group in groups:
        times = evaluation_times(group.interval, window.duration)
        for rule in group.rules:
            if isinstance(rule, RecordingRule) or (signal := signal_of(rule.expr)) is None:
                continue
            start, end = window.start_unix + times[0], window.start_unix + times[-1]
            seen = query_range(client, url, signal.expr, start, end, group.interval)
            points = tuple(
                (ms / 1000 - window.start_unix, labels, value)
                for ms, vector in sorted(seen.items())
                for labels, value in vector
            )
            out.append(SignalSeries(rule.name, signal.expr, signal.op, signal.threshold, points))
    return out
