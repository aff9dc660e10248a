"""Scenario files: what is accepted, and errors that name the file, field and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.scenario import load_scenario, parse_scenario
from sim.specs import FaultKind

REPO = Path(__file__).resolve().parents[2]

GOOD = """\
name: demo
duration: 30m
seed: 3
faults:
  - name: spike
    kind: latency_spike
    start: 10m
    duration: 5m
    delay: 40ms
expectations:
  - alert: HighLatency
    fault: spike
    fires_within: [2m, 4m]
"""


def test_a_good_scenario_becomes_the_simulators_world() -> None:
    world = parse_scenario(GOOD).world()
    assert world.duration == 1800 and world.seed == 3
    (fault,) = world.faults
    assert (fault.kind, fault.start, fault.end, fault.magnitude) == (FaultKind.LATENCY_SPIKE, 600, 900, 0.04)


def test_seed_can_be_overridden() -> None:
    assert parse_scenario(GOOD).world(seed=9).seed == 9


@pytest.mark.parametrize("path", sorted((REPO / "scenarios").glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_scenario_loads(path: Path) -> None:
    scenario, base = load_scenario(path)
    assert scenario.expectations, "a shipped scenario should expect something"
    assert all((base / r).is_file() for r in scenario.rules)


def _error(text: str) -> str:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "scn.yaml")
    return str(info.value)


def test_bad_duration_names_file_line_and_field() -> None:
    message = _error(GOOD.replace("delay: 40ms", "delay: fast"))
    assert message.startswith("scn.yaml:9: field faults[0].delay:")
    assert "'5m'" in message


def test_unknown_fault_kind_lists_the_accepted_kinds() -> None:
    message = _error(GOOD.replace("kind: latency_spike", "kind: meteor"))
    assert "scn.yaml:6: field faults[0].kind: 'meteor' is not a fault kind" in message
    assert "latency_spike" in message and "error_burst" in message


def test_unknown_field_is_refused() -> None:
    assert "scn.yaml:3: field sede: unknown field" in _error(GOOD.replace("seed: 3", "sede: 3"))


def test_expectation_naming_a_missing_fault_points_at_it() -> None:
    assert "scn.yaml:12: field expectations[0].fault: 'spik' names no fault" in _error(
        GOOD.replace("fault: spike", "fault: spik")
    )


def test_fault_past_the_end_of_the_run() -> None:
    assert "faults[0].duration" in _error(GOOD.replace("duration: 5m", "duration: 25m"))


def test_window_upside_down() -> None:
    message = _error(GOOD.replace("[2m, 4m]", "[4m, 2m]"))
    assert "scn.yaml:13: field expectations[0].fires_within: min 240s is after max 120s" in message


def test_silent_with_a_window_is_contradictory() -> None:
    assert "silent expectation" in _error(GOOD + "    silent: true\n")


def test_invalid_yaml_names_the_line() -> None:
    assert _error("name: x\nduration: [10m\n").startswith("scn.yaml:3: not valid YAML")


def test_not_a_mapping() -> None:
    assert "a scenario is a mapping" in _error("- just\n- a list\n")


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read scenario file"):
        load_scenario(tmp_path / "nope.yaml")
