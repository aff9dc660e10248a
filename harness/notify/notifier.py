"""What Prometheus' notifier sends to Alertmanager, and when, derived from a run's alert timeline.

A simulated run has no notifier: the alert state machine (``harness.engine.alert_state``) gives
each alert's pending, firing and resolved evaluations, and this module applies to them the rules
Prometheus v2.42 applies after each evaluation of a rule group (``rules/alerting.go``
``sendAlerts``/``needsSending``, ``cmd/prometheus/main.go`` ``sendAlerts``,
``notifier.Manager.Send``), so the real Alertmanager can be fed exactly what it would receive:

- a pending alert is never sent; a firing one is sent at the evaluation where it fires, then
  at each evaluation ``ts`` with ``last_sent + resend_delay < ts`` (strictly: with 15 s
  evaluations and the default 1 m resend delay, every 75 s);
- ``startsAt`` is when it fired (``FiredAt``, not ``ActiveAt``); while firing, ``endsAt`` is
  ``ts + 4 * max(resend_delay, group interval)`` ("allow for two Eval or Alertmanager send
  failures"), so Alertmanager resolves it by itself if Prometheus goes quiet;
- at the evaluation where it resolves it is sent at once with ``endsAt`` = the resolve time,
  then re-sent on the same resend rule while it is kept as resolved: 15 minutes
  (``resolvedRetention``), or until the same label set becomes active again and replaces it;
- the labels are the alert's, plus the external labels it lacks; ``generatorURL`` is the
  external URL with ``/graph?g0.expr=<expr>&g0.tab=1``.

A run's end is the end of the notifier: nothing is sent after the last simulated evaluation.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote_plus

from harness.engine import AlertInstance, AlertState, Labels, RuleTimeline, StateRow, evaluation_times
from harness.errors import ConfigurationError

RESEND_DELAY = 60.0  # --rules.alert.resend-delay's default
RESOLVED_RETENTION = 15 * 60.0  # rules/alerting.go: resolved alerts are kept (and re-sent) this long
_EPS = 1e-9  # evaluation times are multiples of an interval: compare them without float noise


@dataclass(frozen=True)
class SentAlert:
    """One alert in one POST to Alertmanager's ``/api/v2/alerts``; times in run seconds."""

    labels: Labels
    annotations: Labels
    starts_at: float
    ends_at: float
    generator_url: str

    @property
    def alertname(self) -> str:
        return dict(self.labels).get("alertname", "")


@dataclass(frozen=True)
class Push:
    """Every alert the notifier sends after the evaluations at ``time`` (run seconds)."""

    time: float
    alerts: tuple[SentAlert, ...]

    def record(self) -> dict[str, object]:
        """A line of a run folder's ``alerts_sent.jsonl``: what a what-if replays (``parse_pushes``)."""
        return {
            "time": self.time,
            "alerts": [
                {
                    "labels": dict(a.labels),
                    "annotations": dict(a.annotations),
                    "starts_at": a.starts_at,
                    "ends_at": a.ends_at,
                    "generator_url": a.generator_url,
                }
                for a in self.alerts
            ],
        }

    def resolved(self, alert: SentAlert) -> bool:
        """Sent as resolved: its ``endsAt`` is its resolve time, not a validity horizon ahead."""
        return alert.ends_at <= self.time + _EPS


@dataclass(frozen=True)
class NotifierSettings:
    resend_delay: float = RESEND_DELAY
    external_labels: Labels = ()
    external_url: str = ""


def parse_pushes(text: str, source: Path) -> list[Push]:
    """``alerts_sent.jsonl``'s text as pushes; a line that is not one names ``source`` and the line."""
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        try:
            data = json.loads(line)
            alerts = tuple(
                SentAlert(
                    tuple(sorted(a["labels"].items())),
                    tuple(a["annotations"].items()),
                    float(a["starts_at"]),
                    float(a["ends_at"]),
                    str(a["generator_url"]),
                )
                for a in data["alerts"]
            )
            out.append(Push(float(data["time"]), alerts))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigurationError(f"{source}:{number}: not a recorded push ({type(exc).__name__}: {exc})") from None
    return out


