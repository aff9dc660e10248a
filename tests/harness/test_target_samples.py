"""Scrapes read in instalments (harness.engine.TargetSamples, harness.gates.LiveSamples): a rollout
gate asks Prometheus mid-run, and what it was sent must be what a whole run would have stored."""

from __future__ import annotations

from collections import Counter

from harness.engine import SampleSet, TargetSamples, is_stale, samples_from_scrapes, target_labels
from harness.engine.remote_write import Labels
from harness.gates import LiveSamples, samples_of
from sim.records import Scrape, SimResult, TargetScrapes

START = 1_767_623_400.0
START_MS = 1_767_623_400_000
BODY_AB = '# TYPE a gauge\na 1\n# TYPE b gauge\nb{x="1"} 2\n'
BODY_A = "# TYPE a gauge\na 3\n"
BODY_C = "# TYPE c counter\nc_total 7\n"
SCRAPES = [
    Scrape(0.0, BODY_AB),
    Scrape(15.0, BODY_A),
    Scrape(30.0, None),
    Scrape(45.0, BODY_AB),
    Scrape(60.0, BODY_A + BODY_C),
    Scrape(75.0, BODY_C),
]
TARGET = target_labels("prediction-api", "prediction-api:8000")

Normal = dict[Labels, list[tuple[int, str]]]


def normal(samples: SampleSet) -> Normal:
    """Series as comparable values: NaN is never equal to itself, so a stale marker becomes 'stale'."""
    return {
        labels: [(ts, "stale" if is_stale(v) else repr(v)) for ts, v in series]
        for labels, series in samples.series.items()
    }


def by_name(samples: SampleSet, name: str) -> list[tuple[int, str]]:
    (series,) = [v for k, v in normal(samples).items() if dict(k)["__name__"] == name]
    return series


def test_instalments_give_exactly_the_samples_of_one_read() -> None:
    whole = samples_from_scrapes(SCRAPES, START)
    out = SampleSet(START)
    target = TargetSamples(out, TARGET)
    target.take(SCRAPES, until=15.0)  # a scrape at exactly `until` is taken
    assert target.taken == 2
    target.take(SCRAPES, until=44.9)
    assert target.taken == 3
    target.take(SCRAPES, until=44.9)  # nothing new: nothing added twice
    assert target.taken == 3
    target.take(SCRAPES)
    assert target.taken == 6
    assert normal(out) == normal(whole)
    assert len(out) == len(whole) == 24  # a 6, b 4, c_total 2, up 6, scrape_samples_scraped 6


def test_instalments_of_a_growing_list_give_the_same_samples() -> None:
    """As the world runs, its scrape list grows between the gate's asks."""
    out = SampleSet(START)
    target = TargetSamples(out, TARGET)
    seen: list[Scrape] = []
    for scrape in SCRAPES:
        seen.append(scrape)
        target.take(seen, until=scrape.time)
    assert normal(out) == normal(samples_from_scrapes(SCRAPES, START))


def test_the_whole_run_is_stored_as_the_scrape_loop_stores_it() -> None:
    """Guards the reference the instalments are compared with."""
    whole = samples_from_scrapes(SCRAPES, START)
    ms = [START_MS + k * 15_000 for k in range(6)]
    assert by_name(whole, "up") == [(ms[0], "1.0"), (ms[1], "1.0"), (ms[2], "0.0"), *[(t, "1.0") for t in ms[3:]]]
    assert by_name(whole, "b") == [(ms[0], "2.0"), (ms[1], "stale"), (ms[3], "2.0"), (ms[4], "stale")]
    a = [(ms[0], "1.0"), (ms[1], "3.0"), (ms[2], "stale"), (ms[3], "1.0"), (ms[4], "3.0"), (ms[5], "stale")]
    assert by_name(whole, "a") == a
    counts = [2.0, 1.0, 0.0, 2.0, 2.0, 1.0]
    assert by_name(whole, "scrape_samples_scraped") == [(t, repr(n)) for t, n in zip(ms, counts, strict=True)]


def test_end_marks_every_exposed_series_and_up_stale_at_its_time() -> None:
    """A removed replica's series must not linger for Prometheus' five-minute lookback."""
    out = SampleSet(START)
    target = TargetSamples(out, TARGET)
    target.take(SCRAPES[:2])  # a and b at 0, then a alone at 15 (b stale there)
    before = len(out)
    target.end(20.0)
    at_end = START_MS + 20_000
    ended = {dict(k)["__name__"]: v[-1] for k, v in normal(out).items() if v[-1][0] == at_end}
    assert ended == {"a": (at_end, "stale"), "up": (at_end, "stale"), "scrape_samples_scraped": (at_end, "stale")}
    assert by_name(out, "b")[-1] == (START_MS + 15_000, "stale")  # not marked a second time
    assert len(out) == before + 3
    target.end(25.0)  # the loop stopped once: nothing more
    assert len(out) == before + 3


