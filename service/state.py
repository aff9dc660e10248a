"""Everything one service instance owns, built once by ``create_app`` and reached by the
routes through ``request.app.state.service``: no module-level state, so many instances
can share a process."""

from __future__ import annotations

import itertools
import logging
import os
import uuid
from dataclasses import dataclass, field
from typing import TextIO

from fastapi import Request
from prometheus_client import CollectorRegistry

from service.breaker import BreakerState, CircuitBreaker
from service.chaos import Chaos, ChaosSpec
from service.clock import Clock, RequestClock
from service.cpu import CpuAccount
from service.drift import DriftWindow
from service.exposition import Exposition
from service.feature_store import FeatureRow, FeatureStore, FeatureStoreClient
from service.logs import request_logger
from service.metrics import ServiceMetrics, WithoutCreatedSeries, create_metrics
from service.model import LogisticModel
from service.monitors import DataMonitors
from service.outcomes import PendingPredictions
from service.settings import Settings

FEATURE_STORE = "feature_store"


@dataclass
class ServiceState:
    settings: Settings
    clock: Clock
    model: LogisticModel
    metrics: ServiceMetrics
    exposition: Exposition
    cpu: CpuAccount
    chaos: Chaos
    store: FeatureStore
    store_client: FeatureStoreClient
    breaker: CircuitBreaker
    monitors: DataMonitors
    pending: PendingPredictions
    _predictions: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    access_log: logging.Logger | None = None
    cache: dict[str, FeatureRow] = field(default_factory=dict)  # last rows read, the breaker's fallback
    symbols: frozenset[str] = frozenset()  # settings.symbols, for lookups per row
    sources: frozenset[str] = frozenset()  # settings.sources

    def apply_chaos(self, now: float) -> None:
        """Push the active chaos faults to the boundaries they act on."""
        faults = self.chaos.faults.values()
        self.cpu.set_hog(self.chaos.cpu_cores, now)
        self.store_client.down = any(f.feature_store_down for f in faults)
        self.store_client.extra_delay = sum(f.feature_store_delay for f in faults)

    def next_prediction_id(self) -> str:
        """Made here, not taken from the client's X-Request-ID: a reused id must never credit an
        outcome to another prediction. Counted on a simulated clock (reproducible), random live."""
        return f"p{next(self._predictions):012x}" if self.clock.simulated else f"p{uuid.uuid4().hex}"

    def serve_model(self, model: LogisticModel) -> None:
        """Switch to ``model`` (start and reload): drift is measured against its reference, and the
        model metrics say which version is served (the previous one drops to 0) and when it was
        trained (absent when the artifact does not say)."""
        self.metrics.model_info.labels(self.model.version).set(0)
        self.model = model
        self.monitors.reference = model.reference
        self.metrics.model_info.labels(model.version).set(1)
        self.metrics.model_trained.set(model.trained_at)


def build_state(
    settings: Settings, clock: Clock, model: LogisticModel, log_stream: TextIO | None = None
) -> ServiceState:
    metrics = create_metrics(CollectorRegistry(auto_describe=True), model.version)
    cpu = CpuAccount(clock, settings.cpu_cores or float(os.cpu_count() or 1))
    metrics.registry.register(cpu)

    def breaker_moved(before: BreakerState, after: BreakerState) -> None:
        metrics.breaker_state.labels(FEATURE_STORE, before.value).set(0)
        metrics.breaker_state.labels(FEATURE_STORE, after.value).set(1)
        metrics.breaker_transitions.labels(FEATURE_STORE, after.value).inc()

    for breaker_state in BreakerState:
        closed = breaker_state is BreakerState.CLOSED
        metrics.breaker_state.labels(FEATURE_STORE, breaker_state.value).set(1 if closed else 0)
    store = FeatureStore()
    monitors = DataMonitors(clock, settings, DriftWindow(settings.drift_window))
    metrics.registry.register(monitors)
    state = ServiceState(
        settings=settings,
        clock=clock,
        model=model,
        metrics=metrics,
        exposition=Exposition(WithoutCreatedSeries(metrics.registry)),
        cpu=cpu,
        chaos=Chaos.seeded(settings.chaos_seed, settings.chaos_max_faults, settings.chaos_max_delay_seconds),
        store=store,
        store_client=FeatureStoreClient(store),
        breaker=CircuitBreaker(settings.breaker_failure_threshold, settings.breaker_reset_timeout, breaker_moved),
        monitors=monitors,
        pending=PendingPredictions(settings.feedback_ttl, settings.feedback_max_pending),
        access_log=request_logger(log_stream) if settings.access_log else None,
        symbols=frozenset(settings.symbols),
        sources=frozenset(settings.sources),
    )
    state.serve_model(model)
    metrics.scale_out.set(settings.scale_out_rps)
    if settings.chaos_delay_seconds or settings.chaos_error_rate:
        spec = ChaosSpec(delay_seconds=settings.chaos_delay_seconds, error_rate=settings.chaos_error_rate)
        state.chaos.set("settings", spec)
        metrics.chaos_faults.labels("settings").set(1)
    return state


def service(request: Request) -> ServiceState:
    """The app's state: where ``MeasuredRequests`` put it in the request's scope (no attribute
    lookups through the app and its ``State``), else from the app (probes skip the middleware)."""
    found = request.scope.get("state", {}).get("service")
    return found if found is not None else request.app.state.service  # type: ignore[no-any-return]


def request_clock(request: Request) -> RequestClock:
    return request.scope["state"]["clock"]  # type: ignore[no-any-return]
