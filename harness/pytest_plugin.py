"""alertdrill as a pytest plugin: scenario files are tests.

    pytest --alertdrill scenarios/                  # each scenario file is a test item
    pytest --alertdrill scenarios/ --alertdrill-seeds 0-4 -n 2

With ``--alertdrill``, every ``*.yaml`` file pytest meets under its arguments is read as a
scenario and run once per seed (the scenario's own seed unless ``--alertdrill-seeds``). A project
can instead name its scenario files in its pytest configuration, so a plain ``pytest`` runs them
beside its other tests (this repository does)::

    [tool.pytest.ini_options]
    testpaths = ["tests", "scenarios"]
    alertdrill_scenarios = ["scenarios/*.yaml"]   # globs, relative to the rootdir

A run whose expectations fail is reported with its expectation table and alert timeline, not a
traceback; a file that is not a valid scenario is a collection error naming the file, field
and line.

For scenario tests written in Python, ``alertdrill_run`` runs a scenario file into a fresh run
folder and returns the ``RunResult``; ``alertdrill_shared_run`` returns the run of a file and
seed that this session's scenario item (and every other test asking for it) shares, so a
scenario's Python checks cost no second run. Under pytest-xdist each worker has its own
session, so every item of one scenario file carries ``xdist_group(alertdrill_group(path))``:
with ``--dist loadgroup`` it and the tests marked the same run on one worker, once.
Registered through the ``pytest11`` entry point, so it is there wherever alertdrill is installed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness.errors import AlertdrillError

if TYPE_CHECKING:
    from harness.run import RunResult

_CONFIGURED = pytest.StashKey[set[Path]]()
_SHARED = pytest.StashKey[dict[tuple[Path, int | None], "RunResult | AlertdrillError"]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("alertdrill")
    group.addoption("--alertdrill", action="store_true", help="collect *.yaml scenario files as tests and run them")
    group.addoption(
        "--alertdrill-seeds",
        metavar="SPEC",
        help="run each scenario for these seeds, e.g. 0-19 or 0,3,7 (default: the scenario's own seed)",
    )
    parser.addini(
        "alertdrill_scenarios",
        type="linelist",
        default=[],
        help="globs (relative to the rootdir) of scenario files collected as tests without --alertdrill",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "alertdrill: a scenario file run as a test by the alertdrill plugin")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix != ".yaml":
        return None
    config = parent.config
    if config.getoption("alertdrill") or _configured(config, file_path):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


def _configured(config: pytest.Config, path: Path) -> bool:
    """Whether ``path`` is one of the files the ``alertdrill_scenarios`` globs name (``*`` within one
    folder, ``**`` across folders, as ``Path.glob``)."""
    if _CONFIGURED not in config.stash:
        root = config.rootpath
        config.stash[_CONFIGURED] = {p.resolve() for g in config.getini("alertdrill_scenarios") for p in root.glob(g)}
    return path.resolve() in config.stash[_CONFIGURED]


def alertdrill_group(config: pytest.Config, path: str | Path) -> str:
    """The xdist group of a scenario file's items: its path from the rootdir, without ``.yaml``
    (``scenarios/latency_spike``). Mark a test that reads ``alertdrill_shared_run(path)`` with
    ``pytest.mark.xdist_group(alertdrill_group(config, path))`` to run it on the same worker."""
    resolved, root = Path(path).resolve(), config.rootpath.resolve()
    return (resolved.relative_to(root) if resolved.is_relative_to(root) else resolved).with_suffix("").as_posix()


def shared_run(config: pytest.Config, path: str | Path, seed: int | None = None) -> RunResult:
    """The run of ``path`` for ``seed`` (the scenario's own when None), once per session, into a
    run folder under the session's base temporary directory; a failure to run is raised to every
    test that asks."""
    from harness.run import run_scenario
    from harness.scenario import load_scenario

    resolved = Path(path).resolve()
    runs = config.stash.setdefault(_SHARED, {})
    key = (resolved, seed)
    if key not in runs:  # the file is read once per session and seed too, not once per test
        scenario, base = load_scenario(resolved)
        own = (resolved, scenario.seed if seed is None else seed)  # None and the scenario's seed: one run
        if own not in runs:
            try:
                out = Path(config._tmp_path_factory.mktemp(f"{scenario.name}-seed{own[1]}")) / "run"  # type: ignore[attr-defined]
                runs[own] = run_scenario(scenario, base, seed=own[1], out_dir=out)
            except AlertdrillError as exc:
                runs[own] = exc
        runs[key] = runs[own]
    run = runs[key]
    if isinstance(run, AlertdrillError):
        raise run
    return run


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
        xdist = self.config.pluginmanager.hasplugin("xdist")
        for seed in seeds:
            item = ScenarioItem.from_parent(self, name=f"{scenario.name}[seed{seed}]", seed=seed)
            item.add_marker(pytest.mark.alertdrill)
            if xdist:
                item.add_marker(pytest.mark.xdist_group(alertdrill_group(self.config, self.path)))
            yield item


class ScenarioFailed(Exception):
    """A run whose expectations did not hold; its text is the run's summary."""


class ScenarioItem(pytest.Item):
    def __init__(self, *, seed: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seed = seed

    def runtest(self) -> None:
        from harness.report import summary

        result = shared_run(self.config, self.path, self.seed)
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


@pytest.fixture
def alertdrill_shared_run(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """``alertdrill_shared_run(path, seed=None)``: the ``RunResult`` of ``path`` this session shares
    with its scenario item and every other test asking for the same file and seed (run once). Under
    pytest-xdist, mark the test ``xdist_group(alertdrill_group(config, path))``."""

    def run(path: str | Path, seed: int | None = None) -> Any:
        return shared_run(request.config, path, seed)

    return run
