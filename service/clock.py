"""Clocks for the service: every timestamp and duration it reports comes from one of these.

In live mode the wall clock answers. In simulated-clock mode the simulator owns time
(design.md, decision 1): each request carries ``X-Sim-Time`` (Unix seconds) and the service
measures everything on a per-request clock that starts there and only moves when the
service "spends" modelled time (``sleep``). So the same handler code reports latency in
simulated seconds, reproducibly, whether it runs in-process or under uvicorn.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Mapping
from typing import Protocol

SIM_TIME_HEADER = "x-sim-time"
SIM_SERVICE_TIME_HEADER = "x-sim-service-time"
SIM_QUEUE_TIME_HEADER = "x-sim-queue-time"


class ClockHeaderError(ValueError):
    """A simulated-clock request whose time headers are missing or malformed."""


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


class LiveRequestClock:
    """Live mode, one request: wall time, real waiting, latency from a monotonic counter."""

    def __init__(self) -> None:
        self._started = time.perf_counter()

    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def elapsed(self) -> float:
        return time.perf_counter() - self._started

    @property
    def cpu_work(self) -> float:
        return 0.0


class WallClock:
    """Live mode: real time, real waiting."""

    simulated = False

    def now(self) -> float:
        return time.time()

    def for_request(self, headers: Mapping[bytes, bytes]) -> RequestClock:
        return LiveRequestClock()


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


def _header_seconds(headers: Mapping[bytes, bytes], name: str, default: float | None) -> float:
    raw = headers.get(name.encode())
    if raw is None:
        if default is None:
            raise ClockHeaderError(f"header {name} is required when the service runs on a simulated clock")
        return default
    try:
        value = float(raw)  # float() reads bytes as it reads str: no decoding on the hot path
    except ValueError:
        raise ClockHeaderError(f"header {name}={raw.decode('latin-1')!r} is not a number of seconds") from None
    if not math.isfinite(value) or value < 0:
        raise ClockHeaderError(f"header {name}={raw.decode('latin-1')!r} must be a finite number >= 0")
    return value


class SimulatedClock:
    """Simulated mode: each request's clock starts at its ``X-Sim-Time``.

    ``X-Sim-Queue-Time`` is how long the request waited for a core in the simulator's model of
    the server, ``X-Sim-Service-Time`` the CPU work it then took; both count in its latency,
    and the work in the service's CPU time.
    """

    simulated = True

    def __init__(self, start: float = 0.0) -> None:
        self._latest = start

    def now(self) -> float:
        return self._latest

    def for_request(self, headers: Mapping[bytes, bytes]) -> RequestClock:
        start = _header_seconds(headers, SIM_TIME_HEADER, None)
        queued = _header_seconds(headers, SIM_QUEUE_TIME_HEADER, 0.0)
        work = _header_seconds(headers, SIM_SERVICE_TIME_HEADER, 0.0)
        self._latest = max(self._latest, start)
        return ModelledRequestClock(start, queued, work)
