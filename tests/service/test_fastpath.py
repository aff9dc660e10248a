"""The hot routes answer the same whether the lean path or FastAPI's own stack serves them.

Two services with the same settings get the same requests, good and bad; one serves the hot
routes through ``service/fastpath.py``, the other has its lean table emptied so FastAPI routes
everything. Every reply, and the metrics both export at the end, must be identical.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
from typing import Any

import pytest

from service import Settings, SimulatedClock, create_app
from service.fastpath import LeanRoute, LeanRouteError
from service.middleware import MeasuredRequests
from service.model import FEATURES
from sim.transport import AsgiTransport, Reply

T0 = 1_767_225_600.0
JSON = "application/json"
ROW = {"symbol": "AAPL", "timestamp": T0, "features": dict.fromkeys(FEATURES, 0.1)}

# (method, path, content type or None, body bytes or None)
CASES: list[tuple[str, str, str | None, bytes | None]] = [
    ("POST", "/features", JSON, json.dumps({"source": "market-feed", "updates": [ROW, {"symbol": "x"}]}).encode()),
    ("POST", "/predict", JSON, b'{"symbol": "AAPL"}'),
    ("POST", "/predict", JSON, b'{"symbol": "NOPE"}'),
    ("POST", "/predict", JSON, b'{"symbol": "AAPL", "features": {"momentum": 1}}'),
    ("POST", "/predict", JSON, json.dumps({"symbol": "AAPL", "features": dict.fromkeys(FEATURES, 0.2)}).encode()),
    ("POST", "/predict", JSON, b'{"symbol": "AAPL", "features": {"momentum": NaN}}'),
    ("POST", "/predict", JSON, b'{"symbol": "aapl"}'),
    ("POST", "/predict", JSON, b'{"symbol": "AAPL", "extra": 1}'),
    ("POST", "/predict", JSON, b'{"symbol": '),
    ("POST", "/predict", JSON, b'{"symbol": ' + b"1" * 5000 + b"}"),  # past Python's int digit limit: not JSON's error
    ("POST", "/predict", JSON, b'\xef\xbb\xbf{"symbol": "AAPL"}'),  # a byte order mark
    ("POST", "/predict", JSON, '{"symbol": "AAPL"}'.encode("utf-16")),
    ("POST", "/predict", JSON, b'{"symbol": "\\ud800"}'),  # a lone surrogate
    ("POST", "/predict", JSON, b"[" * 100_000 + b"]" * 100_000),  # nested past the recursion limit
    ("POST", "/predict", JSON, b"[1, 2]"),
    ("POST", "/predict", JSON, b""),
    ("POST", "/predict", None, b'{"symbol": "AAPL"}'),
    ("POST", "/predict", "text/plain", b'{"symbol": "AAPL"}'),
    ("POST", "/predict", "application/vnd.api+json; charset=utf-8", b'{"symbol": "AAPL"}'),
    ("POST", "/features", JSON, b'{"updates": []}'),
    ("POST", "/features", JSON, b'{"source": "Bad Source", "updates": [1]}'),
    ("POST", "/features", JSON, json.dumps({"source": "made-up", "updates": [ROW]}).encode()),  # unknown source
    ("POST", "/features", JSON, json.dumps({"source": "market-feed", "updates": [{**ROW, "symbol": "ZZZZ"}]}).encode()),
    ("POST", "/features", JSON, b" " * (8 * 1024 * 1024 + 1)),  # over max_body_bytes: 413 unread
    ("POST", "/predict", JSON, json.dumps({"symbol": "AAPL", **{f"k{i}": 0 for i in range(100)}}).encode()),
    *(
        ("POST", "/predict", JSON, b'{"symbol": "AAPL", "features": {%s}}' % features)
        for features in (
            b", ".join(b'"%s": %s' % (f.encode(), b"1.7e308" if f == "spread" else b"0.1") for f in FEATURES),
            b", ".join(b'"%s": %s' % (f.encode(), b"true" if f == "spread" else b"1") for f in FEATURES),
            b", ".join(b'"%s": %s' % (f.encode(), b'"0.1"' if f == "spread" else b"-1000") for f in FEATURES),
            b", ".join(b'"%s": %s' % (f.encode(), b"1000.5" if f == "spread" else b"0") for f in FEATURES),
        )
    ),
    ("POST", "/feedback", JSON, b'{"outcomes": [{"prediction_id": "p000000000001", "outcome": "up"}]}'),
    ("POST", "/feedback", JSON, b'{"outcomes": [{"prediction_id": "p1", "outcome": "sideways"}]}'),
    ("POST", "/feedback", JSON, b"{}"),
    ("GET", "/predict", None, None),
    ("GET", "/metrics", None, None),
]


def _services() -> tuple[AsgiTransport, AsgiTransport]:
    def make() -> Any:
        return create_app(Settings(sim_clock=True, chaos_seed=1), SimulatedClock(T0))

    lean, routed = make(), make()
    assert isinstance(routed.measured, MeasuredRequests)
    routed.measured.lean.clear()
    return AsgiTransport(lean), AsgiTransport(routed)


async def _send(transport: AsgiTransport, i: int, case: tuple[str, str, str | None, bytes | None]) -> Reply:
    method, path, content_type, body = case
    headers = [(b"x-sim-time", repr(T0 + i).encode())]
    if content_type is not None:
        headers.append((b"content-type", content_type.encode()))
    return await transport.exchange(method, path, headers, body)


def test_lean_and_routed_paths_answer_alike() -> None:
    lean, routed = _services()

    async def both() -> list[tuple[Reply, Reply]]:
        return [(await _send(lean, i, c), await _send(routed, i, c)) for i, c in enumerate(CASES)]

    for case, (a, b) in zip(CASES, asyncio.run(both()), strict=True):
        assert (a.status, a.content) == (b.status, b.content), case
    statuses = {a.status for a, _ in asyncio.run(both())}
    assert {200, 404, 405, 413, 422} <= statuses  # the table really covers good and bad requests


def test_a_route_the_lean_path_cannot_serve_is_refused() -> None:
    from fastapi import APIRouter, Header

    router = APIRouter()

    @router.get("/with-header")
    async def with_header(x_thing: str = Header()) -> dict[str, str]:
        return {"x": x_thing}

    with pytest.raises(LeanRouteError, match="/with-header"):
        LeanRoute.of(router.routes[0])  # type: ignore[arg-type]


class _Broken:
    version = "broken"

    def predict(self, features: object) -> object:
        raise RuntimeError("a bug in the model")

    def imputation(self, feature: str) -> float:
        return 0.0


def test_an_unexpected_error_is_a_counted_500_both_ways() -> None:
    lean, routed = _services()
    for transport in (lean, routed):
        asyncio.run(_send(transport, 0, CASES[0]))  # features, so /predict reaches the model
        transport.app.state.service.model = _Broken()  # type: ignore[attr-defined]
        sent: list[dict[str, Any]] = []

        async def capture(message: dict[str, Any], sent: list[dict[str, Any]] = sent) -> None:
            sent.append(message)

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b'{"symbol": "AAPL"}', "more_body": False}

        headers = [(b"x-sim-time", repr(T0 + 1).encode()), (b"content-type", b"application/json")]
        scope = {"type": "http", "method": "POST", "path": "/predict", "headers": headers, "query_string": b""}
        with pytest.raises(RuntimeError, match="a bug in the model"):
            asyncio.run(transport.app(scope, receive, capture))  # type: ignore[arg-type]
        assert sent[0]["status"] == 500 and sent[1]["body"] == b"Internal Server Error"
        scrape = asyncio.run(_send(transport, 2, ("GET", "/metrics", None, None)))
        assert 'route="/predict",status="500"} 1.0' in scrape.text


def _asgi(app: Any, path: str, messages: list[dict[str, Any]]) -> tuple[int, bytes]:
    """``app`` given ``messages`` from receive, one by one; the status and body it sent."""
    sent: list[dict[str, Any]] = []
    pending = list(messages)

    async def receive() -> dict[str, Any]:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [(b"x-sim-time", repr(T0 + 1).encode()), (b"content-type", b"application/json")]
    scope = {"type": "http", "method": "POST", "path": path, "headers": headers, "query_string": b""}
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


@pytest.mark.parametrize(
    "messages",
    [
        [  # a body in three chunks
            {"type": "http.request", "body": b'{"outcomes": [{"prediction_id"', "more_body": True},
            {"type": "http.request", "body": b': "p1", "outcome": "up"}', "more_body": True},
            {"type": "http.request", "body": b"]}", "more_body": False},
        ],
        [{"type": "http.request", "body": b'{"outcomes": [', "more_body": True}],  # then the client is gone
        [{"type": "http.request", "body": b" " * 1024 * 1024, "more_body": True}] * 9,  # past max_body_bytes
    ],
    ids=["chunks", "cut-short", "too-large"],
)
def test_a_body_in_chunks_or_cut_short_is_read_as_fastapi_reads_it(messages: list[dict[str, Any]]) -> None:
    lean, routed = _services()
    assert _asgi(lean.app, "/feedback", messages) == _asgi(routed.app, "/feedback", messages)


def _same(a: Any, b: Any) -> bool:
    """Equal values of equal types, NaN equal to NaN and -0.0 told from 0.0."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _outcome(parse: Any, raw: bytes) -> tuple[bool, Any]:
    try:
        return True, parse(raw)
    except (ValueError, RecursionError):
        return False, None


