"""Deployments in scenario files (harness.deployments): errors that name the line and field, how a
rollout's outcome is judged, and the simulator's specs built from the shipped models."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.deployments import RolloutExpectation, describe_rollout, judge_rollout, with_deployments
from harness.errors import ScenarioError
from harness.scenario import load_scenario, parse_scenario
from sim.autoscaler import HpaSpec
from sim.records import RolloutRecord
from sim.specs import FleetSpec, GateSpec, ServerSpec

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "scenarios"
STABLE_VERSION = "factor-logit-20260101-ae582924"  # config/model.json, every scenario's default model

AUTOSCALING = """\
  autoscaling:
    min_replicas: 2
    max_replicas: 4
    target_cpu: 0.6
"""

GOOD = f"""\
name: demo
duration: 40m
deployment:
  replicas: 2
  startup_delay: 30s
{AUTOSCALING}deployments:
  - name: canary-v2
    kind: canary
    at: 5m
    model: models/v2_good.json
    steps: [5, 25, 50, 100]
    step_every: 10m
    gates:
      - name: error-ratio
        query: sum(rate(x{{version="{{new}}"}}[10m]))
        max: 0.01
rollout_expectations:
  - {{deployment: canary-v2, outcome: promoted, at_step: 100}}
expectations: []
"""


def _error(text: str) -> str:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "scn.yaml")
    return str(info.value)


def _edit(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new)


def test_the_good_scenario_parses() -> None:
    scenario = parse_scenario(GOOD, "scn.yaml")
    (rollout,) = scenario.deployments
    assert rollout.steps == (5.0, 25.0, 50.0, 100.0) and rollout.step_every == 600.0 and rollout.at == 300.0
    assert scenario.deployment is not None and scenario.deployment.startup_delay == 30.0


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "[5, 25, 50, 100]",
            "[5, 25, 50]",
            "scn.yaml:15: field deployments[0].steps: the last step must be 100 (percent)",
        ),
        ("[5, 25, 50, 100]", "[5, 50, 25, 100]", "scn.yaml:15: field deployments[0].steps: steps must increase"),
        ("[5, 25, 50, 100]", "[5, 5, 100]", "scn.yaml:15: field deployments[0].steps: steps must increase"),
        ("        max: 0.01\n", "", "scn.yaml:18: field deployments[0].gates[0]: a gate needs max or min (or both)"),
        (
            "        max: 0.01\n",
            "        max: 0.01\n        min_samples: 10\n",
            "scn.yaml:18: field deployments[0].gates[0]: min_samples needs samples",
        ),
        (
            "{deployment: canary-v2,",
            "{deployment: canary-v3,",
            "scn.yaml:22: field rollout_expectations[0].deployment: 'canary-v3' names no deployment",
        ),
        (
            "rollout_expectations:",
            "  - {name: canary-v2, kind: blue_green, at: 6m, model: models/v2_good.json}\nrollout_expectations:",
            "scn.yaml:21: field deployments[1].name: deployment name 'canary-v2' is used twice",
        ),
        (
            "max_replicas: 4",
            "max_replicas: 1",
            "scn.yaml:7: field deployment.autoscaling: max_replicas 1 is below min_replicas 2",
        ),
        (
            "target_cpu: 0.6",
            "target_cpu: 0.555",
            "scn.yaml:7: field deployment.autoscaling: target_cpu must be a whole percent",
        ),
        ("at: 5m", "at: 40m", "scn.yaml:13: field deployments[0].at: starts at 2400s, not before the run's end"),
    ],
    ids=[
        "steps-not-ending-at-100",
        "steps-not-increasing",
        "steps-repeated",
        "gate-without-bounds",
        "min-samples-without-samples",
        "expectation-naming-no-deployment",
        "duplicated-name",
        "max-below-min-replicas",
        "target-cpu-not-a-whole-percent",
        "release-after-the-run",
    ],
)
def test_a_deployment_error_names_the_file_line_and_field(old: str, new: str, expected: str) -> None:
    assert expected in _error(_edit(old, new))


def test_a_whole_percent_that_floating_point_misses_is_still_accepted() -> None:
    """0.57 * 100 is 56.99999999999999: still 57 %, as Kubernetes' averageUtilization would be."""
    scenario = parse_scenario(_edit("target_cpu: 0.6", "target_cpu: 0.57"))
    assert scenario.deployment is not None and scenario.deployment.autoscaling is not None
    assert scenario.deployment.autoscaling.target_cpu == 0.57


