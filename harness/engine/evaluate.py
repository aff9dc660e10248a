"""Evaluates rule groups with the real Prometheus engine at the groups' evaluation times.

Each rule's expression is a ``query_range`` whose steps are its group's evaluation times;
Prometheus evaluates a range query as one instant query per step, which is what the rule
manager does at each evaluation. Rules run in group order, and what a rule produces is
written back before the next rule is evaluated, as the rule manager stores it: a recording
rule's output series, and for an alerting rule ``ALERTS`` (1 per pending or firing alert,
with ``alertstate``) and ``ALERTS_FOR_STATE`` (its ``active_at``), each with a stale marker
at the first evaluation a series is absent. So a rule reading ``ALERTS`` sees a resolved
alert disappear at once, not five minutes later. No PromQL is evaluated here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import httpx

from harness.engine.alert_state import RuleTimeline, TemplateContext, run_state_machine
from harness.engine.remote_write import Labels, write
from harness.engine.rules import RecordingRule, RuleGroup
from harness.engine.samples import SampleSet, StaleMarking
from harness.errors import EngineError, QueryError

MAX_POINTS = 10_000  # Prometheus refuses query_range with more than 11,000 points per series
Vector = list[tuple[Labels, float]]


@dataclass(frozen=True)
class EvaluationWindow:
    start_unix: float
    duration: float


@dataclass
class Evaluation:
    derived: SampleSet  # recording-rule outputs, ALERTS and ALERTS_FOR_STATE as written
    timelines: list[RuleTimeline] = field(default_factory=list)


def evaluation_times(interval: float, duration: float) -> list[float]:
    """Seconds since the run's start at which a group with this interval evaluates."""
    return [k * interval for k in range(math.floor(duration / interval + 1e-9) + 1)]


def query_range(client: httpx.Client, url: str, expr: str, start: float, end: float, step: float) -> dict[int, Vector]:
    """Instant vectors by evaluation time (Unix ms), fetched in chunks Prometheus accepts."""
    out: dict[int, Vector] = {}
    chunk = step * (MAX_POINTS - 1)
    t = start
    while t <= end + 1e-9:
        stop = min(end, t + chunk)
        for result in _fetch(client, url, expr, t, stop, step):
            labels = tuple(sorted(result["metric"].items()))
            for ts, value in result["values"]:
                out.setdefault(round(float(ts) * 1000), []).append((labels, float(value)))
        t = stop + step
    return out


def _fetch(client: httpx.Client, url: str, expr: str, start: float, end: float, step: float) -> list[dict]:  # type: ignore[type-arg]
    params = {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
    kind, result = _api(client, f"{url}/api/v1/query_range", expr, params, "query_range")
    if kind != "matrix":
        raise QueryError(f"query_range {expr!r} returned a {kind}, not a matrix")
    return result  # type: ignore[no-any-return]


def _api(client: httpx.Client, endpoint: str, expr: str, params: dict[str, str], what: str) -> tuple[str, Any]:
    """(resultType, result) of one query API call, or a QueryError saying what Prometheus said."""
    try:
        response = client.get(endpoint, params=params)
    except httpx.HTTPError as exc:
        raise QueryError(f"{what} {expr!r} failed: {exc}") from exc
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    if response.status_code != 200 or body.get("status") != "success":
        raise QueryError(f"{what} {expr!r} answered {response.status_code}: {body.get('error') or response.text[:300]}")
    return body["data"]["resultType"], body["data"]["result"]


def recorded(rule: RecordingRule, vector: Vector, at: float) -> dict[Labels, float]:
    """A recording rule's output: the series renamed and the rule's labels applied."""
    out: dict[Labels, float] = {}
    for series, value in vector:
        merged = {k: v for k, v in series if k != "__name__"}
        merged.update(rule.labels)
        merged["__name__"] = rule.record
        labels = tuple(sorted((k, v) for k, v in merged.items() if v != ""))
        if labels in out:
            raise EngineError(
                f"recording rule {rule.record!r} at t={at:g}s: vector contains metrics with the same "
                f"labelset after applying rule labels: {dict(labels)}"
            )
        out[labels] = value
    return out


def alert_series(timeline: RuleTimeline, times: list[float], start_unix: float) -> list[dict[Labels, float]]:
    """``ALERTS`` and ``ALERTS_FOR_STATE`` at each evaluation time, as the rule manager writes them."""
    by_time: dict[float, dict[Labels, float]] = {t: {} for t in times}
    for row in timeline.rows:
        labels = dict(row.labels)
        alerts = {**labels, "__name__": "ALERTS", "alertstate": row.state.value}
        for_state = {**labels, "__name__": "ALERTS_FOR_STATE"}
        by_time[row.time][tuple(sorted(alerts.items()))] = 1.0
        by_time[row.time][tuple(sorted(for_state.items()))] = start_unix + row.active_at
    return [by_time[t] for t in times]


def evaluate_groups(
    client: httpx.Client,
    url: str,
    groups: list[RuleGroup],
    window: EvaluationWindow,
    context: TemplateContext | None = None,
) -> Evaluation:
    """Every rule of every group, in order, over the run's evaluation times, writing outputs back."""
    result = Evaluation(SampleSet(window.start_unix))
    for group in groups:
        times = evaluation_times(group.interval, window.duration)
        stamps = [round((window.start_unix + t) * 1000) for t in times]
        for rule in group.rules:
            found = query_range(
                client, url, rule.expr, window.start_unix + times[0], window.start_unix + times[-1], group.interval
            )
            vectors = [found.get(ms, []) for ms in stamps]
            if isinstance(rule, RecordingRule):
                outputs = [recorded(rule, v, t) for v, t in zip(vectors, times, strict=True)]
            else:
                timeline = run_state_machine(rule, zip(times, vectors, strict=True), context)
                result.timelines.append(timeline)
                outputs = alert_series(timeline, times, window.start_unix)
            written = SampleSet(window.start_unix)
            marking = StaleMarking(written)
            for ms, output in zip(stamps, outputs, strict=True):
                marking.observe(ms, output)
            if written.series:
                write(client, url, list(written.series.items()))
                result.derived.series.update(written.series)
    return result


def instant_query(client: httpx.Client, url: str, expr: str, at_unix: float) -> Vector:
    """``expr`` evaluated by Prometheus at ``at_unix``: a vector (a scalar as one unlabelled
    element; a string is refused)."""
    kind, result = _api(client, f"{url}/api/v1/query", expr, {"query": expr, "time": f"{at_unix:.3f}"}, "query")
    if kind == "scalar":
        return [((), float(result[1]))]
    if kind != "vector":
        raise QueryError(f"query {expr!r} returned a {kind}, not a number")
    return [(tuple(sorted(r["metric"].items())), float(r["value"][1])) for r in result]
