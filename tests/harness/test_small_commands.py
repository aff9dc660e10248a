"""The small commands and outputs around runs: ``alertdrill coverage``, a run's summary, a report
notebook that fails, and ``alertdrill suite`` refusing what it cannot run.

Exit codes are the CLI's contract (``harness/cli.py``): 0 pass, 1 expectations failed (or, for
``coverage``, a rule no scenario fires), 2 an input that cannot be used. The commands run in this
process through ``harness.cli.main``, as a shell would call them, minus the interpreter start.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from harness.cli import main
from harness.errors import ConfigurationError, EngineError
from harness.notebooks import execute
from harness.report import summary
from harness.run import RunResult, run_scenario
from harness.scenario import load_scenario

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "config" / "model.json"
RULES = """\
groups:
- name: small
  rules:
  - alert: AlertA
    expr: vector(1)
  - alert: AlertB
    expr: vector(0) > 1
"""


def fires(alert: str) -> str:
    return f"  - alert: {alert}\n    fires_within: [0s, 1m]\n"


def silent(alert: str) -> str:
    return f"  - alert: {alert}\n    silent: true\n"


def scenario(name: str, *expectations: str, rules: str = "../rules.yml", extra: str = "") -> str:
    """A five-minute scenario without faults; ``rules`` is relative to the scenario's folder."""
    head = f"name: {name}\nduration: 5m\nrules: [{rules}]\nmodel: {MODEL}\n{extra}"
    return head + "expectations:\n" + "".join(expectations)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``alertdrill ARGS``: its exit code, stdout and stderr."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def write_files(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


# --- alertdrill coverage ------------------------------------------------------------------------

COVERAGE = [
    pytest.param(
        {"fires_a.yaml": scenario("fires_a", fires("AlertA"), silent("AlertB"))},
        1,
        [r"^AlertA\s+fires_a\s+0 scenario\(s\)$", r"^AlertB\s+NOTHING\s+1 scenario\(s\)$"],
        "no scenario makes these fire: AlertB",
        id="a-rule-nothing-fires",
    ),
    pytest.param(
        {"fires_a.yaml": scenario("fires_a", fires("AlertA")), "fires_b.yaml": scenario("fires_b", fires("AlertB"))},
        0,
        # each holds the other's alert silent: unexpected alerts fail a run by default
        [r"^AlertA\s+fires_a\s+1 scenario\(s\)$", r"^AlertB\s+fires_b\s+1 scenario\(s\)$"],
        "every one of 2 alert rules is fired by at least one scenario",
        id="every-rule-fired",
    ),
    pytest.param(
        {
            "fires_a.yaml": scenario("fires_a", fires("AlertA")),
            "long/fires_b.yaml": scenario("fires_b", fires("AlertB"), rules="../../rules.yml"),
        },
        0,
        [r"^AlertB\s+long/fires_b\s+1 scenario\(s\)$"],
        "every one of 2 alert rules is fired by at least one scenario",
        id="a-subfolder-counts",
    ),
    pytest.param(
        {
            "fires_a.yaml": scenario("fires_a", fires("AlertA")),
            "other.yaml": scenario("other", fires("AlertB"), rules="../other_rules.yml"),
        },
        1,
        [r"^AlertB\s+NOTHING\s+1 scenario\(s\)$"],
        "no scenario makes these fire: AlertB",
        id="a-scenario-of-other-rules-does-not-count",
    ),
    pytest.param(
        {"fires_a.yaml": scenario("fires_a", fires("AlertA"), extra="unexpected_alerts: ignore\n")},
        1,
        [r"^AlertB\s+NOTHING\s+0 scenario\(s\)$"],
        "no scenario makes these fire: AlertB",
        id="ignoring-unexpected-alerts-holds-nothing-silent",
    ),
]


