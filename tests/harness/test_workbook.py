"""The SRE Workbook's table (harness.tuning.workbook, notebooks/workbook_slo.ipynb): the chapter's
approaches scored by the real Prometheus over a small corpus of simulated incidents, compared
with its published figures; and the comparison's own rules on made-up measurements."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.run import run_scenario
from harness.scenario import load_scenario
from harness.tuning import workbook as wb
from harness.tuning.sweep import read_corpus
from harness.tuning.truth import Score

REPO = Path(__file__).resolve().parents[2]
SMALL = REPO / "tests" / "harness" / "data" / "workbook_small"
VERDICTS = {"agrees", "differs", "beyond the run", "not measured"}


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[wb.Measured], Path]:
    """A total outage, a 35x burn and errors at the SLO rate, each a few hours long, tuned with
    tuning/workbook/approaches.yaml and the Workbook notebook executed."""
    corpus = tmp_path_factory.mktemp("wb-corpus")
    for path in sorted(SMALL.glob("*.yaml")):
        scenario, base = load_scenario(path)
        result = run_scenario(scenario, base, out_dir=corpus / path.stem, replay_speed=None)
        assert result.passed, path.name  # approach 6, as configured, meets the scenario's windows
    out = tmp_path_factory.mktemp("wb-tune")
    grid = REPO / "tuning" / "workbook" / "approaches.yaml"
    args = ["tune", str(corpus), "--grid", str(grid), "--out", str(out), "--workers", "1", "--no-report"]
    assert main([*args, "--workbook"]) == 0
    return wb.measure(out, read_corpus(corpus), 600.0), out


# The tests sharing the corpus run on one worker; the group is named after its longest scenario,
# so tests/conftest.py hands it out as early as a scenario that long.
SHARED = pytest.mark.xdist_group("tests/harness/data/workbook_small/total_outage")


def _row(rows: list[dict[str, object]], approach: int, criterion: str, incident: str) -> dict[str, object]:
    return next(
        r
        for r in rows
        if r["approach"] == approach and r["criterion"] == criterion and r["incident"] == wb.INCIDENTS[incident]
    )


@pytest.mark.prometheus
@SHARED
def test_the_workbook_notebook_executes_with_its_table_and_plots(measured: tuple[list[wb.Measured], Path]) -> None:
    _, out = measured
    notebook = json.loads((out / "workbook_slo.ipynb").read_text())
    outputs = [o for c in notebook["cells"] for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 2
    text = json.dumps(outputs)
    assert "58 minutes to reset after a total outage" in text and "agrees" in text


@pytest.mark.prometheus
@SHARED
def test_every_published_figure_gets_a_verdict_and_every_difference_a_reason(
    measured: tuple[list[wb.Measured], Path],
) -> None:
    rows = wb.table(measured[0])
    assert len(rows) == len(wb.PUBLISHED)
    assert {r["verdict"] for r in rows} <= VERDICTS
    assert all(r["why"] for r in rows if r["verdict"] != "agrees")


@pytest.mark.prometheus
@SHARED
def test_the_chapters_burn_rate_findings_hold_measured(measured: tuple[list[wb.Measured], Path]) -> None:
    rows = wb.table(measured[0])
    reset = _row(rows, 4, "reset", "total-outage")  # 60 min - 3.6 % of an hour
    assert reset["verdict"] == "agrees", reset
    assert _row(rows, 4, "recall", "burn-35x")["verdict"] == "agrees"  # 35.7x never reaches 36x
    assert _row(rows, 6, "recall", "burn-35x")["verdict"] == "agrees"  # the recommendation pages
    assert _row(rows, 3, "detection", "total-outage")["verdict"] == "agrees"  # `for: 1h` is an hour
    assert _row(rows, 1, "alerts per day", "errors-at-slo-rate")["verdict"] == "agrees"
    assert _row(rows, 6, "alerts per day", "errors-at-slo-rate")["verdict"] == "agrees"


@pytest.mark.prometheus
@SHARED
def test_a_window_without_its_history_is_a_difference_the_table_explains(
    measured: tuple[list[wb.Measured], Path],
) -> None:
    """The negative control: an hour of history under a 36-hour window detects far too soon,
    and the table says so instead of agreeing."""
    row = _row(wb.table(measured[0]), 2, "detection", "total-outage")
    assert row["verdict"] == "differs"
    assert "1.0 h of clean history" in str(row["why"])


# --- the comparison's rules, on made-up measurements --------------------------------------------


def _measured(approach: int, incident: str, score: Score, *, tail: float = 1e9, history: float = 1e9) -> wb.Measured:
    return wb.Measured(approach, wb.PAGE, incident, score, None, tail, history)


def _figure(approach: int, criterion: str, incident: str) -> wb.Published:
    return next(p for p in wb.PUBLISHED if (p.approach, p.criterion, p.incident) == (approach, criterion, incident))


def test_a_detection_more_than_the_sampling_away_differs() -> None:
    figure = _figure(4, "detection", "total-outage")  # 130 s
    close = wb.compare(figure, [_measured(4, "total-outage", Score(incidents=1, detected=1, detection=[175.0]))])
    far = wb.compare(figure, [_measured(4, "total-outage", Score(incidents=1, detected=1, detection=[400.0]))])
    assert close["verdict"] == "agrees" and str(close["why"]).startswith("+45 s: the scrape")
    assert far["verdict"] == "differs" and far["why"]


def test_a_reset_the_run_ended_before_is_beyond_the_run_not_a_difference() -> None:
    figure = _figure(2, "reset", "total-outage")  # 36 h
    still = Score(incidents=1, detected=1, true_firings=1, detection=[30.0])  # no reset: never resolved
    row = wb.compare(figure, [_measured(2, "total-outage", still, tail=4 * 3600)])
    assert row["verdict"] == "beyond the run" and "4.0 h after the incident" in str(row["why"])
    long_run = wb.compare(figure, [_measured(2, "total-outage", still, tail=40 * 3600)])
    assert long_run["verdict"] == "differs"  # the run went on past 36 h and it still fired


def test_a_missing_incident_is_not_measured() -> None:
    row = wb.compare(_figure(3, "recall", "spikes-every-10m"), [])
    assert row["verdict"] == "not measured" and row["measured"] == "-"


def test_the_workbook_corpus_holds_each_incident_the_table_names() -> None:
    faults = set()
    for path in sorted((REPO / "scenarios" / "workbook").glob("*.yaml")):
        scenario, _ = load_scenario(path)  # the full corpus' scenarios stay valid (they run by hand)
        faults |= {f.name for f in scenario.faults}
    assert faults == set(wb.INCIDENTS)
    assert {p.incident for p in wb.PUBLISHED} <= faults
