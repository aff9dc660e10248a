"""Steps a SimPy environment from inside one coroutine.

One persistent event loop for the whole run (``asyncio.run`` per request costs ~160 µs and
breaks a shared client), and it works from an already running loop too (Jupyter,
pytest-asyncio): callers ``await drive(...)``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

import simpy

from sim.gateway import ServiceGateway

YIELD_EVERY = 2048  # steps between yields to the event loop: ~0.2 s of wall time at most


class _Progress:
    """Calls ``report`` every ``every`` simulated seconds; ``due`` is compared inline in the loops."""

    def __init__(self, report: Callable[[float], None] | None, every: float) -> None:
        self.report, self.every = report, every
        self.due = every if report is not None else float("inf")

    def tell(self, now: float) -> None:
        assert self.report is not None
        self.report(now)
        self.due += self.every


async def drive(
    env: simpy.Environment,
    gateway: ServiceGateway,
    until: float,
    on_progress: Callable[[float], None] | None = None,
    progress_every: float = 300.0,
) -> None:
    """Process every event before ``until`` (simulated seconds), sending HTTP as it is asked for."""
    progress = _Progress(on_progress, progress_every)
    peek, step = env.peek, env.step  # a few hundred thousand steps an hour: no lookups per step
    steps = 0
    while peek() < until:
        step()
        if gateway.pending:
            await gateway.flush()
        if env.now >= progress.due:
            progress.tell(env.now)
        steps += 1
        if steps % YIELD_EVERY == 0:
            # Exchanges complete without suspending, so without this the loop never ran while
            # simulating: a cancellation (asyncio's Ctrl-C, a notebook's interrupt) waited for
            # the end of the simulation.
            await asyncio.sleep(0)
    if gateway.pending:
        await gateway.flush()


class Pacing(Protocol):
    """The wall clock a live world keeps to, injected (design.md, decision 1): the service's
    ``WallClock`` does, and its ``stop`` cuts a paced wait short when a drill is interrupted."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


async def drive_paced(
    env: simpy.Environment,
    gateway: ServiceGateway,
    until: float,
    clock: Pacing,
    started: float,
    lag: list[float],
    on_progress: Callable[[float], None] | None = None,
    progress_every: float = 300.0,
) -> None:
    """As ``drive``, but on ``clock`` (a live drill): each event waits for its instant, one
    simulated second per second from ``started`` (the clock's time of second 0), and how late
    the world got to it is appended to ``lag`` (seconds). A world that falls behind catches up
    at once, never skips an event: its lag says so."""
    progress = _Progress(on_progress, progress_every)
    while env.peek() < until:
        due = started + env.peek()
        await clock.sleep(due - clock.now())
        lag.append(max(0.0, clock.now() - due))
        env.step()
        if gateway.pending:
            await gateway.flush()
        if env.now >= progress.due:
            progress.tell(env.now)
    if gateway.pending:
        await gateway.flush()
    await clock.sleep(started + until - clock.now())  # the drill lasts its duration, as the world's clock says
