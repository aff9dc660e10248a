"""Traffic: the intraday profile and client populations."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from prometheus_client.parser import text_string_to_metric_families

from service import Settings, SimulatedClock, create_app
from sim import SimResult, TrafficSpec, WorldSpec, simulate
from sim.profile import PEAK, intraday
from sim.specs import Population
from sim.transport import AsgiTransport


def unix(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp()


@pytest.mark.parametrize(
    ("when", "low", "high"),
    [
        ("2026-01-05T14:30:00", 2.9, 3.01),  # Monday, the open
        ("2026-01-05T17:45:00", 0.99, 1.01),  # midday
        ("2026-01-05T20:59:00", 2.3, 2.5),  # just before the close
        ("2026-01-05T22:00:00", 0.05, 0.05),  # after hours
        ("2026-01-10T15:00:00", 0.05, 0.05),  # Saturday
    ],
)
def test_intraday_profile(when: str, low: float, high: float) -> None:
    assert low <= intraday(unix(when)) <= high <= PEAK["intraday"]


def run(start: str, traffic: TrafficSpec, duration: float = 600) -> SimResult:
    spec = WorldSpec(duration=duration, seed=2, start_unix=unix(start), traffic=traffic)
    app = create_app(Settings(sim_clock=True, admin_token="t"), SimulatedClock())
    return asyncio.run(simulate(spec, AsgiTransport(app), admin_token="t"))


def test_the_open_is_busier_than_midday() -> None:
    traffic = TrafficSpec(rate=2, profile="intraday")
    at_open = sum(run("2026-01-05T14:30:00", traffic).responses.values())
    midday = sum(run("2026-01-05T17:30:00", traffic).responses.values())
    assert 1.8 < at_open / midday < 2.8  # the profile averages ~2.3 over the first ten minutes


def test_populations_share_the_requests_and_label_the_predictions() -> None:
    traffic = TrafficSpec(
        rate=10, populations=(Population("market_making", 3, ("AAPL", "MSFT")), Population("stat_arb", 1, ("NVDA",)))
    )
    result = run("2026-01-05T15:00:00", traffic)
    body = result.scrapes[-1].body
    assert body is not None
    counts = {
        s.labels["client"]: 0.0
        for f in text_string_to_metric_families(body)
        for s in f.samples
        if s.name == "prediction_api_predictions_total"
    }
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            if s.name == "prediction_api_predictions_total":
                counts[s.labels["client"]] += s.value
    assert set(counts) == {"market_making", "stat_arb"}
    assert 2.5 < counts["market_making"] / counts["stat_arb"] < 3.5


def test_a_traffic_ramp_grows_linearly_and_ends_at_the_usual_rate() -> None:
    from sim.specs import FaultKind, FaultSpec

    ramp = FaultSpec("growth", FaultKind.TRAFFIC_RAMP, start=600, duration=1200, magnitude=5.0)
    spec = WorldSpec(
        duration=2400, seed=3, start_unix=unix("2026-01-05T15:00:00"), traffic=TrafficSpec(rate=5), faults=(ramp,)
    )
    app = create_app(Settings(sim_clock=True, admin_token="t"), SimulatedClock())
    result = asyncio.run(simulate(spec, AsgiTransport(app), admin_token="t"))

    def requests_at(t: float) -> float:
        scrape = next(s for s in result.scrapes if s.time >= t)
        assert scrape.body is not None
        return sum(
            s.value
            for f in text_string_to_metric_families(scrape.body)
            for s in f.samples
            if s.name == "prediction_api_http_requests_total" and s.labels["route"] == "/predict"
        )

    before = (requests_at(600) - requests_at(300)) / 300
    mid = (requests_at(1350) - requests_at(1050)) / 300  # the ramp's middle: about x3
    end = (requests_at(1800) - requests_at(1500)) / 300  # near its top: about x4.5
    after = (requests_at(2385) - requests_at(2085)) / 300
    assert 4 < before < 6 and 4 < after < 6
    assert 2.6 < mid / before < 3.4 and 3.9 < end / before < 5.0
