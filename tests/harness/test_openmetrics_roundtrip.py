"""A run folder's ``samples.om`` reads back as the samples that were written, and a file that is
not OpenMetrics is an error naming its file and line.

``harness/record.py`` writes OpenMetrics text with the series' labels escaped and timestamps in
seconds with milliseconds; ``harness/engine/openmetrics.py`` reads it for ``alertdrill backtest``.
What the format carries (the OpenMetrics 1.0 spec): label values escape only backslash, double
quote and line feed; every other character stands for itself. A stale marker is a NaN with
particular bits that the text format cannot tell from NaN, so the writer leaves it out (its
docstring); a plain NaN is a value and is kept.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from harness.engine.openmetrics import SeriesFileError, load_openmetrics, parse_openmetrics
from harness.engine.remote_write import STALE_NAN, Labels, is_stale
from harness.engine.samples import SampleSet
from harness.record import write_openmetrics

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z in Unix milliseconds


def series(name: str, **labels: str) -> Labels:
    """Labels as a SampleSet keys them: sorted, the name as ``__name__``."""
    return tuple(sorted({**labels, "__name__": name}.items()))


def roundtrip(tmp_path: Path, samples: SampleSet) -> SampleSet:
    path = tmp_path / "samples.om"
    write_openmetrics(path, samples)
    return load_openmetrics(path)


def points(samples: SampleSet) -> dict[Labels, list[tuple[int, str]]]:
    """Every series' (timestamp, value) with the value as ``repr``: NaN equals NaN, -0.0 is not 0.0."""
    return {labels: [(ts, repr(v)) for ts, v in pts] for labels, pts in samples.series.items()}


def one_sample(labels: Labels, value: float = 1.0, ts: int = T0) -> SampleSet:
    samples = SampleSet(0.0)
    samples.add(labels, ts, value)
    return samples


LABEL_VALUES = [
    # the three escapes of the spec, alone and together
    pytest.param('say "hi"', id="quotes"),
    pytest.param("C:\\path\\", id="backslashes"),
    pytest.param("two\nlines", id="newline"),
    pytest.param('q " \\ \n', id="all-three"),
    pytest.param("\\n", id="backslash-then-n"),  # not a newline: escaping must not be undone twice
    pytest.param('\\"', id="backslash-then-quote"),
    # characters that stand for themselves
    pytest.param("", id="empty"),
    pytest.param("a}b{c", id="braces"),
    pytest.param('k="v",x', id="label-syntax"),
    pytest.param("tab\there", id="tab"),
    pytest.param("café ☕", id="non-ascii"),
    pytest.param(" # EOF", id="eof-lookalike"),
    # str.splitlines would break at each of these; the format ends a line at \n only
    pytest.param("carriage\rreturn", id="carriage-return"),
    pytest.param("line\u2028separator", id="unicode-line-separator"),
    pytest.param("para\u2029separator", id="unicode-paragraph-separator"),
    pytest.param("vertical\x0btab", id="vertical-tab"),
    pytest.param("form\x0cfeed", id="form-feed"),
    pytest.param("file\x1csep", id="file-separator"),
    pytest.param("next\x85line", id="next-line"),
    pytest.param("ends with\r", id="trailing-carriage-return"),
]


@pytest.mark.parametrize("value", LABEL_VALUES)
def test_a_label_value_survives(tmp_path: Path, value: str) -> None:
    samples = one_sample(series("http_requests_total", job="api", path=value))
    assert points(roundtrip(tmp_path, samples)) == points(samples)


SAMPLE_VALUES = [
    # Python's repr is the shortest text that reads back as the same float64
    0.0,
    -0.0,
    1.5,
    -2.5,
    0.1,
    1e-05,
    1e06,
    1e21,
    1e-300,
    5e-324,
    1.7976931348623157e308,
    math.nan,  # a NaN value, not a stale marker: kept
    math.inf,
    -math.inf,
]


@pytest.mark.parametrize("value", SAMPLE_VALUES, ids=repr)
def test_a_sample_value_survives_bit_for_bit(tmp_path: Path, value: float) -> None:
    back = roundtrip(tmp_path, one_sample(series("m"), value))
    [(ts, got)] = back.series[series("m")]
    assert ts == T0 and repr(got) == repr(value) and not is_stale(got)


def test_several_series_of_several_names_survive(tmp_path: Path) -> None:
    samples = SampleSet(0.0)
    for i in range(3):
        t = T0 + 15_000 * i
        samples.add(series("up", instance="a:1", job="api"), t, 1.0)
        samples.add(series("up", instance="b:1", job="api"), t, float(i % 2))
        samples.add(series("job:latency_seconds:p95", job="api", quantile="0.95"), t, 0.025 * (i + 1))
        samples.add(series("scrape_samples_scraped"), t, 42.0)
    back = roundtrip(tmp_path, samples)
    assert points(back) == points(samples)
    assert len(back.series) == 4