@pytest.mark.parametrize(("scenarios", "code", "rows", "last_line"), COVERAGE)
def test_coverage(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    scenarios: dict[str, str],
    code: int,
    rows: list[str],
    last_line: str,
) -> None:
    write_files(tmp_path, {"rules.yml": RULES, "other_rules.yml": RULES})
    write_files(tmp_path / "scenarios", scenarios)
    got, out, err = cli(capsys, "coverage", str(tmp_path / "scenarios"), "--rules", str(tmp_path / "rules.yml"))
    assert got == code, out + err
    lines = out.splitlines()
    for row in rows:
        assert [line for line in lines if re.match(row, line)], f"no line matches {row!r} in:\n{out}"
    assert lines[-1] == last_line


def test_coverage_refuses_a_scenario_expecting_an_alert_no_rule_defines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit 2, naming the file and the line: a misspelt alert would otherwise count for nothing."""
    write_files(tmp_path, {"rules.yml": RULES})
    typo = tmp_path / "scenarios" / "typo.yaml"
    write_files(tmp_path / "scenarios", {"typo.yaml": scenario("typo", fires("AlertC"))})
    got, out, err = cli(capsys, "coverage", str(typo.parent), "--rules", str(tmp_path / "rules.yml"))
    assert got == 2, out + err
    assert f"{typo}:6: field expectations[0].alert: 'AlertC' is defined by no rule" in err
    assert "define: AlertA, AlertB" in err


# --- the summary of a run -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, RunResult]:
    """Two five-minute runs of the same rules: one whose expectations hold (with a run folder),
    one that expected AlertA to stay silent (without)."""
    root = tmp_path_factory.mktemp("summary")
    write_files(root, {"rules.yml": RULES})
    write_files(
        root / "scenarios",
        {
            "passes.yaml": scenario("passes", fires("AlertA"), silent("AlertB")),
            "fails.yaml": scenario("fails", silent("AlertA"), silent("AlertB")),
        },
    )
    passed, base = load_scenario(root / "scenarios" / "passes.yaml")
    failed, _ = load_scenario(root / "scenarios" / "fails.yaml")
    return {
        "passed": run_scenario(passed, base, out_dir=root / "run"),
        "failed": run_scenario(failed, base),
    }


SUMMARIES = [
    # (which run, the lines the summary must hold, in order): report.py's summary()
    pytest.param(
        "passed",
        [
            r"^scenario passes  seed 0  PASSED$",
            r"^  result  expectation\s+observed$",
            r"^  ok      AlertA fires \[0s, 60s\] into the run\s+fired \d+s after start$",
            r"^  ok      AlertB never fires\s+never fired$",
            r"^  alerts fired: 1$",
            r"^    AlertA\s+active\s+\d+s  fired\s+\d+s  resolved\s+-$",  # vector(1) never resolves
            r"^  5 simulated min in \d+\.\ds wall \(simulate \d+\.\ds, write \d+\.\ds, evaluate \d+\.\ds\)$",
            r"^  run folder: .*/run$",
        ],
        id="passed",
    ),
    pytest.param(
        "failed",
        [
            r"^scenario fails  seed 0  FAILED$",
            r"^  FAIL    AlertA never fires\s+fired at \d+s$",
            r"^  ok      AlertB never fires\s+never fired$",
            r"^  alerts fired: 1$",
            r"^  5 simulated min in ",  # and no run folder line: this run had none
        ],
        id="failed",
    ),
]


@pytest.mark.prometheus
@pytest.mark.parametrize(("which", "expected"), SUMMARIES)
def test_summary(runs: dict[str, RunResult], which: str, expected: list[str]) -> None:
    lines = summary(runs[which]).splitlines()
    at = [[i for i, line in enumerate(lines) if re.match(pattern, line)] for pattern in expected]
    assert all(at), f"{[p for p, i in zip(expected, at, strict=True) if not i]} not in:\n" + "\n".join(lines)
    assert [i[0] for i in at] == sorted(i[0] for i in at), "out of order:\n" + "\n".join(lines)
    assert any("run folder" in line for line in lines) == (runs[which].out_dir is not None)


# --- a report notebook that fails ---------------------------------------------------------------


def template(tmp_path: Path, *cells: str, tagged: bool = True) -> Path:
    """A notebook (nbformat 4.5) whose first cell is the parameters cell (tagged so, unless not
    ``tagged``), then ``cells``."""

    def cell(i: int, source: str, tags: list[str]) -> dict[str, object]:
        metadata = {"tags": tags}
        return {
            "cell_type": "code",
            "id": f"c{i}",
            "metadata": metadata,
            "source": source,
            "outputs": [],
            "execution_count": None,
        }

    parameters = cell(0, "run_folder = None", ["parameters"] if tagged else [])
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "cells": [parameters, *(cell(i, source, []) for i, source in enumerate(cells, 1))],
    }
    path = tmp_path / "template.ipynb"
    path.write_text(json.dumps(notebook))
    return path


@pytest.fixture(scope="module")
def failed_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, EngineError]:
    """A report whose third cell raises, executed once (a kernel takes a second to start)."""
    tmp = tmp_path_factory.mktemp("report")
    cells = ("seen = run_folder", "raise ValueError('cannot read ' + seen)", "never = True")
    out = tmp / "run" / "report.ipynb"
    out.parent.mkdir()
    with pytest.raises(EngineError) as caught:
        execute(template(tmp, *cells), {"run_folder": "runs/spike"}, out)
    return out, caught.value


def test_a_failing_report_is_an_engine_error_naming_the_notebook(failed_report: tuple[Path, EngineError]) -> None:
    out, error = failed_report
    assert str(error).startswith(f"{out}: report notebook failed: ")
    assert "ValueError" in str(error) and "cannot read runs/spike" in str(error)


def test_a_failing_report_is_kept_as_far_as_it_ran(failed_report: tuple[Path, EngineError]) -> None:
    """The partial notebook is written, its traceback in the failing cell; nothing half-written beside it."""
    out, _ = failed_report
    cells = nbformat.read(out, as_version=4).cells  # type: ignore[no-untyped-call]
    assert cells[0].source == "# Parameters (injected by alertdrill)\nrun_folder = 'runs/spike'"
    assert [c.execution_count is not None for c in cells] == [True, True, True, False]
    [error] = cells[2].outputs
    assert (error.output_type, error.ename, error.evalue) == ("error", "ValueError", "cannot read runs/spike")
    assert sorted(p.name for p in out.parent.iterdir()) == ["report.ipynb"]


def test_a_failing_reports_message_is_plain_text(failed_report: tuple[Path, EngineError]) -> None:
    out, error = failed_report
    assert str(error) == f"{out}: report notebook failed: ValueError: cannot read runs/spike"


REFUSED_TEMPLATES = [
    # (how the template is broken, the message): notebooks.py checks both before starting a kernel
    pytest.param("missing", "report notebook template not found", id="missing"),
    pytest.param("untagged", "no cell tagged 'parameters'", id="no-parameters-cell"),
]


@pytest.mark.parametrize(("broken", "message"), REFUSED_TEMPLATES)
def test_a_broken_template_is_a_configuration_error(tmp_path: Path, broken: str, message: str) -> None:
    path = template(tmp_path, "x = 1", tagged=broken != "untagged")
    if broken == "missing":
        path.unlink()
    with pytest.raises(ConfigurationError, match=re.escape(f"{path}: {message}")):
        execute(path, {"run_folder": "runs/spike"}, tmp_path / "report.ipynb")
    assert not (tmp_path / "report.ipynb").exists()


# --- alertdrill suite: exit 2 -------------------------------------------------------------------


def suite(capsys: pytest.CaptureFixture[str], folder: Path, out: Path) -> tuple[int, str, str]:
    return cli(capsys, "suite", str(folder), "--out", str(out), "--no-reports", "-j", "1")


NO_SCENARIOS = [
    # (what the folder holds, or None for no folder; the error): cli.py and suite.py refuse before any run
    pytest.param({}, "no scenario files (*.yaml) in this folder", id="empty"),
    pytest.param({"README.md": "# notes\n", "rules.yml.bak": RULES}, "no scenario files (*.yaml)", id="no-yaml"),
    pytest.param(None, "not a folder of scenario files", id="no-folder"),
]


@pytest.mark.parametrize(("files", "message"), NO_SCENARIOS)
def test_suite_without_scenarios_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, str] | None, message: str
) -> None:
    folder = tmp_path / "scenarios"
    if files is not None:
        folder.mkdir()
        write_files(folder, files)
    code, out, err = suite(capsys, folder, tmp_path / "out")
    assert code == 2, out + err
    assert err.startswith(f"alertdrill: error: {folder}: {message}"), err
    assert not (tmp_path / "out").exists()


MALFORMED = [
    # (the scenario file's bytes, what the error says after "<file>:<line>: "): scenario.py's messages
    pytest.param(b"name: [unclosed\n", "not valid YAML", id="not-yaml"),
    pytest.param(b"name: bad\nduration: 5m\nfautls: []\n", "field fautls: unknown field", id="unknown-field"),
    pytest.param(b"name: bad\n", "field duration: Field required", id="no-duration"),
    pytest.param(b"name: bad\nduration: soon\n", "field duration:", id="bad-duration"),
    pytest.param(
        b"name: bad\nduration: 5m\nfaults:\n  - {name: f, kind: meteor, start: 1m, duration: 1m}\n",
        "field faults[0].kind: 'meteor' is not a fault kind",
        id="bad-fault-kind",
    ),
    pytest.param(b"name: caf\xe9\nduration: 1m\n", "scenario file is not UTF-8 text", id="not-utf8"),
]


@pytest.mark.parametrize(("content", "message"), MALFORMED)
def test_suite_with_a_malformed_scenario_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    """The run is an ERROR entry of the suite (in its table and suite.json), and the suite exits 2."""
    folder, out = tmp_path / "scenarios", tmp_path / "out"
    folder.mkdir()
    out.mkdir()  # see the next test for a suite whose --out does not exist yet
    bad = folder / "bad.yaml"
    bad.write_bytes(content)
    code, stdout, stderr = suite(capsys, folder, out)
    assert code == 2, stdout + stderr
    assert re.search(r"^bad\s+ERROR\s+-\s", stdout, re.M), stdout
    assert re.search(rf"^  {re.escape(str(bad))}:\d+: .*{re.escape(message)}", stderr, re.M), stderr
    assert stdout.splitlines()[-2] == "0 passed, 1 failed"
    [entry] = json.loads((out / "suite.json").read_text())["scenarios"]
    assert entry["file"] == str(bad) and entry["passed"] is False
    assert re.match(rf"{re.escape(str(bad))}:\d+: .*{re.escape(message)}", entry["error"]), entry["error"]


def test_suite_with_only_malformed_scenarios_exits_2_into_a_new_out_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "bad.yaml").write_text("name: bad\nduration: 5m\nfautls: []\n")
    out = tmp_path / "runs" / "suite"
    code, stdout, stderr = suite(capsys, folder, out)
    assert code == 2, stdout + stderr
    [entry] = json.loads((out / "suite.json").read_text())["scenarios"]  # the folder was made for it
    assert entry["passed"] is False and entry["error"]


SUITES_WITH_A_BAD_SCENARIO = [
    # (scenario files): one that cannot be used makes the suite a configuration error (suite.exit_code)
    pytest.param(
        {"good.yaml": scenario("good", fires("AlertA"), silent("AlertB")), "bad.yaml": "name: bad\nfautls: []\n"},
        id="good-and-malformed",
    ),
    pytest.param(
        {"good.yaml": scenario("good", fires("AlertA")), "typo.yaml": scenario("typo", fires("AlertC"))},
        id="good-and-an-undefined-alert",
    ),
]


@pytest.mark.prometheus
@pytest.mark.parametrize("files", SUITES_WITH_A_BAD_SCENARIO)
def test_suite_with_a_bad_scenario_beside_a_good_one_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, str]
) -> None:
    write_files(tmp_path, {"rules.yml": RULES})
    write_files(tmp_path / "scenarios", files)
    code, stdout, stderr = suite(capsys, tmp_path / "scenarios", tmp_path / "out")
    assert code == 2, stdout + stderr
    assert re.search(r"^good\s+pass\s", stdout, re.M), stdout  # the good one ran, and passed
    assert stdout.splitlines()[-2] == "1 passed, 1 failed"
