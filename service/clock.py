"""Clocks for the service: every timestamp and duration it reports comes from one of these.

In live mode the wall clock answers. In simulated-clock mode the simulator owns time
(design.md, decision 1): each request carries ``X-Sim-Time`` (Unix seconds) and the service
measures everything on a per-request clock that starts there and only moves when the
service "spends" modelled time (``sleep``). So the same handler code reports latency in
simulated seconds, reproducibly, whether it runs in-process or under uvicorn.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Protocol

from service.errors import ServiceError

SIM_TIME_HEADER = "x-sim-time"
SIM_SERVICE_TIME_HEADER = "x-sim-service-time"
SIM_QUEUE_TIME_HEADER = "x-sim-queue-time"
# A time past these is a broken client, not a scenario: taken, it would stay in the clock (which
# never goes back) and in every latency sum from then on.
MAX_SIM_TIME = 7_258_118_400.0  # Unix seconds of 2200-01-01T00:00:00Z
MAX_REQUEST_SECONDS = 3600.0  # queued, or working, for an hour


class ClockError(ServiceError, ValueError):
    """A time outside the range a clock takes."""


class ClockHeaderError(ClockError):
    """A simulated-clock request whose time headers are missing, malformed or out of range."""


class RequestClock(Protocol):
    """The clock one request is measured on."""

    def now(self) -> float:
        """Unix seconds."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Spend ``seconds``: really wait (live) or advance modelled time (simulated)."""
        ...

    def elapsed(self) -> float:
        """Seconds since the request reached the server: its latency once the handler is done."""
        ...

    @property
    def cpu_work(self) -> float:
        """Modelled CPU seconds this request used (0 live, where the process' own CPU time counts)."""
        ...


class Clock(Protocol):
    """Hands each request the clock it is measured on."""

    simulated: bool

    def for_request(self, headers: Mapping[bytes, bytes]) -> RequestClock:
        """``headers``: the request's, as ASGI carries them (lower-case names, raw values)."""
        ...

    def now(self) -> float:
        """The latest time this clock knows, for work outside a request."""
        ...

    def stop(self) -> None:
        """The app is shutting down: whatever waits on this clock stops waiting."""
        ...


class LiveRequestClock:
    """Live mode, one request: wall time, real waiting, latency from a monotonic counter."""

    def __init__(self, wall: WallClock) -> None:
        self._wall = wall
        self._started = time.perf_counter()

    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await self._wall.sleep(seconds)

    def elapsed(self) -> float:
        return time.perf_counter() - self._started

    @property
    def cpu_work(self) -> float:
        return 0.0


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class WallClock:
    """Live mode: real time, real waiting, until ``stop``.

    Waits end early when the app shuts down: an injected delay of a minute (or several
    stacked) would otherwise hold a graceful shutdown that long. The waits are futures the
    clock keeps, woken by a timer or by ``stop``, which must be called from the loop serving
    the requests (the app's lifespan, or ``service.serving``).
    """

    simulated = False

    def __init__(self) -> None:
        self._waiting: set[asyncio.Future[None]] = set()
        self._stopped = False

    def now(self) -> float:
        return time.time()

    def for_request(self, headers: Mapping[bytes, bytes]) -> RequestClock:
        return LiveRequestClock(self)

    async def sleep(self, seconds: float) -> None:
        """``asyncio.sleep(seconds)``, cut short by ``stop``."""
        if self._stopped or seconds <= 0:
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        timer = loop.call_later(seconds, _wake, waiter)
        self._waiting.add(waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiting.discard(waiter)

    def stop(self) -> None:
        self._stopped = True
        for waiter in self._waiting:
            _wake(waiter)


class ModelledRequestClock:
    """Simulated mode, one request: starts at the simulator's time and advances only by sleeps."""

    def __init__(self, start: float, queued: float = 0.0, work: float = 0.0) -> None:
        self._start = start
        self._now = start + queued + work
        self._work = work

    @property
    def cpu_work(self) -> float:
        return self._work

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        self._now += max(0.0, seconds)

    def elapsed(self) -> float:
        return self._now - self._start


_LIMITS = {  # header (as ASGI carries it) -> (name, largest value, what that is)
    b"x-sim-time": (SIM_TIME_HEADER, MAX_SIM_TIME, "2200-01-01T00:00:00Z"),
    b"x-sim-queue-time": (SIM_QUEUE_TIME_HEADER, MAX_REQUEST_SECONDS, "an hour"),
    b"x-sim-service-time": (SIM_SERVICE_TIME_HEADER, MAX_REQUEST_SECONDS, "an hour"),
}


def _header_seconds(headers: Mapping[bytes, bytes], key: bytes, default: float | None) -> float:
    raw = headers.get(key)
    name, upper, meaning = _LIMITS[key]
    if raw is None:
        if default is None:
            raise ClockHeaderError(f"header {name} is required when the service runs on a simulated clock")
        return default
    try:
        value = float(raw)  # float() reads bytes as it reads str: no decoding on the hot path
    except ValueError:
        raise ClockHeaderError(f"header {name}={raw.decode('latin-1')!r} is not a number of seconds") from None
    if not 0.0 <= value <= upper:  # False for NaN too
        raise ClockHeaderError(
            f"header {name}={raw.decode('latin-1')!r} must be a finite number >= 0 and <= {upper:.0f} ({meaning})"
        )
    return value


class SimulatedClock:
    """Simulated mode: each request's clock starts at its ``X-Sim-Time``.

    ``X-Sim-Queue-Time`` is how long the request waited for a core in the simulator's model of
    the server, ``X-Sim-Service-Time`` the CPU work it then took; both count in its latency,
    and the work in the service's CPU time.
    """

    simulated = True

    def __init__(self, start: float = 0.0) -> None:
        if not 0.0 <= start <= MAX_SIM_TIME:
            raise ClockError(f"start={start!r} must be Unix seconds >= 0 and <= {MAX_SIM_TIME:.0f} (2200-01-01)")
        self._latest = start

    def now(self) -> float:
        return self._latest

    def for_request(self, headers: Mapping[bytes, bytes]) -> RequestClock:
        """Every header is checked before any is taken, so a rejected request moves nothing; the
        clock's own time only ever moves forward (a request that queued is stamped earlier)."""
        start = _header_seconds(headers, b"x-sim-time", None)
        queued = _header_seconds(headers, b"x-sim-queue-time", 0.0)
        work = _header_seconds(headers, b"x-sim-service-time", 0.0)
        if start > self._latest:
            self._latest = start
        return ModelledRequestClock(start, queued, work)

    def stop(self) -> None:
        """Nothing to cut short: modelled time is never waited for."""
