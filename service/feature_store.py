"""The feature store and the service's client for it.

The store holds the latest factor values per symbol, written by the feature pipeline
(``POST /features``). The prediction path reads it through ``FeatureStoreClient``, a
network dependency in production; its chaos hooks (an outage, a slowdown) sit at that
boundary, and a circuit breaker guards it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from service.clock import RequestClock
from service.errors import ServiceError


class FeatureStoreUnavailable(ServiceError):
    """The store did not answer (outage or timeout)."""


@dataclass(frozen=True)
class FeatureRow:
    timestamp: float  # Unix seconds of the market data the features were computed from
    features: dict[str, float | None]  # a null is imputed at prediction time


@dataclass
class FeatureStore:
    rows: dict[str, FeatureRow] = field(default_factory=dict)

    def put(self, symbol: str, row: FeatureRow) -> None:
        current = self.rows.get(symbol)
        if current is None or row.timestamp >= current.timestamp:  # late data never overwrites newer
            self.rows[symbol] = row

    def get(self, symbol: str) -> FeatureRow | None:
        return self.rows.get(symbol)


@dataclass
class FeatureStoreClient:
    store: FeatureStore
    latency: float = 0.0005  # a round trip to the store
    timeout: float = 0.05
    down: bool = False  # chaos: the store does not answer
    extra_delay: float = 0.0  # chaos: the store is slow

    async def get(self, symbol: str, clock: RequestClock) -> FeatureRow | None:
        if self.down:
            await clock.sleep(self.timeout)
            raise FeatureStoreUnavailable(f"feature store timed out after {self.timeout * 1000:g} ms")
        delay = self.latency + self.extra_delay
        if delay > self.timeout:
            await clock.sleep(self.timeout)
            raise FeatureStoreUnavailable(f"feature store timed out after {self.timeout * 1000:g} ms")
        await clock.sleep(delay)
        return self.store.get(symbol)
