"""The notebook templates run on today's libraries: no error, and no deprecation warning (the API that
warns today is gone in the next release: matplotlib 3.13 drops boxplot's ``vert=``)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from harness.notebooks import NOTEBOOKS, suite_analysis

DEPRECATED = {"boxplot": {"vert"}, "violinplot": {"vert"}, "bxp": {"vert"}}


def _code(notebook: Path) -> str:
    cells = json.loads(notebook.read_text())["cells"]
    lines = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    return "\n".join(line for cell in lines for line in cell.splitlines() if not line.lstrip().startswith(("%", "!")))


@pytest.mark.parametrize("notebook", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_no_template_calls_matplotlib_with_a_deprecated_argument(notebook: Path) -> None:
    calls = [n for n in ast.walk(ast.parse(_code(notebook))) if isinstance(n, ast.Call)]
    used = [
        f"{n.func.attr}({k.arg}=...)"
        for n in calls
        if isinstance(n.func, ast.Attribute)
        for k in n.keywords
        if k.arg in DEPRECATED.get(n.func.attr, set())
    ]
    assert used == [], f"{notebook.name}: {used} (use orientation='horizontal' or 'vertical')"


def test_no_template_keeps_outputs() -> None:
    for notebook in NOTEBOOKS.glob("*.ipynb"):
        cells = json.loads(notebook.read_text())["cells"]
        assert not [c for c in cells if c.get("outputs") or c.get("execution_count")], notebook.name


def _verdict(scenario: str, seed: int, delays: list[tuple[str, float, float | None]]) -> dict[str, object]:
    expectations = [
        {"expected": f"{a} fires", "alert": a, "passed": True, "fired_after": f, "resolved_after": r}
        for a, f, r in delays
    ]
    return {"scenario": scenario, "seed": seed, "passed": True, "expectations": expectations}


def _outputs(notebook: str) -> list[dict[str, object]]:
    return [o for c in json.loads(notebook)["cells"] if c["cell_type"] == "code" for o in c["outputs"]]


def _cell_outputs(notebook: str, marker: str) -> list[dict[str, object]]:
    """The outputs of the one code cell whose source contains ``marker``."""
    cells = [c for c in json.loads(notebook)["cells"] if c["cell_type"] == "code" and marker in "".join(c["source"])]
    assert len(cells) == 1, marker
    outputs: list[dict[str, object]] = cells[0]["outputs"]
    return outputs


def _pngs(outputs: list[dict[str, object]]) -> int:
    return sum("image/png" in o.get("data", {}) for o in outputs)  # type: ignore[operator]


def test_the_suite_analysis_plots_detection_delays_without_warnings(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    for seed in (0, 1):
        run = suite / f"spike-seed{seed}"
        run.mkdir(parents=True)
        delays = [("HighLatency", 150.0 + seed, 90.0), ("SLOBurn", 300.0 - seed, None)]
        (run / "verdict.json").write_text(json.dumps(_verdict("spike", seed, delays)))
    out = suite_analysis([suite], tmp_path / "analysis.ipynb")
    outputs = [o for c in json.loads(out.read_text())["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
    assert [o for o in outputs if o["output_type"] == "error"] == []
    stderr = json.dumps([o["text"] for o in outputs if o.get("name") == "stderr"])  # where warnings go
    assert "MatplotlibDeprecationWarning" not in stderr, stderr
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 2


def _notification(receiver: str, kind: str, alert: str, status: str, at: float) -> dict[str, object]:
    return {
        "time": at,
        "receiver": receiver,
        "kind": kind,
        "integration": 0,
        "status": status,
        "delivered": True,
        "delivered_at": at,
        "service": None,
        "alerts": [{"alertname": alert, "labels": {"alertname": alert}, "status": status}],
        "attempts": [{"time": at, "status": 202, "accepted": True}],
        "payload": None,
    }


def test_the_suite_analysis_tells_time_to_page_per_alert_and_receiver(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    for seed in (0, 1, 2):
        run = suite / f"spike-seed{seed}"
        run.mkdir(parents=True)
        verdict = _verdict("spike", seed, [("HighLatency", 135.0 + seed, 90.0)])
        verdict["faults"] = [{"name": "slow", "kind": "latency_spike", "start": 60.0, "end": 240.0, "magnitude": 0.04}]
        verdict["expectations"][0]["fault"] = "slow"  # type: ignore[index]
        verdict["alerts"] = [{"alertname": "HighLatency", "labels": {}, "fired_at": 195.0 + seed}]
        (run / "verdict.json").write_text(json.dumps(verdict))
        if seed == 2:
            continue  # an older run folder: no notifications.jsonl
        sent = [
            _notification("chat-devops", "webhook", "HighLatency", "firing", 200.0),
            _notification("pagerduty-devops", "pagerduty", "HighLatency", "firing", 210.0 + seed),
            _notification("pagerduty-devops", "pagerduty", "HighLatency", "resolved", 330.0),
        ]
        (run / "notifications.jsonl").write_text("".join(json.dumps(n) + "\n" for n in sent))
    text = suite_analysis([suite], tmp_path / "analysis.ipynb").read_text()
    assert [o for o in _outputs(text) if o["output_type"] == "error"] == []
    pages = _cell_outputs(text, "first_pages(Path(")
    assert "4 first notifications (2 receivers) in 2 runs; 1 runs without notifications.jsonl" in json.dumps(pages)
    shown = json.dumps(_cell_outputs(text, "KIND_COLOURS ="))
    assert "pagerduty-devops" in shown and "chat-devops" in shown
    assert "150.5" in shown  # the page's median time after the fault's start (150 s and 151 s)
    assert _pngs(_cell_outputs(text, "KIND_COLOURS =")) == 1


_UNIT = r"\([^)]+\)"  # a quantity axis names its unit in parentheses: "latency (ms)", "(log scale: s, min, h)"
CATEGORIES = {"'alert'"}  # axes of names, not quantities
_SPIKE = """\
name: short_spike
duration: 5m
traffic:
  rate: 10
