"""``POST /features``: row-by-row schema validation, nulls and their imputation, freshness and
upstream health, through the HTTP API and /metrics."""

from __future__ import annotations

import math
from typing import Any

import pytest

from service.feature_schema import FIELDS, ValidRow, Violation, validate_row
from service.model import FEATURES
from tests.service import artifacts
from tests.service.helpers import T0, Services, at, row, scrape, value

WITHOUT_TIMESTAMP = {k: v for k, v in row(0).items() if k != "timestamp"}
WITHOUT_VOLATILITY = {**row(0), "features": {f: 0.1 for f in FEATURES if f != "volatility"}}

BAD_ROWS: list[tuple[Any, str, str]] = [  # (row, reason, field)
    (WITHOUT_TIMESTAMP, "missing_field", "timestamp"),
    ({"timestamp": T0, "features": {}}, "missing_field", "symbol"),
    ({"symbol": "AAPL", "timestamp": T0}, "missing_field", "features"),
    (WITHOUT_VOLATILITY, "missing_field", "volatility"),
    ({**row(0), "venue": "XNAS"}, "unknown_field", "unknown"),
    (row(0, colour=1.0), "unknown_field", "unknown"),
    (row(0, symbol="aapl"), "wrong_type", "symbol"),
    ({**row(0), "symbol": 42}, "wrong_type", "symbol"),
    ({**row(0), "timestamp": "2026-01-05"}, "wrong_type", "timestamp"),
    ({**row(0), "timestamp": True}, "wrong_type", "timestamp"),
    ({**row(0), "features": [0.1] * 8}, "wrong_type", "features"),
    (row(0, spread="0.1"), "wrong_type", "spread"),
    (row(0, spread=True), "wrong_type", "spread"),  # a bool is an int to Python, not a factor value
    (["AAPL", T0], "wrong_type", "unknown"),
    ({**row(0), "timestamp": -1.0}, "out_of_range", "timestamp"),
    (row(5.5), "out_of_range", "timestamp"),  # more than 5 s ahead of the service's clock
    (row(0, spread=1000.5), "out_of_range", "spread"),
    (row(0, trade_flow=-2e6), "out_of_range", "trade_flow"),
]


def test_each_bad_row_is_rejected_with_its_reason_and_counted_while_good_rows_are_kept(services: Services) -> None:
    c = services()
    good = [row(0, "MSFT"), row(5.0, "GOOG")]  # 5 s ahead is within the allowed skew
    body = {"source": "market-feed", "updates": [good[0], *(b for b, _, _ in BAD_ROWS), good[1]]}
    r = c.post("/features", json=body, headers=at(0))
    assert r.status_code == 200
    answer = r.json()
    assert answer["accepted"] == 2
    assert [(x["index"], x["reason"], x["field"]) for x in answer["rejected"]] == [
        (i + 1, reason, field) for i, (_, reason, field) in enumerate(BAD_ROWS)
    ]
    assert all(x["detail"] for x in answer["rejected"])
    by_index = {x["index"]: x for x in answer["rejected"]}
    assert by_index[5]["symbol"] == "AAPL" and "venue" in by_index[5]["detail"]  # names the unknown key
    assert "colour" in by_index[6]["detail"]
    assert by_index[8]["symbol"] is None  # symbol 42: no string to echo
    m = scrape(c, 1)
    assert value(m, "prediction_api_feature_rows_total", outcome="accepted") == 2
    assert value(m, "prediction_api_feature_rows_total", outcome="rejected") == len(BAD_ROWS)
    assert value(m, "prediction_api_schema_violations_total", reason="wrong_type", field="spread") == 2
    assert value(m, "prediction_api_schema_violations_total", reason="unknown_field", field="unknown") == 2
    assert value(m, "prediction_api_schema_violations_total", reason="out_of_range", field="timestamp") == 2
    assert value(m, "prediction_api_schema_violations_total", reason="missing_field", field="volatility") == 1
    assert {dict(labels)["field"] for name, labels in m if name == "prediction_api_schema_violations_total"} <= set(
        FIELDS
    )
    assert value(m, "prediction_api_feature_updates_total", symbol="MSFT") == 1
    assert value(m, "prediction_api_feature_updates_total", symbol="AAPL") is None  # every AAPL row was bad
    assert c.post("/predict", json={"symbol": "AAPL"}, headers=at(1)).status_code == 404
    assert c.post("/predict", json={"symbol": "GOOG"}, headers=at(1)).status_code == 200


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999", "1" + "0" * 400])
def test_values_json_allows_but_floats_cannot_hold_are_out_of_range_not_a_500(literal: str, services: Services) -> None:
    c = services()
    features = ", ".join(f'"{f}": {literal if f == "spread" else "0.1"}' for f in FEATURES)
    body = f'{{"updates": [{{"symbol": "AAPL", "timestamp": {T0}, "features": {{{features}}}}}]}}'
    r = c.post("/features", content=body, headers={**at(0), "Content-Type": "application/json"})
    assert r.status_code == 200
    assert [(x["reason"], x["field"]) for x in r.json()["rejected"]] == [("out_of_range", "spread")]


