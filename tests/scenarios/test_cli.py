"""``alertdrill run`` as a user runs it: exit codes, messages, and nothing left running."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[2]


def alertdrill(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI with its own TMPDIR, and check no Prometheus it started outlives it."""
    tmp = tmp_path / "tmp"
    tmp.mkdir(exist_ok=True)
    full_env = {**os.environ, "TMPDIR": str(tmp), **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=REPO,
        timeout=600,
        check=False,
    )
    leaked = (
        [p for p in Path("/proc").glob("[0-9]*/cmdline") if str(tmp) in p.read_bytes().decode(errors="replace")]
        if Path("/proc").exists()
        else []
    )
    assert leaked == [], f"processes left running: {leaked}"
    assert list(tmp.iterdir()) == [], "temporary folders left behind"
    return proc


@pytest.mark.prometheus
def test_negative_control_wrong_window_exits_1(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = alertdrill(tmp_path, "run", str(DATA / "wrong_window.yaml"), "--out", str(out), "-q")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FAILED" in proc.stdout
    verdict = json.loads((out / "verdict.json").read_text())
    (expectation,) = verdict["expectations"]
    assert not expectation["passed"]
    assert expectation["fired_after"] > 60  # it did fire, just later than the (wrong) window


def test_broken_scenario_exits_2_naming_the_field(tmp_path: Path) -> None:
    proc = alertdrill(tmp_path, "run", str(DATA / "broken.yaml"))
    assert proc.returncode == 2
    assert "broken.yaml:8: field faults[0].delay" in proc.stderr


def test_missing_scenario_file_exits_2(tmp_path: Path) -> None:
    proc = alertdrill(tmp_path, "run", str(tmp_path / "nope.yaml"))
    assert proc.returncode == 2 and "cannot read scenario file" in proc.stderr


@pytest.mark.prometheus
def test_rule_file_promtool_rejects_exits_2_with_its_message(tmp_path: Path) -> None:
    proc = alertdrill(tmp_path, "run", str(DATA / "bad_rules.yaml"))
    assert proc.returncode == 2
    assert "promtool check rules rejected" in proc.stderr and "bad_rules.yml" in proc.stderr


def test_missing_prometheus_exits_2_naming_the_package(tmp_path: Path) -> None:
    env = {"ALERTDRILL_PROMTOOL": "/nonexistent/promtool"}
    proc = alertdrill(tmp_path, "run", str(REPO / "scenarios" / "steady_state.yaml"), env=env)
    assert proc.returncode == 2 and "ALERTDRILL_PROMTOOL" in proc.stderr
    env = {"PATH": str(Path(sys.executable).parent)}
    proc = alertdrill(tmp_path, "run", str(REPO / "scenarios" / "steady_state.yaml"), env=env)
    assert proc.returncode == 2 and "apt-get install prometheus" in proc.stderr


def test_usage_error_exits_2(tmp_path: Path) -> None:
    assert alertdrill(tmp_path, "run").returncode == 2
    assert alertdrill(tmp_path, "explode").returncode == 2


@pytest.mark.prometheus
def test_backtest_over_an_openmetrics_file(tmp_path: Path) -> None:
    series = tmp_path / "series.om"
    lines = ["# TYPE up gauge"]
    lines += [
        f'up{{job="api",instance="a:1"}} {0 if 300 <= t < 600 else 1} {1_767_623_400 + t}' for t in range(0, 1200, 15)
    ]
    series.write_text("\n".join(lines) + "\n# EOF\n")
    rules = tmp_path / "rules.yml"
    rules.write_text("groups:\n- name: g\n  rules:\n  - alert: Down\n    expr: up == 0\n    for: 1m\n")
    out = tmp_path / "out"
    proc = alertdrill(
        tmp_path,
        "backtest",
        "--rules",
        str(rules),
        "--series",
        str(series),
        "--interval",
        "15s",
        "--out",
        str(out),
        "--fail-on-firing",
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (alert,) = json.loads((out / "alerts.json").read_text())["alerts"]
    assert (alert["active_at"], alert["fired_at"], alert["resolved_at"]) == (
        1_767_623_700,
        1_767_623_760,
        1_767_624_000,
    )
    assert (out / "states.csv").read_text().splitlines()[1].startswith("1767623700,Down,")


def test_backtest_bad_series_line_names_file_and_line(tmp_path: Path) -> None:
    series = tmp_path / "bad.om"
    series.write_text("up 1 100\nup{job=api} 1 115\n")
    proc = alertdrill(
        tmp_path,
        "backtest",
        "--rules",
        str(REPO / "config" / "prometheus-alerts.yml"),
        "--series",
        str(series),
        "--out",
        str(tmp_path / "o"),
    )
    assert proc.returncode == 2 and "bad.om:2" in proc.stderr
