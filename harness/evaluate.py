"""Evaluates rule groups with the real Prometheus engine at the groups' evaluation times.

Each alerting rule's expression is a ``query_range`` whose steps are the group's evaluation
times; Prometheus evaluates a range query as one instant query per step, which is what the
rule manager does at each evaluation. The state machine (``alert_state``) then turns the
results into alert instances. No PromQL is evaluated here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from harness.alert_state import Labels, RuleTimeline, run_state_machine
from harness.errors import QueryError, RuleFileError
from harness.rules import AlertingRule, RecordingRule, RuleGroup

MAX_POINTS = 10_000  # Prometheus refuses query_range with more than 11,000 points per series


@dataclass(frozen=True)
class EvaluationWindow:
    start_unix: float
    duration: float


def evaluation_times(interval: float, duration: float) -> list[float]:
    """Seconds since the run's start at which a group with this interval evaluates."""
    return [k * interval for k in range(math.floor(duration / interval + 1e-9) + 1)]


def query_range(
    client: httpx.Client, url: str, expr: str, start: float, end: float, step: float
) -> dict[int, list[tuple[Labels, float]]]:
    """Instant vectors by evaluation time (Unix ms), fetched in chunks Prometheus accepts."""
    out: dict[int, list[tuple[Labels, float]]] = {}
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
    try:
        response = client.get(f"{url}/api/v1/query_range", params=params)
    except httpx.HTTPError as exc:
        raise QueryError(f"query_range {expr!r} failed: {exc}") from exc
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    if response.status_code != 200 or body.get("status") != "success":
        raise QueryError(
            f"query_range {expr!r} answered {response.status_code}: {body.get('error') or response.text[:300]}"
        )
    if body["data"]["resultType"] != "matrix":
        raise QueryError(f"query_range {expr!r} returned a {body['data']['resultType']}, not a matrix")
    return body["data"]["result"]  # type: ignore[no-any-return]


def evaluate_groups(
    client: httpx.Client,
    url: str,
    groups: list[RuleGroup],
    window: EvaluationWindow,
    on_rule: Callable[[AlertingRule], None] | None = None,
) -> list[RuleTimeline]:
    """Every alerting rule of every group, in order, over the run's evaluation times."""
    timelines = []
    for group in groups:
        times = evaluation_times(group.interval, window.duration)
        for rule in group.rules:
            if isinstance(rule, RecordingRule):
                raise RuleFileError(
                    f"{group.source}: group {group.name!r}: recording rule {rule.record!r}: "
                    "recording rules are not evaluated by this version of alertdrill"
                )
            results = query_range(
                client, url, rule.expr, window.start_unix + times[0], window.start_unix + times[-1], group.interval
            )
            steps = ((t, results.get(round((window.start_unix + t) * 1000), [])) for t in times)
            timelines.append(run_state_machine(rule, steps))
            if on_rule is not None:
                on_rule(rule)
    return timelines
