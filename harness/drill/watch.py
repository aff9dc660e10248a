"""What a drill watches while it runs: the alerts its Prometheus holds (its ``ALERTS`` series) and,
when it has one to ask, what Alertmanager makes of them (``/api/v2/alerts``: active, or suppressed
by an inhibition or a silence). Polled, and turned into changes for the journal: the verdict
itself is read from ``ALERTS`` afterwards (``observe``), at the rule manager's own timestamps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from harness.drill.observe import alert_of
from harness.engine import Labels
from harness.errors import QueryError

Key = Labels  # an alert: its labels, sorted


@dataclass(frozen=True)
class Change:
    """One alert (its labels) moving to ``state``: for Prometheus ``pending``, ``firing`` or
    ``resolved`` (``inactive`` for one that went away while pending); for Alertmanager
    ``active``, ``suppressed`` (``by`` says by what) or ``gone``."""

    labels: Key
    state: str
    was: str | None
    by: str = ""

    @property
    def alertname(self) -> str:
        return dict(self.labels).get("alertname", "")


def alertmanager_states(body: list[Any]) -> dict[Key, str]:
    """Labels -> ``active``, ``suppressed: inhibited by …`` / ``silenced by …`` from ``/api/v2/alerts``."""
    states = {}
    for a in body:
        status = a.get("status", {})
        state = str(status.get("state", ""))
        why = [f"inhibited by {','.join(status['inhibitedBy'])}"] if status.get("inhibitedBy") else []
        why += [f"silenced by {','.join(status['silencedBy'])}"] if status.get("silencedBy") else []
        states[tuple(sorted(a.get("labels", {}).items()))] = f"{state}: {'; '.join(why)}" if why else state
    return states


def changes(before: Mapping[Key, str], after: Mapping[Key, str], *, gone: str = "resolved") -> list[Change]:
    """What moved between two polls, ordered by alert name. An alert that disappeared was
    ``gone`` (Prometheus: ``resolved`` if it had fired, else ``inactive``)."""
    out = []
    for key, state in after.items():
        if before.get(key) != state:
            name, _, by = state.partition(": ")
            out.append(Change(key, name, before.get(key), by))
    for key, state in before.items():
        if key not in after:
            out.append(Change(key, gone if state != "pending" else "inactive", state))
    return sorted(out, key=lambda c: (c.alertname, c.labels))


async def poll_prometheus(client: httpx.AsyncClient, url: str, selector: str = "") -> dict[Key, str]:
    """The alerts Prometheus holds now, as its ``ALERTS`` series (narrowed by ``selector`` on a
    shared Prometheus): labels -> ``pending``/``firing``."""
    body = await _get(client, f"{url}/api/v1/query", {"query": f"ALERTS{selector}"})
    return alerts_series_states(body)


def alerts_series_states(body: Mapping[str, Any]) -> dict[Key, str]:
    """Labels (without ``alertstate``) -> state, from an instant query of ``ALERTS``."""
    return dict(alert_of(series.get("metric", {})) for series in body.get("data", {}).get("result", []))


async def poll_alertmanager(client: httpx.AsyncClient, url: str) -> dict[Key, str]:
    body = await _get(client, f"{url}/api/v2/alerts")
    if not isinstance(body, list):
        raise QueryError(f"{url}/api/v2/alerts: expected a list of alerts")
    return alertmanager_states(body)


async def _get(client: httpx.AsyncClient, url: str, params: Mapping[str, str] | None = None) -> Any:
    try:
        response = await client.get(url, params=params)
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise QueryError(f"{url}: {exc}") from exc
    if response.status_code != 200:
        raise QueryError(f"{url}: answered {response.status_code}")
    return body
