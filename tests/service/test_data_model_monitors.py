"""The data and model layers' monitors, through the service's HTTP API and its /metrics."""

from __future__ import annotations

import json
import random
import statistics
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from service import Settings, SimulatedClock, create_app
from service.drift import ks_distance
from service.model import FEATURES, ModelFileError, load_model
from service.outcomes import confidence_bin
from tests.asgi_client import AsgiClient

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "config" / "model.json"


def at(t: float) -> dict[str, str]:
    return {"X-Sim-Time": repr(1000.0 + t)}


@pytest.fixture
def c() -> Iterator[AsgiClient]:
    client = AsgiClient(create_app(Settings(sim_clock=True, model_path=str(MODEL)), SimulatedClock()))
    yield client
    client.close()


def row(t: float, symbol: str = "AAPL", value: float | None = 0.1, **changes: object) -> dict[str, object]:
    features: dict[str, object] = dict.fromkeys(FEATURES, value)
    features.update(changes)
    return {"symbol": symbol, "timestamp": 1000.0 + t, "features": features}


def metrics(c: AsgiClient, t: float) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = c.get("/metrics", headers=at(t)).text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(c: AsgiClient, t: float, name: str, **labels: str) -> float | None:
    return metrics(c, t).get((name, tuple(sorted(labels.items()))))


def test_a_bad_row_is_rejected_with_its_reason_and_the_rest_of_the_batch_kept(c: AsgiClient) -> None:
    bad = [
        (row(0, spread="0.1"), "wrong_type", "spread"),
        (row(0, spread=True), "wrong_type", "spread"),
        ({k: v for k, v in row(0).items() if k != "timestamp"}, "missing_field", "timestamp"),
        (
            {**row(0), "features": {k: v for k, v in row(0)["features"].items() if k != "volatility"}},  # type: ignore[attr-defined]
            "missing_field",
            "volatility",
        ),
        (row(0, colour=1.0), "unknown_field", "unknown"),
        (row(0, spread=1e9), "out_of_range", "spread"),
        (row(3600), "out_of_range", "timestamp"),
        (row(0, symbol="aapl"), "wrong_type", "symbol"),
    ]
    body = {"source": "market-feed", "updates": [row(0, "MSFT")] + [b for b, _, _ in bad]}
    r = c.post("/features", json=body, headers=at(0))
    assert r.status_code == 200
    answer = r.json()
    assert answer["accepted"] == 1
    assert [(x["index"], x["reason"], x["field"]) for x in answer["rejected"]] == [
        (i + 1, reason, field) for i, (_, reason, field) in enumerate(bad)
    ]
    assert all(x["detail"] for x in answer["rejected"])
    m = metrics(c, 1)
    assert m[("prediction_api_feature_rows_total", (("outcome", "rejected"),))] == len(bad)
    assert m[("prediction_api_feature_rows_total", (("outcome", "accepted"),))] == 1
    assert m[("prediction_api_schema_violations_total", (("field", "spread"), ("reason", "wrong_type")))] == 2
    assert c.post("/predict", json={"symbol": "AAPL"}, headers=at(1)).status_code == 404  # nothing of AAPL kept


def test_nulls_are_counted_and_imputed(c: AsgiClient) -> None:
    c.post("/features", json={"updates": [row(0, spread=None, volume_ratio=None)]}, headers=at(0))
    answer = c.post("/predict", json={"symbol": "AAPL"}, headers=at(1)).json()
    assert answer["imputed"] == ["spread", "volume_ratio"]
    assert value(c, 1, "prediction_api_feature_nulls_total", feature="spread") == 1
    assert value(c, 1, "prediction_api_feature_values_total", feature="spread") == 1
    assert value(c, 1, "prediction_api_feature_nulls_total", feature="volatility") == 0


def test_data_age_and_upstream_health_on_the_simulated_clock(c: AsgiClient) -> None:
    c.post("/features", json={"source": "market-feed", "updates": [row(0)]}, headers=at(0))
    c.post("/features", json={"source": "market-feed", "updates": [row(-30)]}, headers=at(1))  # late: ignored
    assert value(c, 2, "prediction_api_feature_last_update_timestamp_seconds", symbol="AAPL") == 1000.0
    assert value(c, 5, "prediction_api_upstream_up", source="market-feed") == 1
    assert value(c, 12, "prediction_api_upstream_up", source="market-feed") == 0  # 11 s > 10 s without a batch


