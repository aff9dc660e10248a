"""The desks' trading rule, their trade book and its /metrics: pure, no service, no Prometheus."""

from __future__ import annotations

import asyncio
import math
import random

import pytest
from prometheus_client.parser import text_string_to_metric_families

from service.app import create_app
from service.clock import SimulatedClock
from service.settings import Settings
from sim import SimResult, WorldSpec, simulate
from sim.book import TradeBook
from sim.specs import Population, TrafficSpec
from sim.trading import DECISIONS, NO_MODEL, Decision, DeskRule, Quote, decide
from sim.traffic import read_prediction
from sim.transport import AsgiTransport, Reply, server_duration

T0 = 1767623400.0  # 2026-01-05 14:30 UTC

RULE = DeskRule(deadline=0.005, min_confidence=0.55, strong_confidence=0.9, notional=10_000.0, cost_bp=0.5)


def quote(p_up: float = 0.8, latency: float | None = 0.002, age: float | None = 0.3, version: str = "v1") -> Quote:
    return Quote(p_up, max(p_up, 1 - p_up), version, latency, age)


def test_a_timely_confident_fresh_prediction_decides_the_trade() -> None:
    up = decide("mm", RULE, quote(0.8), baseline_up=False)
    assert (up.decision, up.side, up.model_version, up.strong) == (Decision.USED, 1, "v1", False)
    assert up.signal == pytest.approx(0.6)
    assert up.size == pytest.approx(0.5 + 0.5 * (0.8 - 0.55) / (0.9 - 0.55))
    down = decide("mm", RULE, quote(0.05), baseline_up=True)
    assert (down.side, down.size, down.strong) == (-1, 1.0, True)  # full size from strong_confidence on
    assert down.signal == pytest.approx(-0.9)


@pytest.mark.parametrize(
    ("q", "decision"),
    [
        (quote(latency=0.0051), Decision.LATE),
        (quote(latency=None), Decision.LATE),  # a client that cannot tell when the answer was made
        (quote(age=5.5), Decision.STALE),
        (quote(0.52), Decision.UNCONFIDENT),
        (None, Decision.FAILED),
    ],
)
def test_otherwise_the_desk_trades_its_baseline_without_the_prediction(q: Quote | None, decision: str) -> None:
    trade = decide("mm", RULE, q, baseline_up=False)
    assert (trade.decision, trade.model_version, trade.side) == (decision, NO_MODEL, -1)
    assert (trade.size, trade.signal, trade.strong) == (RULE.baseline_size, None, False)


def test_at_the_deadline_a_prediction_is_still_in_time() -> None:
    assert decide("mm", RULE, quote(latency=0.005), baseline_up=True).decision == Decision.USED


def test_a_trade_settles_at_the_realised_return_less_costs() -> None:
    trade = decide("mm", RULE, quote(0.05), baseline_up=True)  # a full-size sell
    gross, cost = trade.settle(-3.0, RULE)  # the market fell 3 bp
    assert gross == pytest.approx(10_000 * 3 / 1e4) and cost == pytest.approx(10_000 * 0.5 / 1e4)


@pytest.mark.parametrize(
    "kwargs",
    [{"min_confidence": 0.9, "strong_confidence": 0.9}, {"deadline": 0.0}, {"baseline_size": 1.5}, {"cost_bp": -1}],
)
def test_an_impossible_rule_is_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        DeskRule(**kwargs)