@pytest.mark.parametrize(
    "body",
    [
        [row(0)],
        {"rows": [row(0)]},
        {"updates": row(0)},
        {"updates": "AAPL"},
        {"updates": []},
        {"updates": [row(0)] * 10_001},
        {"source": "Market Feed!", "updates": [row(0)]},
        {"source": 7, "updates": [row(0)]},
        {"updates": [row(0)], "extra": 1},
    ],
    ids=["list", "no-updates", "updates-obj", "updates-str", "empty", "too-many", "bad-source", "int-source", "extra"],
)
def test_a_batch_that_is_not_a_batch_is_a_422_with_a_reason(body: Any, services: Services) -> None:
    c = services()
    r = c.post("/features", json=body, headers=at(0))
    assert r.status_code == 422
    assert r.json()["detail"][0]["msg"]
    m = scrape(c, 1)
    assert value(m, "prediction_api_http_requests_total", route="/features", method="POST", status="422") == 1
    assert value(m, "prediction_api_feature_rows_total", outcome="rejected") == 0


def test_row_counters_start_at_zero_for_every_feature(services: Services) -> None:
    m = scrape(services(), 0)
    for outcome in ("accepted", "rejected"):
        assert value(m, "prediction_api_feature_rows_total", outcome=outcome) == 0
    for f in FEATURES:
        assert value(m, "prediction_api_feature_values_total", feature=f) == 0
        assert value(m, "prediction_api_feature_nulls_total", feature=f) == 0


def test_nulls_are_accepted_counted_and_imputed_with_the_training_median(services: Services) -> None:
    c = services()
    rows = [row(0, "AAPL", value=0.0, volatility=None, spread=None), row(0, "MSFT", value=0.0), row(0, spread="x")]
    assert c.post("/features", json={"updates": rows}, headers=at(0)).json()["accepted"] == 2
    answer = c.post("/predict", json={"symbol": "AAPL"}, headers=at(1)).json()
    assert answer["imputed"] == ["volatility", "spread"]
    # P(up) = sigmoid(obi + volatility), volatility imputed with its reference median, 1.0.
    assert answer["probability"] == pytest.approx(1 / (1 + math.exp(-artifacts.VOLATILITY_MEDIAN)))
    assert c.post("/predict", json={"symbol": "MSFT"}, headers=at(1)).json()["imputed"] == []
    m = scrape(c, 1)
    assert value(m, "prediction_api_feature_nulls_total", feature="spread") == 1
    assert value(m, "prediction_api_feature_nulls_total", feature="volatility") == 1
    assert value(m, "prediction_api_feature_nulls_total", feature="trade_flow") == 0
    for f in FEATURES:  # the rejected row counts nowhere
        assert value(m, "prediction_api_feature_values_total", feature=f) == 2


def test_without_a_reference_a_null_is_imputed_with_zero(services: Services) -> None:
    c = services(artifact={"version": "old", "coefficients": dict.fromkeys(FEATURES, 1.0)})  # the old minimal form
    c.post("/features", json={"updates": [row(0, value=None)]}, headers=at(0))
    answer = c.post("/predict", json={"symbol": "AAPL"}, headers=at(1)).json()
    assert answer["probability"] == 0.5 and answer["imputed"] == list(FEATURES)


def test_last_update_is_the_newest_accepted_data_time_and_late_rows_do_not_move_it_back(services: Services) -> None:
    c = services()
    c.post("/features", json={"updates": [row(-2, "AAPL"), row(-1, "AAPL"), row(-3, "MSFT")]}, headers=at(0))
    c.post("/features", json={"updates": [row(-30, "AAPL")]}, headers=at(1))  # late: kept out of the store
    c.post("/features", json={"updates": [row(1, "MSFT", spread="x")]}, headers=at(1))  # rejected
    m = scrape(c, 2)
    assert value(m, "prediction_api_feature_last_update_timestamp_seconds", symbol="AAPL") == T0 - 1
    assert value(m, "prediction_api_feature_last_update_timestamp_seconds", symbol="MSFT") == T0 - 3
    assert value(m, "prediction_api_feature_updates_total", symbol="AAPL") == 3  # the late row was accepted
    age = c.post("/predict", json={"symbol": "AAPL"}, headers=at(2)).json()["features_age_seconds"]
    assert age == pytest.approx(3.0005)  # the newest row, plus the store's round trip


