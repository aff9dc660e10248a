"""The simulated world: a run is a pure function of its scenario and seed."""

from __future__ import annotations

import asyncio

from service import Settings, SimulatedClock, create_app
from sim import FaultKind, FaultSpec, SimResult, TrafficSpec, WorldSpec, simulate
from sim.transport import AsgiTransport

SPIKE = FaultSpec("spike", FaultKind.LATENCY_SPIKE, start=60, duration=60, magnitude=0.04)


def run(seed: int, faults: tuple[FaultSpec, ...] = (SPIKE,)) -> SimResult:
    spec = WorldSpec(duration=180, seed=seed, start_unix=1_767_623_400, traffic=TrafficSpec(rate=5), faults=faults)
    app = create_app(Settings(sim_clock=True, admin_token="t", chaos_seed=seed), SimulatedClock())
    return asyncio.run(simulate(spec, AsgiTransport(app), admin_token="t"))


def test_same_seed_same_scrapes_bit_for_bit() -> None:
    a, b = run(1), run(1)
    assert [s.body for s in a.scrapes] == [s.body for s in b.scrapes]
    assert a.responses == b.responses


def test_another_seed_another_run() -> None:
    assert [s.body for s in run(1).scrapes] != [s.body for s in run(2).scrapes]


def test_scrapes_every_interval_from_zero() -> None:
    result = run(1)
    assert [s.time for s in result.scrapes] == [15.0 * k for k in range(12)]
    assert all(s.ok for s in result.scrapes)


def test_traffic_rate_is_poisson_around_the_mean() -> None:
    total = sum(run(3, ()).responses.values())
    assert 800 <= total <= 1000  # 5 req/s for 180 s: mean 900, sd 30


def test_fault_is_recorded_when_it_happened_and_slows_requests_only_meanwhile() -> None:
    result = run(1)
    (fault,) = result.faults
    assert (fault.start, fault.end) == (60, 120)

    def slow_count(body: str | None) -> float:
        assert body is not None
        line = next(
            x
            for x in body.splitlines()
            if x.startswith('prediction_api_http_request_duration_seconds_count{route="/predict"}')
        )
        bucket = next(x for x in body.splitlines() if 'le="0.025",route="/predict"' in x)
        return float(line.split()[-1]) - float(bucket.split()[-1])

    by_time = {s.time: s.body for s in result.scrapes}
    assert slow_count(by_time[60.0]) == 0
    assert slow_count(by_time[120.0]) > 200  # ~5 req/s for 60 s, every one 40 ms slower
    assert slow_count(by_time[165.0]) == slow_count(by_time[120.0])
