"""``alertdrill suite --seeds``: the seed list, the matrix it makes, the order it runs in, the table.

Nothing here starts Prometheus; the runs themselves are tested in tests/scenarios/test_cli.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import parser
from harness.errors import ConfigurationError
from harness.suite import (
    Delay,
    SuiteEntry,
    format_seeds,
    longest_first,
    parse_seeds,
    suite_json,
    suite_runs,
    suite_table,
)


@pytest.mark.parametrize(
    ("spec", "seeds"),
    [
        ("0-19", list(range(20))),
        ("0,3,7", [0, 3, 7]),
        ("0-4,9", [0, 1, 2, 3, 4, 9]),
        ("7", [7]),
        ("3-3", [3]),
        (" 9 , 0-1 ", [0, 1, 9]),  # sorted
        ("0-2,1-3", [0, 1, 2, 3]),  # each seed once: two runs of one seed would share a run folder
    ],
)
def test_seed_specs(spec: str, seeds: list[int]) -> None:
    assert parse_seeds(spec) == seeds
    assert parser().parse_args(["suite", "--seeds", spec]).seeds == seeds


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--seeds", "5-2"], "'5-2': the range ends before it starts (did you mean 2-5?)"),
        (["--seeds", "x"], "'x' is not a seed or a range of seeds"),
        (["--seeds", "0-x"], "'0-x' is not a seed or a range of seeds"),
        (["--seeds=-1"], "'-1': seeds are 0 or more"),
        (["--seeds=-3-5"], "'-3-5': seeds are 0 or more"),
        (["--seeds", "1.5"], "'1.5' is not a seed"),
        (["--seeds", "0,,3"], "'0,,3' has an empty item"),
        (["--seeds", ""], "no seeds given"),
        (["--seeds", "0-100000"], "more than 10000 seeds"),
        (["--seed", "1", "--seeds", "0-3"], "argument --seeds: not allowed with argument --seed"),
        (["--seed=-1"], "argument --seed: '-1': seeds are 0 or more"),
        (["--reports", "--no-reports"], "not allowed with argument --reports"),
        (["--jobs", "0"], "'0' must be above 0"),
    ],
)
def test_bad_seeds_are_usage_errors_naming_the_value(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        parser().parse_args(["suite", *args])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "reports"),
    [([], None), (["--reports"], True), (["--no-reports"], False), (["--seeds", "0-1", "--reports"], True)],
)
def test_reports_flag_has_three_states(args: list[str], reports: bool | None) -> None:
    """None lets the suite decide: report notebooks without --seeds, none with them."""
    assert parser().parse_args(["suite", *args]).reports is reports


@pytest.mark.parametrize("seeds", [[0], [0, 1, 2, 3, 9], [2, 4, 6], [0, 1, 5, 6, 7, 100], list(range(20))])
def test_format_seeds_reads_back(seeds: list[int]) -> None:
    assert parse_seeds(format_seeds(seeds)) == seeds


def test_format_seeds_is_short() -> None:
    assert format_seeds([9, 0, 1, 2, 3]) == "0-3,9"
    assert format_seeds(list(range(20))) == "0-19"


def test_run_folders_keep_the_old_layout_without_seeds() -> None:
    files = [Path("a.yaml"), Path("b.yaml")]
    assert [(r.folder, r.seed) for r in suite_runs(files, seed=4)] == [("a", 4), ("b", 4)]
    assert [(r.folder, r.seed) for r in suite_runs(files, seeds=[0, 7])] == [
        ("a-seed0", 0),
        ("a-seed7", 7),
        ("b-seed0", 0),
        ("b-seed7", 7),
    ]
    with pytest.raises(ConfigurationError):
        suite_runs(files, seed=1, seeds=[0])


def test_longest_scenario_runs_first_and_broken_files_before_it(tmp_path: Path) -> None:
    for name, duration in [("a_short", "2m"), ("b_long", "30m"), ("c_mid", "10m")]:
        (tmp_path / f"{name}.yaml").write_text(f"name: {name}\nduration: {duration}\n")
    (tmp_path / "d_broken.yaml").write_text("name: d_broken\n")
    files = sorted(tmp_path.glob("*.yaml"))
    order = [(r.path.stem, r.seed) for r in longest_first(suite_runs(files, seeds=[0, 1]))]
    assert order == [
        ("d_broken", 0),
        ("d_broken", 1),
        ("b_long", 0),
        ("b_long", 1),
        ("c_mid", 0),
        ("c_mid", 1),
        ("a_short", 0),
        ("a_short", 1),
    ]


def _entries() -> list[SuiteEntry]:
    quiet, wrong = Path("s/a_quiet.yaml"), Path("s/b_wrong.yaml")
    return [
        SuiteEntry(quiet, passed=True, wall_seconds=1.0, seed=0, folder="a_quiet-seed0"),
        SuiteEntry(quiet, passed=True, wall_seconds=1.0, seed=1, folder="a_quiet-seed1"),
        SuiteEntry(wrong, alerts_fired=("X",), delays=(Delay("X", 90, 30),), seed=0, folder="b_wrong-seed0"),
        SuiteEntry(
            wrong, passed=True, alerts_fired=("X",), delays=(Delay("X", 60, 30),), seed=1, folder="b_wrong-seed1"
        ),
        SuiteEntry(wrong, error="PrometheusStartError: it would not start\nmore", seed=2, folder="b_wrong-seed2"),
    ]


def test_table_by_seed_says_which_seeds_held() -> None:
    lines = suite_table(_entries(), by_seed=True).splitlines()
    assert lines[0].split()[:3] == ["scenario", "seed", "result"]
    assert lines[3].split()[:3] == ["b_wrong", "0", "FAIL"]
    assert lines[5].split()[:3] == ["b_wrong", "2", "ERROR"]
    assert lines[-3].split() == ["a_quiet", "held", "2/2", "seeds"]
    assert lines[-2].split() == ["b_wrong", "held", "1/3", "seeds", "(not:", "--seeds", "0,2)", "X", "+75s", "(60-90)"]
    assert lines[-1] == "3 passed, 2 failed"  # CI reads this line


def test_table_without_seeds_is_unchanged() -> None:
    entries = [SuiteEntry(Path("a.yaml"), passed=True, wall_seconds=1.0)]
    lines = suite_table(entries).splitlines()
    assert lines[0].split()[:2] == ["scenario", "result"] and lines[1].split()[:2] == ["a", "pass"]
    assert lines[-1] == "1 passed, 0 failed"


def test_suite_json_records_each_runs_seed_and_folder() -> None:
    record = suite_json(_entries(), seeds=[0, 1, 2])
    assert record["seeds"] == [0, 1, 2]
    runs = record["scenarios"]
    assert isinstance(runs, list)
    assert [(r["seed"], r["run_folder"]) for r in runs] == [
        (0, "a_quiet-seed0"),
        (1, "a_quiet-seed1"),
        (0, "b_wrong-seed0"),
        (1, "b_wrong-seed1"),
        (2, None),  # it did not run: no run folder to read
    ]
    plain = suite_json([SuiteEntry(Path("a.yaml"), passed=True)])
    assert plain["seeds"] is None and isinstance(plain["scenarios"], list)
    assert [(r["seed"], r["run_folder"]) for r in plain["scenarios"]] == [(None, "a")]
