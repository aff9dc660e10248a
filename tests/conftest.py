"""Order of the tests under pytest-xdist: the longest work is handed out first.

``--dist loadgroup`` hands the workers units of work (one test, or every test of an
``xdist_group``) in collection order, each to whichever worker needs more. A scenario's
tests are one unit that takes as long as the scenario's simulated duration (from 20 minutes
to 3.5 hours of simulated traffic, seconds to a minute of work); given last, one of them
would leave the other worker idle. So on workers the tests are sorted, longest simulated
scenario first, then the other end-to-end tests (``tests/scenarios/``), then the unit tests,
each in collection order. Without xdist nothing is reordered.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from harness.scenario import load_scenario

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "scenarios"
END_TO_END = Path(__file__).resolve().parent / "scenarios"


@cache
def _simulated_seconds(path: Path) -> float:
    scenario, _ = load_scenario(path)
    return float(scenario.duration)


DRILL = 1e9  # the CI drill (-m slow) waits minutes on the wall clock: handed out before anything else


def _weight(item: pytest.Item) -> float:
    """Simulated seconds of the scenario the test's group (or its ``path`` parameter) runs; else 1 for
    an end-to-end test, 0 for a unit test; a live drill before all."""
    drill = item.get_closest_marker("drill")
    if drill is not None:  # the long one first; the short ones among the other end-to-end tests
        return DRILL if drill.kwargs.get("long") else 1.0
    for mark in item.iter_markers("xdist_group"):
        name = mark.args[0] if mark.args else mark.kwargs.get("name")
        path = REPO / f"{name}.yaml"  # groups are scenario paths (the plugin's alertdrill_group)
        if isinstance(name, str) and path.is_file():
            return _simulated_seconds(path)
    if END_TO_END not in item.path.parents:
        return 0.0
    callspec = getattr(item, "callspec", None)
    param = callspec.params.get("path") if callspec is not None else None
    if isinstance(param, Path) and param.suffix == ".yaml" and SCENARIOS in param.parents:
        return _simulated_seconds(param)  # a test of tests/scenarios/ that runs the scenario at `path`
    return 1.0


UNGROUPED = pytest.StashKey[str]()


@pytest.hookimpl(trylast=True)  # after pytest-xdist's, which names each test's group in its node id
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not hasattr(config, "workerinput"):
        return
    # An xdist worker: the controller hands out the tests in this order.
    items.sort(key=lambda item: -_weight(item))
    if getattr(config.option, "loadgroup", False):
        for item in items:
            if item.get_closest_marker("xdist_group") and "@" not in item.nodeid:
                item.stash[UNGROUPED] = (
                    "--dist loadgroup did not put this test in its xdist_group: this pytest-xdist does not "
                    "work with this pytest (pytest-dev/pytest-xdist#1386), so the tests meant to share a "
                    "scenario's run (or a fixture) would repeat it on each worker. Install the versions "
                    "pyproject.toml's dev extras name (bash scripts/bootstrap), or run in one process with -n 0."
                )


def pytest_runtest_setup(item: pytest.Item) -> None:
    if UNGROUPED in item.stash:
        pytest.fail(item.stash[UNGROUPED], pytrace=False)
