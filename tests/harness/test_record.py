"""The run folder's sample files hold exactly the stored samples, whatever their values.

The writers build columns a series at a time; the references here are the per-sample
construction they replaced.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from harness.engine import STALE_NAN, SampleSet, is_stale
from harness.record import read_samples_parquet, write_openmetrics, write_samples_parquet

START = 1_767_225_600.0


def _samples() -> SampleSet:
    s = SampleSet(START)
    t = int(START * 1000)
    s.add((("__name__", "up"), ("job", "j")), t, 1.0)
    s.add((("__name__", "up"), ("job", "j")), t + 15_000, 0.0)
    s.add((("__name__", "b"), ("a", 'q " \\ \n'), ("job", "j")), t, math.nan)
    s.add((("__name__", "b"), ("a", 'q " \\ \n'), ("job", "j")), t + 15_000, STALE_NAN)
    s.add((("__name__", "a"), ("job", "j")), t + 1, math.inf)
    s.add((("__name__", "a"), ("job", "j")), t + 2, -math.inf)
    s.add((("__name__", "a"), ("job", "j")), t + 3, -0.0)
    s.add((("__name__", "a"), ("job", "k")), t + 4, 1e-300)
    return s


def _reference_table(samples: SampleSet) -> pa.Table:
    cols: dict[str, list[Any]] = {k: [] for k in ("time", "timestamp_ms", "metric", "labels", "value", "stale")}
    for time, ts, name, labels, value, stale in samples.rows():
        for key, item in zip(
            cols, (time, ts, name, json.dumps(dict(labels), sort_keys=True), value, stale), strict=True
        ):
            cols[key].append(item)
    return pa.table(
        {
            "time": pa.array(cols["time"], pa.float64()),
            "timestamp_ms": pa.array(cols["timestamp_ms"], pa.int64()),
            "metric": pa.array(cols["metric"], pa.string()).dictionary_encode(),
            "labels": pa.array(cols["labels"], pa.string()).dictionary_encode(),
            "value": pa.array(cols["value"], pa.float64()),
            "stale": pa.array(cols["stale"], pa.bool_()),
        }
    )


def test_parquet_is_the_per_sample_table_and_reads_back_bit_for_bit(tmp_path: Path) -> None:
    samples = _samples()
    write_samples_parquet(tmp_path / "s.parquet", samples)
    table = pq.read_table(tmp_path / "s.parquet")
    reference = _reference_table(samples)
    assert table.drop_columns(["value"]).equals(reference.drop_columns(["value"]))  # NaN != NaN in equals()

    def bits(t: pa.Table) -> list[int]:
        return list(t["value"].to_numpy().view("uint64"))

    assert bits(table) == bits(reference)
    back = read_samples_parquet(tmp_path / "s.parquet", START)
    for labels, points in samples.series.items():
        got = back.series[labels]
        assert [ts for ts, _ in got] == [ts for ts, _ in points]
        assert [(repr(v), is_stale(v)) for _, v in got] == [(repr(v), is_stale(v)) for _, v in points]


def test_an_empty_sample_set_writes_an_empty_table(tmp_path: Path) -> None:
    write_samples_parquet(tmp_path / "s.parquet", SampleSet(START))
    assert pq.read_table(tmp_path / "s.parquet").num_rows == 0


def test_openmetrics_leaves_out_stale_markers_and_escapes_labels(tmp_path: Path) -> None:
    write_openmetrics(tmp_path / "s.om", _samples())
    lines = (tmp_path / "s.om").read_text().splitlines()
    assert lines[0] == "# TYPE a unknown" and lines[-1] == "# EOF"
    assert 'b{a="q \\" \\\\ \\n",job="j"} NaN 1767225600.000' in lines
    assert sum(line.startswith("b{") for line in lines) == 1  # the stale marker is not written
    assert 'a{job="j"} Inf 1767225600.001' in lines and 'a{job="j"} -Inf 1767225600.002' in lines
    assert [line.split("{")[0] for line in lines if not line.startswith("#")] == ["a"] * 4 + ["b"] + ["up"] * 2


def test_a_run_folder_is_whole_or_absent(tmp_path: Path) -> None:
    """A failure while writing (a full disk) leaves the previous folder as it was, no half one."""
    import pytest

    from harness.errors import RunFolderError
    from harness.record import replaced_atomically

    folder = tmp_path / "run"
    with replaced_atomically(folder) as staging:
        (staging / "verdict.json").write_text("{}")
    assert (folder / "verdict.json").read_text() == "{}"
    with pytest.raises(RunFolderError, match="No space left"), replaced_atomically(folder) as staging:
        (staging / "verdict.json").write_text('{"new": 1}')
        raise OSError(28, "No space left on device")
    assert (folder / "verdict.json").read_text() == "{}"  # the old one, untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no staging left behind
    with pytest.raises(KeyboardInterrupt), replaced_atomically(folder) as staging:
        raise KeyboardInterrupt
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