def test_releases_without_a_deployment_name_the_deployments_field() -> None:
    message = _error(GOOD.replace("deployment:\n  replicas: 2\n  startup_delay: 30s\n" + AUTOSCALING, ""))
    assert message.startswith("scn.yaml:")
    assert "field deployments: a release needs the service as replicas" in message
    line = int(message.split(":")[1])
    assert line in (3, 4)  # the key, or the first item of its list


# -- judge_rollout and describe_rollout ---------------------------------------------------------


def _record(outcome: str = "promoted", at_step: float | None = 1.0, ended: float | None = 2160.0) -> RolloutRecord:
    return RolloutRecord("canary-v2", "canary", "v2", "v1", 300.0, outcome, at_step, ended)


def _expect(**kw: object) -> RolloutExpectation:
    return RolloutExpectation(deployment="canary-v2", **kw)  # type: ignore[arg-type]


def test_the_expected_outcome_passes_and_says_what_was_observed() -> None:
    assert judge_rollout(_expect(outcome="promoted", at_step=100), [_record()]) == (
        True,
        "promoted at 100%, 1860s after it started",
    )


def test_an_outcome_mismatch_fails() -> None:
    passed, observed = judge_rollout(_expect(outcome="rolled_back"), [_record()])
    assert not passed and observed.startswith("promoted at 100%")


def test_an_at_step_mismatch_fails() -> None:
    record = _record("rolled_back", 0.5, 1290.0)
    assert judge_rollout(_expect(outcome="rolled_back", at_step=50), [record])[0]
    passed, observed = judge_rollout(_expect(outcome="rolled_back", at_step=25), [record])
    assert not passed and observed == "rolled_back at 50%, 990s after it started"


def test_at_step_is_compared_in_percent_despite_floating_point() -> None:
    """0.05 * 100 is 5.000000000000001: a rollback at the 5 % step is at_step 5."""
    assert judge_rollout(_expect(outcome="rolled_back", at_step=5), [_record("rolled_back", 0.05, 1890.0)])[0]


def test_a_rollout_still_in_progress_matches_no_outcome() -> None:
    record = _record("in_progress", None, None)
    assert judge_rollout(_expect(outcome="promoted"), [record]) == (False, "in_progress")
    assert not judge_rollout(_expect(outcome="promoted", at_step=100, within=(0, 10_000)), [record])[0]


def test_within_is_measured_from_the_rollouts_start_to_its_end() -> None:
    record = _record()  # started 300, ended 2160: 1860 s
    assert judge_rollout(_expect(outcome="promoted", within=("1860s", "1900s")), [record])[0]
    assert judge_rollout(_expect(outcome="promoted", within=(0, "31m")), [record])[0]
    assert not judge_rollout(_expect(outcome="promoted", within=("1861s", "1900s")), [record])[0]
    assert not judge_rollout(_expect(outcome="promoted", within=(0, "1859s")), [record])[0]


def test_max_failed_requests_counts_only_failures_between_start_and_end() -> None:
    """Failures at 299 s (before the start) and 2160.5 s (after the end) are not the rollout's."""
    failed_at = [10.0, 299.0, 300.0, 1000.0, 1000.0, 2160.0, 2160.5, 3000.0]
    record = _record()
    passed, observed = judge_rollout(_expect(outcome="promoted", max_failed_requests=4), [record], failed_at)
    assert passed and observed.endswith(", 4 failed requests meanwhile")
    assert not judge_rollout(_expect(outcome="promoted", max_failed_requests=3), [record], failed_at)[0]
    # no failures, no problem; and a rollout still running counts everything after its start
    assert judge_rollout(_expect(outcome="promoted", max_failed_requests=0), [record])[0]
    running = _record("in_progress", None, None)
    assert judge_rollout(_expect(outcome="promoted", max_failed_requests=10), [running], failed_at)[1].endswith(
        ", 6 failed requests meanwhile"
    )