def test_drift_score_needs_enough_values_and_falls_when_a_feature_shifts(c: AsgiClient) -> None:
    rng = random.Random(0)

    def publish(t: int, shift: float) -> None:
        features = {f: rng.gauss(0.0, 1.0) + (shift if f == "spread" else 0.0) for f in FEATURES}
        c.post(
            "/features",
            json={"updates": [{"symbol": "AAPL", "timestamp": 1000.0 + t, "features": features}]},
            headers=at(t),
        )

    for t in range(150):
        publish(t, 0.0)
    assert value(c, 150, "prediction_api_feature_drift_score", feature="spread") is None  # 150 < 200 values
    for t in range(150, 600):
        publish(t, 0.0)
    assert value(c, 600, "prediction_api_feature_drift_score", feature="spread") > 0.9  # type: ignore[operator]
    for t in range(600, 1300):
        publish(t, 1.0)
    shifted = metrics(c, 1300)
    assert shifted[("prediction_api_feature_drift_score", (("feature", "spread"),))] < 0.7
    assert shifted[("prediction_api_feature_drift_score", (("feature", "volatility"),))] > 0.9
    assert shifted[("prediction_api_feature_drift_window_values", (("feature", "spread"),))] == 600


def test_ks_distance_against_known_cases() -> None:
    quantiles = tuple(np.quantile(np.random.default_rng(1).normal(size=200_000), np.linspace(0, 1, 101)))
    sample = np.random.default_rng(2).normal(size=20_000)
    assert ks_distance(sample, quantiles) < 0.03
    assert ks_distance(sample + 0.5, quantiles) == pytest.approx(0.197, abs=0.02)
    assert ks_distance(np.full(10, 100.0), quantiles) == 1.0


def test_outcomes_count_accuracy_and_calibration_by_bin(c: AsgiClient) -> None:
    c.post("/features", json={"updates": [row(0, value=0.3)]}, headers=at(0))
    answers = [c.post("/predict", json={"symbol": "AAPL"}, headers=at(1)).json() for _ in range(4)]
    direction, confidence = answers[0]["direction"], answers[0]["confidence"]
    other = "down" if direction == "up" else "up"
    reports = [{"prediction_id": a["prediction_id"], "outcome": direction} for a in answers[:3]]
    reports.append({"prediction_id": answers[3]["prediction_id"], "outcome": other})
    reports.append({"prediction_id": "never-made", "outcome": "up"})
    assert c.post("/feedback", json={"outcomes": reports}, headers=at(6)).json() == {"matched": 4, "unmatched": 1}
    assert c.post("/feedback", json={"outcomes": reports[:1]}, headers=at(7)).json() == {"matched": 0, "unmatched": 1}
    m = metrics(c, 8)
    b = (("bin", confidence_bin(confidence)),)
    assert m[("prediction_api_prediction_outcomes_total", (("result", "correct"),))] == 3
    assert m[("prediction_api_prediction_outcomes_total", (("result", "incorrect"),))] == 1
    assert m[("prediction_api_calibration_predictions_total", b)] == 4
    assert m[("prediction_api_calibration_correct_total", b)] == 3
    assert m[("prediction_api_calibration_confidence_total", b)] == pytest.approx(4 * confidence)
    assert m[("prediction_api_feedback_total", (("result", "unmatched"),))] == 2
    assert m[("prediction_api_prediction_confidence_count", ())] == 4


def test_bad_feedback_is_a_422() -> None:
    client = AsgiClient(create_app(Settings(sim_clock=True), SimulatedClock()))
    for body in ({"outcomes": []}, {"outcomes": [{"prediction_id": "x", "outcome": "sideways"}]}, {}):
        r = client.post("/feedback", json=body, headers=at(0))
        assert r.status_code == 422, body
    client.close()


def test_predictions_without_an_outcome_expire() -> None:
    client = AsgiClient(create_app(Settings(sim_clock=True, feedback_ttl=60), SimulatedClock()))
    client.post("/features", json={"updates": [row(0)]}, headers=at(0))
    first = client.post("/predict", json={"symbol": "AAPL"}, headers=at(1)).json()["prediction_id"]
    client.post("/predict", json={"symbol": "AAPL"}, headers=at(100))  # the first is now 99 s old
    assert value(client, 100, "prediction_api_feedback_expired_total") == 1
    reply = client.post("/feedback", json={"outcomes": [{"prediction_id": first, "outcome": "up"}]}, headers=at(101))
    assert reply.json() == {"matched": 0, "unmatched": 1}
    client.close()


def test_the_model_artifact_gives_version_training_time_and_reference(c: AsgiClient, tmp_path: Path) -> None:
    doc = json.loads(MODEL.read_text())
    assert value(c, 0, "prediction_api_model_trained_timestamp_seconds") == doc["trained_at"]
    assert value(c, 0, "prediction_api_model_info", version=doc["version"]) == 1
    broken = tmp_path / "model.json"
    doc["reference"]["spread"] = doc["reference"]["spread"][::-1]
    broken.write_text(json.dumps(doc))
    with pytest.raises(ModelFileError, match=r"reference\.spread"):
        load_model(broken)
    doc["reference"]["spread"] = [0.0] * 3
    broken.write_text(json.dumps(doc))
    with pytest.raises(ModelFileError, match=r"reference\.spread"):
        load_model(broken)
    assert statistics.fmean(load_model(MODEL).reference[0]) == pytest.approx(0.0, abs=0.1)  # type: ignore[index]
