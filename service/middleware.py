"""ASGI middleware that puts each request on its clock and measures it.

Written as plain ASGI rather than ``@app.middleware`` so it also sees the 422s FastAPI
answers before any handler runs, and costs a few microseconds instead of a task per request.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.clock import Clock, ClockHeaderError
from service.cpu import CpuAccount
from service.metrics import ServiceMetrics

UNMATCHED_ROUTE = "unmatched"
# Liveness and readiness probes are not traffic: they are neither timed nor counted, and
# answer without a simulated time (an orchestrator knows none).
PROBES = frozenset({"/health", "/ready"})


class MeasuredRequests:
    def __init__(self, app: ASGIApp, clock: Clock, metrics: ServiceMetrics, cpu: CpuAccount) -> None:
        self.app = app
        self.clock = clock
        self.metrics = metrics
        self.cpu = cpu

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PROBES:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            request_clock = self.clock.for_request(headers)
        except ClockHeaderError as exc:
            await _send_json(send, 400, {"detail": str(exc)})
            self._count(scope, UNMATCHED_ROUTE, 400)
            return
        scope.setdefault("state", {})["clock"] = request_clock
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            route = getattr(scope.get("route"), "path", UNMATCHED_ROUTE)
            self.metrics.latency.labels(route).observe(request_clock.elapsed())
            self.cpu.add_request(request_clock.cpu_work)
            self._count(scope, route, status)

    def _count(self, scope: Scope, route: str, status: int) -> None:
        self.metrics.requests.labels(route, scope["method"], str(status)).inc()


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
