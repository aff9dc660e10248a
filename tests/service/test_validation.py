"""One rule for a factor value wherever it comes in, and a simulated clock that bad headers cannot move."""

from __future__ import annotations

import math

import pytest

from service import Settings, SimulatedClock, create_app
from service.model import FEATURES
from tests.asgi_client import AsgiClient
from tests.service.helpers import T0, Services, at, scrape, value

JSON = {"Content-Type": "application/json"}


def _features(literal: str) -> str:
    """The eight features as JSON text, ``spread`` given as ``literal``."""
    return "{" + ", ".join(f'"{f}": {literal if f == "spread" else "0.1"}' for f in FEATURES) + "}"


LITERALS = ["0", "0.5", "-1000", "1000.0", "1000.5", "-1.7e308", "1.7e308", "1e999", "NaN", "true", '"0.1"', "[1]"]


@pytest.mark.parametrize("literal", LITERALS)
def test_predict_and_features_judge_a_feature_value_alike(literal: str, services: Services) -> None:
    c = services()
    row = f'{{"symbol": "AAPL", "timestamp": {T0!r}, "features": {_features(literal)}}}'
    published = c.post("/features", content=f'{{"updates": [{row}]}}', headers={**at(0), **JSON}).json()
    body = f'{{"symbol": "AAPL", "features": {_features(literal)}}}'
    predicted = c.post("/predict", content=body, headers={**at(0), **JSON})
    assert (published["accepted"] == 1) == (predicted.status_code == 200), predicted.text
    if predicted.status_code != 200:
        assert predicted.status_code == 422
        [error] = predicted.json()["detail"]
        [rejected] = published["rejected"]
        assert error["loc"] == ["body", "features", "spread"]
        # The same rule, the same words (but that a row may also hold a null).
        assert (error["type"], error["msg"]) == (rejected["reason"], rejected["detail"].replace(" or null", ""))


def test_predict_uses_the_feature_bound_setting(services: Services) -> None:
    c = services(feature_abs_max=10.0)
    r = c.post("/predict", content=f'{{"symbol": "AAPL", "features": {_features("10.5")}}}', headers={**at(0), **JSON})
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "out_of_range"


def _app_and_client() -> tuple[SimulatedClock, AsgiClient]:
    clock = SimulatedClock()
    return clock, AsgiClient(create_app(Settings(sim_clock=True), clock))


FEATURES_OK = {"symbol": "AAPL", "features": dict.fromkeys(FEATURES, 0.1)}


@pytest.mark.parametrize(
    ("header", "raw"),
    [
        ("X-Sim-Time", "1e308"),
        ("X-Sim-Time", "inf"),
        ("X-Sim-Time", "7258118401.0"),  # 2200-01-01T00:00:01Z
        ("X-Sim-Queue-Time", "3600.5"),
        ("X-Sim-Queue-Time", "1e308"),
        ("X-Sim-Service-Time", "1e308"),
    ],
)
def test_a_time_header_out_of_range_is_a_400_and_poisons_nothing(header: str, raw: str) -> None:
    clock, c = _app_and_client()
    try:
        assert c.post("/predict", json=FEATURES_OK, headers=at(0)).status_code == 200
        r = c.post("/predict", json=FEATURES_OK, headers={**at(1), header: raw})
        assert r.status_code == 400
        assert header.lower() in r.json()["detail"] and raw in r.json()["detail"]
        assert clock.now() == T0  # the rejected request's time never became the clock's
        m = scrape(c, 2)
        total = value(m, "prediction_api_http_request_duration_seconds_sum", route="/predict")
        assert total is not None and math.isfinite(total) and total < 1
    finally:
        c.close()


def test_the_largest_times_accepted_are_the_bounds() -> None:
    from service.clock import MAX_REQUEST_SECONDS, MAX_SIM_TIME

    clock, c = _app_and_client()
    try:
        limits = {"X-Sim-Time": repr(MAX_SIM_TIME), "X-Sim-Queue-Time": repr(MAX_REQUEST_SECONDS)}
        assert c.post("/predict", json=FEATURES_OK, headers=limits).status_code == 200
        assert clock.now() == MAX_SIM_TIME
    finally:
        c.close()


def test_the_clock_never_goes_back() -> None:
    clock, c = _app_and_client()
    try:
        c.post("/predict", json=FEATURES_OK, headers=at(10))
        c.post("/predict", json=FEATURES_OK, headers=at(5))  # a request stamped earlier (it queued)
        assert clock.now() == T0 + 10
    finally:
        c.close()


@pytest.mark.parametrize("start", [math.nan, -1.0, math.inf, 1e308])
def test_a_simulated_clock_starts_in_range(start: float) -> None:
    from service.errors import ServiceError

    with pytest.raises(ServiceError, match="start"):
        SimulatedClock(start)
