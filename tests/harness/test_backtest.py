"""A backtest's series files: a run folder's samples.parquet or OpenMetrics text, told apart by content."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from harness.backtest import load_series
from harness.engine import STALE_NAN, SampleSet, SeriesFileError, is_stale
from harness.record import write_openmetrics, write_samples_parquet

START = 1_767_623_400.0
UP = (("__name__", "up"), ("instance", "a:1"), ("job", "api"))


def _samples() -> SampleSet:
    s = SampleSet(START)
    t = int(START * 1000)
    for i, value in enumerate((1.0, 0.0, STALE_NAN)):
        s.add(UP, t + 15_000 * i, value)
    return s


def test_a_run_folders_parquet_is_read_with_its_stale_markers(tmp_path: Path) -> None:
    path = tmp_path / "samples.parquet"
    write_samples_parquet(path, _samples())
    (series,) = load_series(path).series.items()
    labels, points = series
    assert labels == UP
    assert [p[0] for p in points] == [int(START * 1000) + d for d in (0, 15_000, 30_000)]
    assert points[:2] == [(int(START * 1000), 1.0), (int(START * 1000) + 15_000, 0.0)] and is_stale(points[2][1])


def test_openmetrics_is_told_apart_from_parquet_by_content_not_name(tmp_path: Path) -> None:
    path = tmp_path / "samples.parquet"  # OpenMetrics text, whatever the name says
    write_openmetrics(path, _samples())
    (points,) = load_series(path).series.values()
    assert [v for _, v in points] == [1.0, 0.0]  # OpenMetrics cannot carry the stale marker


def test_a_parquet_file_of_another_shape_names_the_columns_it_needs(tmp_path: Path) -> None:
    path = tmp_path / "other.parquet"
    pq.write_table(pa.table({"timestamp_ms": pa.array([1], pa.int64()), "value": pa.array(["x"])}), path)
    with pytest.raises(SeriesFileError) as info:
        load_series(path)
    assert str(info.value) == (
        f"{path}: not a run folder's samples.parquet: it needs the columns timestamp_ms (int64), metric (string), "
        "labels (string), value (double); missing or of another type: metric, labels, value"
    )


def test_a_labels_cell_that_is_not_json_is_a_series_file_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    columns = {"timestamp_ms": [1], "metric": ["up"], "labels": ["{not json"], "value": [1.0]}
    pq.write_table(pa.table(columns), path)
    with pytest.raises(SeriesFileError, match=r"bad\.parquet: a sample cannot be read"):
        load_series(path)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"PAR1" + bytes(range(256)) + b"PAR1", ": cannot read the Parquet file"),
        (b"up 1 100\n" + bytes(range(128, 256)), ":2: series file is not UTF-8 text: byte 0x80 at column 1"),
        ("up 1 100\n".encode("utf-16"), ": series file is UTF-16 text"),
    ],
    ids=["damaged-parquet", "binary", "utf-16"],
)
def test_a_series_file_that_cannot_be_read_names_the_file(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "series"
    path.write_bytes(content)
    with pytest.raises(SeriesFileError) as info:
        load_series(path)
    assert str(info.value).startswith(f"{path}{expected}")


def test_a_missing_series_file(tmp_path: Path) -> None:
    with pytest.raises(SeriesFileError, match=r"nope\.om: cannot read series file: No such file or directory"):
        load_series(tmp_path / "nope.om")
