"""Scenario files: what is accepted, and errors that name the file, field and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.scenario import Expectation, Scenario, check_alert_names, load_scenario, parse_scenario
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
    assert scenario.expectations or scenario.rollout_expectations, "a shipped scenario should expect something"
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


# Expectations name alerts the rule files define (a typo must not pass as a silent alert).

KNOWN = frozenset({"HighLatency", "HighErrorRate"})
TYPO = GOOD + "  - alert: HighErorRate\n    silent: true\n"


def test_expectations_naming_known_alerts_pass_the_check() -> None:
    check_alert_names(parse_scenario(GOOD + "  - alert: HighErrorRate\n    silent: true\n"), KNOWN)


@pytest.mark.parametrize(
    "expectation",
    ["    silent: true\n", "    fault: spike\n    fires_within: [0s, 5m]\n"],
    ids=["silent", "fires_within"],
)
def test_an_expectation_naming_an_unknown_alert_names_file_line_and_the_known_alerts(
    tmp_path: Path, expectation: str
) -> None:
    path = tmp_path / "scn.yaml"
    path.write_text(GOOD + "  - alert: HighErorRate\n" + expectation)
    scenario, _ = load_scenario(path)
    with pytest.raises(ScenarioError) as info:
        check_alert_names(scenario, KNOWN)
    message = str(info.value)
    assert message.startswith(f"{path}:14: field expectations[1].alert: 'HighErorRate'")
    assert "did you mean 'HighErrorRate'?" in message
    assert "HighErrorRate, HighLatency" in message  # every alert its rule files define, sorted


def test_every_unknown_alert_is_named_on_its_own_line() -> None:
    text = GOOD.replace("alert: HighLatency", "alert: Nope") + "  - alert: Nada\n    silent: true\n"
    with pytest.raises(ScenarioError) as info:
        check_alert_names(parse_scenario(text, "scn.yaml"), KNOWN)
    first, second = str(info.value).splitlines()
    assert first.startswith("scn.yaml:11: field expectations[0].alert: 'Nope'")
    assert second.startswith("scn.yaml:14: field expectations[1].alert: 'Nada'")


def test_unknown_alert_of_a_scenario_built_in_python_names_the_scenario() -> None:
    scenario = Scenario(name="built", duration=60, expectations=(Expectation(alert="Nope", silent=True),))
    with pytest.raises(ScenarioError, match=r"^scenario built: field expectations\[0\].alert: 'Nope'"):
        check_alert_names(scenario, KNOWN)


def test_rule_files_without_alerts_say_so() -> None:
    with pytest.raises(ScenarioError, match="define no alerting rule"):
        check_alert_names(parse_scenario(GOOD, "scn.yaml"), set())


# Files that are not UTF-8 YAML text, or are too large, are refused with the file named.


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (GOOD.encode("utf-16"), "is UTF-16 text (it starts with a byte-order mark); save it as UTF-8"),
        (GOOD.encode("utf-16-le"), ":1: scenario file holds a NUL byte"),  # UTF-16 without its mark
        (GOOD.replace("seed: 3", "seed: 3 # caf\xe9").encode("latin-1"), ":3: scenario file is not UTF-8 text"),
        (bytes(range(256)) * 4, ":1: scenario file holds a NUL byte"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(128, 256)), ":1: scenario file is not UTF-8 text"),
    ],
    ids=["utf-16", "utf-16-without-bom", "latin-1", "binary", "png"],
)
def test_a_scenario_file_that_is_not_utf8_names_the_file(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "scn.yaml"
    path.write_bytes(content)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value).startswith(str(path)) and expected in str(info.value)


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "scn.yaml"
    path.write_bytes(GOOD.encode("utf-8-sig"))
    assert load_scenario(path)[0].name == "demo"


def test_a_scenario_file_over_1_mb_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text(GOOD + "# padding\n" * 150_000)  # 1.5 MB of valid YAML
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == f"{path}: scenario file is 1.5 MB (1,500,210 bytes); the limit is 1 MB"


def test_an_endless_scenario_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="scenario file is over 1 MB; the limit is 1 MB"):
        load_scenario(Path("/dev/zero"))
