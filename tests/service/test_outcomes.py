"""Outcomes: predictions remembered by id, matched by ``POST /feedback``, counted for accuracy,
confidence and calibration; the unanswered ones expire."""

from __future__ import annotations

import math
from typing import Any

import pytest

from service.model import FEATURES
from service.outcomes import BINS, Pending, PendingPredictions, confidence_bin
from tests.asgi_client import AsgiClient
from tests.service.helpers import Services, at, row, scrape, value


def features_for(confidence: float, direction: str = "up") -> dict[str, float]:
    """Features the test artifact (P(up) = sigmoid(obi + volatility)) predicts ``direction`` on with ``confidence``."""
    logit = math.log(confidence / (1 - confidence))
    return {f: 0.0 for f in FEATURES} | {"order_book_imbalance": logit if direction == "up" else -logit}


def predict(c: AsgiClient, t: float, confidence: float, direction: str = "up", **headers: str) -> dict[str, Any]:
    body = {"symbol": "AAPL", "features": features_for(confidence, direction)}
    r = c.post("/predict", json=body, headers=at(t) | headers)
    assert r.status_code == 200
    answer: dict[str, Any] = r.json()
    assert answer["prediction_id"].startswith("p") and answer["prediction_id"] != r.headers["x-request-id"]
    assert answer["direction"] == direction and answer["confidence"] == pytest.approx(confidence)
    return answer


def report(c: AsgiClient, t: float, *outcomes: tuple[str, str]) -> dict[str, int]:
    body = {"outcomes": [{"prediction_id": i, "outcome": o} for i, o in outcomes]}
    r = c.post("/feedback", json=body, headers=at(t))
    assert r.status_code == 200
    reply: dict[str, int] = r.json()
    return reply


def test_counters_start_at_zero(services: Services) -> None:
    m = scrape(services(), 0)
    for result in ("matched", "unmatched"):
        assert value(m, "prediction_api_feedback_total", result=result) == 0
    for result in ("correct", "incorrect"):
        assert value(m, "prediction_api_prediction_outcomes_total", result=result) == 0
    assert value(m, "prediction_api_feedback_expired_total") == 0
    assert BINS == ("0.5", "0.6", "0.7", "0.8", "0.9")
    for b in BINS:
        for family in ("predictions", "confidence", "correct"):
            assert value(m, f"prediction_api_calibration_{family}_total", bin=b) == 0


def test_accuracy_confidence_and_calibration_after_known_outcomes(services: Services) -> None:
    c = services()
    a = predict(c, 1, 0.57)
    b = predict(c, 1, 0.74)
    d = predict(c, 1, 0.74, "down")
    e = predict(c, 1, 0.93)
    reply = report(c, 5, (a["prediction_id"], "up"), (b["prediction_id"], "up"), (d["prediction_id"], "up"))
    assert reply == {"matched": 3, "unmatched": 0}
    assert report(c, 6, (e["prediction_id"], "up"), ("never-made", "down")) == {"matched": 1, "unmatched": 1}
    m = scrape(c, 7)
    assert value(m, "prediction_api_prediction_outcomes_total", result="correct") == 3
    assert value(m, "prediction_api_prediction_outcomes_total", result="incorrect") == 1
    assert value(m, "prediction_api_feedback_total", result="matched") == 4
    assert value(m, "prediction_api_feedback_total", result="unmatched") == 1
    expected = {  # bin: (predictions, summed confidence, correct)
        "0.5": (1, 0.57, 1),
        "0.6": (0, 0.0, 0),
        "0.7": (2, 1.48, 1),
        "0.8": (0, 0.0, 0),
        "0.9": (1, 0.93, 1),
    }
    for bin_, (n, confidence, correct) in expected.items():
        assert value(m, "prediction_api_calibration_predictions_total", bin=bin_) == n
        assert value(m, "prediction_api_calibration_confidence_total", bin=bin_) == pytest.approx(confidence)
        assert value(m, "prediction_api_calibration_correct_total", bin=bin_) == correct

    # The expected calibration error, as the recording rule computes it from these counters.
    def total(family: str, b: str) -> float:
        found = value(m, f"prediction_api_calibration_{family}_total", bin=b)
        assert found is not None
        return found

    ece = sum(abs(total("correct", b) - total("confidence", b)) for b in BINS) / sum(
        total("predictions", b) for b in BINS
    )
    assert ece == pytest.approx((0.43 + 0.48 + 0.07) / 4)  # = sum n_b/N |acc_b - conf_b|
    assert value(m, "prediction_api_prediction_confidence_count") == 4
    assert value(m, "prediction_api_prediction_confidence_sum") == pytest.approx(0.57 + 0.74 + 0.74 + 0.93)
    assert value(m, "prediction_api_prediction_confidence_bucket", le="0.6") == 1
    assert value(m, "prediction_api_prediction_confidence_bucket", le="0.75") == 3
    assert value(m, "prediction_api_prediction_confidence_bucket", le="0.9") == 3
    assert value(m, "prediction_api_prediction_confidence_bucket", le="0.95") == 4


