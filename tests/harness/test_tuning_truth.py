"""Ground truth and scoring of alert variants (harness.tuning.truth): pure, no Prometheus."""

from __future__ import annotations

import pytest

from harness.tuning.truth import Firing, Incident, RunTruth, Score, run_truth, score_run

GRACE = 600.0


def incident(start: float, end: float, *alerts: str, fault: str = "f") -> Incident:
    return Incident(fault, start, end, frozenset(alerts))


def scored(truth: RunTruth, firings: list[Firing], alert: str = "A", grace: float = GRACE) -> Score:
    score = Score()
    score_run(score, alert, truth, firings, grace)
    return score


# --- which firing is true ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fired_at", "true"),
    [
        (999.0, False),  # before the incident, resolved before it (below)
        (1000.0, True),  # at its start
        (1500.0, True),  # inside it
        (2000.0, True),  # at its end
        (2000.0 + GRACE, True),  # at the end of the grace
        (2300.0, True),  # within the grace
        (2000.0 + GRACE + 1, False),  # after the grace
        (5000.0, False),  # long after
    ],
)
def test_a_firing_is_true_inside_its_incident_or_its_grace(fired_at: float, true: bool) -> None:
    truth = RunTruth("r", 10_000.0, (incident(1000, 2000, "A"),))
    score = scored(truth, [Firing(fired_at, fired_at + 0.5)])
    assert (score.true_firings, score.false_firings) == ((1, 0) if true else (0, 1))
    assert score.detected == (1 if true else 0)
    assert score.incidents == 1


def test_a_firing_during_another_alerts_incident_is_false() -> None:
    truth = RunTruth("r", 10_000.0, (incident(1000, 2000, "B"),))
    score = scored(truth, [Firing(1500.0, 1800.0)], alert="A")
    assert (score.incidents, score.detected, score.true_firings, score.false_firings) == (0, 0, 0, 1)
    assert score.recall is None
    assert score.precision == 0.0
    assert score.detection == [] and score.reset == []


def test_an_incident_meant_for_several_alerts_counts_for_each() -> None:
    truth = RunTruth("r", 10_000.0, (incident(1000, 2000, "A", "B"),))
    for alert in ("A", "B"):
        score = scored(truth, [Firing(1100.0, 2100.0)], alert=alert)
        assert (score.incidents, score.detected, score.true_firings) == (1, 1, 1)


def test_recall_counts_incidents_with_at_least_one_true_firing() -> None:
    truth = RunTruth(
        "r",
        20_000.0,
        (
            incident(1000, 2000, "A", fault="one"),
            incident(5000, 6000, "A", fault="two"),
            incident(9000, 10_000, "A", fault="three"),
            incident(13_000, 14_000, "A", fault="four"),
        ),
    )
    firings = [Firing(1100, 2100), Firing(1200, 2200), Firing(9500, 10_100), Firing(12_000, 12_100)]
    score = scored(truth, firings)
    assert score.incidents == 4
    assert score.detected == 2
    assert score.recall == 0.5
    assert (score.true_firings, score.false_firings) == (3, 1)
    assert score.precision == 0.75


def test_several_firings_in_one_incident_are_several_true_firings_but_one_detection() -> None:
    truth = RunTruth("r", 10_000.0, (incident(1000, 2000, "A"),))
    # given out of order: the detection is the earliest one's
    firings = [Firing(1400.0, 2100.0), Firing(1060.0, 1300.0), Firing(2200.0, 2500.0)]
    score = scored(truth, firings)
    assert (score.incidents, score.detected, score.true_firings, score.false_firings) == (1, 1, 3, 0)
    assert score.detection == [60.0]
    assert score.reset == [500.0]  # the last resolution (2500) - the end (2000)
    assert score.recall == 1.0
    assert score.precision == 1.0


def test_reset_is_the_last_resolution_after_the_end() -> None:
    truth = RunTruth("r", 10_000.0, (incident(1000, 2000, "A"),))
    score = scored(truth, [Firing(1120.0, 2090.0)])
    assert score.detection == [120.0]
    assert score.reset == [90.0]


def test_no_reset_when_a_true_firing_never_resolved() -> None:
    truth = RunTruth("r", 10_000.0, (incident(1000, 2000, "A"),))
    score = scored(truth, [Firing(1100.0, 2600.0), Firing(1500.0, None)])
    assert score.detected == 1
    assert score.detection == [100.0]
    assert score.reset == []
    assert score.summary()["reset_median"] is None