def generator_url(external_url: str, expr: str) -> str:
    """``strutil.TableLinkForExpression`` after the external URL (Go's ``url.QueryEscape``)."""
    return f"{external_url}/graph?g0.expr={quote_plus(expr, safe='')}&g0.tab=1"


def pushes(
    timelines: Iterable[tuple[RuleTimeline, float]],
    duration: float,
    settings: NotifierSettings | None = None,
) -> list[Push]:
    """The notifier's sends for ``(timeline, group interval)`` pairs over a run of ``duration`` s."""
    settings = settings or NotifierSettings()
    by_time: dict[float, list[SentAlert]] = {}
    for timeline, interval in timelines:
        url = generator_url(settings.external_url, timeline.rule.expr)
        times = evaluation_times(interval, duration)
        rows: dict[Labels, list[StateRow]] = {}
        for row in timeline.rows:
            rows.setdefault(row.labels, []).append(row)
        for instance, successor in _with_successors(timeline.instances):
            own = rows.get(instance.labels, [])
            firing = [(r.time, r.annotations) for r in own if _firing_in(r.time, r.state, instance)]
            labels = _with_external(instance.labels, settings.external_labels)
            for ts, (notes, ends_at) in _sends(instance, firing, successor, times, interval, settings):
                assert instance.fired_at is not None  # _sends sends nothing that never fired
                by_time.setdefault(ts, []).append(SentAlert(labels, notes, instance.fired_at, ends_at, url))
    return [Push(t, tuple(sorted(a, key=lambda x: x.labels))) for t, a in sorted(by_time.items())]


def _firing_in(time: float, state: AlertState, instance: AlertInstance) -> bool:
    """Whether a state row of the instance's label set is one of its firing evaluations."""
    if state is not AlertState.FIRING or instance.fired_at is None:
        return False
    return instance.fired_at - _EPS <= time and (instance.ended_at is None or time < instance.ended_at - _EPS)


def _with_successors(instances: Sequence[AlertInstance]) -> Iterable[tuple[AlertInstance, AlertInstance | None]]:
    """Each instance with the next one of the same label set (which replaces it when it becomes active)."""
    for i, instance in enumerate(instances):
        later = (x for x in instances[i + 1 :] if x.labels == instance.labels and x.active_at > instance.active_at)
        yield instance, next(later, None)


def _sends(
    instance: AlertInstance,
    firing: list[tuple[float, Labels]],
    successor: AlertInstance | None,
    times: list[float],
    interval: float,
    settings: NotifierSettings,
) -> Iterable[tuple[float, tuple[Labels, float]]]:
    """(evaluation time, (annotations, endsAt)) of each send of one alert instance."""
    if instance.fired_at is None:
        return  # pending only: never sent
    valid_for = 4 * max(settings.resend_delay, interval)
    last = None
    notes = instance.annotations
    for ts, notes in firing:
        if last is None or last + settings.resend_delay < ts - _EPS:
            last = ts
            yield ts, (notes, ts + valid_for)
    resolved = instance.resolved_at
    if resolved is None or last is None:
        return
    for ts in times:
        if ts < resolved - _EPS:
            continue
        if ts - resolved > RESOLVED_RETENTION + _EPS:
            return  # forgotten (before this evaluation's send)
        if successor is not None and successor.active_at <= ts + _EPS:
            return  # replaced by the label set's new alert
        if ts <= resolved + _EPS or last + settings.resend_delay < ts - _EPS:
            last = ts
            yield ts, (notes, resolved)


def _with_external(labels: Labels, external: Labels) -> Labels:
    """``notifier.Manager.Send``: an external label is added where the alert lacks it."""
    if not external:
        return labels
    merged = dict(external)
    merged.update(dict(labels))
    return tuple(sorted(merged.items()))
