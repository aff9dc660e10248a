"""The one door from the simulated world to the service: HTTP through httpx.

SimPy processes are generators and cannot ``await``; the service is async. A process asks the
gateway for an exchange and gets a SimPy event back; the driver (``sim.driver``) awaits every
queued exchange, in the order they were asked for, before simulated time moves on. So each
request is sent at exactly the simulated instant it was issued, stamped with that instant,
and a run is reproducible from its seed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import simpy

# The service's contract: the headers its simulated clock reads.
from service.clock import SIM_QUEUE_TIME_HEADER, SIM_SERVICE_TIME_HEADER, SIM_TIME_HEADER

_TIMEOUT = httpx.Timeout(30.0).as_dict()  # only a service over loopback can be slow in wall time


@dataclass(frozen=True)
class Reply:
    """What came back: a status and body, or the transport error that stopped the exchange."""

    status: int | None
    content: bytes = b""
    error: str | None = None

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


@dataclass
class _Exchange:
    event: simpy.Event
    method: str
    path: str
    headers: dict[str, str]
    json: Any = None


@dataclass
class ServiceGateway:
    env: simpy.Environment
    transport: httpx.AsyncBaseTransport
    base_url: httpx.URL
    start_unix: float
    admin_token: str | None = None
    down: bool = False
    _queue: list[_Exchange] = field(default_factory=list)
    _urls: dict[str, httpx.URL] = field(default_factory=dict)
    _retired: list[httpx.AsyncBaseTransport] = field(default_factory=list)

    def now_unix(self) -> float:
        return self.start_unix + self.env.now

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        service_time: float = 0.0,
        queue_time: float = 0.0,
        arrived: float | None = None,
        admin: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> simpy.Event:
        """Queue one exchange; the returned event succeeds with its ``Reply``.

        ``arrived`` (simulated seconds) is when the request reached the server, if it then
        waited ``queue_time`` for a core before being handled now.
        """
        at = self.start_unix + (self.env.now if arrived is None else arrived)
        sent = {SIM_TIME_HEADER: repr(at)}
        if service_time:
            sent[SIM_SERVICE_TIME_HEADER] = repr(service_time)
        if queue_time:
            sent[SIM_QUEUE_TIME_HEADER] = repr(queue_time)
        if admin and self.admin_token:
            sent["Authorization"] = f"Bearer {self.admin_token}"
        if headers:
            sent.update(headers)
        event = self.env.event()
        self._queue.append(_Exchange(event, method, path, sent, json))
        return event

    @property
    def pending(self) -> bool:
        return bool(self._queue)

    async def flush(self) -> None:
        """Send every queued exchange in order and hand each its reply."""
        while self._queue:
            batch, self._queue = self._queue, []
            for ex in batch:
                ex.event.succeed(await self._send(ex))

    def crash(self) -> None:
        """The service process is gone: every exchange fails as a refused connection would."""
        self.down = True

    def restart(self, transport: httpx.AsyncBaseTransport) -> None:
        """A new service process answers from now on (fresh state: its counters start at zero)."""
        self._retired.append(self.transport)
        self.transport, self.down = transport, False

    async def aclose(self) -> None:
        for transport in [*self._retired, self.transport]:
            await transport.aclose()

    async def _send(self, ex: _Exchange) -> Reply:
        if self.down:
            return Reply(None, error="ConnectError: connection refused (service down)")
        # Straight to the transport: the client's URL merging, cookie jar and redirect handling
        # would otherwise cost more wall time per request than the service itself.
        headers = ex.headers
        content = None
        if ex.json is not None:
            content = json.dumps(ex.json).encode()
            headers = {**headers, "Content-Type": "application/json"}
        request = httpx.Request(
            ex.method, self._url(ex.path), headers=headers, content=content, extensions={"timeout": _TIMEOUT}
        )
        try:
            response = await self.transport.handle_async_request(request)
            content = await response.aread()
            await response.aclose()
        except httpx.TransportError as exc:
            return Reply(None, error=f"{type(exc).__name__}: {exc}")
        return Reply(response.status_code, content)

    def _url(self, path: str) -> httpx.URL:
        url = self._urls.get(path)
        if url is None:
            url = self._urls[path] = self.base_url.join(path)
        return url