def _values(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _sum(values: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in values.items() if n == name and set(labels.items()) <= set(ls))


def test_nothing_is_booked_before_the_horizon_has_passed() -> None:
    book = TradeBook({"mm": RULE}, horizon=5.0, rng=random.Random(0))
    book.place(10.0, "mm", quote(0.95), 2.0)
    before = _values(book.exposition(14.9))
    assert _sum(before, "desk_trades_total", decision="used") == 1  # placed: known at once
    assert _sum(before, "desk_settled_trades_total") == 0  # its P&L is not known yet
    after = _values(book.exposition(15.0))
    assert _sum(after, "desk_settled_trades_total", model_version="v1") == 1
    assert _sum(after, "desk_profit_dollars_total") == pytest.approx(10_000 * 2.0 / 1e4)
    assert _sum(after, "desk_cost_dollars_total") == pytest.approx(10_000 * 0.5 / 1e4)


def test_every_decision_of_every_desk_is_exported_from_the_start() -> None:
    values = _values(TradeBook({"mm": RULE, "arb": RULE}, 5.0, random.Random(0)).exposition(0.0))
    for desk in ("mm", "arb"):
        for decision in DECISIONS:
            assert values[("desk_trades_total", (("decision", decision), ("desk", desk)))] == 0


def _pearson(xs: list[float], ys: list[float]) -> float:
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    return sxy / math.sqrt(sum((x - mx) ** 2 for x in xs) * sum((y - my) ** 2 for y in ys))


def _exported_r(values: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> float:
    """Pearson's r as the recording rule computes it, from the exported counters."""

    def signed(name: str) -> float:
        return _sum(values, name, sign="positive") - _sum(values, name, sign="negative")

    n = _sum(values, "desk_settled_trades_total") - _sum(values, "desk_settled_trades_total", model_version=NO_MODEL)
    s, r, sr = (
        signed("desk_signal_sum_total"),
        signed("desk_return_bp_sum_total"),
        signed("desk_signal_return_sum_total"),
    )
    ss, rr = _sum(values, "desk_signal_squared_sum_total"), _sum(values, "desk_return_bp_squared_sum_total")
    return (n * sr - s * r) / math.sqrt((n * ss - s * s) * (n * rr - r * r))


@pytest.mark.parametrize("shuffled", [False, True])
def test_the_exported_sums_give_the_correlation_of_signal_and_return(shuffled: bool) -> None:
    """Negative control: the same returns shuffled against the signals give r near 0, not the same r."""
    rng = random.Random(7)
    p_ups = [rng.random() for _ in range(2000)]
    rets = [4.0 * (p - 0.5) + rng.gauss(0.0, 1.0) for p in p_ups]
    if shuffled:
        rng.shuffle(rets)
    book = TradeBook({"mm": RULE}, horizon=1.0, rng=random.Random(0))
    used_s, used_r = [], []
    for i, (p, ret) in enumerate(zip(p_ups, rets, strict=True)):
        trade = book.place(float(i), "mm", quote(p, version="v2"), ret)
        if trade.signal is not None:
            used_s.append(trade.signal)
            used_r.append(ret)
    exported = _exported_r(_values(book.exposition(1e9)))
    assert exported == pytest.approx(_pearson(used_s, used_r), abs=1e-9)
    assert (abs(exported) < 0.1) if shuffled else (exported > 0.5)


def test_false_positives_are_full_size_positions_the_market_went_against() -> None:
    book = TradeBook({"mm": RULE}, horizon=1.0, rng=random.Random(0))
    book.place(0.0, "mm", quote(0.95), -1.0)  # strong buy, market fell: a false positive
    book.place(0.0, "mm", quote(0.95), 1.0)  # strong buy, market rose
    book.place(0.0, "mm", quote(0.7), 1.0)  # weaker buy, market rose: a full-size trade missed
    book.place(0.0, "mm", quote(0.7), -1.0)  # weaker buy, market fell
    values = _values(book.exposition(1.0))
    assert _sum(values, "desk_strong_signals_total") == 2
    assert _sum(values, "desk_false_positives_total") == 1
    assert _sum(values, "desk_false_negatives_total") == 1
    assert _sum(values, "desk_correct_predictions_total") == 2


def test_the_baseline_direction_comes_from_the_desks_own_stream() -> None:
    """The same seed gives the same orders; the desks' stream is drawn once per order whatever
    the decision, so a different decision never shifts the orders after it."""

    def sides(quotes: list[Quote | None]) -> list[int]:
        book = TradeBook({"mm": RULE}, 1.0, random.Random(3))
        return [book.place(0.0, "mm", q, 1.0).side for q in quotes]

    without = sides([None] * 6)
    assert without == sides([None] * 6)
    assert sides([quote(0.9), *[None] * 5])[1:] == without[1:]


def test_a_reply_gives_the_desk_its_prediction() -> None:
    body = (
        b'{"prediction_id":"p1","symbol":"AAPL","direction":"down","probability":0.2,"confidence":0.8,'
        b'"model_version":"m7","degraded":false,"features_age_seconds":0.4,"imputed":[]}'
    )
    prediction = read_prediction(Reply(200, body, server_timing=b"app;dur=3.250"))
    assert prediction == ("p1", Quote(0.2, 0.8, "m7", 0.00325, 0.4))
    assert read_prediction(Reply(503, b'{"detail":"down"}')) is None
    assert read_prediction(Reply(None, error="ConnectError")) is None
    assert read_prediction(Reply(200, b'{"prediction_id":"p1"}')) is None  # not a prediction a desk can use


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (b"app;dur=42.000", 0.042),
        (b'db;dur=3, app;desc="service";dur=1.5', 0.0015),
        (b"app", None),
        (b"app;dur=soon", None),
        (b"cache;dur=1", None),
        (None, None),
    ],
)
def test_server_timing_is_read_as_the_service_wrote_it(header: bytes | None, seconds: float | None) -> None:
    got = server_duration(header)
    assert got == (None if seconds is None else pytest.approx(seconds))


