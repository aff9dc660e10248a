"""The service's CPU as a SimPy resource: queueing latency and busy time in simulated time.

The real service answers each request; this model decides *when* a core was free to run it
and how long its CPU work took, and tells the service both (``X-Sim-Queue-Time``,
``X-Sim-Service-Time``), so the latency and CPU metrics it exports follow the model.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import simpy

from sim.specs import ServerSpec

HOG_SLICE = 0.005  # a CPU hog takes a core in slices this long, as a scheduler would


class Cores:
    """The server's cores: at most ``capacity`` holders, the others served first come, first served.

    ``simpy.Resource`` semantics without its two events per use: a waiter is handed a core by
    ``release`` itself, and a callback holder (a client request) is told at once instead of an
    event later at the same instant. ``request`` gives generator processes (the CPU hog) the
    event they ``yield``; its core goes back with ``release``.
    """

    def __init__(self, env: simpy.Environment, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity(={capacity}) must be >= 1")
        self.env, self.capacity = env, capacity
        self.busy = 0
        self._waiting: deque[Callable[[], object]] = deque()

    def acquire(self, granted: Callable[[], object]) -> None:
        """Call ``granted`` when a core is this caller's: now if one is free, else in turn."""
        if self.busy < self.capacity:
            self.busy += 1
            granted()
        else:
            self._waiting.append(granted)

    def release(self) -> None:
        """Give a core back: to the longest waiter, or free."""
        if self._waiting:
            self._waiting.popleft()()
        else:
            self.busy -= 1

    def request(self) -> simpy.Event:
        """An event that succeeds when a core is the caller's (for processes)."""
        event = self.env.event()
        self.acquire(event.succeed)
        return event


@dataclass
class ServerModel:
    env: simpy.Environment
    spec: ServerSpec
    rng: random.Random
    cores: Cores = field(init=False)
    cpu_seconds: float = 0.0  # CPU work done (started) so far: what the kubelet reads for the autoscaler

    def __post_init__(self) -> None:
        self.cores = Cores(self.env, self.spec.workers)
        self._mu = math.log(self.spec.service_time_median)

    def service_time(self) -> float:
        return self.rng.lognormvariate(self._mu, self.spec.service_time_sigma)

    def hog(self, cores: float, until: float) -> Generator[simpy.Event, Any, None]:
        """Burn ``cores`` cores until ``until``: whole cores held, the fraction in slices."""
        whole, fraction = int(cores), cores - int(cores)
        holders = [self.env.process(self._hold_core(until, 1.0)) for _ in range(whole)]
        if fraction > 1e-9:
            holders.append(self.env.process(self._hold_core(until, fraction)))
        yield self.env.all_of(holders)

    def _hold_core(self, until: float, share: float) -> Generator[simpy.Event, Any, None]:
        while self.env.now < until - 1e-9:
            yield self.cores.request()
            run = min(HOG_SLICE * share, until - self.env.now)
            self.cpu_seconds += run
            yield self.env.timeout(run)
            self.cores.release()
            if share < 1.0 and self.env.now < until - 1e-9:
                yield self.env.timeout(min(HOG_SLICE * (1 - share), until - self.env.now))
