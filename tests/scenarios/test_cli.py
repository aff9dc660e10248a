"""``alertdrill run`` as a user runs it: exit codes, messages, and nothing left running."""

from __future__ import annotations

import json
import os
import re
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
    lines = proc.stderr.splitlines()
    first_done = next(i for i, line in enumerate(lines) if line.endswith((": pass", ": FAIL")))
    assert any(re.search(r"\d+/\d+ min", line) for line in lines[:first_done]), proc.stderr  # live from the start
    assert "IPKernelApp" not in proc.stderr  # the report kernels' own log stays out of the progress
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


def _tiny_suite(folder: Path, wrong: bool = True) -> None:
    """Two short scenarios: a quiet one, and (``wrong``) one whose window no seed can meet."""
    folder.mkdir()
    common = f"rules: [{REPO / 'config' / 'prometheus-alerts.yml'}]\nmodel: {REPO / 'config' / 'model.json'}\n"
    (folder / "a_quiet.yaml").write_text(f"name: a_quiet\nduration: 3m\n{common}")
    if wrong:  # DataStaleness needs its `for:` to pass: it cannot fire within 10 s of the outage
        (folder / "b_wrong.yaml").write_text(
            f"name: b_wrong\nduration: 5m\n{common}"
            "faults: [{name: down, kind: feed_outage, start: 1m, duration: 3m}]\n"
            "expectations: [{alert: DataStaleness, fault: down, fires_within: [0s, 10s]}]\n"
        )


@pytest.mark.prometheus
def test_suite_over_seeds_runs_the_matrix_and_fails_when_a_seed_fails(tmp_path: Path) -> None:
    folder, out = tmp_path / "scenarios", tmp_path / "out"
    _tiny_suite(folder)
    proc = alertdrill(tmp_path, "suite", str(folder), "--seeds", "3,5", "--out", str(out), "-j", "2", "--no-reports")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    # progress from the start, counted in runs, naming each finished run
    assert "running 2 scenarios x 2 seeds (3,5)" in proc.stderr
    assert "0/4 runs, 2 running" in proc.stderr and "4/4 runs, 0 running" in proc.stderr
    assert "b_wrong-seed5: FAIL" in proc.stderr and "a_quiet-seed3: pass" in proc.stderr
    summary = json.loads((out / "suite.json").read_text())
    assert summary["seeds"] == [3, 5] and not summary["passed"]
    assert [(s["run_folder"], s["seed"], s["passed"]) for s in summary["scenarios"]] == [
        ("a_quiet-seed3", 3, True),
        ("a_quiet-seed5", 5, True),
        ("b_wrong-seed3", 3, False),
        ("b_wrong-seed5", 5, False),
    ]
    for run in ("a_quiet-seed3", "a_quiet-seed5", "b_wrong-seed3", "b_wrong-seed5"):
        assert json.loads((out / run / "verdict.json").read_text())["seed"] == int(run[-1])
    assert not (out / "a_quiet").exists()
    # --no-reports: no notebook at all
    assert not list(out.glob("**/*.ipynb"))
    *_, quiet, wrong, closing, where = proc.stdout.splitlines()
    assert quiet.split() == ["a_quiet", "held", "2/2", "seeds"]
    assert wrong.startswith("b_wrong") and "held 0/2 seeds (not: --seeds 3,5)" in wrong
    assert closing == "2 passed, 2 failed"  # CI reads this line
    assert where == f"run folders and suite.json in {out}"  # and no notebooks


