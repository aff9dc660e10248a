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
    ns = "prediction_api"
    metrics = ServiceMetrics(
        registry=registry,
        requests=Counter(
            "http_requests",
            "HTTP requests answered, by route template, method and status code.",
            ["route", "method", "status"],
            namespace=ns,
            registry=registry,
        ),
        latency=Histogram(
            "http_request_duration_seconds",
            "Time from a request reaching the server to its response.",
            ["route"],
            namespace=ns,
            buckets=LATENCY_BUCKETS,
            registry=registry,
        ),
        predictions=Counter(
            "predictions",
            "Predictions served, by client population and predicted direction.",
            ["client", "direction"],
            namespace=ns,
            registry=registry,
        ),
        chaos_faults=Gauge(
            "chaos_faults_active",
            "Chaos faults switched on in this process (1 while active).",
            ["fault"],
            namespace=ns,
            registry=registry,
        ),
        model_info=Gauge(
            "model_info",
            "The model being served (always 1).",
            ["version"],
            namespace=ns,
            registry=registry,
        ),
        **_more(registry),  # type: ignore[arg-type]
    )
    metrics.model_info.labels(model_version).set(1)
    return metrics


def _more(registry: CollectorRegistry) -> dict[str, Counter | Gauge]:
    ns = "prediction_api"
    return {
        "breaker_state": Gauge(
            "circuit_breaker_state",
            "1 for the state a circuit breaker is in, 0 for the others.",
            ["dependency", "state"],
            namespace=ns,
            registry=registry,
        ),
        "breaker_transitions": Counter(
            "circuit_breaker_transitions",
            "Circuit breaker state changes, by the state entered.",
            ["dependency", "state"],
            namespace=ns,
            registry=registry,
        ),
        "dependency_requests": Counter(
            "dependency_requests",
            "Calls to a dependency: ok, error, or rejected by its open breaker.",
            ["dependency", "outcome"],
            namespace=ns,
            registry=registry,
        ),
        "fallbacks": Counter(
            "fallback_predictions",
            "Predictions served from cached features while the feature store was out.",
            namespace=ns,
            registry=registry,
        ),
        "feature_updates": Counter(
            "feature_updates",
            "Feature rows published by the pipeline, by symbol.",
            ["symbol"],
            namespace=ns,
            registry=registry,
        ),
    }


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
