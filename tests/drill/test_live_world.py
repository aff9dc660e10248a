"""The world live: the scenario's traffic, feed, desk and faults on the wall clock, over loopback
HTTP, against ``alertdrill serve`` on its own wall clock (as a drill runs it)."""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path

import httpx

from harness.scenario import Scenario
from harness.targets import live_service
from service import WallClock
from sim import simulate
from sim.transport import HttpTransport

REPO = Path(__file__).resolve().parents[2]
TOKEN = "drill-test-token"


def test_a_live_world_keeps_to_the_wall_clock_and_switches_its_faults() -> None:
    with live_service(TOKEN) as service:
        url = service.url
        scenario = Scenario.model_validate(
            {
                "name": "live",
                "duration": "8s",
                "traffic": {"rate": 10},
                "faults": [{"name": "slow", "kind": "latency_spike", "start": "3s", "duration": "3s", "delay": "40ms"}],
            },
            context={"skip_references": False},
        )
        transport = HttpTransport(httpx.AsyncHTTPTransport(retries=2), url)
        started = time.monotonic()
        result = asyncio.run(simulate(scenario.world(0), transport, admin_token=TOKEN, live=WallClock()))
        wall = time.monotonic() - started
        with httpx.Client(timeout=5) as client:
            chaos = client.get(f"{url}/admin/chaos", headers={"Authorization": f"Bearer {TOKEN}"}).json()
            metrics = client.get(f"{url}/metrics").text
    assert 8.0 <= wall <= 12.0  # the world took the scenario's time, on the wall clock
    assert result.scrapes == []  # a drill's Prometheus scrapes; the world does not
    assert 40 <= sum(result.responses.values()) <= 140  # ~10 requests a second for 8 s
    assert statistics.median(result.lag) < 0.05 and max(result.lag) < 1.0, (
        statistics.median(result.lag),
        max(result.lag),
    )
    assert [(f.name, f.start, f.end) for f in result.faults] == [("slow", 3.0, 6.0)]
    assert chaos == {}  # the fault was switched off again when it ended
    # it was on meanwhile: some predictions took the 40 ms it added, on the service's own wall clock
    slow = [
        line for line in metrics.splitlines() if line.startswith("prediction_api_http_request_duration_seconds_bucket")
    ]
    fast = sum(float(x.split()[-1]) for x in slow if 'route="/predict"' in x and 'le="0.025"' in x)
    total = sum(float(x.split()[-1]) for x in slow if 'route="/predict"' in x and 'le="+Inf"' in x)
    assert 0 < fast < total
