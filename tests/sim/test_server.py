"""The server model: queueing under load, CPU time on the simulated clock, the CPU hog."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client.parser import text_string_to_metric_families

from service import Settings, SimulatedClock, create_app
from sim import FaultKind, FaultSpec, ServerSpec, SimResult, TrafficSpec, WorldSpec, simulate
from sim.transport import AsgiTransport


def run(rate: float, server: ServerSpec, faults: tuple[FaultSpec, ...] = (), duration: float = 120) -> SimResult:
    spec = WorldSpec(
        duration=duration,
        seed=4,
        start_unix=1_767_623_400,
        traffic=TrafficSpec(rate=rate),
        server=server,
        faults=faults,
    )
    settings = Settings(sim_clock=True, admin_token="t", cpu_cores=server.workers)

    def start() -> AsgiTransport:
        return AsgiTransport(create_app(settings, SimulatedClock()))

    return asyncio.run(simulate(spec, start(), admin_token="t", restart=start))


def value(result: SimResult, name: str, at: float, **labels: str) -> float:
    body = next(s.body for s in result.scrapes if s.time == at)
    assert body is not None
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    raise AssertionError(f"{name} {labels} not scraped at {at}")


def mean_latency(result: SimResult, at: float) -> float:
    total = value(result, "prediction_api_http_request_duration_seconds_sum", at, route="/predict")
    return total / value(result, "prediction_api_http_request_duration_seconds_count", at, route="/predict")


def test_cpu_time_is_the_requests_work_on_the_simulated_clock() -> None:
    result = run(20, ServerSpec(workers=2, service_time_median=0.004, service_time_sigma=0.0))
    done = value(result, "prediction_api_http_requests_total", 105, route="/predict", status="200")
    assert value(result, "prediction_api_cpu_seconds_total", 105) == pytest.approx(done * 0.004, rel=1e-9)
    assert value(result, "prediction_api_cpu_cores", 105) == 2


def test_latency_grows_with_load_through_queueing() -> None:
    server = ServerSpec(workers=1, service_time_median=0.008, service_time_sigma=0.0)
    light, heavy = run(10, server), run(110, server)
    assert mean_latency(light, 105) < 0.010  # almost never waits
    assert mean_latency(heavy, 105) > 0.030  # 88% utilisation: waits several service times


def test_cpu_hog_burns_cores_and_slows_requests_a_little() -> None:
    server = ServerSpec(workers=2, service_time_median=0.002, service_time_sigma=0.0)
    hog = (FaultSpec("hog", FaultKind.CPU_HOG, start=30, duration=60, magnitude=1.5),)
    result = run(10, server, hog)
    burnt = value(result, "prediction_api_cpu_seconds_total", 90) - value(
        result, "prediction_api_cpu_seconds_total", 30
    )
    assert 1.5 * 60 < burnt < 1.5 * 60 + 2  # the hog's 90 core-seconds plus ~1.2 s of requests
    assert mean_latency(result, 90) > mean_latency(result, 30)
