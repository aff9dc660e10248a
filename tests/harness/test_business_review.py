"""The trading desk's daily business review (notebooks/daily_business_review.ipynb), executed over a real
run with two desks: it draws every section without an error or a warning, its rolling KPIs are
Prometheus' own (the recording rules' evaluations in signals.csv), and its summary of the day agrees
with the run's counters read here independently; a run folder without the desks' data gets a clear
message and no plot."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from harness.notebooks import NOTEBOOKS, business_review

# Two desks; the 4 ms slowdown makes most of the 5 ms desk's predictions late (adoption falls), while
# the desk with an 8 ms deadline keeps using them.
_SCENARIO = """\
name: short_business
description: two desks, one with a tight deadline, and a dependency 4 ms slower for 6 minutes
duration: 20m
traffic:
  rate: 10
  populations:
    - {{name: momentum, share: 0.6, symbols: [AAPL, MSFT, NVDA]}}
    - {{name: index_arb, share: 0.4, symbols: [SPY, QQQ], deadline: 8ms}}
faults:
  - name: slow-dependency
    kind: latency_spike
    start: 5m
    duration: 6m
    delay: 4ms
expectations:
  - {{alert: HighLatency, silent: true}}
rules: [{root}/config/prometheus-alerts.yml]
model: {root}/config/model.json
"""

# One simulated run for the tests of this module (on one xdist worker)
SHARED = pytest.mark.xdist_group("tests/harness/test_business_review")


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scenarios") / "short_business.yaml"
    path.write_text(_SCENARIO.format(root=NOTEBOOKS.parent))
    return path


@pytest.fixture(scope="module")
def run_folder(scenario_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from harness.run import run_scenario
    from harness.scenario import load_scenario

    scenario, base = load_scenario(scenario_file)
    folder = tmp_path_factory.mktemp("business") / "run"
    run_scenario(scenario, base, out_dir=folder, replay_speed=None)
    return folder


def _code_cells(notebook: str) -> list[dict[str, object]]:
    return [c for c in json.loads(notebook)["cells"] if c["cell_type"] == "code"]


def _outputs(notebook: str) -> list[dict[str, object]]:
    return [o for c in _code_cells(notebook) for o in c["outputs"]]  # type: ignore[attr-defined]


def _cell_text(notebook: str, marker: str) -> str:
    """Everything the one code cell whose source contains ``marker`` printed or displayed, as text."""
    cells = [c for c in _code_cells(notebook) if marker in "".join(c["source"])]  # type: ignore[arg-type]
    assert len(cells) == 1, marker
    parts = []
    for o in cells[0]["outputs"]:  # type: ignore[attr-defined]
        parts.append("".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


def _pngs(outputs: list[dict[str, object]]) -> int:
    return sum("image/png" in o.get("data", {}) for o in outputs)  # type: ignore[operator]


def _clean(notebook: str) -> None:
    outputs = _outputs(notebook)
    assert [o for o in outputs if o["output_type"] == "error"] == []
    stderr = json.dumps([o["text"] for o in outputs if o.get("name") == "stderr"])
    assert "Warning" not in stderr, stderr


def _last_values(folder: Path) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Every desk and service counter's last value per series, read here without the notebook's code
    (the desk never restarts: each series only grows, which this checks)."""
    table = pq.read_table(folder / "samples.parquet").to_pandas()
    table = table[~table["stale"]].sort_values("timestamp_ms")
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for (metric, labels), series in table.groupby(["metric", "labels"], observed=True):
        name = str(metric)
        if name.startswith("desk_"):
            assert series["value"].is_monotonic_increasing, (name, labels)
            out.setdefault(name, []).append((json.loads(labels), float(series["value"].iloc[-1])))
    return out


def _sum(last: dict[str, list[tuple[dict[str, str], float]]], metric: str, **match: str) -> float:
    def matches(labels: dict[str, str]) -> bool:
        return all(
            labels.get(k.removesuffix("_not")) != v if k.endswith("_not") else labels.get(k) == v
            for k, v in match.items()
        )

    return sum(v for labels, v in last[metric] if matches(labels))


def _day(text: str, kpi: str) -> str:
    """The summary table's "day" cell for ``kpi`` (the first number after the seed's bound)."""
    bound = {"P&L correlation": r"> 0\.60 \(target > 0\.70\)", "adoption": "> 70 %", "false positive rate": "< 5 %"}
    bound |= {"cost per prediction": r"< \$0\.001"}
    pattern = rf"{re.escape(kpi)}\s+{bound[kpi]}\s+(\S+)" if kpi in bound else rf"{re.escape(kpi)}\s+(-?\$[\d,.]+)"
    found = re.findall(pattern, text)
    assert found, (kpi, text)
    return str(found[0])