def test_a_rollout_that_never_started_fails() -> None:
    other = RolloutRecord("other", "canary", "v2", "v1", 0.0, "promoted", 1.0, 100.0)
    assert judge_rollout(_expect(outcome="promoted"), [other]) == (False, "never started")


def test_describe_rollout_reads_as_a_sentence() -> None:
    assert describe_rollout(_expect(outcome="promoted")) == "canary-v2 is promoted"
    assert (
        describe_rollout(_expect(outcome="rolled_back", at_step=50, within=("1m", "1900s"), max_failed_requests=3))
        == "canary-v2 is rolled back at 50% within [60s, 1900s] of its start, with at most 3 failed requests"
    )


# -- with_deployments -------------------------------------------------------------------------


def test_canary_promoted_becomes_a_labelled_fleet_and_a_canary_of_the_shipped_model() -> None:
    scenario, base = load_scenario(SCENARIOS / "canary_promoted.yaml")
    world = with_deployments(scenario.world(), scenario, base)
    assert world.build is not None and world.build.version == STABLE_VERSION
    assert world.build.model == str((REPO / "config" / "model.json").resolve())
    assert world.fleet == FleetSpec(replicas=2, labelled=True, startup_delay=30.0, autoscaling=None)
    (rollout,) = world.rollouts
    assert (rollout.name, rollout.kind, rollout.at) == ("canary-v2", "canary", 300.0)
    assert rollout.build.version == "factor-logit-20260301-v2good"  # read from the model file
    assert rollout.build.model == str((SCENARIOS / "models" / "v2_good.json").resolve())
    assert rollout.build.server == ServerSpec() == world.build.server
    assert rollout.steps == (0.05, 0.25, 0.5, 1.0)
    assert (rollout.step_every, rollout.replicas, rollout.inconclusive_limit) == (900.0, 1, 3)
    assert [g.name for g in rollout.gates] == ["error-ratio", "p95-latency-ratio", "accuracy-vs-old"]
    accuracy = rollout.gates[2]
    assert (accuracy.max, accuracy.min, accuracy.min_samples) == (None, -0.03, 1500.0)
    assert accuracy.samples is not None and "{new}" in accuracy.samples  # filled in by the controller, not here
    assert rollout.gates[0].max == 0.01 and rollout.gates[0].min is None


def test_the_autoscaler_scenario_gets_its_hpa() -> None:
    scenario, base = load_scenario(SCENARIOS / "autoscaler_absorbs_ramp.yaml")
    world = with_deployments(scenario.world(), scenario, base)
    assert world.fleet == FleetSpec(1, True, 30.0, HpaSpec(1, 6, 0.4, 0.1, 15.0, 300.0))
    assert world.rollouts == ()
    assert world.build is not None and world.build.server == ServerSpec(1, 0.004, 0.35)


def test_a_release_heavier_per_request_gets_its_own_service_time() -> None:
    text = _edit("    step_every: 10m\n", "    step_every: 10m\n    service_time_median: 8ms\n")
    scenario = parse_scenario(text)
    world = with_deployments(scenario.world(), scenario, SCENARIOS)
    assert world.rollouts[0].build.server == ServerSpec(2, 0.008, 0.35)
    assert world.build is not None and world.build.server == ServerSpec(2, 0.002, 0.35)
    assert world.rollouts[0].gates == (GateSpec("error-ratio", 'sum(rate(x{version="{new}"}[10m]))', max=0.01),)


def test_a_scenario_without_deployment_keeps_its_world() -> None:
    scenario, base = load_scenario(SCENARIOS / "steady_state.yaml")
    world = scenario.world()
    assert with_deployments(world, scenario, base) is world
    assert world.fleet == FleetSpec() and not world.fleet.labelled


def test_a_release_of_the_version_already_serving_is_refused() -> None:
    """Two versions with one label value could not be told apart by any gate."""
    scenario = parse_scenario(GOOD.replace("duration: 40m\n", "duration: 40m\nmodel: models/v2_good.json\n"))
    with pytest.raises(ValueError, match=r"deployment 'canary-v2'.*already serving \(factor-logit-20260301-v2good\)"):
        with_deployments(scenario.world(), scenario, SCENARIOS)