def test_end_without_any_scrape_writes_nothing() -> None:
    out = SampleSet(START)
    target = TargetSamples(out, TARGET)
    target.take([], until=100.0)
    target.end(100.0)
    assert out.series == {}


def test_a_failed_scrape_still_writes_up_zero_and_end_marks_it_stale() -> None:
    out = SampleSet(START)
    target = TargetSamples(out, TARGET)
    target.take([Scrape(0.0, None)])
    assert {dict(k)["__name__"] for k in out.series} == {"up", "scrape_samples_scraped"}
    assert by_name(out, "up") == [(START_MS, "0.0")]
    assert by_name(out, "scrape_samples_scraped") == [(START_MS, "0.0")]
    target.end(10.0)
    assert by_name(out, "up") == [(START_MS, "0.0"), (START_MS + 10_000, "stale")]


# -- LiveSamples: what the gate oracle remote-writes -----------------------------------------------


def _sim() -> SimResult:
    sim = SimResult(duration=120.0)
    sim.targets = [
        TargetScrapes("prediction-api-0:8000", "v1", [Scrape(0.0, BODY_AB), Scrape(15.0, BODY_A)]),
        TargetScrapes("prediction-api-1:8000", "v2", [Scrape(0.0, BODY_C), Scrape(15.0, None)]),
    ]
    sim.desk_scrapes = [Scrape(0.0, "desk_pnl 1\n"), Scrape(15.0, "desk_pnl 2\n")]
    sim.controller_scrapes = [Scrape(0.0, 'rollout_traffic_weight{version="v1"} 1.0\n')]
    return sim


def _handed(out: list[tuple[Labels, list[tuple[int, float]]]]) -> Counter[tuple[Labels, int, str]]:
    return Counter((labels, ts, "stale" if is_stale(v) else repr(v)) for labels, series in out for ts, v in series)


def test_unwritten_hands_out_each_sample_exactly_once() -> None:
    sim = _sim()
    live = LiveSamples(sim, SampleSet(START))
    handed: Counter[tuple[Labels, int, str]] = Counter()

    live.advance(0.0)
    first = _handed(live.unwritten())
    assert first and {ts for _, ts, _ in first} == {START_MS}
    assert live.unwritten() == []  # asked again with nothing new: nothing
    handed += first

    live.advance(10.0)  # no scrape between 0 and 10
    assert live.unwritten() == []

    live.advance(15.0)
    second = _handed(live.unwritten())
    assert {ts for _, ts, _ in second} == {START_MS + 15_000}
    handed += second

    # the world moves on: replica 0 scraped once more, then removed at 40 s
    sim.targets[0].scrapes.append(Scrape(30.0, BODY_AB))
    sim.targets[0].ended = 40.0
    live.advance(35.0)  # not yet past its end: no stale markers for it yet
    third = _handed(live.unwritten())
    assert {ts for _, ts, _ in third} == {START_MS + 30_000}
    handed += third
    live.advance(None)
    fourth = _handed(live.unwritten())
    assert {(dict(labels)["__name__"], ts, v) for labels, ts, v in fourth} == {
        ("a", START_MS + 40_000, "stale"),
        ("b", START_MS + 40_000, "stale"),
        ("up", START_MS + 40_000, "stale"),
        ("scrape_samples_scraped", START_MS + 40_000, "stale"),
    }
    handed += fourth
    assert live.unwritten() == []

    assert max(handed.values()) == 1
    assert handed == _handed(list(samples_of(sim, START).series.items()))


def test_live_samples_label_each_target_as_prometheus_would() -> None:
    samples = samples_of(_sim(), START)
    targets = {(d["job"], d["instance"], d.get("version")) for d in map(dict, samples.series) if d["__name__"] == "up"}
    assert targets == {
        ("prediction-api", "prediction-api-0:8000", "v1"),  # a replica's version is a target label
        ("prediction-api", "prediction-api-1:8000", "v2"),
        ("trading-desk", "trading-desk:9102", None),
        ("rollout-controller", "rollout-controller:8090", None),
    }
    weight = next(dict(k) for k in samples.series if dict(k)["__name__"] == "rollout_traffic_weight")
    assert weight == {
        "__name__": "rollout_traffic_weight",
        "job": "rollout-controller",
        "instance": "rollout-controller:8090",
        "version": "v1",  # the controller's own label: the version it weighs
    }
    (v2_up,) = [v for k, v in samples.series.items() if dict(k)["__name__"] == "up" and ("version", "v2") in k]
    assert [value for _, value in v2_up] == [1.0, 0.0]  # its second scrape failed
