"""Compliance cases, evaluated by the real Prometheus engine and cross-checked with promtool."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.backtest import backtest
from harness.engine import AlertInstance, SampleSet, format_duration, parse_duration
from harness.stack.crosscheck import crosscheck_samples

pytestmark = pytest.mark.prometheus
RULES = Path(__file__).parent / "data" / "compliance_rules.yml"
T0 = 1_767_623_400.0
STEP = 15.0


def _level(t: float, spans: list[tuple[float, float, float]]) -> float:
    return next((v for lo, hi, v in spans if lo <= t < hi), 0.0)


def input_samples() -> SampleSet:
    """foo{a}: 20 during [5m, 10m) and [12m, 20m); foo{b}: rising from 21 during [7m, 9m)."""
    samples = SampleSet(T0)
    for k in range(121):
        t = k * STEP
        a = _level(t, [(300, 600, 20.0), (720, 1200, 20.0)])
        b = 21.0 + (t - 420) / 15 if 420 <= t < 540 else 0.0
        for instance, value in (("a", a), ("b", b)):
            samples.add((("__name__", "foo"), ("instance", instance), ("job", "test")), round((T0 + t) * 1000), value)
    return samples


@pytest.fixture(scope="module")
def alerts() -> dict[str, list[AlertInstance]]:
    result = backtest([RULES], input_samples(), T0, T0 + 1800, interval=STEP)
    out: dict[str, list[AlertInstance]] = {}
    for timeline in result.evaluation.timelines:
        out[timeline.rule.name] = timeline.instances
    return out


def _times(a: AlertInstance) -> tuple[float | None, float | None, float | None]:
    return a.active_at, a.fired_at, a.resolved_at


def test_pending_firing_inactive_and_pending_again(alerts: dict[str, list[AlertInstance]]) -> None:
    a1, b, a2 = sorted(alerts["FooHigh"], key=lambda x: x.active_at)
    assert dict(a1.labels)["instance"] == "a" and _times(a1) == (300, 360, 600)
    assert dict(b.labels)["instance"] == "b" and _times(b) == (420, 480, 540)
    assert dict(a2.labels)["instance"] == "a" and _times(a2) == (720, 780, 1200)


def test_label_template_is_part_of_the_identity(alerts: dict[str, list[AlertInstance]]) -> None:
    tiers = {dict(a.labels)["instance"]: dict(a.labels)["tier"] for a in alerts["FooHigh"]}
    assert tiers == {"a": "A", "b": "B"}


def test_annotation_follows_the_latest_value(alerts: dict[str, list[AlertInstance]]) -> None:
    b = next(a for a in alerts["FooHigh"] if dict(a.labels)["instance"] == "b")
    assert dict(b.annotations)["summary"] == "foo on b is 28"  # last value seen, at 525 s: 21 + 7


def test_zero_for_fires_at_once_from_a_recording_rule(alerts: dict[str, list[AlertInstance]]) -> None:
    first = min(alerts["FooHighNow"], key=lambda x: x.active_at)
    assert _times(first) == (300, 300, 600)


def test_for_below_the_interval_fires_at_the_next_evaluation(alerts: dict[str, list[AlertInstance]]) -> None:
    first = min(alerts["FooHighShortFor"], key=lambda x: x.active_at)
    assert _times(first) == (300, 315, 600)


def test_rule_reading_alerts_sees_a_resolved_alert_vanish_at_once(alerts: dict[str, list[AlertInstance]]) -> None:
    # Without stale markers on ALERTS, FooHigh's last sample would linger for the 5 minute
    # lookback and this alert would resolve at 900 s, not 600 s.
    spans = [_times(a) for a in alerts["AnyFooHighFiring"]]
    assert spans == [(360, 360, 600), (780, 780, 1200)]


def test_promtool_agrees_step_by_step() -> None:
    check = crosscheck_samples([RULES], input_samples(), T0, 1800, STEP)
    assert check.passed, check.output
    assert check.checks > 40


def test_crosscheck_can_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    """Negative control: expected alerts moved one evaluation later must be caught by promtool."""
    import harness.stack.crosscheck as cc

    original = cc.alert_tests

    def shifted(timelines, times):  # type: ignore[no-untyped-def]
        tests = original(timelines, times)
        firing = [t for t in tests if t["exp_alerts"]]
        for test in firing:
            test["eval_time"] = format_duration(parse_duration(test["eval_time"]) + STEP)
        return tests

    monkeypatch.setattr(cc, "alert_tests", shifted)
    check = cc.crosscheck_samples([RULES], input_samples(), T0, 1800, STEP)
    assert not check.passed
    assert "FooHigh" in check.output


def test_series_read_back_from_a_running_prometheus_give_the_same_alerts(
    alerts: dict[str, list[AlertInstance]],
) -> None:
    import httpx

    from harness.backtest import fetch_series
    from harness.engine import prometheus_server, write

    with prometheus_server() as source, httpx.Client() as client:
        write(client, source.url, list(input_samples().series.items()))
        fetched = fetch_series(source.url, ['{__name__="foo"}'], T0 - 1, T0 + 1800, chunk=600)
    assert len(fetched) == len(input_samples())
    again = backtest([RULES], fetched, T0, T0 + 1800, interval=STEP)
    found = {t.rule.name: [_times(a) for a in t.instances] for t in again.evaluation.timelines}
    assert found == {name: [_times(a) for a in instances] for name, instances in alerts.items()}


def test_unsupported_annotation_is_kept_raw_with_a_note(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yml"
    rules.write_text(
        "groups:\n- name: g\n  rules:\n  - alert: X\n    expr: foo > 10\n    annotations:\n"
        "      summary: '{{ if gt $value 1.0 }}big{{ end }}'\n      plain: 'v={{ $value }}'\n"
    )
    result = backtest([rules], input_samples(), T0, T0 + 600, interval=STEP)
    alert = result.evaluation.timelines[0].instances[0]
    assert dict(alert.annotations) == {"plain": "v=20", "summary": "{{ if gt $value 1.0 }}big{{ end }}"}
    assert alert.unrendered == ("summary",)


def test_label_template_outside_the_subset_is_refused(tmp_path: Path) -> None:
    from harness.errors import RuleFileError

    rules = tmp_path / "rules.yml"
    rules.write_text(
        "groups:\n- name: g\n  rules:\n  - alert: X\n    expr: foo > 10\n    labels:\n"
        "      size: '{{ if gt $value 1.0 }}big{{ end }}'\n"
    )
    with pytest.raises(RuleFileError, match="label size"):
        backtest([rules], input_samples(), T0, T0 + 600, interval=STEP)


def test_a_rule_the_parser_cannot_read_is_named_and_not_compared(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whether it reads the calendar is unknown: no guess either way, the others are compared."""
    import harness.stack.crosscheck as cc
    from harness.errors import PromQLError

    def lagging(expr: str) -> bool:  # a parser behind Prometheus' grammar
        if "ALERTS" in expr:
            raise PromQLError("alertdrill's PromQL parser cannot read it: unknown function")
        return False

    monkeypatch.setattr(cc, "reads_calendar", lagging)
    check = cc.crosscheck_samples([RULES], input_samples(), T0, 1800, STEP)
    assert check.passed, check.output
    assert check.unread == (("AnyFooHighFiring", "alertdrill's PromQL parser cannot read it: unknown function"),)
    assert check.skipped == ()
    assert "alertname: AnyFooHighFiring" not in check.test_file and "alertname: FooHigh" in check.test_file