def _dollars(text: str) -> float:
    return float(text.replace("$", "").replace(",", ""))


@pytest.mark.prometheus
@SHARED
def test_the_review_of_a_real_run_agrees_with_its_counters_and_with_prometheus(
    run_folder: Path, tmp_path: Path
) -> None:
    out = business_review([run_folder], run_folder / "business_review.ipynb")
    text = out.read_text()
    _clean(text)
    for absolute in {str(run_folder), str(run_folder.resolve())}:
        assert absolute not in text  # the notebook names its run folder relative to itself
    assert "runs = ['.']" in text
    # attribution bars, cumulative P&L, correlation, adoption, orders by decision, false positives and
    # negatives, alerts and faults (20 minutes: no hour of history, so no hourly cost to draw)
    assert _pngs(_outputs(text)) >= 7
    assert "no hourly cost" in _cell_text(text, 'cost = run["cost"]')

    # The rolling KPIs are the recording rules as Prometheus evaluated them (signals.csv), to rounding
    checked = _cell_text(text, "SIGNAL_NAMES = {")
    for kpi in ("P&L correlation", "adoption", "false positive rate"):
        assert re.search(rf"{kpi} at \d+ evaluations", checked), checked
    differences = [float(d) for d in re.findall(r"largest difference (\S+) \(relative\)", checked)]
    assert len(differences) >= 3 and max(differences) < 1e-9, checked

    last = _last_values(run_folder)
    net = sum(
        sign * _sum(last, metric)
        for metric, sign in (
            ("desk_profit_dollars_total", 1),
            ("desk_loss_dollars_total", -1),
            ("desk_cost_dollars_total", -1),
        )
    )
    used, orders = _sum(last, "desk_trades_total", decision="used"), _sum(last, "desk_trades_total")
    strong, wrong = _sum(last, "desk_strong_signals_total"), _sum(last, "desk_false_positives_total")
    n = _sum(last, "desk_settled_trades_total", model_version_not="none")
    s, r, sr = (
        _sum(last, metric, sign="positive") - _sum(last, metric, sign="negative")
        for metric in ("desk_signal_sum_total", "desk_return_bp_sum_total", "desk_signal_return_sum_total")
    )
    ss, rr = _sum(last, "desk_signal_squared_sum_total"), _sum(last, "desk_return_bp_squared_sum_total")
    correlation = (n * sr - s * r) / ((n * ss - s * s) * (n * rr - r * r)) ** 0.5
    with_predictions = sum(
        sign * _sum(last, metric, model_version_not="none")
        for metric, sign in (
            ("desk_profit_dollars_total", 1),
            ("desk_loss_dollars_total", -1),
            ("desk_cost_dollars_total", -1),
        )
    )

    summary = _cell_text(text, "def summary(")
    assert "short_business seed 0" in summary
    assert abs(_dollars(_day(summary, "net P&L")) - net) <= 0.006, (net, summary)
    assert abs(float(_day(summary, "adoption")) - 100 * used / orders) <= 0.006, (used / orders, summary)
    assert abs(float(_day(summary, "false positive rate")) - 100 * wrong / strong) <= 0.006, summary
    assert abs(float(_day(summary, "P&L correlation")) - correlation) <= 0.00006, (correlation, summary)
    per_trade = with_predictions / n
    assert abs(_dollars(_day(summary, "net P&L per trade with predictions")) - per_trade) <= 0.00006, summary
    # The 5 ms desk (60 % of the orders) placed its orders without the late predictions for 6 of the
    # 20 minutes; the 8 ms desk kept using them: the day's adoption is down from ~94 % but above 70 %
    assert 0.72 < used / orders < 0.88
    assert re.search(r"adoption\s+> 70 %\s+[\d.]+ %\s+—\s+pass", summary), summary  # no full hour: no worst hour

    # The attribution: both desks, with predictions and without (model_version "none")
    attribution = _cell_text(text, "def attribution(")
    for desk in ("momentum", "index_arb", "all desks"):
        assert desk in attribution, attribution
    assert "none" in attribution and "factor-logit" in attribution


