"""The rule manager's state machine, case by case (rules/alerting.go, alert-generator spec)."""

from __future__ import annotations

import pytest

from harness.engine import AlertingRule, AlertState, run_state_machine
from harness.errors import DuplicateAlertError

A = (("instance", "a"),)
B = (("instance", "b"),)


def evals(pattern: str, interval: float = 15.0, labels: tuple[tuple[str, str], ...] = A):
    """One evaluation per character: '1' the series is in the result, '.' it is not."""
    return [(i * interval, [(labels, 1.0)] if c == "1" else []) for i, c in enumerate(pattern)]


def rule(hold: float = 60.0, keep: float = 0.0) -> AlertingRule:
    return AlertingRule("Test", "up == 0", hold=hold, keep_firing_for=keep, labels=(("severity", "page"),))


def test_pending_then_firing_once_for_has_elapsed() -> None:
    (alert,) = run_state_machine(rule(60), evals("1111111")).instances
    assert alert.active_at == 0
    assert alert.fired_at == 60  # 60 - 0 >= for at the fifth evaluation
    assert alert.resolved_at is None


def test_pending_alert_that_vanishes_never_fires_nor_resolves() -> None:
    (alert,) = run_state_machine(rule(60), evals("111....")).instances
    assert alert.fired_at is None
    assert alert.resolved_at is None
    assert alert.ended_at == 45


def test_firing_alert_resolves_at_first_evaluation_without_the_series() -> None:
    (alert,) = run_state_machine(rule(30), evals("11111...")).instances
    assert (alert.fired_at, alert.resolved_at) == (30, 75)


def test_alert_that_comes_back_starts_a_new_pending_period() -> None:
    first, second = run_state_machine(rule(30), evals("1111..1111")).instances
    assert (first.fired_at, first.resolved_at) == (30, 60)
    assert second.active_at == 90
    assert second.fired_at == 120


def test_zero_for_fires_at_the_first_evaluation() -> None:
    timeline = run_state_machine(rule(0), evals(".11."))
    (alert,) = timeline.instances
    assert (alert.active_at, alert.fired_at, alert.resolved_at) == (15, 15, 45)
    assert [r.state for r in timeline.rows] == [AlertState.FIRING, AlertState.FIRING]


def test_for_shorter_than_the_interval_fires_at_the_second_evaluation() -> None:
    (alert,) = run_state_machine(rule(5), evals("111", interval=15)).instances
    assert (alert.active_at, alert.fired_at) == (0, 15)


def test_keep_firing_for_holds_a_firing_alert_through_a_gap() -> None:
    timeline = run_state_machine(rule(15, keep=30), evals("111..1..."))
    (alert,) = timeline.instances
    assert alert.fired_at == 15
    # absent at 45 and 60 (kept firing: 0s and 15s < 30s), back at 75, absent from 90 on
    assert alert.resolved_at == 120


def test_keep_firing_for_does_not_hold_a_pending_alert() -> None:
    (alert,) = run_state_machine(rule(60, keep=300), evals("11...")).instances
    assert alert.fired_at is None and alert.ended_at == 30


def test_each_label_set_is_its_own_alert() -> None:
    steps = [(0.0, [(A, 1.0)]), (15.0, [(A, 1.0), (B, 1.0)]), (30.0, [(B, 1.0)]), (45.0, [(B, 1.0)])]
    a, b = run_state_machine(rule(15), steps).instances
    assert dict(a.labels)["instance"] == "a" and (a.fired_at, a.resolved_at) == (15, 30)
    assert dict(b.labels)["instance"] == "b" and (b.active_at, b.fired_at) == (15, 30)


def test_rule_labels_and_alertname_are_added_and_name_dropped() -> None:
    series = (("__name__", "up"), ("instance", "a"))
    (alert,) = run_state_machine(rule(0), [(0.0, [(series, 0.0)])]).instances
    assert dict(alert.labels) == {"alertname": "Test", "instance": "a", "severity": "page"}


def test_two_series_with_the_same_labels_after_the_rule_labels_are_an_error() -> None:
    clash = [(0.0, [((("severity", "x"),), 1.0), ((("severity", "y"),), 1.0)])]
    with pytest.raises(DuplicateAlertError, match="same labels"):
        run_state_machine(rule(0), clash)


def test_state_rows_record_pending_and_firing_with_the_value() -> None:
    steps = [(0.0, [(A, 0.5)]), (15.0, [(A, 0.7)]), (30.0, [])]
    rows = run_state_machine(rule(15), steps).rows
    assert [(r.time, r.state, r.value) for r in rows] == [
        (0.0, AlertState.PENDING, 0.5),
        (15.0, AlertState.FIRING, 0.7),
    ]
