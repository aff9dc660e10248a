"""Runs of the shipped scenarios, shared by the tests that read them.

The shipped scenarios are test items of alertdrill's own pytest plugin (pyproject.toml's
``alertdrill_scenarios``): ``scenarios/latency_spike.yaml::latency_spike[seed0]`` passes when its
expectations hold. The tests here check more of the same run — raw fire times against the fault,
the run folder, promtool's agreement — through the plugin's shared run (``shipped_run``), so a
scenario runs once per test session. Under pytest-xdist each worker has its own session: the
plugin puts a scenario's items in the xdist group ``scenarios/<name>``, and the tests of that
scenario carry the same group (``shipped()``, ``on_run(name)``) so that ``--dist loadgroup`` sends
them all to the worker that runs it, once. The longest runs are handed out first
(``tests/conftest.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.pytest_plugin import shared_run
from harness.run import RunResult, run_scenario
from harness.scenario import Scenario, load_scenario
from harness.verdict import Verdict

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "scenarios"
SHIPPED = sorted(p.stem for p in SCENARIOS.glob("*.yaml"))
LONG = sorted(p.stem for p in (SCENARIOS / "long").glob("*.yaml"))


def on_run(name: str) -> pytest.MarkDecorator:
    """The mark of a test that reads ``shipped_run(name)``: the xdist group of the run, the
    scenario's path from the repository without ``.yaml`` (the plugin's ``alertdrill_group``;
    ``long/<name>`` for ``long_run(name)``)."""
    return pytest.mark.xdist_group(f"scenarios/{name}")


def shipped(names: list[str] | None = None) -> list[Any]:
    """Parameters, one per shipped scenario, each in its scenario's xdist group."""
    return [pytest.param(name, marks=on_run(name)) for name in (SHIPPED if names is None else names)]


def long_scenarios() -> list[Any]:
    """Parameters, one per scenario of scenarios/long/, each in its xdist group ``long/<name>``."""
    return [pytest.param(name, marks=on_run(f"long/{name}")) for name in LONG]


def _groups(request: pytest.FixtureRequest) -> set[str]:
    return {str(m.args[0] if m.args else m.kwargs.get("name")) for m in request.node.iter_markers("xdist_group")}


def _check_group(request: pytest.FixtureRequest, name: str) -> None:
    """A test that reads a run outside its group would make another worker run it again."""
    if f"scenarios/{name}" not in _groups(request):
        pytest.fail(
            f"{request.node.nodeid} reads the run of {name!r} but is not in its xdist group: "
            f"mark it @on_run({name!r}) (or use shipped() as its parameters)",
            pytrace=False,
        )


@pytest.fixture
def shipped_run(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """The run of a scenario from scenarios/ (its own seed) that its plugin item shares, with its
    run folder. The test must be in the scenario's xdist group (``on_run(name)``, ``shipped()``)."""

    def get(name: str) -> RunResult:
        _check_group(request, name)
        return shared_run(request.config, SCENARIOS / f"{name}.yaml")

    return get


@dataclass(frozen=True)
class LongRun:
    """What the tests of a long scenario read: its verdict and its run folder (not the run, a day of scrapes)."""

    scenario: Scenario
    seed: int
    verdict: Verdict
    out_dir: Path

    @property
    def passed(self) -> bool:
        return self.verdict.passed


@pytest.fixture(scope="session")
def _long_runs() -> dict[str, LongRun]:
    return {}


@pytest.fixture
def long_run(  # type: ignore[no-untyped-def]
    _long_runs: dict[str, LongRun], request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
):
    """Runs a scenario from scenarios/long/ once per test session, with its run folder.

    The test must be in the xdist group ``long/<name>`` (``on_run(f"long/{name}")``)."""

    def get(name: str) -> LongRun:
        _check_group(request, f"long/{name}")
        if name not in _long_runs:
            scenario, base = load_scenario(SCENARIOS / "long" / f"{name}.yaml")
            out_dir = tmp_path_factory.mktemp(f"long-{name}")
            result = run_scenario(scenario, base, out_dir=out_dir)
            _long_runs[name] = LongRun(result.scenario, result.seed, result.verdict, out_dir)
        return _long_runs[name]

    return get
