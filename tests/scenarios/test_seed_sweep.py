"""Every shipped scenario holds for seeds 0 to 19 (slow: run with ``pytest -m slow``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.run import run_scenario
from harness.scenario import load_scenario
from tests.scenarios.conftest import long_scenarios

SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.yaml"))


@pytest.mark.slow
@pytest.mark.prometheus
@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario_holds_for_seed(path: Path, seed: int) -> None:
    scenario, base = load_scenario(path)
    result = run_scenario(scenario, base, seed=seed)
    assert result.passed, [e for e in result.verdict.expectations if not e.passed]


@pytest.mark.slow
@pytest.mark.prometheus
@pytest.mark.parametrize("name", long_scenarios())
def test_long_scenario_holds(long_run, name: str) -> None:  # type: ignore[no-untyped-def]
    """A trading day with the intraday profile, and SLO alerts whose windows need a day of history."""
    result = long_run(name)  # shared with its digest test
    assert result.passed, [e for e in result.verdict.expectations if not e.passed]