def test_an_outcome_counts_once_and_predictions_from_the_store_are_remembered_too(services: Services) -> None:
    c = services()
    c.post("/features", json={"updates": [row(0, value=0.5)]}, headers=at(0))
    answer = c.post("/predict", json={"symbol": "AAPL"}, headers=at(1)).json()
    assert answer["direction"] == "up"  # sigmoid(0.5 + 0.5)
    first = report(c, 2, (answer["prediction_id"], "down"), (answer["prediction_id"], "down"))
    assert first == {"matched": 1, "unmatched": 1}
    assert report(c, 3, (answer["prediction_id"], "down")) == {"matched": 0, "unmatched": 1}
    m = scrape(c, 4)
    assert value(m, "prediction_api_prediction_outcomes_total", result="incorrect") == 1
    assert value(m, "prediction_api_prediction_outcomes_total", result="correct") == 0
    assert value(m, "prediction_api_feedback_total", result="unmatched") == 2


def test_the_service_makes_prediction_ids_whatever_request_id_a_client_reuses(services: Services) -> None:
    c = services()
    first = predict(c, 1, 0.8, **{"X-Request-ID": "desk-42"})["prediction_id"]
    second = predict(c, 1, 0.8, **{"X-Request-ID": "desk-42"})["prediction_id"]
    assert "desk-42" not in (first, second) and first != second
    assert report(c, 2, (first, "up"), (second, "up")) == {"matched": 2, "unmatched": 0}


def test_predictions_without_an_outcome_expire_after_the_ttl(services: Services) -> None:
    c = services(feedback_ttl=60)
    first = predict(c, 0, 0.6)["prediction_id"]
    second = predict(c, 30, 0.6)["prediction_id"]
    predict(c, 61, 0.6)  # the first is now 61 s old: dropped
    assert value(scrape(c, 61), "prediction_api_feedback_expired_total") == 1
    assert report(c, 62, (first, "up")) == {"matched": 0, "unmatched": 1}
    assert report(c, 91, (second, "up")) == {"matched": 0, "unmatched": 1}  # expired when the report came
    m = scrape(c, 92)
    assert value(m, "prediction_api_feedback_expired_total") == 2
    assert value(m, "prediction_api_prediction_outcomes_total", result="correct") == 0


def test_at_most_max_pending_predictions_are_remembered(services: Services) -> None:
    c = services(feedback_max_pending=2)
    ids = [predict(c, 1, 0.6)["prediction_id"] for _ in range(3)]
    assert value(scrape(c, 1), "prediction_api_feedback_expired_total") == 1
    assert report(c, 2, *((i, "up") for i in ids)) == {"matched": 2, "unmatched": 1}


@pytest.mark.parametrize(
    "body",
    [
        {},
        [],
        {"outcomes": []},
        {"outcomes": "up"},
        {"outcomes": [{"prediction_id": "x", "outcome": "sideways"}]},
        {"outcomes": [{"prediction_id": "x"}]},
        {"outcomes": [{"prediction_id": 7, "outcome": "up"}]},
        {"outcomes": [{"prediction_id": "", "outcome": "up"}]},
        {"outcomes": [{"prediction_id": "x", "outcome": "up", "pnl": 3}]},
        {"outcomes": [{"prediction_id": "x", "outcome": "up"}] * 10_001},
    ],
)
def test_bad_feedback_is_a_422_with_a_reason(body: Any, services: Services) -> None:
    c = services()
    r = c.post("/feedback", json=body, headers=at(0))
    assert r.status_code == 422
    assert r.json()["detail"][0]["msg"]
    assert value(scrape(c, 1), "prediction_api_feedback_total", result="unmatched") == 0


def test_confidence_bins_by_lower_edge() -> None:
    assert [confidence_bin(x) for x in (0.5, 0.5999, 0.6, 0.7, 0.8999, 0.9, 1.0)] == [
        "0.5",
        "0.5",
        "0.6",
        "0.7",
        "0.8",
        "0.9",
        "0.9",
    ]


def test_pending_predictions_are_consumed_once_and_a_reused_id_counts_from_its_latest_prediction() -> None:
    pending = PendingPredictions(ttl=10.0, capacity=10)
    assert pending.add("a", Pending("up", 0.6, 0.0)) == 0
    assert pending.add("b", Pending("up", 0.6, 5.0)) == 0
    assert pending.add("a", Pending("down", 0.7, 8.0)) == 0
    assert pending.take("b", 15.5) == (None, 1)  # b is 10.5 s old
    assert pending.take("a", 15.5) == (Pending("down", 0.7, 8.0), 0)
    assert pending.take("a", 15.5) == (None, 0)