@pytest.mark.prometheus
@SHARED
def test_a_run_without_the_desks_data_says_so_and_draws_nothing(run_folder: Path, tmp_path: Path) -> None:
    older = tmp_path / "older_run"  # a run folder from before the desks' exporter
    older.mkdir()
    for name in ("verdict.json", "signals.csv", "states.csv", "rules.json"):
        shutil.copy(run_folder / name, older / name)
    table = pq.read_table(run_folder / "samples.parquet")
    desk = pc.starts_with(pc.cast(table["metric"], "string"), "desk_")
    pq.write_table(table.filter(pc.invert(desk)), older / "samples.parquet")

    text = business_review([older], tmp_path / "business_review.ipynb").read_text()
    _clean(text)
    assert _pngs(_outputs(text)) == 0
    said = "\n".join("".join(o.get("text", "")) for o in _outputs(text))  # type: ignore[arg-type]
    assert (
        "older_run: no trading-desk data to review (samples.parquet has no desk_* series: "
        "the trading desks' exporter was not scraped)." in said
    ), said
    assert "No trading-desk data in older_run: nothing to review." in said, said

    # Beside a run with the desks' data (twice, as two suites would give it): that run is reviewed,
    # each on its own and all together, and the older one is named as not reviewed
    text = business_review([run_folder, run_folder, older], tmp_path / "three.ipynb").read_text()
    _clean(text)
    assert _pngs(_outputs(text)) >= 7
    summary = _cell_text(text, "def summary(")
    assert "not reviewed (no trading-desk data): older_run" in summary, summary
    nets = [_dollars(n) for n in re.findall(r"net P&L (-?\$[\d,.]+)", summary)]
    assert len(nets) == 3 and abs(nets[2] - 2 * nets[0]) <= 0.011 and nets[0] == nets[1], summary
    assert "all 2 runs together" in summary


@pytest.mark.prometheus
@SHARED
def test_a_counter_reset_changes_nothing(run_folder: Path, tmp_path: Path) -> None:
    """Every desk counter (and the service's predictions) restarts from 0 ten minutes in, right after a
    scrape: the review adds the resets back, as increase() does, and says what it said of the original."""
    import pyarrow as pa

    restarted = tmp_path / "restarted"
    shutil.copytree(run_folder, restarted)
    samples = pq.read_table(run_folder / "samples.parquet").to_pandas()
    counters = samples["metric"].astype(str).str.startswith("desk_") & (
        samples["metric"] != "desk_rule_deadline_seconds"
    )
    counters |= samples["metric"] == "prediction_api_predictions_total"
    later = samples["time"] >= 600
    for _, series in samples[counters & ~samples["stale"]].groupby(["metric", "labels"], observed=True):
        before = series[series["time"] < 600]
        if len(before):
            samples.loc[series.index[later[series.index]], "value"] -= before.sort_values("time")["value"].iloc[-1]
    restarts = (
        samples[counters & ~samples["stale"]].sort_values("timestamp_ms").groupby(["metric", "labels"], observed=True)
    )
    assert sum(not series.is_monotonic_increasing for _, series in restarts["value"]) >= 20  # every desk counter
    pq.write_table(pa.Table.from_pandas(samples, preserve_index=False), restarted / "samples.parquet")

    original = business_review([run_folder], tmp_path / "original.ipynb").read_text()
    text = business_review([restarted], tmp_path / "restarted.ipynb").read_text()
    _clean(text)
    for marker in ("def summary(", "def attribution("):
        assert _cell_text(text, marker) == _cell_text(original, marker), marker
    checked = _cell_text(text, "SIGNAL_NAMES = {")  # still Prometheus' own values, to rounding
    differences = [float(d) for d in re.findall(r"largest difference (\S+) \(relative\)", checked)]
    assert len(differences) >= 3 and max(differences) < 1e-9, checked


def test_run_and_suite_take_business_review() -> None:
    from harness.cli import parser

    assert parser().parse_args(["run", "s.yaml", "--business-review"]).business_review is True
    assert parser().parse_args(["run", "s.yaml"]).business_review is False
    assert parser().parse_args(["suite", "--no-reports", "--business-review"]).business_review is True
    assert parser().parse_args(["suite"]).business_review is False


@pytest.mark.prometheus
@SHARED
def test_a_suite_with_business_review_reviews_its_runs_together(
    scenario_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.cli import main

    out = tmp_path / "suite"
    args = ["suite", str(scenario_file.parent), "--out", str(out), "--no-reports", "--business-review"]
    assert main([*args, "--no-notify", "--jobs", "1"]) == 0
    assert "reports: business_review.ipynb" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["business_review.ipynb", "short_business", "suite.json"]
    text = (out / "business_review.ipynb").read_text()
    _clean(text)
    assert "runs = ['short_business']" in text  # relative to the suite folder
    assert _pngs(_outputs(text)) >= 7
    assert "short_business seed 0: 4 of 4 KPIs held over the day" in _cell_text(text, "def summary(")