def test_every_millisecond_of_a_second_survives(tmp_path: Path) -> None:
    """Timestamps are written in seconds with three decimals and read back to the millisecond."""
    samples = SampleSet(0.0)
    labels = series("m")
    for ms in [*range(T0, T0 + 1000), 0, 1, 999, -1500]:
        samples.add(labels, ms, 1.0)
    back = roundtrip(tmp_path, samples)
    assert [ts for ts, _ in back.series[labels]] == sorted(ts for ts, _ in samples.series[labels])


def test_stale_markers_are_left_out_and_the_rest_kept(tmp_path: Path) -> None:
    samples = SampleSet(0.0)
    flapping, gone = series("m", instance="a"), series("m", instance="b")
    for i, value in enumerate([1.0, STALE_NAN, 2.0, math.nan]):
        samples.add(flapping, T0 + 15_000 * i, value)
    samples.add(gone, T0, STALE_NAN)  # a series that holds only a stale marker
    back = roundtrip(tmp_path, samples)
    assert points(back) == {flapping: [(T0, "1.0"), (T0 + 30_000, "2.0"), (T0 + 45_000, "nan")]}
    assert not any(is_stale(v) for pts in back.series.values() for _, v in pts)


def test_the_reader_puts_each_series_in_time_order() -> None:
    text = "m 3 1767225600.3\nm 1 1767225600.1\nm 2 1767225600.2\n# EOF\n"
    assert [ts for ts, _ in parse_openmetrics(text).series[series("m")]] == [T0 + 100, T0 + 200, T0 + 300]


ACCEPTED = [
    # OpenMetrics 1.0: metadata lines, then samples; "# EOF" ends the exposition
    pytest.param("# TYPE m gauge\n# HELP m help\n\nm 1 1767225600\n", [(T0, "1.0")], id="metadata-and-blank"),
    pytest.param("m 1 1767225600\n# EOF\nnot a sample line\n", [(T0, "1.0")], id="after-eof-ignored"),
    pytest.param("m +Inf 1767225600\nm NaN 1767225601\n", [(T0, "inf"), (T0 + 1000, "nan")], id="specials"),
    pytest.param("m -Inf 1767225600\nm 1e3 1767225601\n", [(T0, "-inf"), (T0 + 1000, "1000.0")], id="exponent"),
    pytest.param("m{} 1 1767225600\n", [(T0, "1.0")], id="empty-braces"),
    pytest.param('m 1 1767225600 # {trace_id="abc"} 1 1767225600\n', [(T0, "1.0")], id="exemplar"),
    pytest.param("m 1 1767225600\r\nm 2 1767225601\r\n", [(T0, "1.0"), (T0 + 1000, "2.0")], id="crlf-line-ends"),
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED)
def test_the_reader_accepts_what_the_format_allows(text: str, expected: list[tuple[int, str]]) -> None:
    assert points(parse_openmetrics(text)) == {series("m"): expected}


def test_the_reader_accepts_an_exemplar_after_labels() -> None:
    text = 'm{a="b"} 1 1767225600 # {trace_id="abc"} 1 1767225600\n'
    assert points(parse_openmetrics(text)) == {series("m", a="b"): [(T0, "1.0")]}


MALFORMED = [
    # (file content, line at fault, what the message says); line numbers count every line
    pytest.param(b"# TYPE m gauge\nm 1 1\nm 2\n", 3, "sample has no timestamp", id="no-timestamp"),
    pytest.param(b"m{a=b} 1 1\n", 1, "cannot read labels 'a=b'", id="unquoted-label"),
    pytest.param(b'\n\nm{a="b" 1 1\n', 3, "not an OpenMetrics sample line", id="unclosed-brace"),
    pytest.param(b"m x 1\n", 1, "value 'x' or timestamp '1' is not a number", id="bad-value"),
    pytest.param(b"m 1 soon\n", 1, "value '1' or timestamp 'soon' is not a number", id="bad-timestamp"),
    pytest.param(b"9m 1 1\n", 1, "not an OpenMetrics sample line: '9m 1 1'", id="bad-name"),
    pytest.param(b"m 1 1 1\n", 1, "not an OpenMetrics sample line", id="extra-field"),
    pytest.param(b"m 1 1\nm 2 \xe9\n", 2, "series file is not UTF-8 text", id="latin-1"),
    pytest.param(b"m 1 1\nm\x00 1 1\n", 2, "series file holds a NUL byte", id="binary"),
]


@pytest.mark.parametrize(("content", "line", "message"), MALFORMED)
def test_a_malformed_file_is_an_error_naming_file_and_line(
    tmp_path: Path, content: bytes, line: int, message: str
) -> None:
    path = tmp_path / "series.om"
    path.write_bytes(content)
    with pytest.raises(SeriesFileError) as caught:
        load_openmetrics(path)
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert message in str(caught.value)
