"""The data and model layers end to end: fire times read from the alert instances and the
fault records themselves, and faults below the thresholds that must stay silent."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.run import run_scenario
from harness.scenario import parse_scenario
from tests.scenarios.conftest import on_run

pytestmark = pytest.mark.prometheus
SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


@on_run("feed_outage")
def test_a_feed_outage_makes_every_symbol_stale_then_pages(shipped_run) -> None:  # type: ignore[no-untyped-def]
    result = shipped_run("feed_outage")
    (fault,) = result.sim.faults
    fired = [a for a in result.alerts if a.fired_at is not None]
    stale = [a for a in fired if a.alertname == "DataStaleness"]
    assert sorted(dict(a.labels)["symbol"] for a in stale) == ["AAPL", "AMZN", "GOOG", "MSFT", "NVDA"]
    (page,) = [a for a in fired if a.alertname == "DataPipelineFailure"]
    assert dict(page.labels)["severity"] == "critical" and dict(page.labels)["team"] == "data-engineering"
    assert 285 <= page.fired_at - fault.start <= 345  # "no data updates for 5 minutes"
    assert all(60 <= a.fired_at - fault.start <= 120 for a in stale)  # age > 30 s, for 1 minute
    assert {a.alertname for a in fired} == {"DataStaleness", "DataPipelineFailure"}
    assert result.sim.feed_responses["outage"] == 360


@on_run("regime_change")
def test_a_regime_change_drops_accuracy_and_shows_as_drift(shipped_run) -> None:  # type: ignore[no-untyped-def]
    result = shipped_run("regime_change")
    (fault,) = result.sim.faults
    fired = {a.alertname: a for a in result.alerts if a.fired_at is not None}
    # and the trading desks' own alerts, once their system has an hour of history (test_business_scenarios)
    assert set(fired) == {
        "ModelAccuracyDrop",
        "FeatureDrift",
        "CalibrationError",
        "PnLCorrelationLow",
        "FalsePositiveRateHigh",
    }
    accuracy = fired["ModelAccuracyDrop"]
    assert dict(accuracy.labels)["team"] == "ml-engineering"
    assert 300 <= accuracy.fired_at - fault.start <= 600
    assert accuracy.resolved_at is not None and accuracy.resolved_at - fault.end <= 300
    assert fired["FeatureDrift"].fired_at > accuracy.fired_at  # drift needs its window filled, and 10 min
    assert result.sim.feedback_responses["200"] > 0


def _run(text: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    return run_scenario(parse_scenario(text, "inline.yaml"), SCENARIOS, out_dir=tmp_path)


def test_staleness_shorter_than_the_alert_allows_stays_silent(tmp_path: Path) -> None:
    result = _run(
        """
name: brief_stall
duration: 8m
faults:
  - {name: stall, kind: stale_feed, symbols: [AAPL], start: 3m, duration: 75s}
expectations:
  - {alert: DataStaleness, silent: true}
""",
        tmp_path,
    )
    # 75 s of stale data is over 30 s for at most 45 s: pending, never for the minute it needs.
    timeline = next(t for t in result.timelines if t.rule.name == "DataStaleness")
    assert any(r.state.value == "pending" for r in timeline.rows)
    assert result.passed, result.verdict


def test_a_null_rate_under_five_percent_stays_silent_and_over_it_fires(tmp_path: Path) -> None:
    template = """
name: nulls_{pct}
duration: 20m
faults:
  - {{name: gaps, kind: null_features, rate: {rate}, features: [spread], start: 2m, duration: 15m}}
expectations:
  - {{alert: HighNullRate, {expect}}}
"""
    quiet = _run(template.format(pct=2, rate=0.02, expect="silent: true"), tmp_path / "quiet")
    assert quiet.passed, quiet.verdict
    loud = _run(template.format(pct=8, rate=0.08, expect="fault: gaps, fires_within: [5m, 12m]"), tmp_path / "loud")
    assert loud.passed, loud.verdict
