"""How an exchange reaches the service: straight into its ASGI app, or over HTTP with httpx.

In-process runs call the service's ASGI app with a hand-built scope (design.md, decision 2):
the same bytes, headers and status codes an HTTP server would carry, without building httpx
``Request``/``Response`` objects per exchange (they cost more wall time than the service's
own work). Over loopback (``--spawn``, ``--service-url``) httpx carries the same exchange to
uvicorn. Either way the simulator sees a ``Reply``, and a run stores the same samples.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

_TIMEOUT = httpx.Timeout(30.0).as_dict()  # only a service over loopback can be slow in wall time

Headers = list[tuple[bytes, bytes]]  # lower-case names, as ASGI carries them
AsgiApp = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[MutableMapping[str, Any]]],
        Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ],
    Awaitable[None],
]


class ServiceGone(Exception):
    """The service refused the connection. Over loopback that means no process listens any
    more (a crash the simulation asked for never reaches the transport: the gateway answers
    for the dead service itself), so the run cannot go on; waiting out connect retries on
    every request would turn a 20-minute scenario into hours of nothing."""


@dataclass(frozen=True)
class Reply:
    """What came back: a status and body, or the transport error that stopped the exchange."""

    status: int | None
    content: bytes = b""
    error: str | None = None
    server_timing: bytes | None = None  # the ``Server-Timing`` header as sent, parsed on demand

    @property
    def duration(self) -> float | None:
        """Seconds the service says it took (``Server-Timing: app;dur=<ms>``), or None when it did
        not say: what a client that acts only on a timely answer reads."""
        return server_duration(self.server_timing)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    @property
    def label(self) -> str:
        """The status as a tally key: the code, or "error" when no response came."""
        return str(self.status) if self.status is not None else "error"

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def server_duration(header: bytes | None) -> float | None:
    """The ``app`` metric's ``dur`` (milliseconds) of a Server-Timing header, in seconds."""
    if not header:
        return None
    if header.startswith(b"app;dur=") and b"," not in header:  # what alertdrill's service sends
        try:
            return float(header[8:]) / 1000.0
        except ValueError:
            return None
    for metric in header.split(b","):
        name, _, params = metric.strip().partition(b";")
        if name.strip() != b"app":
            continue
        for param in params.split(b";"):
            key, _, value = param.strip().partition(b"=")
            if key.strip() == b"dur":
                try:
                    return float(value) / 1000.0
                except ValueError:
                    return None
    return None


class Transport(Protocol):
    async def exchange(self, method: str, path: str, headers: Headers, body: bytes | None) -> Reply:
        """One request and its reply; a transport failure is a ``Reply`` with ``error``, not an exception."""
        ...

    async def aclose(self) -> None: ...


class AsgiTransport:
    """The service's ASGI app, called directly: one scope, one body message, the reply collected."""

    def __init__(self, app: AsgiApp, host: str = "service") -> None:
        self.app = app
        self._host = host.encode()
        self._server = (host, 80)

    async def exchange(self, method: str, path: str, headers: Headers, body: bytes | None) -> Reply:
        raw = [(b"host", self._host), *headers]
        if body is not None:
            raw.append((b"content-length", str(len(body)).encode()))
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": raw,
            "client": ("127.0.0.1", 50000),
            "server": self._server,
        }
        sent = False
        status: int | None = None
        timing: bytes | None = None
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body or b"", "more_body": False}

        async def send(message: MutableMapping[str, Any]) -> None:
            nonlocal status, timing
            if message["type"] == "http.response.start":
                status = message["status"]
                timing = next((v for k, v in message.get("headers", ()) if k == b"server-timing"), None)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        if status is None:
            return Reply(None, error="RemoteProtocolError: the app sent no response")
        return Reply(status, b"".join(chunks), server_timing=timing)

    async def aclose(self) -> None:
        return None


class HttpTransport:
    """An HTTP service (uvicorn over loopback) through an httpx transport, without the client's
    URL merging, cookie jar and redirect handling."""

    def __init__(self, transport: httpx.AsyncBaseTransport, base_url: str) -> None:
        self.transport = transport
        self._base = httpx.URL(base_url)
        self._urls: dict[str, httpx.URL] = {}

    async def exchange(self, method: str, path: str, headers: Headers, body: bytes | None) -> Reply:
        request = httpx.Request(
            method, self._url(path), headers=headers, content=body, extensions={"timeout": _TIMEOUT}
        )
        try:
            response = await self.transport.handle_async_request(request)
            content = await response.aread()
            await response.aclose()
        except httpx.ConnectError as exc:
            raise ServiceGone(f"{self._base} refused the connection ({exc})") from exc
        except httpx.TransportError as exc:
            return Reply(None, error=f"{type(exc).__name__}: {exc}")
        timing = response.headers.get("server-timing")
        return Reply(response.status_code, content, server_timing=None if timing is None else timing.encode())

    async def aclose(self) -> None:
        await self.transport.aclose()

    def _url(self, path: str) -> httpx.URL:
        url = self._urls.get(path)
        if url is None:
            url = self._urls[path] = self._base.join(path)
        return url
