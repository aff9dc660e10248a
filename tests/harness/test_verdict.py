"""Verdicts: expectations against observed alert instances (pure)."""

from __future__ import annotations

from harness.engine import AlertInstance
from harness.scenario import parse_scenario
from harness.verdict import judge
from sim.records import FaultRecord
from sim.specs import FaultKind

SCENARIO = parse_scenario("""
name: v
duration: 1h
faults: [{name: f, kind: latency_spike, start: 10m, duration: 5m, delay: 40ms}]
expectations:
  - {alert: A, fault: f, fires_within: [2m, 4m], resolves_within: [0s, 3m]}
  - {alert: B, silent: true}
""")
FAULT = [FaultRecord("f", FaultKind.LATENCY_SPIKE, 600, 900, 0.04)]


def alert(name: str, fired: float | None, resolved: float | None = None, active: float = 0) -> AlertInstance:
    return AlertInstance(name, (("alertname", name),), active, fired, resolved)


def test_in_the_windows_passes() -> None:
    verdict = judge(SCENARIO, FAULT, [alert("A", 735, 960, 615)])
    assert verdict.passed
    assert verdict.expectations[0].fired_after == 135 and verdict.expectations[0].resolved_after == 60


def test_firing_too_late_fails() -> None:
    verdict = judge(SCENARIO, FAULT, [alert("A", 900, 960)])
    assert not verdict.passed and verdict.expectations[0].observed.startswith("fired 300s after start")


def test_never_resolving_fails() -> None:
    result = judge(SCENARIO, FAULT, [alert("A", 735)]).expectations[0]
    assert not result.passed and "never resolved" in result.observed


def test_silent_alert_that_fires_fails() -> None:
    verdict = judge(SCENARIO, FAULT, [alert("A", 735, 960), alert("B", 100, 200)])
    assert [e.passed for e in verdict.expectations] == [True, False]


def test_an_alert_nobody_expected_fails_the_run() -> None:
    verdict = judge(SCENARIO, FAULT, [alert("A", 735, 960), alert("C", 50, 80)])
    assert not verdict.passed and "unexpected: fired at 50s" in verdict.expectations[-1].observed


def test_a_second_firing_of_an_expected_alert_is_unexpected() -> None:
    verdict = judge(SCENARIO, FAULT, [alert("A", 735, 960), alert("A", 2000, 2100)])
    assert not verdict.passed


def test_pending_alerts_that_never_fired_do_not_count() -> None:
    assert judge(SCENARIO, FAULT, [alert("A", 735, 960), alert("C", None)]).passed


def test_a_fault_that_never_started_fails_its_expectation() -> None:
    result = judge(SCENARIO, [], [])
    assert not result.passed and result.expectations[0].observed == "fault f never started"


def test_two_faults_each_claim_their_own_firing() -> None:
    scenario = parse_scenario("""
name: twice
duration: 2h
faults:
  - {name: first, kind: error_burst, start: 10m, duration: 5m, error_rate: 0.2}
  - {name: second, kind: error_burst, start: 1h, duration: 5m, error_rate: 0.2}
expectations:
  - {alert: A, fault: first, fires_within: [1m, 3m], resolves_within: [0s, 3m]}
  - {alert: A, fault: second, fires_within: [1m, 3m], resolves_within: [0s, 3m]}
""")
    faults = [
        FaultRecord("first", FaultKind.ERROR_BURST, 600, 900, 0.2),
        FaultRecord("second", FaultKind.ERROR_BURST, 3600, 3900, 0.2),
    ]
    verdict = judge(scenario, faults, [alert("A", 700, 960), alert("A", 3700, 3960)])
    assert verdict.passed, verdict
    assert [e.fired_after for e in verdict.expectations] == [100, 100]
    # the second burst's firing too late is its own failure, not the first's
    late = judge(scenario, faults, [alert("A", 700, 960), alert("A", 3900, 3960)])
    assert [e.passed for e in late.expectations][:2] == [True, False]
