"""The pytest plugin, as a team uses it: scenario files collected as tests, under xdist too."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.prometheus


def scenario(folder: Path, source: Path) -> Path:
    """``source`` copied into ``folder`` with its rule and model paths made absolute."""
    text = source.read_text().replace("../../../config/", f"{REPO}/config/")
    (folder / source.name).write_text(text)
    return folder / source.name


def pytest_in(folder: Path, *args: str, ini: str = "") -> subprocess.CompletedProcess[str]:
    """pytest in ``folder``, away from this repository's own configuration."""
    (folder / "pytest.ini").write_text(f"[pytest]\n{ini}")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_scenarios_are_tests_and_a_failure_reads_as_its_expectation_table(tmp_path: Path) -> None:
    scenario(tmp_path, DATA / "short_spike.yaml")
    scenario(tmp_path, DATA / "wrong_window.yaml")  # a deliberately wrong window: must fail
    proc = pytest_in(tmp_path, "--alertdrill", ".", "-n", "2")
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    assert "1 failed, 1 passed" in out
    assert "FAIL    HighLatency fires [0s, 60s] after slow-dependency starts" in out
    assert "Traceback" not in out


def test_a_broken_scenario_is_a_collection_error_naming_the_field(tmp_path: Path) -> None:
    scenario(tmp_path, DATA / "broken.yaml")
    proc = pytest_in(tmp_path, "--alertdrill", ".")
    assert proc.returncode == 2, proc.stdout + proc.stderr  # pytest's "interrupted: errors during collection"
    assert "broken.yaml:8: field faults[0].delay" in proc.stdout


def test_seeds_make_items_and_the_fixture_runs_a_scenario(tmp_path: Path) -> None:
    path = scenario(tmp_path, DATA / "short_spike.yaml")
    (tmp_path / "test_mine.py").write_text(
        f"def test_spike(alertdrill_run):\n"
        f"    result = alertdrill_run({str(path)!r}, seed=3)\n"
        f"    assert result.passed and (result.out_dir / 'verdict.json').exists()\n"
    )
    proc = pytest_in(tmp_path, "--alertdrill", ".", "--alertdrill-seeds", "0,1", "-v")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "short_spike[seed0] PASSED" in proc.stdout and "short_spike[seed1] PASSED" in proc.stdout
    assert "test_mine.py::test_spike PASSED" in proc.stdout


def test_configured_scenarios_are_tests_without_the_flag_and_share_their_run(tmp_path: Path) -> None:
    """A project names its scenario files in its configuration; a Python test of the same file and
    seed reads the item's run, on the same xdist worker, instead of running it again."""
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "deeper").mkdir()
    path = scenario(tmp_path / "mine", DATA / "short_spike.yaml")
    scenario(tmp_path / "mine" / "deeper", DATA / "broken.yaml")  # not matched by the glob: not collected
    (tmp_path / "test_mine.py").write_text(
        "import pytest\n"
        "from harness.pytest_plugin import alertdrill_group\n"
        f"PATH = {str(path)!r}\n"
        "@pytest.mark.xdist_group('mine/short_spike')\n"
        "def test_reads_the_shared_run(alertdrill_shared_run, request):\n"
        "    assert alertdrill_group(request.config, PATH) == 'mine/short_spike'\n"
        "    first = alertdrill_shared_run(PATH)\n"
        "    assert alertdrill_shared_run(PATH, seed=first.seed) is first and first.passed\n"
        "    print('RUN FOLDER', first.out_dir)\n"
    )
    proc = pytest_in(
        tmp_path, "-v", "-s", "-n", "2", "--dist", "loadgroup", "--basetemp", str(tmp_path / "tmp"),
        ini="testpaths = . mine\nalertdrill_scenarios = mine/*.yaml\n",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "short_spike[seed0]" in proc.stdout and "test_reads_the_shared_run" in proc.stdout
    assert "2 passed" in proc.stdout
    runs = sorted((tmp_path / "tmp").glob("*/short_spike-seed0[0-9]*/run/verdict.json"))  # not the "-current" link
    assert len(runs) == 1, runs  # one run, shared by the item and the test
