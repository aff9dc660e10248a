"""Data faults as the feed applies them to the rows it publishes."""

from __future__ import annotations

import random

import simpy

from service.model import FEATURES
from sim.desk import Desk
from sim.feed import OUT_OF_RANGE, FeedFaults
from sim.specs import FaultKind, FaultSpec


def _row(t: float, value: float = 1.0) -> dict[str, object]:
    return {"symbol": "AAPL", "timestamp": t, "features": dict.fromkeys(FEATURES, value)}


def _fault(kind: FaultKind, **kw: object) -> FaultSpec:
    return FaultSpec("f", kind, 0.0, 60.0, **kw)  # type: ignore[arg-type]


def test_a_stale_feed_resends_the_first_row_of_its_symbols_only() -> None:
    faults = FeedFaults()
    faults.start(_fault(FaultKind.STALE_FEED, symbols=("AAPL",)))
    rng = random.Random(0)
    assert faults.row("AAPL", _row(1.0), rng)["timestamp"] == 1.0
    assert faults.row("AAPL", _row(2.0, 5.0), rng) == _row(1.0)
    assert faults.row("MSFT", {**_row(2.0), "symbol": "MSFT"}, rng)["timestamp"] == 2.0
    faults.stop(_fault(FaultKind.STALE_FEED))
    assert faults.row("AAPL", _row(3.0), rng)["timestamp"] == 3.0


def test_an_outage_is_only_an_outage_while_it_lasts() -> None:
    faults = FeedFaults()
    outage = _fault(FaultKind.FEED_OUTAGE)
    faults.start(outage)
    assert faults.outage
    faults.stop(outage)
    assert not faults.outage


def test_drift_shifts_and_scales_the_chosen_features() -> None:
    faults = FeedFaults()
    faults.start(_fault(FaultKind.FEATURE_DRIFT, features=("spread",), shift=1.0, scale=2.0))
    values = faults.row("AAPL", _row(0.0, 0.5), random.Random(0))["features"]
    assert isinstance(values, dict)
    assert values["spread"] == 2.0 and values["volatility"] == 0.5


def test_nulls_arrive_at_their_rate_on_their_features() -> None:
    faults = FeedFaults()
    faults.start(_fault(FaultKind.NULL_FEATURES, magnitude=0.2, features=("spread", "volume_ratio")))
    rng = random.Random(1)
    rows = [faults.row("AAPL", _row(float(t)), rng)["features"] for t in range(5000)]
    nulls = sum(1 for r in rows for k, v in r.items() if v is None)  # type: ignore[attr-defined]
    assert 0.18 < nulls / (2 * 5000) < 0.22
    assert all(r["volatility"] is not None for r in rows)  # type: ignore[index]


def test_each_schema_break_mode_breaks_the_field_its_way() -> None:
    rng = random.Random(2)
    for mode, check in (
        ("wrong_type", lambda v: v.get("spread") == "1.0"),
        ("missing_field", lambda v: "spread" not in v),
        ("out_of_range", lambda v: v.get("spread") == OUT_OF_RANGE),
    ):
        faults = FeedFaults()
        faults.start(_fault(FaultKind.SCHEMA_BREAK, magnitude=1.0, features=("spread",), mode=mode))
        assert check(faults.row("AAPL", _row(0.0), rng)["features"]), mode


def test_the_desk_reports_outcomes_once_their_horizon_has_passed() -> None:
    env = simpy.Environment()
    desk = Desk(env, horizon=5.0)
    desk.record("a", True)
    env.run(until=3.0)
    desk.record("b", False)
    assert desk.due() == []
    env.run(until=5.0)
    assert desk.due() == [{"prediction_id": "a", "outcome": "up"}]
    env.run(until=8.0)
    assert desk.due() == [{"prediction_id": "b", "outcome": "down"}]


def test_overlapping_nulls_and_drift_compose_whichever_started_first() -> None:
    faults = FeedFaults()
    faults.start(FaultSpec("gaps", FaultKind.NULL_FEATURES, 0.0, 60.0, magnitude=1.0, features=("spread",)))
    faults.start(FaultSpec("shift", FaultKind.FEATURE_DRIFT, 0.0, 60.0, features=("spread", "volatility"), shift=1.0))
    values = faults.row("AAPL", _row(0.0, 0.5), random.Random(0))["features"]
    assert isinstance(values, dict)
    assert values["spread"] is None and values["volatility"] == 1.5
