"""Traffic: the intraday profile and client populations."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from service import Settings, SimulatedClock, create_app
from sim import SimResult, TrafficSpec, WorldSpec, simulate
from sim.profile import PEAK, intraday
from sim.specs import Population


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
    return asyncio.run(simulate(spec, httpx.ASGITransport(app=app), admin_token="t"))


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
