"""The service's CPU time, as a counter Prometheus can take a rate of.

Live, it is the process' own CPU time. On a simulated clock it is what the simulator's
model says the process did: each request's CPU work, plus whatever a runaway thread (the
CPU-hog chaos fault) burns per simulated second, so ``rate()`` over it is utilisation in
cores, on the simulated clock.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from service.clock import Clock


class CpuAccount:
    def __init__(self, clock: Clock, cores: float) -> None:
        self.clock = clock
        self.cores = cores
        self.request_seconds = 0.0
        self.hog_cores = 0.0
        self._hog_since = 0.0
        self._hog_seconds = 0.0

    def add_request(self, seconds: float) -> None:
        self.request_seconds += seconds

    def set_hog(self, cores: float, now: float) -> None:
        """From ``now`` on, a runaway thread burns ``cores`` cores (0 stops it)."""
        self._hog_seconds += self.hog_cores * max(0.0, now - self._hog_since)
        self.hog_cores, self._hog_since = cores, now

    def seconds(self) -> float:
        if not self.clock.simulated:
            return time.process_time()
        running = self.hog_cores * max(0.0, self.clock.now() - self._hog_since)
        return self.request_seconds + self._hog_seconds + running

    def collect(self) -> Iterable[Metric]:
        yield CounterMetricFamily(
            "prediction_api_cpu_seconds", "CPU time used by the service process.", value=self.seconds()
        )
        yield GaugeMetricFamily("prediction_api_cpu_cores", "Cores available to the service.", value=self.cores)
