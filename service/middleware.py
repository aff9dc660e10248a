"""ASGI middleware that puts each request on its clock and measures it.

Written as plain ASGI rather than ``@app.middleware`` so it also sees the 422s FastAPI
answers before any handler runs, and costs a few microseconds instead of a task per request.
It is also where the hot routes leave FastAPI's stack (``service/fastpath.py``).
"""

from __future__ import annotations

import itertools
import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

from starlette.responses import JSONResponse, PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.body_limit import declared_too_large, limited, too_large
from service.clock import ClockHeaderError, RequestClock
from service.fastpath import ExceptionHandler, LeanRoute
from service.logs import log_request
from service.state import ServiceState

UNMATCHED_ROUTE = "unmatched"
_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,64}")
# Liveness and readiness probes are not traffic: they are neither timed nor counted, and
# answer without a simulated time (an orchestrator knows none).
PROBES = frozenset({"/health", "/ready"})


class MeasuredRequests:
    """Clock, metrics, request id, access log and body limit for every request but the probes."""

    def __init__(
        self,
        app: ASGIApp,
        state: ServiceState,
        lean: Mapping[tuple[str, str], LeanRoute] | None = None,
        handlers: Mapping[Any, ExceptionHandler] | None = None,
    ) -> None:
        self.app = app
        self.lean = dict(lean or {})
        self.handlers = handlers or {}
        self.clock = state.clock
        self.metrics = state.metrics
        self.cpu = state.cpu
        self.logger = state.access_log
        self.state = state
        self.max_body = state.settings.max_body_bytes
        self._served = itertools.count(1)

    def _request_id(self, given: bytes | None) -> str:
        if given is not None and _REQUEST_ID.fullmatch(given):
            return given.decode()
        # Simulated runs must be reproducible, so their ids count; live ones must not collide.
        return f"{next(self._served):012x}" if self.clock.simulated else uuid.uuid4().hex

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PROBES:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])  # raw: the clock reads numbers from bytes, nothing is decoded
        try:
            request_clock = self.clock.for_request(headers)
        except ClockHeaderError as exc:
            await _send_json(send, 400, {"detail": str(exc)})
            self._count(scope, UNMATCHED_ROUTE, 400)
            return
        request_id = self._request_id(headers.get(b"x-request-id"))
        state = scope.setdefault("state", {})
        state["clock"], state["request_id"], state["service"] = request_clock, request_id, self.state
        tag = (b"x-request-id", request_id.encode())
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), tag, _server_timing(request_clock)]
            await send(message)

        lean = self.lean.get((scope["method"], scope["path"]))
        try:
            if declared_too_large(headers.get(b"content-length"), self.max_body):
                refused = too_large(self.max_body)  # answered unread, before routing: counted as unmatched
                answer = JSONResponse({"detail": refused.detail}, 413, headers=refused.headers)
                await answer(scope, receive, send_with_status)
            elif lean is None:
                await self.app(scope, limited(receive, self.max_body), send_with_status)
            else:
                try:
                    response = await lean.response(scope, receive, self.handlers)
                except Exception:  # as Starlette's server error middleware does: a plain 500, then raise
                    await PlainTextResponse("Internal Server Error", status_code=500)(scope, receive, send_with_status)
                    raise
                status = response.status_code
                response.raw_headers += (tag, _server_timing(request_clock))
                await response(scope, receive, send)
        finally:
            route = getattr(scope.get("route"), "path", UNMATCHED_ROUTE)
            elapsed = request_clock.elapsed()
            self.metrics.child(self.metrics.latency, route).observe(elapsed)
            self.cpu.add_request(request_clock.cpu_work)
            self._count(scope, route, status)
            if self.logger is not None:
                log_request(
                    self.logger,
                    at=request_clock.now(),
                    method=scope["method"],
                    route=route,
                    path=scope["path"],
                    status=status,
                    seconds=elapsed,
                    request_id=request_id,
                    model_version=self.state.model.version,
                )

    def _count(self, scope: Scope, route: str, status: int) -> None:
        self.metrics.child(self.metrics.requests, route, scope["method"], str(status)).inc()


def _server_timing(clock: RequestClock) -> tuple[bytes, bytes]:
    """``Server-Timing: app;dur=<ms>`` (W3C Server Timing): how long the service took, on its
    clock (simulated seconds in simulated mode), as a client sees it in the reply. A trading desk
    that only acts on a prediction that came in time needs this (issue 15), and any real client
    can read it; the handler is done when the reply starts, so it is the latency observed."""
    return b"server-timing", b"app;dur=%.3f" % (clock.elapsed() * 1000.0)


async def _send_json(send: Send, status: int, body: object) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})
