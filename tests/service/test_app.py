"""The prediction service: contract, clear 4xx, its own metrics, chaos hooks behind a token."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from harness.engine import find_binary
from service import Settings, SimulatedClock, create_app
from service.model import FEATURES
from tests.asgi_client import AsgiClient
from tests.service import artifacts

FEATURES_OK = dict.fromkeys(FEATURES, 0.1)
SIM = {"X-Sim-Time": "1000.0"}
ADMIN = {**SIM, "Authorization": "Bearer secret"}


@pytest.fixture
def clients() -> Iterator[list[AsgiClient]]:
    made: list[AsgiClient] = []
    yield made
    for c in made:
        c.close()


@pytest.fixture
def client(clients: list[AsgiClient]) -> Callable[..., AsgiClient]:
    def make(**settings: object) -> AsgiClient:
        settings.setdefault("sim_clock", True)
        clock = SimulatedClock() if settings["sim_clock"] else None
        clients.append(AsgiClient(create_app(Settings(**settings), clock)))  # type: ignore[arg-type]
        return clients[-1]

    return make


def metric(c: AsgiClient, name: str, **labels: str) -> float:
    body = c.get("/metrics", headers=SIM).text
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return 0.0


def test_predict_answers_direction_probability_and_confidence(client: Callable[..., AsgiClient]) -> None:
    c = client()
    r = c.post("/predict", json={"symbol": "AAPL", "features": FEATURES_OK}, headers=SIM)
    assert r.status_code == 200
    body = r.json()
    assert body["direction"] in ("up", "down")
    assert 0.5 <= body["confidence"] == max(body["probability"], 1 - body["probability"]) <= 1
    assert metric(c, "prediction_api_predictions_total", direction=body["direction"]) == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"symbol": "AAPL", "features": {}}, "missing features: order_book_imbalance"),
        ({"symbol": "AAPL", "features": {**FEATURES_OK, "colour": 1}}, "unknown features: colour"),
        ({"symbol": "aapl!", "features": FEATURES_OK}, "pattern"),
        ({"features": FEATURES_OK}, "Field required"),
        ({"symbol": "AAPL", "features": {**FEATURES_OK, "spread": "wide"}}, "must be a number"),
    ],
)
def test_bad_input_is_a_422_with_a_reason_and_is_counted(
    body: dict[str, object], reason: str, client: Callable[..., AsgiClient]
) -> None:
    c = client()
    r = c.post("/predict", json=body, headers=SIM)
    assert r.status_code == 422
    assert reason in r.text
    assert metric(c, "prediction_api_http_requests_total", route="/predict", status="422") == 1


def test_non_finite_feature_is_refused(client: Callable[..., AsgiClient]) -> None:
    c = client()
    payload = '{"symbol": "AAPL", "features": {' + ", ".join(f'"{f}": NaN' for f in FEATURES) + "}}"
    r = c.post("/predict", content=payload, headers={**SIM, "Content-Type": "application/json"})
    assert r.status_code == 422


def test_malformed_json_is_a_422(client: Callable[..., AsgiClient]) -> None:
    r = client().post("/predict", content="{not json", headers={**SIM, "Content-Type": "application/json"})
    assert r.status_code == 422


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "x-sim-time is required"),
        ({"X-Sim-Time": "soon"}, "not a number"),
        ({"X-Sim-Time": "-5"}, ">= 0"),
    ],
)
def test_sim_clock_mode_needs_a_valid_time_header(
    headers: dict[str, str], reason: str, client: Callable[..., AsgiClient]
) -> None:
    r = client().get("/metrics", headers=headers)
    assert r.status_code == 400 and reason in r.text


def test_probes_need_no_simulated_time_and_are_not_counted(client: Callable[..., AsgiClient]) -> None:
    c = client()
    assert c.get("/health").status_code == 200
    assert 'route="/health"' not in c.get("/metrics", headers=SIM).text


def test_live_mode_ignores_sim_headers(client: Callable[..., AsgiClient]) -> None:
    c = client(sim_clock=False)
    assert c.get("/health").json() == {"status": "ok", "model_version": "logit-0.1.0"}


def test_latency_is_measured_on_the_simulated_clock(client: Callable[..., AsgiClient]) -> None:
    c = client(admin_token="secret")
    c.put("/admin/chaos/spike", json={"delay_seconds": 0.04}, headers=ADMIN)
    c.post("/predict", json={"symbol": "A", "features": FEATURES_OK}, headers={**SIM, "X-Sim-Service-Time": "0.002"})
    total = metric(c, "prediction_api_http_request_duration_seconds_sum", route="/predict")
    assert total == pytest.approx(0.042)
    assert metric(c, "prediction_api_http_request_duration_seconds_bucket", route="/predict", le="0.025") == 0
    assert metric(c, "prediction_api_http_request_duration_seconds_bucket", route="/predict", le="0.05") == 1


def test_a_reply_says_how_long_it_took_in_server_timing(client: Callable[..., AsgiClient]) -> None:
    """``Server-Timing: app;dur=<ms>`` on the service's clock: the latency a client (a desk that
    acts only on a prediction that came in time) can read, equal to what the histogram observed."""
    c = client(admin_token="secret")
    c.put("/admin/chaos/spike", json={"delay_seconds": 0.04}, headers=ADMIN)
    r = c.post(
        "/predict", json={"symbol": "A", "features": FEATURES_OK}, headers={**SIM, "X-Sim-Service-Time": "0.002"}
    )
    assert r.status_code == 200 and r.headers["server-timing"] == "app;dur=42.000"
    refused = c.post("/predict", json={"symbol": "A"}, headers={**SIM, "X-Sim-Service-Time": "0.003"})
    assert refused.status_code >= 400 and refused.headers["server-timing"].startswith("app;dur=")  # every reply
    live = client(sim_clock=False).get("/health")
    assert "server-timing" not in live.headers  # probes are not timed, nor counted


def test_admin_api_is_disabled_without_a_token_in_settings(client: Callable[..., AsgiClient]) -> None:
    r = client().put("/admin/chaos/x", json={"error_rate": 1}, headers=ADMIN)
    assert r.status_code == 404 and "disabled" in r.text


@pytest.mark.parametrize("auth", [None, "Bearer wrong", "secret"])
def test_admin_api_refuses_a_missing_or_wrong_token(auth: str | None, client: Callable[..., AsgiClient]) -> None:
    headers = {**SIM, **({"Authorization": auth} if auth else {})}
    r = client(admin_token="secret").put("/admin/chaos/x", json={"error_rate": 1}, headers=headers)
    assert r.status_code == 401


def test_error_chaos_fails_the_chosen_fraction_with_503_and_is_counted(client: Callable[..., AsgiClient]) -> None:
    c = client(admin_token="secret", chaos_seed=1)
    assert c.put("/admin/chaos/burst", json={"error_rate": 0.5}, headers=ADMIN).status_code == 200
    statuses = [
        c.post("/predict", json={"symbol": "A", "features": FEATURES_OK}, headers=SIM).status_code for _ in range(200)
    ]
    assert set(statuses) == {200, 503}
    assert 70 <= statuses.count(503) <= 130
    assert metric(c, "prediction_api_http_requests_total", route="/predict", status="503") == statuses.count(503)
    assert c.delete("/admin/chaos/burst", headers=ADMIN).status_code == 200
    assert c.post("/predict", json={"symbol": "A", "features": FEATURES_OK}, headers=SIM).status_code == 200
    assert c.delete("/admin/chaos/burst", headers=ADMIN).status_code == 404


def test_chaos_spec_is_validated(client: Callable[..., AsgiClient]) -> None:
    r = client(admin_token="secret").put("/admin/chaos/x", json={"error_rate": 2}, headers=ADMIN)
    assert r.status_code == 422


def test_chaos_from_settings_is_on_from_the_start(client: Callable[..., AsgiClient]) -> None:
    c = client(chaos_error_rate=1.0)
    assert c.post("/predict", json={"symbol": "A", "features": FEATURES_OK}, headers=SIM).status_code == 503


def test_each_app_has_its_own_registry(client: Callable[..., AsgiClient]) -> None:
    a, b = client(), client()
    a.post("/predict", json={"symbol": "A", "features": FEATURES_OK}, headers=SIM)
    assert metric(a, "prediction_api_predictions_total") == 1
    assert metric(b, "prediction_api_predictions_total") == 0


MONITOR_FAMILIES = {  # family: a sample name that must be in the scrape
    "prediction_api_feature_rows": "prediction_api_feature_rows_total",
    "prediction_api_schema_violations": "prediction_api_schema_violations_total",
    "prediction_api_feature_values": "prediction_api_feature_values_total",
    "prediction_api_feature_nulls": "prediction_api_feature_nulls_total",
    "prediction_api_feature_updates": "prediction_api_feature_updates_total",
    "prediction_api_feature_last_update_timestamp_seconds": "prediction_api_feature_last_update_timestamp_seconds",
    "prediction_api_upstream_up": "prediction_api_upstream_up",
    "prediction_api_upstream_last_batch_timestamp_seconds": "prediction_api_upstream_last_batch_timestamp_seconds",
    "prediction_api_feature_drift_score": "prediction_api_feature_drift_score",
    "prediction_api_feature_drift_window_values": "prediction_api_feature_drift_window_values",
    "prediction_api_model_info": "prediction_api_model_info",
    "prediction_api_model_trained_timestamp_seconds": "prediction_api_model_trained_timestamp_seconds",
    "prediction_api_prediction_confidence": "prediction_api_prediction_confidence_bucket",
    "prediction_api_feedback": "prediction_api_feedback_total",
    "prediction_api_feedback_expired": "prediction_api_feedback_expired_total",
    "prediction_api_prediction_outcomes": "prediction_api_prediction_outcomes_total",
    "prediction_api_calibration_predictions": "prediction_api_calibration_predictions_total",
    "prediction_api_calibration_confidence": "prediction_api_calibration_confidence_total",
    "prediction_api_calibration_correct": "prediction_api_calibration_correct_total",
}


def test_exposition_has_no_created_series_and_passes_promtool_check_metrics(
    client: Callable[..., AsgiClient], tmp_path: Path
) -> None:
    symbols = tuple(f"S{i}" for i in range(200))
    c = client(model_path=str(artifacts.write(tmp_path / "model.json", artifacts.artifact())), symbols=symbols)
    rows = [{"symbol": f"S{i}", "timestamp": 1000.0, "features": {**FEATURES_OK, "spread": None}} for i in range(200)]
    rows.append({"symbol": "BAD", "timestamp": 1000.0, "features": {**FEATURES_OK, "spread": "wide"}})
    assert c.post("/features", json={"source": "market-feed", "updates": rows}, headers=SIM).json()["accepted"] == 200
    prediction = c.post("/predict", json={"symbol": "S1"}, headers=SIM).json()
    outcome = {"prediction_id": prediction["prediction_id"], "outcome": "up"}
    assert c.post("/feedback", json={"outcomes": [outcome]}, headers=SIM).json() == {"matched": 1, "unmatched": 0}
    body = c.get("/metrics", headers=SIM).text
    assert "_created" not in body
    samples = {s.name for family in text_string_to_metric_families(body) for s in family.samples}
    for family, sample in MONITOR_FAMILIES.items():
        assert sample in samples, family
    proc = subprocess.run(
        [str(find_binary("promtool")), "check", "metrics"], input=body, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_each_request_gets_an_id_and_one_ecs_log_line() -> None:
    import io
    import json

    stream = io.StringIO()
    app = create_app(Settings(sim_clock=True, access_log=True), SimulatedClock(), log_stream=stream)
    c = AsgiClient(app)
    try:
        ok = c.post("/predict", json={"symbol": "A", "features": FEATURES_OK}, headers={"X-Sim-Time": "1767623400.5"})
        bad = c.post("/predict", json={"symbol": "A"}, headers={"X-Sim-Time": "1767623401", "X-Request-ID": "mine-1"})
        c.get("/health")
    finally:
        c.close()
    assert ok.headers["x-request-id"] and bad.headers["x-request-id"] == "mine-1"
    lines = [json.loads(x) for x in stream.getvalue().splitlines()]
    assert len(lines) == 2  # probes are not logged
    first, second = lines
    assert first["@timestamp"] == "2026-01-05T14:30:00.500Z"  # the simulated clock, not the wall
    assert first["http"]["response"]["status_code"] == 200 and first["log.level"] == "info"
    assert first["http"]["request"]["id"] == ok.headers["x-request-id"]
    assert first["labels"]["route"] == "/predict" and first["service"]["version"] == "logit-0.1.0"
    assert second["http"]["request"]["id"] == "mine-1" and second["log.level"] == "warning"  # a 404: no features


def test_model_reload_swaps_the_model_without_a_restart(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    artifact = tmp_path / "model.json"
    artifact.write_text(json.dumps({"version": "v1", "coefficients": dict.fromkeys(FEATURES, 0.0)}))
    c = AsgiClient(
        create_app(Settings(sim_clock=True, admin_token="secret", model_path=str(artifact)), SimulatedClock())
    )
    try:
        body = {"symbol": "A", "features": FEATURES_OK}
        assert c.post("/predict", json=body, headers=SIM).json()["model_version"] == "v1"
        artifact.write_text(json.dumps({"version": "v2", "coefficients": dict.fromkeys(FEATURES, 1.0)}))
        assert c.post("/admin/model/reload", headers=ADMIN).json() == {"model_version": "v2"}
        answer = c.post("/predict", json=body, headers=SIM).json()
        assert answer["model_version"] == "v2" and answer["probability"] > 0.5
        artifact.write_text(json.dumps({"version": "v3", "coefficients": {}}))
        bad = c.post("/admin/model/reload", headers=ADMIN)
        assert bad.status_code == 422 and "lacks order_book_imbalance" in bad.text
        assert c.post("/predict", json=body, headers=SIM).json()["model_version"] == "v2"  # kept the good one
    finally:
        c.close()


def test_model_reload_without_an_artifact_is_a_409(client: Callable[..., AsgiClient]) -> None:
    r = client(admin_token="secret").post("/admin/model/reload", headers=ADMIN)
    assert r.status_code == 409 and "model_path" in r.text


def test_periodic_errors_fail_exactly_every_nth_request(client: Callable[..., AsgiClient]) -> None:
    c = client(admin_token="secret")
    assert c.put("/admin/chaos/pool", json={"error_every": 4}, headers=ADMIN).status_code == 200
    statuses = [
        c.post("/predict", json={"symbol": "A", "features": FEATURES_OK}, headers=SIM).status_code for _ in range(12)
    ]
    assert statuses == [200, 200, 200, 503] * 3