faults:
  - name: slow
    kind: latency_spike
    start: 1m
    duration: 3m
    delay: 40ms
expectations:
  - alert: HighLatency
    fault: slow
    fires_within: [1m, 3m]
  - alert: HighErrorRate
    silent: true
rules: [{root}/config/prometheus-alerts.yml]
model: {root}/config/model.json
"""


@pytest.mark.parametrize("notebook", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_every_axis_label_in_the_templates_names_its_unit(notebook: Path) -> None:
    import re

    labels = [
        n
        for n in ast.walk(ast.parse(_code(notebook)))
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in {"set_xlabel", "set_ylabel"}
    ]
    assert labels, notebook.name
    for call in labels:
        text = ast.unparse(call.args[0]) if call.args else ""
        if isinstance(call.args[0], ast.Constant | ast.JoinedStr) and text not in CATEGORIES:  # names: below
            assert re.search(_UNIT, text), f"{notebook.name}: {call.func.attr}({text}) names no unit"
    if notebook.name == "run_report.ipynb":  # the y labels unit_of() hands out, one per kind of signal
        unit_of = _code(notebook).split("def unit_of", 1)[1].split("\ndef ", 1)[0]
        returned = re.findall(r'return f?"([^"]*)"', unit_of)
        assert len(returned) >= 5 and [t for t in returned if not re.search(_UNIT, t)] == [], returned


@pytest.mark.prometheus
def test_the_run_report_of_a_real_run_reads_relative_paths_and_draws_every_alert(tmp_path: Path) -> None:
    from harness.notebooks import run_report
    from harness.run import run_scenario
    from harness.scenario import load_scenario

    path = tmp_path / "short_spike.yaml"
    path.write_text(_SPIKE.format(root=NOTEBOOKS.parent))
    scenario, base = load_scenario(path)
    folder = tmp_path / "run"
    run_scenario(scenario, base, out_dir=folder)
    text = run_report(folder).read_text()
    for absolute in {str(folder), str(folder.resolve()), str(tmp_path.resolve())}:
        assert absolute not in text  # the notebook names its folder "."
    outputs = [o for c in json.loads(text)["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
    assert [o for o in outputs if o["output_type"] == "error"] == []
    stderr = json.dumps([o["text"] for o in outputs if o.get("name") == "stderr"])
    assert "Warning" not in stderr, stderr
    # HighLatency fired, HighErrorRate stayed silent: both are drawn, the silent one over the whole run
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 2
    assert "run_folder = '.'" in text


@pytest.mark.prometheus
def test_the_run_report_draws_who_was_told_what_when_and_says_so_when_nobody_was(tmp_path: Path) -> None:
    from harness.notebooks import run_report
    from harness.run import run_scenario
    from harness.scenario import load_scenario

    scenario, base = load_scenario(NOTEBOOKS.parent / "scenarios" / "error_burst.yaml")  # pages devops
    folder = tmp_path / "run"
    run_scenario(scenario, base, out_dir=folder)
    assert (folder / "notifications.jsonl").read_text()
    text = run_report(folder).read_text()
    assert [o for o in _outputs(text) if o["output_type"] == "error"] == []
    stderr = json.dumps([o["text"] for o in _outputs(text) if o.get("name") == "stderr"])
    assert "Warning" not in stderr, stderr
    assert _pngs(_cell_outputs(text, "Who was told what, when")) == 1
    table = json.dumps(_cell_outputs(text, "def attempts_text"))
    assert "pagerduty-devops" in table and "HighErrorRate" in table

    (folder / "notifications.jsonl").unlink()  # as in a run folder from before notifications, or --no-notify
    text = run_report(folder).read_text()
    assert [o for o in _outputs(text) if o["output_type"] == "error"] == []
    timeline = _cell_outputs(text, "Who was told what, when")
    assert _pngs(timeline) == 0 and _cell_outputs(text, "def attempts_text") == []
    assert ["".join(o["text"]) for o in timeline] == [  # type: ignore[arg-type]
        "No notifications.jsonl: the alerts were not replayed through Alertmanager (an older run, or --no-notify).\n"
    ]
    assert _pngs(_outputs(text)) >= 1  # the alerts' own plots are still there


def test_a_report_without_the_report_extra_stops_before_simulating(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import harness.notebooks
    import harness.run
    from harness.cli import main

    monkeypatch.setattr(harness.notebooks, "REPORT_MODULES", ("nbclient", "no_such_module_for_reports"))

    def simulated(*args: object, **kwargs: object) -> None:
        raise AssertionError("simulated although the report could not be written")

    monkeypatch.setattr(harness.run, "run_scenario", simulated)
    scenario = str(Path(__file__).resolve().parents[2] / "scenarios" / "latency_spike.yaml")
    assert main(["run", scenario, "--report", "--out", str(tmp_path / "run")]) == 2
    assert main(["suite", str(tmp_path), "--out", str(tmp_path / "suite")]) == 2
    err = capsys.readouterr().err
    assert err.count("reports need no_such_module_for_reports: pip install 'alertdrill[report]'") == 2
    assert not (tmp_path / "run").exists()


def _drill_journal(alert: str, fault: str, receiver: str) -> list[dict[str, object]]:
    """What ``alertdrill drill`` would journal for one fault (60 s to 240 s) that fires ``alert`` and pages
    ``receiver``: synthetic, as a report test checks what is drawn, not what fires."""
    devops = {"job": "prediction-api", "severity": "critical", "team": "devops"}
    events: list[tuple[float, str, dict[str, object]]] = [
        (0.0, "drill_start", {"scenario": "short_spike", "seed": 0, "duration": 300.0}),
        (0.0, "steady_state", {"ok": True, "when": "before the world starts", "unexpected": [], "pending": []}),
        (
            58.0,
            "steady_state",
            {"ok": True, "when": "before the first fault (at 60s)", "unexpected": [], "pending": []},
        ),
        (60.0, "fault_on", {"fault": fault, "kind": "latency_spike", "planned": 60.0}),
        (75.0, "alert_pending", {"alert": alert, "labels": devops, "was": None}),
        (195.0, "alert_firing", {"alert": alert, "labels": devops, "was": "pending"}),
        (195.0, "alertmanager_active", {"alert": alert, "was": None}),
        (205.0, "notification", {"receiver": receiver, "kind": "pagerduty", "status": "firing", "alerts": [alert]}),
        (240.0, "fault_off", {"fault": fault, "kind": "latency_spike", "planned": 240.0}),
        (270.0, "alert_resolved", {"alert": alert, "labels": devops, "was": "firing"}),
        (275.0, "notification", {"receiver": receiver, "kind": "pagerduty", "status": "resolved", "alerts": [alert]}),
        (300.0, "rollback", {"ok": True, "switched_off": [], "notes": ["no chaos hook was on"]}),
        (300.1, "verdict", {"passed": True}),
    ]
    delivered = {"delivered": True, "incident": None}
    return [
        {"wall": 1.8e9 + t, "t": t, "event": event, **fields, **(delivered if event == "notification" else {})}
        for t, event, fields in events
    ]


_DRILL_CELLS = ("def fault_windows", "def first_after", "def lag_text", 'drill.get("compare")')


@pytest.mark.prometheus
def test_the_run_report_of_a_drill_times_detect_page_and_resolve_and_a_simulated_run_shows_no_drill(
    tmp_path: Path,
) -> None:
    from harness.notebooks import run_report
    from harness.run import run_scenario
    from harness.scenario import load_scenario

    path = tmp_path / "short_spike.yaml"
    path.write_text(_SPIKE.format(root=NOTEBOOKS.parent))
    scenario, base = load_scenario(path)
    folder = tmp_path / "run"
    run_scenario(scenario, base, out_dir=folder)
    text = run_report(folder).read_text()  # a simulated run: no journal, no drill section
    assert [o for o in _outputs(text) if o["output_type"] == "error"] == []
    assert [_cell_outputs(text, marker) for marker in _DRILL_CELLS] == [[]] * len(_DRILL_CELLS)

    journal = _drill_journal("HighLatency", "slow", "pagerduty-devops")
    (folder / "journal.jsonl").write_text("".join(json.dumps(e) + "\n" for e in journal))
    verdict = json.loads((folder / "verdict.json").read_text())
    verdict["drill"] = {
        "wall_start": 1.8e9,
        "stack": {"service": "alertdrill", "prometheus": "alertdrill", "alertmanager": "alertdrill"},
        "scrape_interval": 15.0,
        "evaluation_phases": {},
        "steady_state": ["before the world starts: steady", "before the first fault (at 60s): steady"],
        "aborted": None,
        "world_lag": {"median": 0.0015, "p99": 0.03, "max": 0.8, "limit": 2.0, "events": 3000},
        "rollback": ["no chaos hook was on"],
        "compare": [
            {
                "expectation": "HighLatency fires [1m, 3m] after slow starts",
                "what": "fired",
                "simulated": 120.0,
                "live": 135.0,
                "difference": 15.0,
                "bound": 40.0,
                "within": True,
            }
        ],
        "notes": [],
    }
    (folder / "verdict.json").write_text(json.dumps(verdict))
    text = run_report(folder).read_text()
    assert [o for o in _outputs(text) if o["output_type"] == "error"] == []
    stderr = json.dumps([o["text"] for o in _outputs(text) if o.get("name") == "stderr"])
    assert "Warning" not in stderr, stderr
    assert _pngs(_cell_outputs(text, _DRILL_CELLS[0])) == 1  # the timeline
    mttr, safety, compare = (json.dumps(_cell_outputs(text, marker)) for marker in _DRILL_CELLS[1:])
    for column in ("time to detect (s)", "time to page (s)", "time to resolve (s)", "first paged"):
        assert column in mttr, column
    # HighLatency fired 135 s after slow went on, paged 145 s after, resolved 30 s after it went off;
    # HighErrorRate's expectation names no fault: no row
    assert "medians over 1 alert/fault pairs: time to detect 135.0 s, to page 145.0 s, to resolve 30.0 s" in mttr
    assert "HighErrorRate" not in mttr and "pagerduty-devops" in mttr
    assert "world lag: median 1.5 ms" in safety and "max 0.80 s" in safety
    assert "steady state at 58 s, before the first fault (at 60s): steady" in safety
    assert "rollback at 300 s (ok): no chaos hook was on" in safety
    assert "simulated (s)" in compare and "HighLatency fires [1m, 3m] after slow starts" in compare


_DEPLOYMENT_CELLS = ('path = folder / "deployments.json"', "pyarrow.parquet")


@pytest.mark.prometheus
def test_the_run_report_of_a_canary_tables_its_decisions_and_plots_replicas_and_an_ordinary_run_shows_none(
    tmp_path: Path,
) -> None:
    from harness.notebooks import run_report
    from harness.run import run_scenario
    from harness.scenario import load_scenario

    scenario, base = load_scenario(NOTEBOOKS.parent / "scenarios" / "canary_latency_regression.yaml")
    folder = tmp_path / "run"
    run_scenario(scenario, base, out_dir=folder)
    deployments = json.loads((folder / "deployments.json").read_text())
    assert deployments["rollouts"]
    text = run_report(folder).read_text()
    assert [o for o in _outputs(text) if o["output_type"] == "error"] == []
    stderr = json.dumps([o["text"] for o in _outputs(text) if o.get("name") == "stderr"])
    assert "Warning" not in stderr, stderr
    tables, plot = (_cell_outputs(text, marker) for marker in _DEPLOYMENT_CELLS)
    shown = json.dumps(tables)
    for rollout in deployments["rollouts"]:  # its outcome, and every decision with each gate's answer
        assert rollout["name"] in shown and rollout["outcome"].replace("_", " ") in shown
        for decision in rollout["decisions"]:
            assert decision["action"] in shown and decision["detail"] in shown
            for gate in decision["gates"]:
                assert f"gate {gate['gate']}" in shown and f"({gate['verdict']}" in shown
    assert "step (% of traffic)" in shown
    assert ("autoscaler: no scaling decision" in shown) == (not deployments["scaling"])
    assert _pngs(plot) == 1  # replicas and traffic weight by version
    for version in {r["version"] for r in deployments["replicas"]}:
        assert version in shown

    (folder / "deployments.json").unlink()  # a run without releases or autoscaling
    text = run_report(folder).read_text()
    assert [o for o in _outputs(text) if o["output_type"] == "error"] == []
    tables, plot = (_cell_outputs(text, marker) for marker in _DEPLOYMENT_CELLS)
    assert ["".join(o["text"]) for o in tables] == [  # type: ignore[arg-type]
        "No deployments.json: no release and no autoscaling in this run.\n"
    ]
    assert plot == []
    assert _pngs(_outputs(text)) >= 1  # the rest of the report is still there
