"""The service's Prometheus instrumentation, on a registry that belongs to one app.

Names follow Prometheus conventions (base units, ``_total`` counters); the latency buckets
bracket the seed's 5 ms target, 10 ms SLO and 25 ms alert threshold so P95 is resolved
where the alerts look.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics_core import Metric

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.03, 0.05, 0.1, 0.25, 0.5, 1.0)


@dataclass(frozen=True)
class ServiceMetrics:
    registry: CollectorRegistry
    requests: Counter
    latency: Histogram
    predictions: Counter
    chaos_faults: Gauge
    model_info: Gauge
    breaker_state: Gauge
    breaker_transitions: Counter
    dependency_requests: Counter
    fallbacks: Counter
    feature_updates: Counter


def create_metrics(registry: CollectorRegistry, model_version: str) -> ServiceMetrics:
    def counter(name: str, doc: str, *labels: str) -> Counter:
        return Counter(name, doc, labels, namespace="prediction_api", registry=registry)

    def gauge(name: str, doc: str, *labels: str) -> Gauge:
        return Gauge(name, doc, labels, namespace="prediction_api", registry=registry)

    metrics = ServiceMetrics(
        registry=registry,
        requests=counter(
            "http_requests",
            "HTTP requests answered, by route template, method and status code.",
            "route",
            "method",
            "status",
        ),
        latency=Histogram(
            "http_request_duration_seconds",
            "Time from a request reaching the server to its response.",
            ["route"],
            namespace="prediction_api",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        ),
        predictions=counter(
            "predictions", "Predictions served, by client population and predicted direction.", "client", "direction"
        ),
        chaos_faults=gauge(
            "chaos_faults_active", "Chaos faults switched on in this process (1 while active).", "fault"
        ),
        model_info=gauge("model_info", "The model being served (always 1).", "version"),
        breaker_state=gauge(
            "circuit_breaker_state", "1 for the state a circuit breaker is in, 0 for the others.", "dependency", "state"
        ),
        breaker_transitions=counter(
            "circuit_breaker_transitions", "Circuit breaker state changes, by the state entered.", "dependency", "state"
        ),
        dependency_requests=counter(
            "dependency_requests",
            "Calls to a dependency: ok, error, or rejected by its open breaker.",
            "dependency",
            "outcome",
        ),
        fallbacks=counter(
            "fallback_predictions", "Predictions served from cached features while the feature store was out."
        ),
        feature_updates=counter("feature_updates", "Feature rows published by the pipeline, by symbol.", "symbol"),
    )
    metrics.model_info.labels(model_version).set(1)
    return metrics


class WithoutCreatedSeries:
    """The registry as scraped, minus ``*_created`` samples.

    Those carry the wall-clock time a child was created, which would make a simulated run's
    samples differ from run to run; no alert reads them. Filtering here keeps the switch
    per app instead of prometheus_client's process-wide ``disable_created_metrics()``.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterable[Metric]:
        for family in self._registry.collect():
            family.samples = [s for s in family.samples if not s.name.endswith("_created")]
            yield family
