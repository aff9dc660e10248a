"""Steps a SimPy environment from inside one coroutine.

One persistent event loop for the whole run (``asyncio.run`` per request costs ~160 µs and
breaks a shared client), and it works from an already running loop too (Jupyter,
pytest-asyncio): callers ``await drive(...)``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import simpy

from sim.gateway import ServiceGateway

YIELD_EVERY = 2048  # steps between yields to the event loop: ~0.2 s of wall time at most


async def drive(
    env: simpy.Environment,
    gateway: ServiceGateway,
    until: float,
    on_progress: Callable[[float], None] | None = None,
    progress_every: float = 300.0,
) -> None:
    """Process every event before ``until`` (simulated seconds), sending HTTP as it is asked for."""
    next_report = progress_every if on_progress is not None else float("inf")
    peek, step = env.peek, env.step  # a few hundred thousand steps an hour: no lookups per step
    steps = 0
    while peek() < until:
        step()
        if gateway.pending:
            await gateway.flush()
        if env.now >= next_report:
            assert on_progress is not None
            on_progress(env.now)
            next_report += progress_every
        steps += 1
        if steps % YIELD_EVERY == 0:
            # Exchanges complete without suspending, so without this the loop never ran while
            # simulating: a cancellation (asyncio's Ctrl-C, a notebook's interrupt) waited for
            # the end of the simulation.
            await asyncio.sleep(0)
    if gateway.pending:
        await gateway.flush()


async def drive_paced(
    env: simpy.Environment,
    gateway: ServiceGateway,
    until: float,
    lag: list[float],
    on_progress: Callable[[float], None] | None = None,
    progress_every: float = 300.0,
) -> None:
    """As ``drive``, but on the wall clock (a live drill): each event waits for its instant, one
    simulated second per second from now, and how late the world got to it is appended to ``lag``
    (seconds). A world that falls behind catches up at once, never skips an event: its lag says so."""
    started = time.time()
    next_report = progress_every if on_progress is not None else float("inf")
    while env.peek() < until:
        due = started + env.peek()
        delay = due - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        lag.append(max(0.0, time.time() - due))
        env.step()
        if gateway.pending:
            await gateway.flush()
        if env.now >= next_report:
            assert on_progress is not None
            on_progress(env.now)
            next_report += progress_every
    if gateway.pending:
        await gateway.flush()
    rest = started + until - time.time()
    if rest > 0:
        await asyncio.sleep(rest)  # the drill lasts its duration, as the world's clock says