def test_upstream_is_up_while_good_batches_arrive_and_down_after_the_timeout(services: Services) -> None:
    c = services()
    c.post("/features", json={"source": "market-feed", "updates": [row(-60)]}, headers=at(0))  # old data, good batch
    c.post("/features", json={"updates": [row(0, "MSFT")]}, headers=at(3))  # no source: "unknown"
    m = scrape(c, 10)
    assert value(m, "prediction_api_upstream_up", source="market-feed") == 1
    assert value(m, "prediction_api_upstream_last_batch_timestamp_seconds", source="market-feed") == T0  # clock time
    assert value(m, "prediction_api_upstream_up", source="unknown") == 1
    c.post("/features", json={"source": "market-feed", "updates": [row(11, spread="x")]}, headers=at(11))  # all bad
    m = scrape(c, 10.5)  # a scrape never moves the clock back
    assert value(m, "prediction_api_upstream_up", source="market-feed") == 0  # 11 s > 10 s since a good batch
    assert value(m, "prediction_api_upstream_up", source="unknown") == 1
    assert value(scrape(c, 13.5), "prediction_api_upstream_up", source="unknown") == 0
    c.post("/features", json={"source": "market-feed", "updates": [row(20)]}, headers=at(20))
    m = scrape(c, 20)
    assert value(m, "prediction_api_upstream_up", source="market-feed") == 1
    assert value(m, "prediction_api_upstream_last_batch_timestamp_seconds", source="market-feed") == T0 + 20


def test_upstream_timeout_is_a_setting(services: Services) -> None:
    c = services(upstream_timeout=60)
    c.post("/features", json={"source": "market-feed", "updates": [row(0)]}, headers=at(0))
    assert value(scrape(c, 59), "prediction_api_upstream_up", source="market-feed") == 1
    assert value(scrape(c, 61), "prediction_api_upstream_up", source="market-feed") == 0


def test_the_feature_bound_is_the_one_passed_in() -> None:
    valid = validate_row(row(0, spread=-5.0, volatility=None), T0, 10.0)
    assert isinstance(valid, ValidRow)
    assert (valid.symbol, valid.timestamp, valid.features["spread"], valid.features["volatility"]) == (
        "AAPL",
        T0,
        -5.0,
        None,
    )
    violation = validate_row(row(0, spread=50.0), T0, 10.0)
    assert isinstance(violation, Violation) and (violation.reason, violation.field) == ("out_of_range", "spread")


def test_the_feature_bound_is_a_setting(services: Services) -> None:
    c = services(feature_abs_max=10.0)
    rejected = c.post("/features", json={"updates": [row(0, spread=50.0)]}, headers=at(0)).json()["rejected"]
    assert [(x["reason"], x["field"]) for x in rejected] == [("out_of_range", "spread")]


def _variants() -> list[Any]:
    """Rows near the common shape: each one thing off (type, range, NaN, a key too many or few)."""
    base: dict[str, Any] = {"symbol": "AAPL", "timestamp": T0, "features": dict.fromkeys(FEATURES, 0.25)}
    out: list[Any] = [base, [], None, {**base, "extra": 1}, {k: v for k, v in base.items() if k != "symbol"}]
    for ts in (T0 + 5.0, T0 + 5.0001, -0.0, -1.0, math.nan, math.inf, int(T0), True, "1"):
        out.append({**base, "timestamp": ts})
    for symbol in ("aapl", "", "A" * 17, "BRK.B", 7):
        out.append({**base, "symbol": symbol})
    for number in (None, 1000.0, 1000.0001, -1000.0, -1000.5, math.nan, -math.inf, 3, True, "0.1", 1e308, -0.0):
        out.append({**base, "features": {**base["features"], FEATURES[3]: number}})
    out.append({**base, "features": {**base["features"], "unknown": 0.1}})
    out.append({**base, "features": {f: 0.1 for f in FEATURES[1:]}})
    out.append({**base, "features": list(base["features"].values())})
    return out


@pytest.mark.parametrize("raw", _variants())
def test_the_common_shape_shortcut_decides_as_the_careful_path_does(raw: Any) -> None:
    from service.feature_schema import _careful_row, _plain_row

    careful = _careful_row(raw, T0, 1000.0)
    plain = _plain_row(raw, T0, 1000.0)
    assert plain is None or plain == careful
    assert validate_row(raw, T0, 1000.0) == careful


def test_the_shortcut_takes_the_common_shape() -> None:
    from service.feature_schema import _plain_row

    assert _plain_row(_variants()[0], T0, 1000.0) == validate_row(_variants()[0], T0, 1000.0)
    assert _plain_row(_variants()[0], T0, 1000.0) is not None


@pytest.mark.parametrize("raw", _variants())
def test_with_known_symbols_the_shortcut_still_decides_as_the_careful_path_does(raw: Any) -> None:
    from service.feature_schema import _careful_row, _plain_row

    symbols = frozenset({"MSFT", "BRK.B"})  # AAPL, the variants' symbol, is unknown here
    careful = _careful_row(raw, T0, 1000.0, symbols)
    plain = _plain_row(raw, T0, 1000.0, symbols)
    assert plain is None or plain == careful
    assert validate_row(raw, T0, 1000.0, symbols) == careful
    if raw == _variants()[0]:  # a good row but for its symbol
        assert isinstance(careful, Violation) and (careful.reason, careful.field) == ("unknown_symbol", "symbol")
