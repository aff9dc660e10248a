"""A bounded universe: what a client sends never becomes a new metric series.

Symbols and sources are label values (``feature_updates{symbol}``, ``upstream_up{source}``), so
the service takes only those it is configured with (``Settings.symbols``, ``Settings.sources``).
"""

from __future__ import annotations

from typing import Any

from tests.asgi_client import AsgiClient
from tests.service.helpers import Services, at, row, scrape, value


def series(c: AsgiClient, t: float) -> int:
    """Samples in a scrape: one line each, comments aside."""
    text = c.get("/metrics", headers=at(t)).text
    return sum(1 for line in text.splitlines() if line and not line.startswith("#"))


def batch(source: str, updates: list[dict[str, Any]]) -> dict[str, Any]:
    return {"source": source, "updates": updates}


def test_a_flood_of_made_up_symbols_and_sources_adds_no_series(services: Services) -> None:
    c = services()
    # One of everything the flood does, so every series it could touch exists already.
    assert c.post("/features", json=batch("market-feed", [row(0), row(0, "ZZZZ")]), headers=at(0)).status_code == 200
    assert c.post("/features", json=batch("made-up", [row(0)]), headers=at(0)).status_code == 422
    series(c, 1)  # and a scrape, whose own request is counted
    before = series(c, 1)
    for n in range(5):
        made_up = [row(0, f"X{n}{i:05d}") for i in range(10_000)]
        answer = c.post("/features", json=batch("market-feed", made_up), headers=at(0)).json()
        assert answer["accepted"] == 0 and len(answer["rejected"]) == 10_000
        assert c.post("/features", json=batch(f"feed-{n}", made_up[:10]), headers=at(0)).status_code == 422
    assert series(c, 1) == before


def test_an_unknown_symbol_is_rejected_with_its_reason_and_counted(services: Services) -> None:
    c = services()
    r = c.post("/features", json=batch("market-feed", [row(0, "MSFT"), row(0, "ZZZZ")]), headers=at(0))
    assert r.status_code == 200
    answer = r.json()
    assert answer["accepted"] == 1
    [rejected] = answer["rejected"]
    assert (rejected["index"], rejected["symbol"], rejected["reason"], rejected["field"]) == (
        1,
        "ZZZZ",
        "unknown_symbol",
        "symbol",
    )
    assert "AAPL" in rejected["detail"]  # names what would be accepted
    m = scrape(c, 1)
    assert value(m, "prediction_api_schema_violations_total", reason="unknown_symbol", field="symbol") == 1
    assert value(m, "prediction_api_feature_updates_total", symbol="ZZZZ") is None
    assert c.post("/predict", json={"symbol": "ZZZZ"}, headers=at(1)).status_code == 404  # never stored


def test_the_symbols_are_a_setting(services: Services) -> None:
    c = services(symbols=("ZZZZ",))
    answer = c.post("/features", json=batch("market-feed", [row(0, "ZZZZ"), row(0, "AAPL")]), headers=at(0)).json()
    assert answer["accepted"] == 1 and answer["rejected"][0]["reason"] == "unknown_symbol"


def test_a_batch_from_an_unknown_source_is_a_422_naming_the_known_sources(services: Services) -> None:
    c = services(sources=("market-feed", "backfill"))
    r = c.post("/features", json=batch("made-up", [row(0)]), headers=at(0))
    assert r.status_code == 422
    [error] = r.json()["detail"]
    assert error["loc"] == ["body", "source"] and error["type"] == "unknown_source"
    assert "market-feed" in error["msg"] and "backfill" in error["msg"]
    m = scrape(c, 1)
    assert value(m, "prediction_api_feature_rows_total", outcome="accepted") == 0  # nothing stored, nothing counted
    assert not [k for k in m if k[0] == "prediction_api_upstream_up"]
    assert c.post("/features", json=batch("backfill", [row(0)]), headers=at(0)).json()["accepted"] == 1


def test_a_batch_that_names_no_source_is_from_the_unknown_source(services: Services) -> None:
    """``unknown`` is in the default sources: a pipeline that does not name itself still works."""
    c = services()
    assert c.post("/features", json={"updates": [row(0)]}, headers=at(0)).json()["accepted"] == 1
    assert value(scrape(c, 1), "prediction_api_upstream_up", source="unknown") == 1
