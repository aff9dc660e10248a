"""alertdrill as a pytest plugin: scenario files are tests.

    pytest --alertdrill scenarios/                  # each scenario file is a test item
    pytest --alertdrill scenarios/ --alertdrill-seeds 0-4 -n 2

With ``--alertdrill``, every ``*.yaml`` file pytest meets under its arguments is read as a
scenario and run once per seed (the scenario's own seed unless ``--alertdrill-seeds``). A run
whose expectations fail is reported with its expectation table and alert timeline, not a
traceback; a file that is not a valid scenario is a collection error naming the file, field
and line. Items are independent, so pytest-xdist spreads them over workers.

For scenario tests written in Python, the ``alertdrill_run`` fixture runs a scenario file into a
temporary run folder and returns the ``RunResult``. Registered through the ``pytest11`` entry
point, so it is there wherever alertdrill is installed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.errors import AlertdrillError


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("alertdrill")
    group.addoption("--alertdrill", action="store_true", help="collect *.yaml scenario files as tests and run them")
    group.addoption(
        "--alertdrill-seeds",
        metavar="SPEC",
        help="run each scenario for these seeds, e.g. 0-19 or 0,3,7 (default: the scenario's own seed)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "alertdrill: a scenario file run as a test by the alertdrill plugin")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if parent.config.getoption("alertdrill") and file_path.suffix == ".yaml":
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    """One scenario file: an item per seed."""

    def collect(self) -> Iterator[ScenarioItem]:
        from harness.scenario import load_scenario
        from harness.suite import parse_seeds

        try:
            scenario, _ = load_scenario(self.path)
        except AlertdrillError as exc:
            raise self.CollectError(str(exc)) from None
        spec = self.config.getoption("alertdrill_seeds")
        try:
            seeds = parse_seeds(spec) if spec else [scenario.seed]
        except ValueError as exc:
            raise pytest.UsageError(f"--alertdrill-seeds {spec}: {exc}") from None
        for seed in seeds:
            item = ScenarioItem.from_parent(self, name=f"{scenario.name}[seed{seed}]", seed=seed)
            item.add_marker(pytest.mark.alertdrill)
            yield item


class ScenarioFailed(Exception):
    """A run whose expectations did not hold; its text is the run's summary."""


class ScenarioItem(pytest.Item):
    def __init__(self, *, seed: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seed = seed

    def runtest(self) -> None:
        from harness.report import summary
        from harness.run import run_scenario
        from harness.scenario import load_scenario

        scenario, base = load_scenario(self.path)
        out = Path(self.config._tmp_path_factory.mktemp(f"{scenario.name}-seed{self.seed}"))  # type: ignore[attr-defined]
        result = run_scenario(scenario, base, seed=self.seed, out_dir=out / "run")
        if not result.passed:
            raise ScenarioFailed(summary(result))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ScenarioFailed | AlertdrillError):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"scenario {self.name}"


@pytest.fixture
def alertdrill_run(tmp_path: Path) -> Callable[..., Any]:
    """``alertdrill_run(path, seed=None, **options)``: the scenario run into a fresh folder under
    ``tmp_path``; returns its ``RunResult`` (``.passed``, ``.verdict``, ``.alerts``, ``.out_dir``)."""
    from harness.run import run_scenario
    from harness.scenario import load_scenario

    def run(path: str | Path, seed: int | None = None, **options: Any) -> Any:
        scenario, base = load_scenario(path)
        out = tmp_path / f"{scenario.name}-seed{scenario.seed if seed is None else seed}"
        return run_scenario(scenario, base, seed=seed, out_dir=out, **options)

    return run
