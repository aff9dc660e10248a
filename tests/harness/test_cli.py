"""``alertdrill`` refusing what it cannot use: exit 2 and a message naming the file, before any work.

Each case here once passed, crashed or failed only after simulating (issue 11, defects 8, 9, 11).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "config" / "model.json"
RULES = """\
groups:
- name: api
  rules:
  - alert: HighLatency
    expr: vector(0) > 1
  - alert: HighErrorRate
    expr: vector(0) > 1
"""


def alertdrill(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a child process with its own TMPDIR; nothing it starts may outlive it."""
    tmp = tmp_path / "tmp"
    tmp.mkdir(exist_ok=True)
    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "TMPDIR": str(tmp)},
        cwd=REPO,
        timeout=300,
        check=False,
    )
    assert list(tmp.iterdir()) == [], "temporary folders left behind"
    return proc


def _scenario(folder: Path, expectation: str) -> Path:
    (folder / "rules.yml").write_text(RULES)
    path = folder / "typo.yaml"
    path.write_text(
        f"name: typo\nduration: 2m\nrules: [rules.yml]\nmodel: {MODEL}\n"
        "faults:\n  - {name: slow, kind: latency_spike, start: 30s, duration: 30s, delay: 40ms}\n"
        "expectations:\n"
        "  - alert: HighErrorRate\n    silent: true\n"
        f"  - alert: HighLatncy\n{expectation}"
    )
    return path


TYPOS = pytest.mark.parametrize(
    "expectation",
    ["    silent: true\n", "    fault: slow\n    fires_within: [0s, 1m]\n"],
    ids=["silent", "fires_within"],
)


@pytest.mark.prometheus
@TYPOS
def test_run_refuses_an_expectation_naming_an_alert_no_rule_defines(tmp_path: Path, expectation: str) -> None:
    """It once passed (``silent``: a false green) or failed with exit 1 after the whole run."""
    path, out = _scenario(tmp_path, expectation), tmp_path / "run"
    proc = alertdrill(tmp_path, "run", str(path), "--out", str(out), "-q")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"{path}:10: field expectations[1].alert: 'HighLatncy'" in proc.stderr
    assert "did you mean 'HighLatency'?" in proc.stderr and "HighErrorRate, HighLatency" in proc.stderr
    assert not out.exists()  # refused before simulating: no run folder


@pytest.mark.prometheus
@TYPOS
def test_run_scenario_refuses_it_before_simulating(tmp_path: Path, expectation: str) -> None:
    from harness.errors import ScenarioError
    from harness.run import run_scenario
    from harness.scenario import load_scenario

    phases: list[str] = []

    class Phases:
        def phase_started(self, phase: str) -> None:
            phases.append(phase)

        def phase_finished(self, phase: str, seconds: float) -> None: ...
        def simulated(self, now: float, total: float) -> None: ...

    scenario, base = load_scenario(_scenario(tmp_path, expectation))
    with pytest.raises(ScenarioError, match=r"typo.yaml:10: field expectations\[1\].alert: 'HighLatncy'"):
        run_scenario(scenario, base, listener=Phases())
    assert phases == []


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("name: x\nduration: 1m\n".encode("utf-16"), "is UTF-16 text"),
        (bytes(range(256)), ":1: scenario file holds a NUL byte"),
        (b"name: caf\xe9\nduration: 1m\n", ":1: scenario file is not UTF-8 text: byte 0xe9 at column 10"),
        (b"# padding\n" * 110_000, "scenario file is 1.1 MB (1,100,000 bytes); the limit is 1 MB"),
    ],
    ids=["utf-16", "binary", "latin-1", "over-1-MB"],
)
def test_run_refuses_a_scenario_file_that_is_not_utf8_yaml_text(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    proc = alertdrill(tmp_path, "run", str(path), "--out", str(tmp_path / "run"))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"alertdrill: error: {path}") and expected in proc.stderr
    assert "Traceback" not in proc.stderr


def test_backtest_refuses_a_series_file_that_is_neither_openmetrics_nor_parquet(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"up 1 100\n" + bytes(range(128, 256)))
    bad_parquet = tmp_path / "samples.parquet"  # Parquet's magic, then nothing Parquet can read
    bad_parquet.write_bytes(b"PAR1" + bytes(range(256)) + b"PAR1")
    rules = tmp_path / "rules.yml"
    rules.write_text(RULES)
    for series, expected in (
        (garbage, f"{garbage}:2: series file is not UTF-8 text"),
        (bad_parquet, f"{bad_parquet}: cannot read the Parquet file"),
    ):
        proc = alertdrill(tmp_path, "backtest", "--rules", str(rules), "--series", str(series), "--out", str(tmp_path))
        assert proc.returncode == 2, proc.stderr
        assert expected in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.prometheus
def test_backtest_over_a_run_folders_parquet_finds_the_runs_alerts(tmp_path: Path) -> None:
    """The run folder's samples.parquet (stale markers and all) is a backtest's input: the same
    rules over the same samples, on the run's evaluation times, fire the run's alerts."""
    run = tmp_path / "run"
    proc = alertdrill(tmp_path, "run", str(REPO / "scenarios" / "latency_spike.yaml"), "--out", str(run), "-q")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    verdict = json.loads((run / "verdict.json").read_text())
    start, end = verdict["start_unix"], verdict["start_unix"] + verdict["simulated_seconds"]
    out = tmp_path / "backtest"
    rule_files = verdict["rule_files"]
    args = ["--series", str(run / "samples.parquet"), "--start", str(start), "--end", str(end), "--interval", "15s"]
    proc = alertdrill(tmp_path, "backtest", "--rules", *rule_files, *args, "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr

    def fired(alerts: list[dict[str, object]], offset: float) -> list[tuple[object, ...]]:
        return sorted(
            (a["alertname"], json.dumps(a["labels"], sort_keys=True), float(a["fired_at"]) + offset)  # type: ignore[arg-type]
            for a in alerts
            if a["fired_at"] is not None
        )

    expected = fired(verdict["alerts"], start)
    assert [a[0] for a in expected] == ["HighLatency"]
    assert fired(json.loads((out / "alerts.json").read_text())["alerts"], 0.0) == expected
