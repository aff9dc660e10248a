"""The alert timeline of a live stack, as its Prometheus recorded it: no state machine of ours.

The rule manager writes an ``ALERTS`` sample for every pending or firing alert at every
evaluation, with the evaluation's own timestamp. A range selector returns those raw samples, so
each alert's pending and firing evaluations are read exactly, and an alert is resolved at the
first evaluation without it (its group's interval after its last firing sample).
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from harness.engine import AlertInstance, AlertState
from harness.errors import QueryError


def alerts_from_prometheus(
    client: httpx.Client,
    url: str,
    start: float,
    end: float,
    intervals: Mapping[str, float],
    default_interval: float = 15.0,
) -> list[AlertInstance]:
    """Every alert instance Prometheus at ``url`` evaluated between ``start`` and ``end`` (Unix
    seconds), in run seconds from ``start``; ``intervals``: each alert's group interval."""
    window = max(1, int(end - start) + 1)
    try:
        response = client.get(f"{url}/api/v1/query", params={"query": f"ALERTS[{window}s]", "time": f"{end:.3f}"})
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise QueryError(f"reading ALERTS from {url}: {exc}") from exc
    if response.status_code != 200 or body.get("status") != "success":
        raise QueryError(f"reading ALERTS from {url}: {response.status_code} {body.get('error', '')}")
    samples: dict[tuple[tuple[str, str], ...], list[tuple[float, str]]] = {}
    for series in body["data"]["result"]:
        metric = dict(series["metric"])
        state = metric.pop("alertstate", "")
        metric.pop("__name__", None)
        labels = tuple(sorted(metric.items()))
        samples.setdefault(labels, []).extend((float(t), state) for t, _ in series["values"])
    instances = []
    for labels, seen in samples.items():
        name = dict(labels).get("alertname", "")
        interval = intervals.get(name, default_interval)
        instances += _instances(name, labels, sorted(seen), interval, start, end)
    return sorted(instances, key=lambda a: (a.active_at, a.alertname, a.labels))


def _instances(
    name: str,
    labels: tuple[tuple[str, str], ...],
    seen: list[tuple[float, str]],
    interval: float,
    start: float,
    end: float,
) -> list[AlertInstance]:
    """Split one label set's evaluations into instances: a gap longer than an evaluation ends one."""
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
        last = t
    if current is not None and last is not None and end - last > 1.5 * interval:
        _end(current, last + interval - start)  # an evaluation after its last sample went without it
    return out


def _end(alert: AlertInstance, at: float) -> None:
    alert.ended_at = at
    if alert.fired_at is not None:
        alert.resolved_at = at
    alert.state = AlertState.INACTIVE
