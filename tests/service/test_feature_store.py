"""Predictions from the feature store, the breaker around it, its fallback, and readiness."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from service import Settings, SimulatedClock, create_app
from service.model import FEATURES
from tests.asgi_client import AsgiClient

ADMIN = {"Authorization": "Bearer t"}


def at(t: float) -> dict[str, str]:
    return {"X-Sim-Time": repr(1000.0 + t)}


@pytest.fixture
def c() -> Iterator[AsgiClient]:
    client = AsgiClient(create_app(Settings(sim_clock=True, admin_token="t"), SimulatedClock()))
    yield client
    client.close()


def publish(c: AsgiClient, t: float, symbol: str = "AAPL") -> None:
    body = {"updates": [{"symbol": symbol, "timestamp": 1000.0 + t, "features": dict.fromkeys(FEATURES, 0.5)}]}
    assert c.post("/features", json=body, headers=at(t)).json() == {"accepted": 1, "rejected": []}


def sample(c: AsgiClient, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(c.get("/metrics", headers=at(0)).text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return 0.0


def test_prediction_uses_the_latest_published_features(c: AsgiClient) -> None:
    publish(c, 0)
    r = c.post("/predict", json={"symbol": "AAPL"}, headers=at(2.5)).json()
    assert r["degraded"] is False and r["features_age_seconds"] == pytest.approx(2.5005)  # + store round trip


def test_unknown_symbol_is_a_404_with_a_reason(c: AsgiClient) -> None:
    r = c.post("/predict", json={"symbol": "TSLA"}, headers=at(0))
    assert r.status_code == 404 and "has not published it" in r.text


def test_an_invalid_row_is_rejected_with_its_reason_and_not_stored(c: AsgiClient) -> None:
    r = c.post("/features", json={"updates": [{"symbol": "AAPL", "timestamp": -1, "features": {}}]}, headers=at(0))
    assert r.status_code == 200  # one bad row never fails a batch: a structurally bad batch is the 422
    (rejected,) = r.json()["rejected"]
    assert r.json()["accepted"] == 0
    assert (rejected["index"], rejected["symbol"], rejected["field"], rejected["reason"]) == (
        0,
        "AAPL",
        "timestamp",
        "out_of_range",
    )
    assert "negative" in rejected["detail"]
    assert c.post("/predict", json={"symbol": "AAPL"}, headers=at(0)).status_code == 404


def test_outage_opens_the_breaker_serves_cached_features_then_fails(c: AsgiClient) -> None:
    publish(c, 0)
    c.post("/predict", json={"symbol": "AAPL"}, headers=at(1))  # caches the row
    assert c.put("/admin/chaos/out", json={"feature_store_down": True}, headers={**at(1), **ADMIN}).status_code == 200
    answers = [c.post("/predict", json={"symbol": "AAPL"}, headers=at(2 + i)) for i in range(6)]
    assert all(a.status_code == 200 and a.json()["degraded"] for a in answers)
    assert sample(c, "prediction_api_circuit_breaker_state", state="open") == 1
    assert sample(c, "prediction_api_dependency_requests_total", outcome="error") == 5
    assert sample(c, "prediction_api_dependency_requests_total", outcome="rejected") == 1
    assert c.get("/ready").status_code == 503
    late = c.post("/predict", json={"symbol": "AAPL"}, headers=at(61))
    assert late.status_code == 503 and "younger than 60s" in late.text
    c.delete("/admin/chaos/out", headers={**at(62), **ADMIN})
    publish(c, 62)
    # The failed probe at 61 s opened the breaker for another 30 s: still rejected at 63 s.
    assert c.post("/predict", json={"symbol": "AAPL"}, headers=at(63)).status_code == 503
    back = c.post("/predict", json={"symbol": "AAPL"}, headers=at(92))  # the next probe succeeds
    assert back.status_code == 200 and not back.json()["degraded"]
    assert sample(c, "prediction_api_circuit_breaker_state", state="closed") == 1
    assert c.get("/ready").json() == {"ready": True, "checks": {"model_loaded": True, "feature_store_reachable": True}}