def test_an_unresolved_false_firing_does_not_stop_the_reset() -> None:
    truth = RunTruth("r", 20_000.0, (incident(1000, 2000, "A"),))
    score = scored(truth, [Firing(1100.0, 2050.0), Firing(9000.0, None)])
    assert score.reset == [50.0]
    assert score.false_firings == 1


def test_scores_add_up_over_runs() -> None:
    score = Score()
    one = RunTruth("one", 10_000.0, (incident(1000, 2000, "A"),))
    two = RunTruth("two", 5000.0, (incident(0, 1000, "A"),))
    score_run(score, "A", one, [Firing(1030, 2030)], GRACE)
    score_run(score, "A", two, [Firing(300, 1100), Firing(4000, 4100)], GRACE)
    assert score.incidents == 2
    assert score.detected == 2
    assert score.detection == [30.0, 300.0]
    assert score.reset == [30.0, 100.0]
    assert (score.true_firings, score.false_firings) == (2, 1)
    assert score.quiet_seconds == (10_000 - 1600) + (5000 - 1600)


# --- quiet time ---------------------------------------------------------------------------------


def test_quiet_seconds_without_incidents_is_the_whole_run() -> None:
    assert RunTruth("r", 3600.0, ()).quiet_seconds(GRACE) == 3600.0


def test_quiet_seconds_removes_each_incident_and_its_grace() -> None:
    truth = RunTruth("r", 10_000.0, (incident(1000, 2000, "A"), incident(5000, 5500, "A")))
    assert truth.quiet_seconds(GRACE) == 10_000 - 1600 - 1100
    assert truth.quiet_seconds(0.0) == 10_000 - 1000 - 500


def test_quiet_seconds_merges_overlapping_incidents_and_graces() -> None:
    truth = RunTruth(
        "r",
        10_000.0,
        (
            incident(3000, 3100, "A"),  # its grace (to 3700) reaches into the next one
            incident(1000, 2000, "A"),  # given out of order
            incident(1500, 1800, "B"),  # inside the one before
            incident(3500, 4000, "C"),
        ),
    )
    # busy: [1000, 2600] and [3000, 4600]
    assert truth.quiet_seconds(GRACE) == 10_000 - 1600 - 1600


def test_quiet_seconds_merges_a_grace_overlapping_the_next_incident() -> None:
    truth = RunTruth("r", 10_000.0, (incident(1000, 2000, "A"), incident(2300, 2400, "A")))
    # busy: [1000, 2600] then [2300, 3000] -> [1000, 3000]
    assert truth.quiet_seconds(GRACE) == 8000.0


def test_quiet_seconds_is_clipped_to_the_run() -> None:
    truth = RunTruth("r", 3000.0, (incident(-100, 200, "A"), incident(2500, 2900, "A")))
    # busy: [0, 800] and [2500, 3000] (the grace runs past the end)
    assert truth.quiet_seconds(GRACE) == 3000 - 800 - 500
    assert RunTruth("r", 1000.0, (incident(0, 2000, "A"),)).quiet_seconds(GRACE) == 0.0


def test_an_incident_meant_for_another_alert_is_quiet_time_for_this_one() -> None:
    """A firing during another layer's fault is false: that time is time it could be false in."""
    truth = RunTruth("r", 10_000.0, (incident(1000, 2000, "B"),))
    assert truth.quiet_seconds(GRACE) == 8400.0  # every incident
    assert truth.quiet_seconds(GRACE, "B") == 8400.0
    assert truth.quiet_seconds(GRACE, "A") == 10_000.0
    score = scored(truth, [Firing(1500.0, 1600.0), Firing(5000.0, 5100.0)])
    assert score.incidents == 0
    assert score.false_firings == 2
    assert score.quiet_seconds == 10_000.0
    assert score.false_per_day == pytest.approx(2 * 86400 / 10_000)


def test_quiet_time_per_alert_removes_only_its_own_incidents() -> None:
    truth = RunTruth("r", 10_000.0, (incident(1000, 2000, "A"), incident(5000, 5500, "B"), incident(7000, 7100)))
    assert truth.quiet_seconds(GRACE, "A") == 10_000 - 1600
    assert truth.quiet_seconds(GRACE, "B") == 10_000 - 1100
    assert truth.quiet_seconds(GRACE, "C") == 10_000


# --- rates --------------------------------------------------------------------------------------


def test_false_per_day_is_false_firings_over_quiet_days() -> None:
    score = Score(false_firings=3, quiet_seconds=2 * 86400.0)
    assert score.false_per_day == pytest.approx(1.5)
    score = Score(false_firings=0, quiet_seconds=43_200.0)
    assert score.false_per_day == 0.0


