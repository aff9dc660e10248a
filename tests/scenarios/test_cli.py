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


@pytest.mark.prometheus
def test_suite_runs_scenarios_in_parallel_with_progress_and_a_summary(tmp_path: Path) -> None:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    common = f"rules: [{REPO / 'config' / 'prometheus-alerts.yml'}]\nmodel: {REPO / 'config' / 'model.json'}\n"
    (folder / "a_quiet.yaml").write_text(f"name: a_quiet\nduration: 5m\n{common}")
    (folder / "b_wrong.yaml").write_text(
        f"name: b_wrong\nduration: 8m\n{common}"
        "faults: [{name: down, kind: feed_outage, start: 1m, duration: 4m}]\n"
        "expectations: [{alert: DataStaleness, fault: down, fires_within: [0s, 10s]}]\n"
    )
    out = tmp_path / "out"
    proc = alertdrill(tmp_path, "suite", str(folder), "--out", str(out), "--jobs", "2")
    assert proc.returncode == 1, proc.stdout + proc.stderr  # b_wrong's window is impossible
    assert "2/2" in proc.stderr and "#" in proc.stderr  # the progress bar reached the end
    summary = json.loads((out / "suite.json").read_text())
    assert [(s["run_folder"], s["passed"]) for s in summary["scenarios"]] == [("a_quiet", True), ("b_wrong", False)]
    wrong = summary["scenarios"][1]
    assert "DataStaleness" in wrong["alerts_fired"] and wrong["detection"][0]["fired_after"] > 10
    assert (out / "a_quiet" / "verdict.json").is_file() and (out / "b_wrong" / "verdict.json").is_file()
    assert "1 passed, 1 failed" in proc.stdout
    # every run folder has its executed report, with the plots, and the suite its analysis
    report = json.loads((out / "b_wrong" / "report.ipynb").read_text())
    outputs = [o for c in report["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs)
    assert wrong["report"] == "b_wrong/report.ipynb"
    analysis = json.loads((out / "analysis.ipynb").read_text())
    assert any("DataStaleness" in json.dumps(c.get("outputs", [])) for c in analysis["cells"])
