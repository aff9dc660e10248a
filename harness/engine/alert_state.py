"""The rule manager's alert state machine, as a pure function of query results.

Mirrors ``AlertingRule.Eval`` in Prometheus' ``rules/alerting.go`` (v2.42): at each
evaluation a label set present in the result is new (pending, ``active_at`` = now) unless an
alert for it is pending or firing; a pending alert fires once ``now - active_at >= for``
(so ``for: 0`` fires at its first evaluation); an alert absent from the result is dropped if
pending, or resolved if firing (after ``keep_firing_for`` has run out); a resolved alert
whose label set comes back starts over as a new pending alert.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from harness.engine.remote_write import Labels
from harness.engine.rules import AlertingRule
from harness.engine.templates import TemplateData, TemplateUnsupported, expand
from harness.errors import DuplicateAlertError


class AlertState(StrEnum):
    PENDING = "pending"
    FIRING = "firing"
    INACTIVE = "inactive"


@dataclass
class AlertInstance:
    """One label set of one rule from becoming active to ending.

    ``resolved_at`` is when a firing alert resolved; ``ended_at`` is when the instance ended
    either way (a pending alert that vanished ends without ever firing or resolving).
    """

    alertname: str
    labels: Labels
    active_at: float
    fired_at: float | None = None
    resolved_at: float | None = None
    ended_at: float | None = None
    state: AlertState = AlertState.PENDING
    value: float = 0.0
    annotations: Labels = ()
    unrendered: tuple[str, ...] = ()  # annotations kept raw: their templates are not supported
    keep_firing_since: float | None = None


@dataclass(frozen=True)
class StateRow:
    time: float
    alertname: str
    labels: Labels
    state: AlertState
    value: float
    active_at: float
    annotations: Labels = ()


@dataclass
class RuleTimeline:
    rule: AlertingRule
    instances: list[AlertInstance] = field(default_factory=list)
    rows: list[StateRow] = field(default_factory=list)


def alert_labels(rule: AlertingRule, series: Labels, value: float, context: TemplateContext) -> Labels:
    """The alert's identity: the series' labels without its name, the rule's (expanded) labels, alertname.

    As in Prometheus' label builder, a label whose expanded value is empty is removed.
    """
    merged = {k: v for k, v in series if k != "__name__"}
    if rule.labels:
        data = context.data(series, value)
        for key, template in rule.labels:
            merged[key] = expand(template, data)
    merged["alertname"] = rule.name
    return tuple(sorted((k, v) for k, v in merged.items() if v != ""))


def render_annotations(rule: AlertingRule, series: Labels, value: float, context: TemplateContext) -> Labels:
    """Annotations as Prometheus renders them; one whose template is not supported stays raw."""
    data = context.data(series, value)
    out = []
    for key, template in rule.annotations:
        try:
            out.append((key, expand(template, data)))
        except TemplateUnsupported:
            out.append((key, template))
    return tuple(out)


@dataclass(frozen=True)
class TemplateContext:
    """What templates can see besides the sample: external labels and URL from prometheus.yml."""

    external_labels: Labels = ()
    external_url: str = ""

    def data(self, series: Labels, value: float) -> TemplateData:
        return TemplateData(dict(series), value, dict(self.external_labels), self.external_url)


def run_state_machine(
    rule: AlertingRule,
    evaluations: Iterable[tuple[float, list[tuple[Labels, float]]]],
    context: TemplateContext | None = None,
) -> RuleTimeline:
    """Apply the rule manager to each (time, query result) in time order."""
    context = context or TemplateContext()
    timeline = RuleTimeline(rule)
    active: dict[Labels, AlertInstance] = {}
    for now, vector in evaluations:
        seen: set[Labels] = set()
        for series, value in vector:
            labels = alert_labels(rule, series, value, context)
            if labels in seen:
                raise DuplicateAlertError(
                    f"alert {rule.name!r} at t={now:g}s: the query returned several series that end "
                    f"with the same labels {dict(labels)} once the rule's labels are applied"
                )
            seen.add(labels)
            annotations = render_annotations(rule, series, value, context) if rule.annotations else ()
            alert = active.get(labels)
            if alert is not None and alert.state is not AlertState.INACTIVE:
                alert.value, alert.annotations = value, annotations
                continue
            alert = AlertInstance(
                rule.name, labels, active_at=now, value=value, annotations=annotations, unrendered=rule.raw_annotations
            )
            active[labels] = alert
            timeline.instances.append(alert)
        for labels, alert in list(active.items()):
            if labels not in seen:
                if _resolve(rule, alert, now):
                    del active[labels]
                    continue
            else:
                alert.keep_firing_since = None
            if alert.state is AlertState.PENDING and now - alert.active_at >= rule.hold:
                alert.state = AlertState.FIRING
                alert.fired_at = now
            timeline.rows.append(
                StateRow(now, rule.name, labels, alert.state, alert.value, alert.active_at, alert.annotations)
            )
    return timeline


def _resolve(rule: AlertingRule, alert: AlertInstance, now: float) -> bool:
    """Handle an alert absent from this evaluation; True when it is to be forgotten."""
    if alert.state is AlertState.FIRING and rule.keep_firing_for > 0:
        if alert.keep_firing_since is None:
            alert.keep_firing_since = now
        if now - alert.keep_firing_since < rule.keep_firing_for:
            return False  # still firing
    if alert.state is AlertState.PENDING:
        alert.state = AlertState.INACTIVE
        alert.ended_at = now
        return True
    if alert.state is AlertState.FIRING:
        alert.state = AlertState.INACTIVE
        alert.resolved_at = alert.ended_at = now
    # A resolved alert stays in memory (resolvedRetention) only to be re-sent as resolved;
    # it cannot come back to life, so forgetting it at once changes no state.
    return True