def _world(rule: DeskRule) -> SimResult:
    spec = WorldSpec(
        duration=600,
        seed=5,
        start_unix=T0,
        traffic=TrafficSpec(rate=20, populations=(Population("mm", 1.0, ("AAPL", "MSFT"), rule),)),
    )
    app = create_app(Settings(sim_clock=True), SimulatedClock(T0))
    return asyncio.run(simulate(spec, AsgiTransport(app)))


def test_the_desks_trade_on_what_the_service_answers_and_change_nothing_it_sees() -> None:
    """Two worlds whose desks differ only in their rule: the service's scrapes are identical
    (the desks are observers with their own stream), their books are not."""
    patient, hasty = _world(DeskRule(deadline=0.050)), _world(DeskRule(deadline=0.0015))
    assert [(s.time, s.body) for s in patient.scrapes] == [(s.time, s.body) for s in hasty.scrapes]
    assert len(patient.desk_scrapes) == len(patient.scrapes) > 30

    def decisions(result: SimResult) -> dict[str, float]:
        last = _values(result.desk_scrapes[-1].body or "")
        return {d: _sum(last, "desk_trades_total", decision=d) for d in DECISIONS}

    got, late = decisions(patient), decisions(hasty)
    assert sum(got.values()) == sum(late.values()) > 5000  # the same orders ...
    assert got["late"] < 0.01 * sum(got.values()) < late["late"]  # ... decided on the reply's Server-Timing


def test_desks_accept_the_feature_age_their_world_feeds_them() -> None:
    """A world whose feed publishes every 15 s has desks that trade on 15-second-old features:
    with the default 5 s every prediction there would be stale and AdoptionLow would fire."""
    from harness.scenario import parse_scenario

    slow = parse_scenario("name: slow\nduration: 1m\nfeed_interval: 15s\n", "slow.yaml").world(0)
    assert slow.traffic.populations[0].rule.max_feature_age == 30.0
    fast = parse_scenario("name: fast\nduration: 1m\n", "fast.yaml").world(0)
    assert fast.traffic.populations[0].rule.max_feature_age == 5.0
    own = parse_scenario(
        "name: own\nduration: 1m\nfeed_interval: 15s\ntraffic:\n  populations:\n"
        "    - {name: mm, share: 1, symbols: [AAPL], max_feature_age: 2s}\n",
        "own.yaml",
    ).world(0)
    assert own.traffic.populations[0].rule.max_feature_age == 2.0
