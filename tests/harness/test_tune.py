"""``alertdrill tune`` end to end: variants evaluated by the real Prometheus over a small corpus
of real runs, on Dask workers, scored against the faults the runs injected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.run import run_scenario
from harness.scenario import load_scenario

# One worker builds the corpus and runs every test of the module (tests/conftest.py weighs the group
# by the scenario it is named after).
pytestmark = [pytest.mark.prometheus, pytest.mark.xdist_group("tests/scenarios/data/short_spike")]
REPO = Path(__file__).resolve().parents[2]
PLAIN = """
rules: {rules}
grace: 5m
constraints: {{min_recall: 1.0, max_false_per_day: 0}}
alerts:
  HighLatency:
    threshold: [0.025, 1.0]
    for: [1m, 2m]
  HighErrorRate:
    threshold: [0.001, 0.01]
"""
GRID = (
    PLAIN
    + """\
    expressions:
      - name: burn ${{burn}}x over 5m
        expr: job:prediction_api_errors:ratio_rate5m > ${{burn}} * 0.001
        params: {{burn: [14.4, 1000]}}
        for: 0s
"""
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two seeds of a 12-minute scenario with a latency spike and an error burst."""
    folder = tmp_path_factory.mktemp("corpus")
    scenario, base = load_scenario(REPO / "tests" / "scenarios" / "data" / "short_spike.yaml")
    for seed in (1, 2):
        run_scenario(scenario, base, seed=seed, out_dir=folder / f"short_spike-seed{seed}", replay_speed=None)
    return folder


