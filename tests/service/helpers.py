"""What the data- and model-monitor tests share: a service on a simulated clock with a test
artifact, simulated time, feature rows, and reading /metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from service import Settings, SimulatedClock, create_app
from service.model import FEATURES
from tests.asgi_client import AsgiClient
from tests.service import artifacts

T0 = 1_767_623_400.0  # 2026-01-05T14:30:00Z


def at(t: float) -> dict[str, str]:
    """Headers of a request ``t`` simulated seconds after T0."""
    return {"X-Sim-Time": repr(T0 + t)}


def row(t: float, symbol: str = "AAPL", value: float | None = 0.1, **changes: Any) -> dict[str, Any]:
    """A valid row of data time T0 + t, every feature ``value``, then ``changes`` applied to features."""
    features: dict[str, Any] = dict.fromkeys(FEATURES, value)
    features.update(changes)
    return {"symbol": symbol, "timestamp": T0 + t, "features": features}


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(c: AsgiClient, t: float) -> Samples:
    text = c.get("/metrics", headers=at(t)).text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    """A sample's value, None when the series is absent."""
    return samples.get((name, frozenset(labels.items())))


class Services:
    """Makes services (closed at the end of the test), by default serving the test artifact."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.made: list[AsgiClient] = []

    def __call__(self, artifact: dict[str, Any] | None = None, **settings: Any) -> AsgiClient:
        if "model_path" not in settings:
            doc = artifacts.artifact() if artifact is None else artifact
            path = self.tmp_path / f"model-{len(self.made)}.json"
            settings["model_path"] = str(artifacts.write(path, doc))
        self.made.append(AsgiClient(create_app(Settings(sim_clock=True, **settings), SimulatedClock())))
        return self.made[-1]

    def close(self) -> None:
        for c in self.made:
            c.close()
