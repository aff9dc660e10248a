"""Data-layer monitors read at scrape time, on the service's clock: upstream health and drift.

Both depend on how much time has passed since data arrived, so they are computed when
Prometheus asks, at the clock's now, rather than when data last came (which during an
outage would be never).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from service.clock import Clock
from service.drift import DriftWindow
from service.settings import Settings


@dataclass(eq=False)  # registered as a collector: hashed by identity
class DataMonitors:
    clock: Clock
    settings: Settings
    drift: DriftWindow
    reference: tuple[tuple[float, ...], ...] | None = None  # the served model's, set when it is served
    last_batch: dict[str, float] = field(default_factory=dict)  # source -> clock time of its last good batch

    def batch_arrived(self, source: str, now: float) -> None:
        self.last_batch[source] = now

    def collect(self) -> Iterable[Metric]:
        now = self.clock.now()
        up = GaugeMetricFamily(
            "prediction_api_upstream_up",
            f"1 if a data source sent a good batch within the last {self.settings.upstream_timeout:g}s.",
            labels=["source"],
        )
        last = GaugeMetricFamily(
            "prediction_api_upstream_last_batch_timestamp_seconds",
            "When a data source last sent a batch with at least one accepted row.",
            labels=["source"],
        )
        for source, at in sorted(self.last_batch.items()):
            up.add_metric([source], 1.0 if now - at <= self.settings.upstream_timeout else 0.0)
            last.add_metric([source], at)
        yield up
        yield last
        score = GaugeMetricFamily(
            "prediction_api_feature_drift_score",
            f"1 - Kolmogorov-Smirnov distance of the last {self.settings.drift_window:g}s of a feature "
            "to its training distribution (1: no drift).",
            labels=["feature"],
        )
        count = GaugeMetricFamily(
            "prediction_api_feature_drift_window_values", "Values the drift score is computed on.", labels=["feature"]
        )
        for feature, (value, n) in self.drift.scores(now, self.reference, self.settings.drift_min_values).items():
            score.add_metric([feature], value)
            count.add_metric([feature], float(n))
        yield score
        yield count