def test_the_body_parser_accepts_and_reads_what_json_loads_does() -> None:
    """``_loads`` (jiter, json.loads where jiter refuses) against ``json.loads`` on mangled bodies."""
    from service.fastpath import _loads

    rng = random.Random(3)
    bases = [CASES[0][3], b'{"symbol": "AAPL", "features": {"x": 1e-7, "y": -2, "z": -0.0, "w": NaN}}']
    alphabet = b'0123456789.eE+-,{}[]":\\ \tnulltrueNaInfy\x00\x1f\x7f\xc3\xef\xbb\xbf'
    accepted = 0
    for _ in range(20_000):
        raw = bytearray(rng.choice(bases) or b"")
        for _ in range(rng.randint(1, 3)):
            at, op = rng.randrange(len(raw)), rng.random()
            if op < 0.4:
                raw[at] = rng.randrange(256)
            elif op < 0.7:
                del raw[at]
            else:
                raw.insert(at, rng.choice(alphabet))
        ours, theirs = _outcome(_loads, bytes(raw)), _outcome(json.loads, bytes(raw))
        assert ours[0] == theirs[0] and _same(ours[1], theirs[1]), bytes(raw)
        accepted += ours[0]
    assert 1_000 < accepted < 19_000  # both sides of the question were asked
