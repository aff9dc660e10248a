"""Scrapes are stored as Prometheus' scrape loop stores them: up, and stale markers."""

from __future__ import annotations

import math
from pathlib import Path

from harness.engine import STALE_NAN, is_stale, samples_from_scrapes
from sim.records import Scrape

REPO = Path(__file__).resolve().parents[2]
BODY_AB = '# TYPE a gauge\na 1\n# TYPE b gauge\nb{x="1"} 2\n'
BODY_A = "# TYPE a gauge\na 3\n"


def _by_name(samples, name):  # type: ignore[no-untyped-def]
    (series,) = [v for k, v in samples.series.items() if dict(k)["__name__"] == name]
    return series


def test_target_labels_and_up_are_added() -> None:
    s = samples_from_scrapes([Scrape(0, BODY_A)], start_unix=1000)
    labels = next(k for k in s.series if dict(k)["__name__"] == "a")
    assert dict(labels) == {"__name__": "a", "instance": "prediction-api:8000", "job": "prediction-api"}
    assert _by_name(s, "up") == [(1_000_000, 1.0)]
    assert _by_name(s, "scrape_samples_scraped") == [(1_000_000, 1.0)]


def test_a_vanished_series_gets_a_stale_marker_at_that_scrape() -> None:
    s = samples_from_scrapes([Scrape(0, BODY_AB), Scrape(15, BODY_A)], start_unix=0)
    b = _by_name(s, "b")
    assert b[0] == (0, 2.0)
    assert b[1][0] == 15_000 and is_stale(b[1][1])
    assert _by_name(s, "a") == [(0, 1.0), (15_000, 3.0)]


def test_a_failed_scrape_sets_up_to_zero_and_makes_every_series_stale() -> None:
    s = samples_from_scrapes([Scrape(0, BODY_AB), Scrape(15, None), Scrape(30, BODY_A)], 0)
    assert [v for _, v in _by_name(s, "up")] == [1.0, 0.0, 1.0]
    a = _by_name(s, "a")
    assert is_stale(a[1][1]) and a[2] == (30_000, 3.0)
    b = _by_name(s, "b")
    assert len(b) == 2 and is_stale(b[1][1])  # stale once, not again at the next scrape
    assert [v for _, v in _by_name(s, "scrape_samples_scraped")] == [2.0, 0.0, 1.0]


def test_stale_marker_is_the_special_nan_not_any_nan() -> None:
    assert math.isnan(STALE_NAN) and is_stale(STALE_NAN)
    assert not is_stale(float("nan"))
    assert not is_stale(1.0)


def test_exported_target_labels_are_kept_under_exported_names() -> None:
    s = samples_from_scrapes([Scrape(0, '# TYPE a gauge\na{job="other"} 1\n')], 0)
    labels = dict(next(k for k in s.series if dict(k)["__name__"] == "a"))
    assert labels["job"] == "prediction-api" and labels["exported_job"] == "other"


TRICKY = """# HELP odd Samples that stress the text format.
# TYPE odd gauge
odd{a="x}y",b="1,2",c="k=v"} 1.5
odd{a="with space"} -2e-05
odd{} 3
odd{a="trailing",} +Inf
odd{a="neg"} -Inf
odd{a="nan"} NaN
odd{a="big"} 1.7976931348623157e+308
odd{a="esc\\\\aped \\"q\\" \\n"} 4
odd_with_time{a="t"} 5 1700000000000
plain 6.0
"""


def _normalised(samples: list[tuple[str, dict[str, str], float]]) -> list[tuple[str, list[tuple[str, str]], str]]:
    return [(n, sorted(labels.items()), repr(v)) for n, labels, v in samples]


def _fast_samples(body: str) -> list[tuple[str, dict[str, str], float]] | None:
    """Every sample line through the fast reader's line check, or None if it refuses one."""
    from harness.engine.samples import _fast_line

    out = []
    for line in body.splitlines():
        if line and not line.startswith("#"):
            parsed = _fast_line(line)
            if parsed is None:
                return None
            out.append((parsed[0], parsed[1], float(parsed[2])))
    return out


def test_fast_exposition_parser_agrees_with_prometheus_client() -> None:
    from harness.engine.samples import _full_samples
    from harness.exercise import scrape_exercised_service

    body = scrape_exercised_service(REPO / "config" / "model.json")
    fast = _fast_samples(body)
    assert fast is not None and len(fast) > 100  # a real scrape takes the fast path whole
    assert _normalised(fast) == _normalised(_full_samples(body))


def test_lines_the_fast_parser_cannot_read_fall_back_to_the_full_parser() -> None:
    from harness.engine.samples import _full_samples, parse_exposition

    assert _fast_samples(TRICKY) is None  # escapes and a timestamp
    easy = "\n".join(line for line in TRICKY.splitlines() if "esc" not in line and "with_time" not in line)
    fast = _fast_samples(easy)
    assert fast is not None and _normalised(fast) == _normalised(_full_samples(easy))
    target = (("instance", "i"), ("job", "j"))
    parsed = parse_exposition(TRICKY, target)
    escaped = next(k for k in parsed if dict(k).get("a", "").startswith("esc"))
    assert dict(escaped)["a"] == 'esc\\aped "q" \n'
    assert len(parsed) == len(_full_samples(TRICKY))


def test_a_reader_gives_what_the_full_parser_gives_scrape_after_scrape() -> None:
    """Series remembered from one scrape must not change how the next is read: values move,
    a series appears, and a body with an escaped label is read whole by the full parser."""
    from harness.engine.samples import ScrapeReader, _full_samples, _series_labels

    target = (("instance", "i"), ("job", "j"))
    bodies = [
        'a{x="1"} 1\nb 2\n',
        'a{x="1"} 3.5\nb -Inf\nc{y="with space",z="}"} 4\n',
        'a{x="1"} 5\nb 6\nc{y="with space",z="}"} NaN\nd{q="\\\\"} 7\n',
        'a{x="1"} 8\nb 9 1700000000000\n',
        'a{x="1"} 10\n',
    ]
    reader = ScrapeReader(target)
    for body in bodies:
        expected = {_series_labels(n, labels, target): v for n, labels, v in _full_samples(body)}
        got = reader.read(body)
        assert {k: repr(v) for k, v in got.items()} == {k: repr(v) for k, v in expected.items()}
