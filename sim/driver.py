"""Steps a SimPy environment from inside one coroutine.

One persistent event loop for the whole run (``asyncio.run`` per request costs ~160 µs and
breaks a shared client), and it works from an already running loop too (Jupyter,
pytest-asyncio): callers ``await drive(...)``.
"""

from __future__ import annotations

from collections.abc import Callable

import simpy

from sim.gateway import ServiceGateway


async def drive(
    env: simpy.Environment,
    gateway: ServiceGateway,
    until: float,
    on_progress: Callable[[float], None] | None = None,
    progress_every: float = 300.0,
) -> None:
    """Process every event before ``until`` (simulated seconds), sending HTTP as it is asked for."""
    next_report = progress_every
    while env.peek() < until:
        env.step()
        if gateway.pending:
            await gateway.flush()
        if on_progress is not None and env.now >= next_report:
            on_progress(env.now)
            next_report += progress_every
    if gateway.pending:
        await gateway.flush()