def test_no_rates_without_their_denominators() -> None:
    score = Score()
    assert score.false_per_day is None
    assert score.precision is None
    assert score.recall is None
    assert Score(false_firings=2, quiet_seconds=0.0).false_per_day is None
    summary = Score(incidents=3).summary()
    assert summary["recall"] == 0.0
    assert summary["precision"] is None
    assert summary["detection_median"] is None
    assert summary["detection_p95"] is None


def test_summary_numbers() -> None:
    score = Score(
        incidents=4,
        detected=3,
        true_firings=5,
        false_firings=1,
        quiet_seconds=86400.0 / 2,
        detection=[30.0, 10.0, 20.0],
        reset=[60.0, 0.0],
    )
    summary = score.summary()
    assert summary["recall"] == 0.75
    assert summary["precision"] == pytest.approx(5 / 6)
    assert summary["false_per_day"] == pytest.approx(2.0)
    assert summary["detection_median"] == 20.0
    assert summary["detection_p95"] == 30.0
    assert summary["reset_median"] == 30.0
    assert summary["quiet_days"] == 0.5


def test_detection_p95_is_the_nearest_rank() -> None:
    values = [float(v) for v in range(20, 0, -1)]  # 20 values, 1..20, out of order
    summary = Score(detection=values).summary()
    assert summary["detection_p95"] == 19.0
    assert summary["detection_median"] == 10.5
    assert Score(detection=[float(v) for v in range(1, 101)]).summary()["detection_p95"] == 95.0
    assert Score(detection=[float(v) for v in range(1, 22)]).summary()["detection_p95"] == 20.0  # ceil(19.95)
    assert Score(detection=[7.0]).summary()["detection_p95"] == 7.0
    assert Score(detection=[7.0]).summary()["detection_median"] == 7.0


# --- from a verdict -----------------------------------------------------------------------------

# Shaped like /tmp/dep/sweep/autoscaler_max_replicas-seed1/verdict.json (trimmed), with the kinds
# of expectation the suite writes.
VERDICT: dict[str, object] = {
    "scenario": "autoscaler_max_replicas",
    "seed": 1,
    "passed": True,
    "start_unix": 1767623400.0,
    "rule_files": ["/work/main/config/prometheus-alerts.yml"],
    "faults": [
        {"name": "growth", "kind": "traffic_ramp", "start": 300.0, "end": 780.0, "magnitude": 18.0},
        {"name": "plateau", "kind": "traffic_surge", "start": 780.0, "end": 1200.0, "magnitude": 18.0},
    ],
    "alerts": [
        {
            "alertname": "HighLatency",
            "labels": {"alertname": "HighLatency", "job": "prediction-api", "severity": "critical"},
            "annotations": {},
            "active_at": 705.0,
            "fired_at": 825.0,
            "resolved_at": 1260.0,
            "ended_at": 1260.0,
        }
    ],
    "expectations": [
        {
            "expected": "HighLatency fires [0s, 600s] after plateau starts, resolves [0s, 300s] after it ends",
            "alert": "HighLatency",
            "fault": "plateau",
            "observed": "fired 45s after start, resolved 60s after end",
            "fired_after": 45.0,
            "resolved_after": 60.0,
            "passed": True,
        },
        {
            "expected": "HighCPU fires [0s, 900s] after plateau starts",
            "alert": "HighCPU",
            "fault": "plateau",
            "observed": "fired 300s after start",
            "fired_after": 300.0,
            "resolved_after": None,
            "passed": True,
        },
        {
            "expected": "HighErrorRate never fires",
            "alert": "HighErrorRate",
            "fault": None,
            "observed": "never fired",
            "fired_after": None,
            "resolved_after": None,
            "passed": True,
        },
        {
            "expected": "ModelAccuracyDrop never fires",
            "alert": "ModelAccuracyDrop",
            "fault": None,
            "observed": "never fired",
            "fired_after": None,
            "resolved_after": None,
            "passed": True,
        },
        {
            "expected": "FeatureDrift fires [300s, 3000s] into the run",
            "alert": "FeatureDrift",
            "fault": None,
            "observed": "3 instances; first fired 645s after start",
            "fired_after": 645.0,
            "resolved_after": None,
            "passed": True,
        },
        {
            "expected": "canary-bad-gate is promoted at 100%",
            "alert": "canary-bad-gate",
            "fault": None,
            "observed": "promoted at 100%, 1860s after it started",
            "fired_after": None,
            "resolved_after": None,
            "passed": True,
        },
    ],
    "simulated_seconds": 1500.0,
    "scrape_interval": 15.0,
}


