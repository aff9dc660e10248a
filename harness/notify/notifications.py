"""The notifications of a replay, from what alertdrill's receivers recorded. Pure: attempts in.

A notification is one message an integration sent: its first attempt and the retries of the same
body after a refusal (Alertmanager's retry stage re-sends the same rendered message until it is
accepted or its flush times out). A repeat after an accepted attempt is a new notification.
Which alerts it carried, and whether it was a firing or a resolved one, is read from its webhook
twin (``config_copy``): the same flush, in Alertmanager's v4 JSON, whatever the templates say.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from harness.engine import Labels


class AttemptLike(Protocol):
    """What a receiver records per request (``harness.notify.receivers.Attempt``)."""

    @property
    def wall(self) -> float: ...
    @property
    def receiver(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def index(self) -> int: ...
    @property
    def shadow(self) -> bool: ...
    @property
    def status(self) -> int: ...
    @property
    def accepted(self) -> bool: ...
    @property
    def body(self) -> Any: ...
    @property
    def routing_key(self) -> str | None: ...


@dataclass(frozen=True)
class NotifiedAlert:
    alertname: str
    labels: Labels
    status: str  # firing | resolved, in this notification


@dataclass(frozen=True)
class Notification:
    time: float  # run seconds of the first attempt
    receiver: str
    kind: str  # pagerduty | slack | webhook | email
    index: int  # which integration of the receiver
    status: str  # firing | resolved: the notification's (resolved only when every alert in it is)
    alerts: tuple[NotifiedAlert, ...]
    delivered: bool  # one of its attempts was accepted
    attempts: tuple[tuple[float, int, bool], ...]  # (run seconds, status answered, accepted) of each attempt
    service: str | None = None  # PagerDuty: the team whose routing key it was sent with
    payload: Any = None  # the body of its last attempt, as the real service would have received it

    @property
    def delivered_at(self) -> float | None:
        """Run seconds of the accepted attempt."""
        return next((t for t, _, accepted in self.attempts if accepted), None)

    @property
    def incident(self) -> str | None:
        """PagerDuty's de-duplication key (Alertmanager's group key, hashed): notifications with
        the same one are one incident, the later ones updates of it, not new pages."""
        if self.kind != "pagerduty" or not isinstance(self.payload, dict):
            return None
        key = self.payload.get("dedup_key")
        return str(key) if key else None

    def names(self) -> set[str]:
        return {a.alertname for a in self.alerts}

    def record(self) -> dict[str, Any]:
        """A line of ``notifications.jsonl``."""
        return {
            "time": self.time,
            "receiver": self.receiver,
            "kind": self.kind,
            "integration": self.index,
            "status": self.status,
            "delivered": self.delivered,
            "delivered_at": self.delivered_at,
            "service": self.service,
            "incident": self.incident,
            "alerts": [{"alertname": a.alertname, "labels": dict(a.labels), "status": a.status} for a in self.alerts],
            "attempts": [{"time": t, "status": s, "accepted": ok} for t, s, ok in self.attempts],
            "payload": self.payload,
        }


def notifications(
    attempts: Sequence[AttemptLike],
    to_run_time: Callable[[float], float],
    routing_keys: dict[str, str] | None = None,
) -> list[Notification]:
    """The notifications in ``attempts`` (in arrival order), their times in run seconds."""
    routing_keys = routing_keys or {}
    shadows: dict[tuple[str, int], list[AttemptLike]] = {}
    for a in attempts:
        if a.shadow:
            shadows.setdefault((a.receiver, a.index), []).append(a)
    groups: list[list[AttemptLike]] = []
    open_by_integration: dict[tuple[str, int], list[AttemptLike]] = {}
    for a in attempts:
        if a.shadow:
            continue
        key = (a.receiver, a.index)
        current = open_by_integration.get(key)
        if current is not None and _retry(current[-1], a):
            current.append(a)  # a retry of a refused message
            continue
        current = [a]
        open_by_integration[key] = current
        groups.append(current)
    out = []
    for group in groups:
        first, last = group[0], group[-1]
        twin = (
            first if first.kind == "webhook" else _nearest(shadows.get((first.receiver, first.index), []), first.wall)
        )
        status, alerts = _content(twin.body if twin is not None else None)
        out.append(
            Notification(
                time=to_run_time(first.wall),
                receiver=first.receiver,
                kind=first.kind,
                index=first.index,
                status=status,
                alerts=alerts,
                delivered=any(a.accepted for a in group),
                attempts=tuple((to_run_time(a.wall), a.status, a.accepted) for a in group),
                service=routing_keys.get(first.routing_key or "", None) if first.kind == "pagerduty" else None,
                payload=last.body,
            )
        )
    return out


def _retry(previous: AttemptLike, attempt: AttemptLike) -> bool:
    """Whether ``attempt`` re-sends ``previous``: it was refused, and this is the same message (or
    the refusal came before the message was read: an email refused at MAIL FROM has no subject)."""
    if previous.accepted:
        return False
    early = previous.kind == "email" and isinstance(previous.body, dict) and not previous.body.get("subject")
    return early or previous.body == attempt.body


def _nearest(candidates: list[AttemptLike], wall: float) -> AttemptLike | None:
    """The twin sent by the same flush: the shadow attempt closest in time."""
    return min(candidates, key=lambda a: abs(a.wall - wall), default=None)


def _content(body: Any) -> tuple[str, tuple[NotifiedAlert, ...]]:
    """Status and alerts of a v4 webhook body (``unknown`` when there is none to read)."""
    if not isinstance(body, dict) or not isinstance(body.get("alerts"), list):
        return "unknown", ()
    alerts = tuple(
        NotifiedAlert(
            str(a.get("labels", {}).get("alertname", "")),
            tuple(sorted((str(k), str(v)) for k, v in (a.get("labels") or {}).items())),
            str(a.get("status", "")),
        )
        for a in body["alerts"]
        if isinstance(a, dict)
    )
    return str(body.get("status", "unknown")), alerts
