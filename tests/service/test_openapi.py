"""The OpenAPI schema is the contract: every status a route answers is in it, and every 422 has one shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from service import Settings, SimulatedClock, WallClock, create_app
from service.model import FEATURES
from tests.asgi_client import AsgiClient

SIM = {"X-Sim-Time": "1767225600.0"}
ADMIN = {**SIM, "Authorization": "Bearer secret"}
JSON = {"Content-Type": "application/json"}
ROW = {"symbol": "AAPL", "timestamp": 1767225600.0, "features": dict.fromkeys(FEATURES, 0.1)}
PREDICT: dict[str, Any] = {"symbol": "AAPL", "features": dict.fromkeys(FEATURES, 0.1)}
HUGE = {**PREDICT["features"], "spread": 1e300}
CHAOS = "/admin/chaos/{name}"

EXPECTED = {
    ("post", "/predict"): {"200", "400", "404", "413", "422", "503"},
    ("post", "/features"): {"200", "400", "413", "422"},
    ("post", "/feedback"): {"200", "400", "413", "422"},
    ("get", "/health"): {"200"},
    ("get", "/ready"): {"200", "503"},
    ("get", "/admin/chaos"): {"200", "400", "401", "404", "413"},
    ("put", CHAOS): {"200", "400", "401", "404", "409", "413", "422"},
    ("delete", CHAOS): {"200", "400", "401", "404", "413", "422"},  # 422 listed, never answered
    ("post", "/admin/model/reload"): {"200", "400", "401", "404", "409", "413", "422"},
}


def _operations(spec: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(m, p): op for p, item in spec["paths"].items() for m, op in item.items()}


def test_openapi_lists_every_status_each_route_answers() -> None:
    spec = create_app(Settings()).openapi()
    assert {k: set(op["responses"]) for k, op in _operations(spec).items()} == EXPECTED


def test_every_error_in_openapi_has_a_schema_and_every_422_the_same_one() -> None:
    spec = create_app(Settings()).openapi()
    errors = [
        (status, json.dumps(response["content"]["application/json"]["schema"], sort_keys=True))
        for op in _operations(spec).values()
        for status, response in op["responses"].items()
        if status != "200"
    ]
    assert len([s for status, s in errors if status == "422"]) > 1  # several routes answer 422 ...
    assert len({s for status, s in errors if status == "422"}) == 1  # ... all with one schema
    unprocessable = spec["components"]["schemas"]["ValidationProblem"]
    assert unprocessable["properties"]["detail"]["type"] == "array"
    item = spec["components"]["schemas"][unprocessable["properties"]["detail"]["items"]["$ref"].rsplit("/", 1)[1]]
    assert set(item["required"]) == {"loc", "msg", "type"}


def _requests(tmp_path: Path) -> list[tuple[str, str, str, dict[str, str], bytes | None]]:
    """(operation path, method, url, headers, body): good and bad requests to every route."""
    big = b" " * 9_000_000
    return [
        ("/predict", "POST", "/predict", {**SIM, **JSON}, json.dumps(PREDICT).encode()),
        ("/predict", "POST", "/predict", {**SIM, **JSON}, b'{"symbol": "NOPE"}'),
        ("/predict", "POST", "/predict", {**SIM, **JSON}, b'{"symbol": '),
        ("/predict", "POST", "/predict", {**SIM, **JSON}, b'{"symbol": ' + b"1" * 5000 + b"}"),
        ("/predict", "POST", "/predict", {**SIM, **JSON}, json.dumps({**PREDICT, "symbol": "1e300"}).encode()),
        ("/predict", "POST", "/predict", {**SIM, **JSON}, json.dumps({**PREDICT, "features": HUGE}).encode()),
        ("/predict", "POST", "/predict", {"X-Sim-Time": "1e308", **JSON}, b"{}"),
        ("/predict", "POST", "/predict", {**SIM, **JSON}, big),
        ("/features", "POST", "/features", {**SIM, **JSON}, json.dumps({"updates": [ROW]}).encode()),
        ("/features", "POST", "/features", {**SIM, **JSON}, json.dumps({"source": "nope", "updates": [ROW]}).encode()),
        ("/features", "POST", "/features", {**SIM, **JSON}, b"[]"),
        ("/features", "POST", "/features", {**SIM, **JSON}, big),
        ("/feedback", "POST", "/feedback", {**SIM, **JSON}, b'{"outcomes": [{"prediction_id": "p", "outcome": "up"}]}'),
        ("/feedback", "POST", "/feedback", {**SIM, **JSON}, b'{"outcomes": []}'),
        ("/feedback", "POST", "/feedback", {**JSON}, b"{}"),
        ("/health", "GET", "/health", {}, None),
        ("/ready", "GET", "/ready", {}, None),
        ("/admin/chaos", "GET", "/admin/chaos", ADMIN, None),
        ("/admin/chaos", "GET", "/admin/chaos", SIM, None),
        (CHAOS, "PUT", "/admin/chaos/a", {**ADMIN, **JSON}, b'{"feature_store_down": true}'),
        (CHAOS, "PUT", "/admin/chaos/b", {**ADMIN, **JSON}, b'{"error_rate": 2}'),
        (CHAOS, "PUT", "/admin/chaos/c", {**ADMIN, **JSON}, b'{"delay_seconds": 60}'),
        (CHAOS, "PUT", "/admin/chaos/d", {**ADMIN, **JSON}, b'{"delay_seconds": 60}'),  # over the total delay
        (CHAOS, "DELETE", "/admin/chaos/c", ADMIN, None),  # live, it would delay what follows a minute
        (CHAOS, "PUT", "/admin/chaos/e", {**SIM, **JSON}, b"{"),
        (CHAOS, "PUT", "/admin/chaos/f", {**ADMIN, **JSON}, big),
        ("/ready", "GET", "/ready", {}, None),  # the store is down now
        ("/predict", "POST", "/predict", {**SIM, **JSON}, b'{"symbol": "MSFT"}'),  # no store, no cache: 503
        (CHAOS, "DELETE", "/admin/chaos/a", ADMIN, None),
        (CHAOS, "DELETE", "/admin/chaos/a", ADMIN, None),
        ("/admin/model/reload", "POST", "/admin/model/reload", ADMIN, None),
        ("/admin/model/reload", "POST", "/admin/model/reload", {"Authorization": "Bearer secret"}, None),
    ]


@pytest.mark.parametrize("live", [False, True])
def test_every_answer_is_documented_and_every_422_has_one_shape(live: bool, tmp_path: Path) -> None:
    settings = Settings(sim_clock=not live, admin_token="secret")
    app = create_app(settings, WallClock() if live else SimulatedClock())
    operations = _operations(app.openapi())
    c = AsgiClient(app)
    seen: set[str] = set()
    try:
        for template, method, url, headers, body in _requests(tmp_path):
            r = c.request(method, url, headers=headers, content=body)
            documented = operations[(method.lower(), template)]["responses"]
            assert str(r.status_code) in documented, (method, url, r.status_code, r.text[:200])
            seen.add(str(r.status_code))
            if r.status_code == 422:
                detail = r.json()["detail"]
                assert isinstance(detail, list) and detail, r.text
                for e in detail:
                    assert set(e) == {"loc", "msg", "type"} and isinstance(e["loc"], list), e
                    assert isinstance(e["msg"], str) and isinstance(e["type"], str)
            elif r.status_code >= 400 and template != "/ready":  # /ready answers its checks
                assert isinstance(r.json()["detail"], str), r.text
    finally:
        c.close()
    assert {"200", "404", "409", "413", "422", "503"} <= seen


def test_a_bad_artifact_on_reload_is_a_422_of_the_one_shape(tmp_path: Path) -> None:
    artifact = tmp_path / "model.json"
    artifact.write_text(json.dumps({"version": "v1", "coefficients": dict.fromkeys(FEATURES, 0.0)}))
    settings = Settings(sim_clock=True, admin_token="secret", model_path=str(artifact))
    c = AsgiClient(create_app(settings, SimulatedClock()))
    try:
        artifact.write_text("{}")
        r = c.post("/admin/model/reload", headers=ADMIN)
        assert r.status_code == 422
        [error] = r.json()["detail"]
        assert set(error) == {"loc", "msg", "type"} and "model.json" in error["msg"]
    finally:
        c.close()


def test_cpu_cores_on_a_live_clock_is_a_409_not_a_bad_body() -> None:
    """The body is valid (the schema says so); the live service cannot take that fault."""
    c = AsgiClient(create_app(Settings(admin_token="secret"), WallClock()))
    try:
        r = c.put("/admin/chaos/hog", json={"cpu_cores": 1}, headers=ADMIN)
        assert r.status_code == 409 and "simulated clock" in r.json()["detail"]
    finally:
        c.close()


def test_the_schema_describes_what_the_settings_allow() -> None:
    app = create_app(Settings(sources=("feed-a", "feed-b"), feature_abs_max=50.0), WallClock())
    models = app.openapi()["components"]["schemas"]
    assert models["FeatureBatch"]["properties"]["source"]["enum"] == ["feed-a", "feed-b"]
    [features, _] = models["PredictRequest"]["properties"]["features"]["anyOf"]
    assert features["additionalProperties"] is False and set(features["required"]) == set(FEATURES)
    assert all(v["minimum"] == -50.0 and v["maximum"] == 50.0 for v in features["properties"].values())


def test_a_405_allows_every_method_of_the_path() -> None:
    c = AsgiClient(create_app(Settings(admin_token="secret"), WallClock()))
    try:
        r = c.request("OPTIONS", "/admin/chaos/x", headers=ADMIN)
        assert r.status_code == 405 and r.headers["allow"] == "DELETE, PUT"
    finally:
        c.close()