def test_run_truth_from_a_verdict() -> None:
    truth = run_truth("autoscaler_max_replicas-seed1", VERDICT)
    assert truth.run == "autoscaler_max_replicas-seed1"
    assert truth.duration == 1500.0
    assert truth.incidents == (
        Incident("growth", 300.0, 780.0, frozenset()),
        Incident("plateau", 780.0, 1200.0, frozenset({"HighLatency", "HighCPU"})),
    )
    assert truth.silent == frozenset({"HighErrorRate", "ModelAccuracyDrop"})
    # both incidents (growth meant for nothing) are busy: [300, 1200 + grace] clipped to 1500
    assert truth.quiet_seconds(GRACE) == 300.0


def test_run_truth_anchored_to_the_run_start_makes_no_incident() -> None:
    truth = run_truth("r", VERDICT)
    assert all("FeatureDrift" not in i.meant_for for i in truth.incidents)
    assert "FeatureDrift" not in truth.silent
    score = scored(truth, [Firing(645.0, None)], alert="FeatureDrift")
    assert (score.incidents, score.true_firings, score.false_firings) == (0, 0, 1)


def test_run_truth_scores_the_recorded_alert() -> None:
    truth = run_truth("r", VERDICT)
    score = scored(truth, [Firing(825.0, 1260.0)], alert="HighLatency")
    assert (score.incidents, score.detected, score.true_firings, score.false_firings) == (1, 1, 1, 0)
    assert score.detection == [45.0]
    assert score.reset == [60.0]
    # the HighLatency firing during growth's incident (meant for no alert) would be false
    early = scored(truth, [Firing(500.0, 600.0)], alert="HighLatency")
    assert (early.true_firings, early.false_firings, early.detected) == (0, 1, 0)


def test_run_truth_without_faults_or_expectations() -> None:
    truth = run_truth("calm", {"faults": [], "expectations": [], "simulated_seconds": 900})
    assert truth == RunTruth("calm", 900.0, (), frozenset())
    assert truth.quiet_seconds(GRACE) == 900.0


def test_a_scenario_that_ignores_unexpected_alerts_judges_only_the_alerts_it_names() -> None:
    verdict = {
        "simulated_seconds": 3600.0,
        "unexpected_alerts": "ignore",
        "faults": [{"name": "f", "start": 600.0, "end": 900.0}],
        "expectations": [{"alert": "A", "fault": "f", "expected": "A fires [0s, 300s] after f starts"}],
    }
    truth = run_truth("r", verdict)
    named, other = Score(), Score()
    score_run(named, "A", truth, [Firing(3000.0, None)])
    score_run(other, "B", truth, [Firing(3000.0, None)])
    assert (named.false_firings, named.incidents) == (1, 1)  # A is judged: a firing far from f is false
    assert (other.false_firings, other.quiet_seconds, other.incidents) == (0, 0.0, 0)  # B is not judged here


def test_a_firing_that_began_before_its_incident_and_overlaps_it_is_true_and_detects_at_once() -> None:
    """Already firing (for another reason) when the incident began: it overlaps the incident,
    so it is not a false alarm, and the incident is detected at 0 s."""
    truth = RunTruth("r", 10_000.0, (incident(1000, 2000, "A"),))
    still = scored(truth, [Firing(900.0, 1500.0)])
    assert (still.true_firings, still.false_firings, still.detection) == (1, 0, [0.0])
    never_resolved = scored(truth, [Firing(900.0, None)])
    assert (never_resolved.true_firings, never_resolved.detection, never_resolved.reset) == (1, [0.0], [])
    over = scored(truth, [Firing(900.0, 999.0)])  # resolved just before the incident: a false alarm
    assert (over.true_firings, over.false_firings, over.detected) == (0, 1, 0)


def test_scores_of_two_sets_of_runs_add_up_to_the_score_of_both() -> None:
    one, two = (
        RunTruth("one", 10_000.0, (incident(1000, 2000, "A"),)),
        RunTruth("two", 5000.0, (incident(0, 1000, "A"),)),
    )
    both, first, second = Score(), Score(), Score()
    for score, runs in ((both, (one, two)), (first, (one,)), (second, (two,))):
        for truth in runs:
            firings = [Firing(1030, 2030)] if truth is one else [Firing(300, 1100), Firing(4000, 4100)]
            score_run(score, "A", truth, firings, GRACE)
    first.add(second)
    assert first == both
