"""The shipped scenarios, through the real service and the real Prometheus engine.

Each test checks the observed fire and resolve times against the fault's record itself, not
only the verdict, so a bug in the verdict code cannot make these pass.
"""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.prometheus


def test_latency_spike_fires_high_latency_in_its_window_and_resolves(shipped_run) -> None:  # type: ignore[no-untyped-def]
    result = shipped_run("latency_spike")
    (fault,) = result.sim.faults
    fired = [a for a in result.alerts if a.fired_at is not None]
    assert [a.alertname for a in fired] == ["HighLatency"]
    (alert,) = fired
    assert 120 <= alert.fired_at - fault.start <= 240
    assert alert.resolved_at is not None and 0 <= alert.resolved_at - fault.end <= 180
    assert result.passed, result.verdict


def test_error_burst_fires_high_error_rate_only(shipped_run) -> None:  # type: ignore[no-untyped-def]
    result = shipped_run("error_burst")
    (fault,) = result.sim.faults
    (alert,) = [a for a in result.alerts if a.fired_at is not None]
    assert alert.alertname == "HighErrorRate"
    assert 60 <= alert.fired_at - fault.start <= 150
    assert alert.resolved_at is not None and 0 <= alert.resolved_at - fault.end <= 120
    assert result.sim.responses["503"] > 0
    assert result.passed, result.verdict


def test_steady_state_fires_nothing(shipped_run) -> None:  # type: ignore[no-untyped-def]
    result = shipped_run("steady_state")
    assert [a for a in result.alerts if a.fired_at is not None] == []
    assert sum(result.sim.responses.values()) > 30_000  # an hour of traffic really flowed
    assert result.passed


def test_run_folder_holds_the_record(shipped_run) -> None:  # type: ignore[no-untyped-def]
    result = shipped_run("latency_spike")
    folder = result.out_dir
    verdict = json.loads((folder / "verdict.json").read_text())
    assert {
        "scenario",
        "seed",
        "passed",
        "faults",
        "alerts",
        "expectations",
        "simulated_seconds",
        "wall_seconds",
    } <= verdict.keys()
    assert verdict["faults"] == [
        {"name": "slow-dependency", "kind": "latency_spike", "start": 600.0, "end": 900.0, "magnitude": 0.04}
    ]
    alert = verdict["alerts"][0]
    assert alert["alertname"] == "HighLatency" and alert["fired_at"] == result.alerts[0].fired_at
    states = (folder / "states.csv").read_text().splitlines()
    assert states[0] == "time,alertname,labels,state,value"
    assert any(",pending," in row for row in states) and any(",firing," in row for row in states)
    assert (folder / "samples.parquet").stat().st_size > 0
    assert (folder / "samples.om").read_text().endswith("# EOF\n")


@pytest.mark.parametrize("name", ["latency_spike", "error_burst", "steady_state"])
def test_promtool_agrees_with_the_run(shipped_run, name: str) -> None:  # type: ignore[no-untyped-def]
    from harness.crosscheck import crosscheck_run_folder

    check = crosscheck_run_folder(shipped_run(name).out_dir)
    assert check.passed, check.output