def _tune(corpus: Path, tmp_path: Path, workers: int) -> dict[str, object]:
    grid = tmp_path / "grid.yaml"
    grid.write_text(GRID.format(rules=REPO / "config" / "prometheus-alerts.yml"))
    out = tmp_path / f"out{workers}"
    assert main(["tune", str(corpus), "--grid", str(grid), "--out", str(out), "--workers", str(workers)]) == 0
    result: dict[str, object] = json.loads((out / "tune.json").read_text())
    notebook = json.loads((out / "tuning.ipynb").read_text())  # executed, with its plots
    outputs = [o for c in notebook["cells"] for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 2
    fired: dict[str, dict[str, list[list[float]]]] = json.loads((out / "firings.json").read_text())
    for row in result["variants"]:  # type: ignore[attr-defined]
        runs = fired[row["key"]]
        assert sum(len(f) for f in runs.values()) == row["true_firings"] + row["false_firings"]
    result["firings"] = fired
    return result


def test_tune_scores_variants_identically_on_one_and_two_workers(corpus: Path, tmp_path: Path) -> None:
    one, two = _tune(corpus, tmp_path, 1), _tune(corpus, tmp_path, 2)
    assert one["variants"] == two["variants"]
    assert one["firings"] == two["firings"]
    rows = {(r["alert"], r["variant"]): r for r in one["variants"]}  # type: ignore[attr-defined]
    current = rows[("HighLatency", "threshold 0.025, for 2m")]
    assert current["current"] and current["incidents"] == 2 and current["recall"] == 1.0
    assert current["false_firings"] == 0 and current["detection_median"] is not None
    faster = rows[("HighLatency", "threshold 0.025, for 1m")]
    assert faster["detection_median"] < current["detection_median"]  # one minute less of `for`
    assert faster["recommended"] and not current["recommended"]  # same recall, no false alert, sooner
    blind = rows[("HighLatency", "threshold 1, for 2m")]  # a second of P95: never reached
    assert blind["recall"] == 0.0 and blind["detected"] == 0 and not blind["pareto"]
    # A 0.1 % threshold fires at the burst too, where it is meant to: precision holds, detection is sooner.
    eager, configured = (
        rows[("HighErrorRate", "threshold 0.001, for 1m")],
        rows[("HighErrorRate", "threshold 0.01, for 1m")],
    )
    assert eager["recall"] == configured["recall"] == 1.0
    assert eager["detection_median"] <= configured["detection_median"]
    # Whole expressions, templated: a 14.4x burn over 5 minutes catches the burst; a 1000x
    # burn (every request failing) is never reached by a partial burst.
    burn = rows[("HighErrorRate", "burn 14.4x over 5m, for 0s")]
    never = rows[("HighErrorRate", "burn 1000x over 5m, for 0s")]
    assert burn["expression"] == "burn 14.4x over 5m" and burn["recall"] == 1.0
    assert never["recall"] == 0.0 and never["true_firings"] == 0


def test_tune_on_a_separate_dask_cluster_scores_as_the_local_one(corpus: Path, tmp_path: Path) -> None:
    """--scheduler: a real `dask scheduler` and `dask worker`, other processes than alertdrill's,
    as a cluster would be; the scores and firings are those of a local worker."""
    import os
    import signal
    import subprocess
    import sys
    import time

    dask = Path(sys.executable).with_name("dask")
    info = tmp_path / "scheduler.json"
    scratch = tmp_path / "scratch"
    # Their scratch space (locks, spill files) in the test's folder, not /tmp/dask-scratch-space.
    env = {**os.environ, "DASK_TEMPORARY_DIRECTORY": str(scratch)}
    common = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "start_new_session": True, "env": env}
    procs = [
        subprocess.Popen(
            [
                str(dask),
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(info),
            ],
            **common,  # type: ignore[call-overload]
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while not info.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(info.read_text())["address"]
        procs.append(
            subprocess.Popen(
                [
                    str(dask),
                    "worker",
                    address,
                    "--nworkers",
                    "1",
                    "--nthreads",
                    "1",
                    "--no-dashboard",
                    "--local-directory",
                    str(scratch),
                ],
                **common,  # type: ignore[call-overload]
            )
        )
        grid = tmp_path / "grid.yaml"
        grid.write_text(GRID.format(rules=REPO / "config" / "prometheus-alerts.yml"))
        out = tmp_path / "remote"
        args = ["tune", str(corpus), "--grid", str(grid), "--out", str(out), "--no-report"]
        assert main([*args, "--scheduler", address]) == 0
        remote = json.loads((out / "tune.json").read_text())
        local = _tune(corpus, tmp_path, 1)
        assert remote["variants"] == local["variants"]
        assert json.loads((out / "firings.json").read_text()) == local["firings"]
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def test_tune_names_an_unknown_alert(corpus: Path, tmp_path: Path) -> None:
    grid = tmp_path / "grid.yaml"
    grid.write_text(f"rules: {REPO / 'config' / 'prometheus-alerts.yml'}\nalerts:\n  HighLatancy:\n    for: [1m]\n")
    assert main(["tune", str(corpus), "--grid", str(grid), "--out", str(tmp_path / "o")]) == 2


def _apply(corpus: Path, tmp_path: Path, grid_text: str) -> Path:
    """``tune --apply`` on one worker, no notebook; the output folder."""
    grid = tmp_path / "grid.yaml"
    grid.write_text(grid_text.format(rules=REPO / "config" / "prometheus-alerts.yml"))
    out = tmp_path / "out"
    args = ["tune", str(corpus), "--grid", str(grid), "--out", str(out), "--workers", "1", "--apply", "--no-report"]
    assert main(args) == 0
    return out


def test_apply_writes_the_recommended_variant_into_a_copy_that_promtool_accepts(corpus: Path, tmp_path: Path) -> None:
    rules = REPO / "config" / "prometheus-alerts.yml"
    out = _apply(corpus, tmp_path, PLAIN)
    assert not (out / "tuning.ipynb").exists()
    tuned = out / "prometheus-alerts.tuned.yml"
    diff = [
        (a, b) for a, b in zip(rules.read_text().splitlines(), tuned.read_text().splitlines(), strict=True) if a != b
    ]
    # HighLatency: 2m -> 1m (recommended above); HighErrorRate: the 0.1 % variant is as good and sooner.
    assert ("        for: 2m", "        for: 1m") in diff
    assert all("for:" in a or "> 0.01" in a or "[1m]" in a for a, _ in diff), diff
    assert rules.read_text() != tuned.read_text()


def test_apply_writes_a_recommended_expression_in_place_of_the_rules_own(corpus: Path, tmp_path: Path) -> None:
    from harness.engine import parse_duration, raw_rules

    rules = REPO / "config" / "prometheus-alerts.yml"
    out = _apply(corpus, tmp_path, GRID)
    row = next(
        r
        for r in json.loads((out / "tune.json").read_text())["variants"]
        if r["alert"] == "HighErrorRate" and r["recommended"]
    )
    assert row["expression"] == "burn 14.4x over 5m"  # same recall, no false alert, 45 s sooner
    tuned = {str(r.get("alert")): r for _, r in raw_rules(out / "prometheus-alerts.tuned.yml")}
    assert tuned["HighErrorRate"]["expr"].strip() == "job:prediction_api_errors:ratio_rate5m > 14.4 * 0.001"
    assert parse_duration(str(tuned["HighErrorRate"].get("for", "0s"))) == 0.0
    before = {str(r.get("alert")): r for _, r in raw_rules(rules)}
    assert tuned["HighCPU"] == before["HighCPU"]


def test_apply_refuses_a_copy_that_would_not_read_back(tmp_path: Path) -> None:
    from harness.engine import load_rule_groups
    from harness.errors import ConfigurationError
    from harness.tuning.apply import apply
    from harness.tuning.variants import Variant

    rules = REPO / "config" / "prometheus-alerts.yml"
    (rule,) = [
        r for g in load_rule_groups([rules], default_interval=15.0) for r in g.alerting_rules if r.name == "HighCPU"
    ]
    wrong = Variant("HighCPU", "HighCPU__0", rule.expr + " > 1\nand on() vector(1)", rule.hold, 0.8, (), False)
    with pytest.raises(ConfigurationError):
        apply(rules, [wrong], tmp_path / "tuned.yml")
    assert not (tmp_path / "tuned.yml").exists()
