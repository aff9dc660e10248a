"""The business layer end to end: the desks' alerts fire from causes in the world (a regime
the model does not know, predictions too slow for the desks, an overconfident model, traffic
gone), in the order the teams hear them, and a desk with another deadline shows the check can
fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.engine import DESK_JOB
from harness.run import RunResult, run_scenario
from harness.scenario import parse_scenario
from tests.scenarios.conftest import on_run

pytestmark = pytest.mark.prometheus
SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def _fired(result: RunResult) -> dict[str, float]:
    return {a.alertname: a.fired_at for a in result.alerts if a.fired_at is not None}


def _labels(result: RunResult, alert: str) -> dict[str, str]:
    return next(dict(a.labels) for a in result.alerts if a.alertname == alert)


@on_run("pnl_regime_change")
def test_a_regime_the_model_does_not_know_pages_ml_first_then_warns_the_desk(shipped_run) -> None:  # type: ignore[no-untyped-def]
    result = shipped_run("pnl_regime_change")
    fired = _fired(result)
    assert fired["ModelAccuracyDrop"] < fired["FalsePositiveRateHigh"] < fired["PnLCorrelationLow"]
    for alert in ("PnLCorrelationLow", "FalsePositiveRateHigh"):
        labels = _labels(result, alert)
        assert (labels["team"], labels["severity"], labels["job"]) == ("trading-desk", "warning", DESK_JOB)
    assert _labels(result, "ModelAccuracyDrop")["team"] == "ml-engineering"


@on_run("adoption_latency")
def test_predictions_too_slow_for_the_desks_drop_adoption_while_system_and_model_alerts_stay_silent(
    shipped_run,  # type: ignore[no-untyped-def]
) -> None:
    result = shipped_run("adoption_latency")
    assert set(_fired(result)) == {"AdoptionLow"}
    (fault,) = result.sim.faults
    assert 20 * 60 <= _fired(result)["AdoptionLow"] - fault.start <= 30 * 60


def _patient(deadline: str) -> str:
    """adoption_latency with one desk whose deadline is ``deadline`` (its notifications not judged)."""
    text = (SCENARIOS / "adoption_latency.yaml").read_text(encoding="utf-8")
    desk = f"  populations:\n    - {{name: patient, share: 1, symbols: [AAPL, MSFT], deadline: {deadline}}}\n"
    text = text.replace("traffic:\n  rate: 10\n", "traffic:\n  rate: 10\n" + desk)
    return text.split("# What each receiver hears")[0]


def test_a_desk_whose_deadline_the_slow_predictions_still_meet_stays_silent(tmp_path: Path) -> None:
    """Negative control: the same slow dependency, a desk with a 10 ms deadline. AdoptionLow never
    fires, so the shipped expectation that it fires fails: the verdict reads the desks' decisions."""
    scenario = parse_scenario(_patient("10ms"), "patient.yaml")
    result = run_scenario(scenario, SCENARIOS, out_dir=tmp_path)
    assert "AdoptionLow" not in _fired(result)
    failed = [e for e in result.verdict.expectations if not e.passed]
    assert [e.alert for e in failed] == ["AdoptionLow"], result.verdict
    assert not result.passed