@pytest.mark.prometheus
def test_suite_over_seeds_writes_the_analysis_but_no_run_reports(tmp_path: Path) -> None:
    folder, out = tmp_path / "scenarios", tmp_path / "out"
    _tiny_suite(folder, wrong=False)
    (folder / "b_stale.yaml").write_text(
        (folder / "a_quiet.yaml").read_text().replace("a_quiet", "b_stale").replace("3m", "5m")
        + "faults: [{name: down, kind: feed_outage, start: 1m, duration: 3m}]\n"
        "expectations: [{alert: DataStaleness, fault: down, fires_within: [0s, 3m], resolves_within: [0s, 3m]}]\n"
    )
    (out / "b_stale").mkdir(parents=True)  # a run folder of an earlier suite without seeds: not this suite's
    (out / "b_stale" / "verdict.json").write_text('{"scenario": "stale", "seed": 0, "passed": false}')
    proc = alertdrill(tmp_path, "suite", str(folder), "--seeds", "0-1", "--out", str(out), "-j", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not list(out.glob("*/report.ipynb"))  # a sweep gets report notebooks only with --reports
    assert proc.stdout.splitlines()[-1].endswith("reports: analysis.ipynb")
    analysis = json.loads((out / "analysis.ipynb").read_text())
    outputs = [o for c in analysis["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
    assert not [o for o in outputs if o["output_type"] == "error"]
    text = json.dumps(outputs)
    assert "4 runs (2 scenarios, 2 seeds), 4 held" in text  # the old run folder is not read
    across = next(c for c in analysis["cells"] if "Detection delay across seeds" in "".join(c["source"]))
    plot = analysis["cells"][analysis["cells"].index(across) + 1]
    assert "b_stale" in json.dumps(plot["outputs"]) and any("image/png" in o.get("data", {}) for o in plot["outputs"])


def test_suite_bad_seeds_exit_2_naming_the_value(tmp_path: Path) -> None:
    proc = alertdrill(tmp_path, "suite", "--seeds", "5-2")
    assert proc.returncode == 2 and "'5-2': the range ends before it starts" in proc.stderr


@pytest.mark.prometheus
def test_a_rejected_rule_file_stops_the_simulation_early(tmp_path: Path) -> None:
    """promtool checks the rules while the world is simulated; its rejection stops a six-hour
    simulation at the next progress tick instead of after it."""
    from harness.errors import RuleFileError
    from harness.run import run_scenario
    from harness.scenario import load_scenario

    scenario = tmp_path / "long_bad_rules.yaml"
    model = REPO / "config" / "model.json"
    scenario.write_text(f"name: long_bad_rules\nduration: 6h\nrules: [bad.yml]\nmodel: {model}\n")
    # Readable as YAML (so it is not refused before simulating), but not PromQL.
    (tmp_path / "bad.yml").write_text("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: rate(x[5m]\n")
    ticks: list[float] = []

    class Ticks:
        def phase_started(self, phase: str) -> None: ...
        def phase_finished(self, phase: str, seconds: float) -> None: ...
        def simulated(self, now: float, total: float) -> None:
            ticks.append(now)

    spec, base = load_scenario(scenario)
    with pytest.raises(RuleFileError, match="promtool check rules rejected"):
        run_scenario(spec, base, listener=Ticks())
    assert max(ticks, default=0.0) < 3 * 3600  # stopped well before the end (a tick every 300 simulated s)


def test_serve_on_a_busy_port_exits_2_naming_it(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = alertdrill(tmp_path, "serve", "--port", str(port))
    assert proc.returncode == 2, proc.stderr
    assert f"--port {port}" in proc.stderr and "in use" in proc.stderr


def test_version_and_every_serve_default_in_help(tmp_path: Path) -> None:
    version = alertdrill(tmp_path, "--version")
    assert version.returncode == 0 and version.stdout.startswith("alertdrill ")
    text = " ".join(alertdrill(tmp_path, "serve", "--help").stdout.split())
    for option in ("--host", "--port", "--chaos-seed", "--log-level", "--model", "--symbols", "--max-body-bytes"):
        after = text.split(option, 2)[-1]  # the option's own help, after its usage mention
        assert "default" in after.split(" --")[0], f"{option}: no default in its help"


def test_the_admin_token_comes_from_a_file_or_the_environment_never_the_command_line(tmp_path: Path) -> None:
    for command in ("run", "serve"):
        usage = alertdrill(tmp_path, command, "--help").stdout
        assert "--admin-token-file" in usage and "--admin-token " not in usage
    empty = tmp_path / "empty"
    empty.write_text("\n")
    proc = alertdrill(tmp_path, "serve", "--admin-token-file", str(empty))
    assert proc.returncode == 2 and "admin token, is empty" in proc.stderr
