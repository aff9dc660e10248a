from __future__ import annotations

from pathlib import Path

import pytest

from harness.run import RunResult, run_scenario
from harness.scenario import load_scenario

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def shipped_run(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Runs a scenario from scenarios/ once per test session, with its run folder."""
    cache: dict[str, RunResult] = {}

    def get(name: str) -> RunResult:
        if name not in cache:
            scenario, base = load_scenario(REPO / "scenarios" / f"{name}.yaml")
            cache[name] = run_scenario(scenario, base, out_dir=tmp_path_factory.mktemp(name))
        return cache[name]

    return get
