"""The service's Prometheus instrumentation, on a registry that belongs to one app.

Names follow Prometheus conventions (base units, ``_total`` counters); the latency buckets
bracket the seed's 5 ms target, 10 ms SLO and 25 ms alert threshold so P95 is resolved
where the alerts look.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from service.model import FEATURES
from service.outcomes import BINS

CONFIDENCE_BUCKETS = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0)
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.03, 0.05, 0.1, 0.25, 0.5, 1.0)


_M = TypeVar("_M", Counter, Gauge, Histogram)


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
    feature_rows: Counter
    schema_violations: Counter
    feature_values: Counter
    feature_nulls: Counter
    feature_last_update: Gauge
    model_trained: OptionalGauge
    scale_out: Gauge
    confidence: Histogram
    feedback: Counter
    feedback_expired: Counter
    outcomes: Counter
    calibration_predictions: Counter
    calibration_confidence: Counter
    calibration_correct: Counter
    _children: dict[tuple[int, tuple[str, ...]], Any] = field(default_factory=dict, repr=False, compare=False)

    def child(self, metric: _M, *values: str) -> _M:
        """``metric.labels(*values)``, remembered: prometheus_client validates and locks on every
        ``labels()`` call, which on the hot routes cost more than the counting itself."""
        key = (id(metric), values)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*values)
        return found


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
        model_info=gauge(
            "model_info", "1 for the model version being served, 0 for versions served before it.", "version"
        ),
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
        feature_updates=counter("feature_updates", "Feature rows accepted from the pipeline, by symbol.", "symbol"),
        feature_rows=counter("feature_rows", "Feature rows received: accepted or rejected by the schema.", "outcome"),
        schema_violations=counter(
            "schema_violations", "Rows rejected by schema validation, by reason and field.", "reason", "field"
        ),
        feature_values=counter("feature_values", "Feature values in accepted rows, nulls included.", "feature"),
        feature_nulls=counter("feature_nulls", "Null feature values in accepted rows (imputed).", "feature"),
        feature_last_update=gauge(
            "feature_last_update_timestamp_seconds", "Data time of the newest accepted row, by symbol.", "symbol"
        ),
        model_trained=OptionalGauge(
            "prediction_api_model_trained_timestamp_seconds", "When the served model was trained (Unix seconds)."
        ),
        scale_out=gauge(
            "scale_out_requests_per_second", "The autoscaler's target: above this request rate a replica is added."
        ),
        confidence=Histogram(
            "prediction_confidence",
            "Confidence of each prediction: the probability of the predicted direction.",
            namespace="prediction_api",
            buckets=CONFIDENCE_BUCKETS,
            registry=registry,
        ),
        feedback=counter("feedback", "Outcomes reported by the desk: matched to a prediction or not.", "result"),
        feedback_expired=counter("feedback_expired", "Predictions whose outcome never came (dropped after the TTL)."),
        outcomes=counter("prediction_outcomes", "Predictions whose outcome is known: correct or incorrect.", "result"),
        calibration_predictions=counter(
            "calibration_predictions", "Predictions with a known outcome, by confidence bin.", "bin"
        ),
        calibration_confidence=counter(
            "calibration_confidence", "Summed confidence of predictions with a known outcome, by bin.", "bin"
        ),
        calibration_correct=counter("calibration_correct", "Correct predictions, by confidence bin.", "bin"),
    )
    registry.register(metrics.model_trained)
    metrics.model_info.labels(model_version).set(1)
    for outcome in ("accepted", "rejected"):
        metrics.feature_rows.labels(outcome)
    for feature in FEATURES:
        metrics.feature_values.labels(feature)
        metrics.feature_nulls.labels(feature)
    for result in ("matched", "unmatched"):
        metrics.feedback.labels(result)
    for result in ("correct", "incorrect"):
        metrics.outcomes.labels(result)
    for b in BINS:
        for family in (metrics.calibration_predictions, metrics.calibration_confidence, metrics.calibration_correct):
            family.labels(b)
    return metrics


class OptionalGauge:
    """An unlabelled gauge that is absent while it has no value.

    A ``Gauge`` would export 0 from the start: for the model's training time that reads as a
    model trained in 1970, i.e. maximally stale, when the truth is "unknown" (an artifact
    without ``trained_at``). Absent, an alert on its age stays silent instead of lying.
    """

    def __init__(self, name: str, documentation: str) -> None:
        self.name = name
        self.documentation = documentation
        self.value: float | None = None

    def set(self, value: float | None) -> None:
        self.value = value

    def collect(self) -> Iterable[Metric]:
        if self.value is not None:
            yield GaugeMetricFamily(self.name, self.documentation, value=self.value)


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
