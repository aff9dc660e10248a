"""What an alert watches, for plots: the signal left of an alert's threshold comparison.

``histogram_quantile(...) > 0.025`` watches ``histogram_quantile(...)`` against 0.025. We
split the expression's text at its outermost comparison with a number (after taking the
first operand of a top-level ``and``/``or``/``unless``); Prometheus then evaluates the signal
with ``query_range`` like any rule. Expressions of another shape have no signal to plot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

from harness.engine import EvaluationWindow, Labels, RecordingRule, RuleGroup, evaluation_times, query_range

_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_TAIL = re.compile(rf"(>=|<=|==|!=|>|<)\s*(?:bool\s+)?({_NUMBER})\s*$")
_SET_OPERATOR = re.compile(r"\b(and|or|unless)\b")


@dataclass(frozen=True)
class Signal:
    expr: str
    op: str
    threshold: float


def _top_level(expr: str) -> list[bool]:
    """For each character, whether it sits outside (), [], {} and strings."""
    depth, quote, out = 0, "", []
    for ch in expr:
        if quote:
            out.append(False)
            if ch == quote:
                quote = ""
            continue
        if ch in "\"'`":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        out.append(depth == 0 and not quote)
    return out


def _wrapped(clause: str) -> bool:
    """Whether the whole clause is one parenthesised expression."""
    if not (clause.startswith("(") and clause.endswith(")")):
        return False
    top = _top_level(clause)
    return not any(top[1:-1])


def _first_operand(expr: str) -> str:
    top = _top_level(expr)
    for m in _SET_OPERATOR.finditer(expr):
        if top[m.start()]:
            return expr[: m.start()].strip()
    return expr.strip()


def signal_of(expr: str) -> Signal | None:
    clause = _first_operand(expr)
    while _wrapped(clause):
        clause = _first_operand(clause[1:-1])
    m = _TAIL.search(clause)
    if m is None or not _top_level(clause)[m.start()]:
        return None
    lhs = clause[: m.start()].strip()
    return Signal(lhs, m.group(1), float(m.group(2))) if lhs else None


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
