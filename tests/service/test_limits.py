"""Limits on what one request may cost: body size, the size of a 422, injected chaos."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from service import Settings, SimulatedClock, WallClock, create_app
from service.model import FEATURES
from tests.asgi_client import AsgiClient

SIM = {"X-Sim-Time": "1767225600.0"}
ADMIN = {**SIM, "Authorization": "Bearer secret"}
JSON = {"Content-Type": "application/json"}
FEATURES_OK = {"symbol": "AAPL", "features": dict.fromkeys(FEATURES, 0.1)}


ROUTES = [("POST", "/predict"), ("POST", "/features"), ("POST", "/feedback"), ("PUT", "/admin/chaos/x")]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_a_body_declared_over_the_limit_is_a_413(method: str, path: str, client: Callable[..., AsgiClient]) -> None:
    c = client(max_body_bytes=1000, admin_token="secret")
    r = c.request(method, path, content=b" " * 1001, headers={**ADMIN, **JSON})
    assert r.status_code == 413
    assert "1000 bytes" in r.json()["detail"]
    assert c.request(method, path, content=b" " * 1000, headers={**ADMIN, **JSON}).status_code == 422  # fits


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_a_chunked_body_over_the_limit_is_a_413(method: str, path: str, client: Callable[..., AsgiClient]) -> None:
    c = client(max_body_bytes=1000, admin_token="secret")

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b" " * 100

    r = c.request(method, path, content=chunks(), headers={**ADMIN, **JSON})
    assert r.status_code == 413 and "1000 bytes" in r.json()["detail"]


def test_a_body_is_not_read_past_the_limit() -> None:
    """An endless body is answered once it passes the limit, not read to its end."""
    app: Any = create_app(Settings(sim_clock=True, max_body_bytes=1000), SimulatedClock())
    received = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal received
        received += 1
        return {"type": "http.request", "body": b" " * 100, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [(b"x-sim-time", b"1.0"), (b"content-type", b"application/json")]
    scope = {"type": "http", "method": "POST", "path": "/features", "headers": headers, "query_string": b""}
    asyncio.run(asyncio.wait_for(app(scope, receive, send), 5))
    assert sent[0]["status"] == 413 and received == 11


def test_the_largest_feature_batch_fits_the_default_limit(client: Callable[..., AsgiClient]) -> None:
    """10,000 rows, every number at full precision, pretty-printed: about 5 MB."""
    c = client()
    values = {f: -123.45678901234567 for f in FEATURES}
    rows = [{"symbol": "AAPL", "timestamp": 1767225599.1234567, "features": values} for _ in range(10_000)]
    body = json.dumps({"source": "market-feed", "updates": rows}, indent=2).encode()
    assert len(body) > 4_500_000
    r = c.post("/features", content=body, headers={**SIM, **JSON})
    assert r.status_code == 200 and r.json()["accepted"] == 10_000


@pytest.mark.parametrize(
    "body",
    [
        {"symbol": "AAPL", **{f"k{i}": 0 for i in range(50_000)}},  # 50,000 extra keys: 50,000 errors
        {"symbol": "AAPL", "x" * 100_000: 1},  # one long key in the error's loc
        {"symbol": "AAPL", "features": {f"f{i}": 0.0 for i in range(50_000)}},  # a message naming 50,000 keys
        {"symbol": "AAPL", "features": {"y" * 100_000: 0.0}},
    ],
    ids=["many-errors", "long-loc", "long-message", "long-name"],
)
def test_a_422_is_small_whatever_the_input(body: dict[str, Any], client: Callable[..., AsgiClient]) -> None:
    r = client().post("/predict", json=body, headers=SIM)
    assert r.status_code == 422
    assert len(r.content) < 4_000
    detail = r.json()["detail"]
    assert all(set(e) == {"loc", "msg", "type"} for e in detail)
    if len(detail) > 20:
        pytest.fail(f"{len(detail)} errors echoed")


def test_a_422_says_how_many_errors_it_left_out(client: Callable[..., AsgiClient]) -> None:
    detail = client().post("/predict", json={"symbol": "AAPL", **{f"k{i}": 0 for i in range(100)}}, headers=SIM)
    last = detail.json()["detail"][-1]
    assert "more" in last["msg"] and "81" in last["msg"]  # 100 errors: 19 shown, then this one


def test_chaos_faults_are_capped_in_number(client: Callable[..., AsgiClient]) -> None:
    c = client(admin_token="secret", chaos_max_faults=3)
    for i in range(3):
        assert c.put(f"/admin/chaos/f{i}", json={"error_rate": 0.01}, headers=ADMIN).status_code == 200
    r = c.put("/admin/chaos/f3", json={"error_rate": 0.01}, headers=ADMIN)
    assert r.status_code == 409 and "3" in r.json()["detail"]
    assert c.put("/admin/chaos/f0", json={"error_rate": 0.02}, headers=ADMIN).status_code == 200  # replaced
    assert sorted(c.get("/admin/chaos", headers=ADMIN).json()) == ["f0", "f1", "f2"]


def test_chaos_delay_is_capped_in_total(client: Callable[..., AsgiClient]) -> None:
    c = client(admin_token="secret", chaos_max_delay_seconds=1.0)
    assert c.put("/admin/chaos/a", json={"delay_seconds": 0.6}, headers=ADMIN).status_code == 200
    r = c.put("/admin/chaos/b", json={"delay_seconds": 0.6}, headers=ADMIN)
    assert r.status_code == 409 and "1 s" in r.json()["detail"]
    assert c.put("/admin/chaos/a", json={"delay_seconds": 0.9}, headers=ADMIN).status_code == 200  # replaces a


def test_by_default_stacked_faults_cannot_delay_a_request_for_minutes(client: Callable[..., AsgiClient]) -> None:
    c = client(admin_token="secret")
    statuses = [c.put(f"/admin/chaos/f{i}", json={"delay_seconds": 1.76}, headers=ADMIN).status_code for i in range(74)]
    assert 409 in statuses
    assert c.post("/predict", json=FEATURES_OK, headers=SIM).status_code == 200
    metrics = c.get("/metrics", headers=SIM).text
    [total] = [
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith('prediction_api_http_request_duration_seconds_sum{route="/predict"}')
    ]
    assert total <= 60.0


def test_settings_delay_counts_against_the_cap() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="chaos_max_delay_seconds"):
        Settings(chaos_delay_seconds=10.0, chaos_max_delay_seconds=5.0)


async def _lifespan(app: Any) -> tuple[Callable[[], Any], asyncio.Task[None]]:
    """Start ``app``'s lifespan; returns the call that shuts it down and the lifespan's task."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}}, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    assert (await outbox.get())["type"] == "lifespan.startup.complete"

    async def shutdown() -> None:
        await inbox.put({"type": "lifespan.shutdown"})
        assert (await outbox.get())["type"] == "lifespan.shutdown.complete"

    return shutdown, task


def test_shutdown_cuts_an_injected_delay_short() -> None:
    import httpx

    app = create_app(Settings(admin_token="secret", chaos_delay_seconds=30.0), WallClock())

    async def scenario() -> tuple[int, float]:
        shutdown, lifespan = await _lifespan(app)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as c:
            started = time.monotonic()
            request = asyncio.create_task(c.post("/predict", json=FEATURES_OK))
            await asyncio.sleep(0.2)
            assert not request.done()  # waiting out the injected delay
            await shutdown()
            r = await asyncio.wait_for(request, 5)
        await lifespan
        return r.status_code, time.monotonic() - started

    status, seconds = asyncio.run(scenario())
    assert status == 200 and seconds < 3


def test_a_simulated_clock_is_not_cut_short() -> None:
    """Modelled delays are not waited for: shutting down changes nothing a simulated request reports."""
    c = AsgiClient(create_app(Settings(sim_clock=True, chaos_delay_seconds=2.0), SimulatedClock()))
    try:
        assert c.post("/predict", json=FEATURES_OK, headers=SIM).status_code == 200
        metrics = c.get("/metrics", headers=SIM).text
        assert 'prediction_api_http_request_duration_seconds_sum{route="/predict"} 2.0' in metrics
    finally:
        c.close()
