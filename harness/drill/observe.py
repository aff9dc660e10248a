"""The alert timeline of a live stack, as its Prometheus recorded it: no state machine of ours.

The rule manager writes an ``ALERTS`` sample for every pending or firing alert at every
evaluation, with the evaluation's own timestamp. A range selector returns those raw samples, so
each alert's pending and firing evaluations are read exactly, and an alert is resolved at the
first evaluation without it (its group's interval after its last firing sample).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from harness.engine import AlertInstance, AlertState, Labels, RuleGroup, RuleTimeline, SampleSet, StateRow
from harness.errors import QueryError


def alerts_from_prometheus(
    client: httpx.Client,
    url: str,
    start: float,
    end: float,
    intervals: Mapping[str, float],
    default_interval: float = 15.0,
    selector: str = "",
) -> list[AlertInstance]:
    """Every alert instance Prometheus at ``url`` evaluated between ``start`` and ``end`` (Unix
    seconds), in run seconds from ``start``; ``intervals``: each alert's group interval.
    ``selector`` (e.g. ``{job="prediction-api"}``) narrows ``ALERTS`` on a shared Prometheus."""
    instances, _ = _timeline(_alert_samples(client, url, start, end, selector), intervals, default_interval, start, end)
    return instances


def timelines_from_prometheus(
    client: httpx.Client, url: str, groups: Sequence[RuleGroup], start: float, end: float, selector: str = ""
) -> list[RuleTimeline]:
    """Each alerting rule of ``groups`` with its instances and its per-evaluation rows, as the
    live rule manager recorded them (a row's value is unknown: ``ALERTS`` holds 1)."""
    intervals = {r.name: g.interval for g in groups for r in g.alerting_rules}
    samples = _alert_samples(client, url, start, end, selector)
    instances, rows = _timeline(samples, intervals, 15.0, start, end)
    return [
        RuleTimeline(
            rule,
            [a for a in instances if a.alertname == rule.name],
            [r for r in rows if r.alertname == rule.name],
        )
        for g in groups
        for rule in g.alerting_rules
    ]


def _timeline(
    samples: Mapping[Labels, list[tuple[float, str]]],
    intervals: Mapping[str, float],
    default_interval: float,
    start: float,
    end: float,
) -> tuple[list[AlertInstance], list[StateRow]]:
    """Every label set's evaluations split into instances, and one row per evaluation."""
    instances: list[AlertInstance] = []
    rows: list[StateRow] = []
    for labels, seen in samples.items():
        name = dict(labels).get("alertname", "")
        instances += _instances(name, labels, sorted(seen), intervals.get(name, default_interval), start, end, rows)
    return sorted(instances, key=lambda a: (a.active_at, a.alertname, a.labels)), rows


def scraped_samples(client: httpx.Client, url: str, selector: str, start: float, end: float) -> SampleSet:
    """The raw samples of ``selector`` between ``start`` and ``end``, as Prometheus stored them
    (its HTTP API leaves stale markers out)."""
    found = SampleSet(start)
    for series in _range_select(client, url, selector, start, end):
        labels = tuple(sorted(series["metric"].items()))
        for t, value in series["values"]:
            found.add(labels, round(float(t) * 1000), float(value))
    return found


def _alert_samples(
    client: httpx.Client, url: str, start: float, end: float, selector: str
) -> dict[Labels, list[tuple[float, str]]]:
    """Labels (without ``alertstate``) -> (Unix time, state) of every ``ALERTS`` sample."""
    samples: dict[Labels, list[tuple[float, str]]] = {}
    for series in _range_select(client, url, f"ALERTS{selector}", start, end):
        labels, state = alert_of(series["metric"])
        samples.setdefault(labels, []).extend((float(t), state) for t, _ in series["values"])
    return samples


def alert_of(metric: Mapping[str, str]) -> tuple[Labels, str]:
    """An ``ALERTS`` series' alert (its labels without ``__name__`` and ``alertstate``) and state."""
    labels = tuple(sorted((k, v) for k, v in metric.items() if k not in ("__name__", "alertstate")))
    return labels, str(metric.get("alertstate", ""))


def _range_select(client: httpx.Client, url: str, selector: str, start: float, end: float) -> list[dict[str, Any]]:
    """A range selector evaluated at ``end``: every raw sample since ``start``, at its own time."""
    window = max(1, math.ceil(end - start) + 1)
    try:
        response = client.get(f"{url}/api/v1/query", params={"query": f"{selector}[{window}s]", "time": f"{end:.3f}"})
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise QueryError(f"reading {selector} from {url}: {exc}") from exc
    if response.status_code != 200 or body.get("status") != "success":
        raise QueryError(f"reading {selector} from {url}: {response.status_code} {body.get('error', '')}")
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def _instances(
    name: str,
    labels: Labels,
    seen: list[tuple[float, str]],
    interval: float,
    start: float,
    end: float,
    rows: list[StateRow],
) -> list[AlertInstance]:
    """Split one label set's evaluations into instances: a gap longer than an evaluation ends one.
    Each evaluation is also a row of ``rows``, with its instance's ``active_at``."""
    out: list[AlertInstance] = []
    current: AlertInstance | None = None
    last = None
    for t, state in seen:
        if current is None or last is None or t - last > 1.5 * interval:
            if current is not None and last is not None:
                _end(current, last + interval - start)
            current = AlertInstance(name, labels, active_at=t - start)
            out.append(current)
        if state == "firing" and current.fired_at is None:
            current.fired_at, current.state = t - start, AlertState.FIRING
        rows.append(StateRow(t - start, name, labels, AlertState(state), math.nan, current.active_at))
        last = t
    if current is not None and last is not None and end - last > 1.5 * interval:
        _end(current, last + interval - start)  # an evaluation after its last sample went without it
    return out


def _end(alert: AlertInstance, at: float) -> None:
    alert.ended_at = at
    if alert.fired_at is not None:
        alert.resolved_at = at
    alert.state = AlertState.INACTIVE
