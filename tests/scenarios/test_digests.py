"""Every shipped scenario records what it recorded before: the same samples, bit for bit, and the same alerts.

A run is a pure function of its scenario and seed, so a change made for speed or structure
must leave its stored samples and its alert timeline as they were. ``data/digests.json``
keeps, per scenario, the digests (``harness.digest``) of its run folder at its own seed; these
tests digest the run folders the other scenario tests already read (``shipped_run``: no run
of its own).
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from harness.digest import DESK_JOB_LABEL, RunDigest, run_digest
from tests.scenarios.conftest import LONG, SHIPPED, long_scenarios, on_run, shipped

pytestmark = pytest.mark.prometheus
DIGESTS = Path(__file__).parent / "data" / "digests.json"
RECORDED: dict[str, dict[str, object]] = json.loads(DIGESTS.read_text(encoding="utf-8"))


def regenerate(pattern: str) -> str:
    return f".venv/bin/python tests/benchmarks/digest_runs.py {pattern} --write tests/scenarios/data/digests.json"


def compare(
    name: str,
    seed: int,
    got: RunDigest,
    expected: dict[str, object],
    pattern: str,
    parts: tuple[str, ...] = ("samples", "timeline"),
) -> None:
    """Fails, saying what changed and what to do about it, unless ``got`` (at ``seed``) is ``expected``."""
    counts = {
        "samples": (got.sample_count, "sample_count", "samples"),
        "timeline": (got.alert_count, "alert_count", "alerts"),
        "desk_samples": (got.desk_sample_count, "desk_sample_count", "desk samples"),
    }
    parts = (*parts, "desk_samples") if "desk_samples" in expected and "desk_samples" not in parts else parts
    what = [
        f"{part} digest {getattr(got, part)[:16]}… ({counts[part][0]} {counts[part][2]}), "
        f"recorded {expected[part]!s:.16}… ({expected.get(counts[part][1], '?')} {counts[part][2]})"
        for part in parts
        if getattr(got, part) != expected[part]
    ]
    if seed != expected["seed"]:
        what.insert(0, f"it runs with seed {seed}, digests.json records seed {expected['seed']}")
    if what:
        pytest.fail(
            f"scenario {name!r} (seed {seed}) no longer records what it did:\n  "
            + "\n  ".join(what)
            + "\nA run is a pure function of its scenario and seed: a change for speed or structure must not "
            "change it. If this change is legitimate (the scenario, the service, the simulation or the rules "
            "changed on purpose), explain why in the commit message and regenerate the digests with\n  "
            + regenerate(pattern),
            pytrace=False,
        )


@pytest.mark.parametrize("name", shipped())
def test_a_shipped_scenario_records_what_it_did(shipped_run, name: str) -> None:  # type: ignore[no-untyped-def]
    if name not in RECORDED:
        pytest.fail(
            f"no digest recorded for the shipped scenario {name!r}: record it with\n  {regenerate('scenarios/*.yaml')}",
            pytrace=False,
        )
    result = shipped_run(name)
    assert result.out_dir is not None and result.scenario.name == name
    compare(name, result.seed, run_digest(result.out_dir), RECORDED[name], "scenarios/*.yaml")


@pytest.mark.slow
@pytest.mark.parametrize("name", long_scenarios())
def test_a_long_scenario_records_what_it_did(long_run, name: str) -> None:  # type: ignore[no-untyped-def]
    if name not in RECORDED:
        pytest.fail(f"no digest of long/{name} in digests.json (record: {regenerate(f'scenarios/long/{name}.yaml')})")
    result = long_run(name)
    assert result.scenario.name == name
    expected = RECORDED[name]
    assert "samples" in expected, name
    parts = tuple(part for part in ("samples", "timeline") if part in expected)  # some keep only samples
    compare(name, result.seed, run_digest(result.out_dir), expected, f"scenarios/long/{name}.yaml", parts)


def test_every_recorded_digest_is_of_a_scenario() -> None:
    assert set(RECORDED) <= set(SHIPPED) | set(LONG), "digests.json names scenarios that are gone"


@on_run("latency_spike")
def test_the_digests_see_one_sample_or_one_state_change(shipped_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Negative control: a copy of a run folder digests the same until one value moves by one ulp."""
    result = shipped_run("latency_spike")
    original = run_digest(result.out_dir)
    recorded = {"seed": result.seed, **original.as_json()}
    copy = tmp_path / "copy"
    shutil.copytree(result.out_dir, copy)
    compare("latency_spike", result.seed, run_digest(copy), recorded, "scenarios/*.yaml")  # the copy is the run

    changed = _one_sample_changed(copy)
    assert changed.samples != original.samples and changed.sample_count == original.sample_count
    assert changed.timeline == original.timeline
    with pytest.raises(pytest.fail.Exception) as failure:
        compare("latency_spike", result.seed, changed, recorded, "scenarios/*.yaml")
    message = str(failure.value)
    assert "scenario 'latency_spike' (seed 0)" in message and "samples digest" in message
    assert "timeline digest" not in message
    assert "explain why" in message and regenerate("scenarios/*.yaml") in message

    desk = _one_sample_changed(copy, desk=True)  # the desks' samples have a digest of their own
    assert desk.desk_samples != changed.desk_samples and desk.samples == changed.samples
    with pytest.raises(pytest.fail.Exception, match="desk_samples digest"):
        compare("latency_spike", result.seed, desk, {**recorded, "samples": desk.samples}, "scenarios/*.yaml")

    states = (copy / "states.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (copy / "states.csv").write_text("".join(states[:-1]), encoding="utf-8")  # one pending/firing row less
    assert run_digest(copy).timeline != original.timeline


def _one_sample_changed(folder: Path, desk: bool = False) -> RunDigest:
    """Rewrites ``samples.parquet`` with one ordinary value (of the trading desks' job, or of any
    other) moved to the next float up; its digest."""
    path = folder / "samples.parquet"
    table = pq.read_table(path)
    values = table.column("value").to_numpy().copy()
    labels = table.column("labels").to_pylist()
    i = next(k for k, v in enumerate(values) if math.isfinite(v) and v != 0 and (DESK_JOB_LABEL in labels[k]) == desk)
    values[i] = np.nextafter(values[i], np.inf)
    column = table.schema.get_field_index("value")
    table = table.set_column(column, table.schema.field(column), pa.array(values, table.schema.field(column).type))
    pq.write_table(table, path)
    return run_digest(folder)
