"""/metrics is byte for byte what prometheus_client's generate_latest writes."""

from __future__ import annotations

import math
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, generate_latest
from prometheus_client.metrics_core import GaugeHistogramMetricFamily, Metric, StateSetMetricFamily

from service.exposition import Exposition
from service.metrics import WithoutCreatedSeries


class Odd:
    """Families the service does not have but a collector may: the format's corners."""

    def __init__(self) -> None:
        self.value = 1.0

    def collect(self) -> Iterable[Metric]:
        untyped = Metric("odd_untyped", 'doc with \\ backslash\nand "newline"', "unknown")
        untyped.add_sample("odd_untyped", {"b": "2", "a": 'quote " back \\ nl \n'}, self.value)
        untyped.add_sample("odd_untyped", {"a": "x"}, math.nan)
        untyped.add_sample("odd_untyped", {"a": "ts"}, 3.0, timestamp=1700000000.5)
        yield untyped
        yield StateSetMetricFamily("odd_state", "states", {"up": True, "down": False})
        yield GaugeHistogramMetricFamily("odd_gh", "gauge histogram", buckets=[("1.0", 4), ("+Inf", 5)], gsum_value=7)


def _registry() -> tuple[CollectorRegistry, Counter, Gauge, Histogram, Odd]:
    registry = CollectorRegistry()
    counter = Counter("c", "a counter", ["route", "status"], registry=registry)
    gauge = Gauge("g", "a gauge", registry=registry)
    hist = Histogram("h", "a histogram", ["route"], buckets=(0.001, 0.5, 10), registry=registry)
    Info("i", "an info", registry=registry).info({"version": "1"})
    odd = Odd()
    registry.register(odd)
    return registry, counter, gauge, hist, odd


def test_render_is_generate_latest_scrape_after_scrape() -> None:
    registry, counter, gauge, hist, odd = _registry()
    for collector in (registry, WithoutCreatedSeries(registry)):
        exposition = Exposition(collector)
        for step in range(4):  # values move, new series appear, cached prefixes are reused
            counter.labels("/predict", str(200 + step)).inc(step + 0.5)
            gauge.set([0.0, -0.0, 1e-7, math.inf][step])
            hist.labels("/p").observe(step * 0.3)
            odd.value = [1.0, 2.5e21, -3.0, 1e-5][step]
            assert exposition.render() == generate_latest(collector)


def test_the_service_scrape_is_generate_latest() -> None:
    import asyncio
    import json

    from service import Settings, SimulatedClock, create_app
    from service.model import FEATURES
    from sim.transport import AsgiTransport

    t0 = 1_767_225_600.0
    app = create_app(Settings(sim_clock=True), SimulatedClock(t0))
    transport = AsgiTransport(app)
    row = {"symbol": "AAPL", "timestamp": t0, "features": {**dict.fromkeys(FEATURES, 0.1), FEATURES[0]: None}}
    exposition = app.state.service.exposition

    async def send(path: str, body: object, t: float) -> None:
        headers = [(b"x-sim-time", repr(t0 + t).encode()), (b"content-type", b"application/json")]
        await transport.exchange("POST", path, headers, json.dumps(body).encode())

    for t in range(3):
        asyncio.run(send("/features", {"source": "market-feed", "updates": [row, {"symbol": "x"}]}, t))
        asyncio.run(send("/predict", {"symbol": "AAPL"}, t + 0.5))
        asyncio.run(send("/predict", {"symbol": "NOPE"}, t + 0.6))
        assert exposition.render() == generate_latest(exposition.collector)
