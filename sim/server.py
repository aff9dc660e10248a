"""The service's CPU as a SimPy resource: queueing latency and busy time in simulated time.

The real service answers each request; this model decides *when* a core was free to run it
and how long its CPU work took, and tells the service both (``X-Sim-Queue-Time``,
``X-Sim-Service-Time``), so the latency and CPU metrics it exports follow the model.
"""

from __future__ import annotations

import math
import random
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import simpy

from sim.specs import ServerSpec

HOG_SLICE = 0.005  # a CPU hog takes a core in slices this long, as a scheduler would


@dataclass
class ServerModel:
    env: simpy.Environment
    spec: ServerSpec
    rng: random.Random
    cores: simpy.Resource = field(init=False)

    def __post_init__(self) -> None:
        self.cores = simpy.Resource(self.env, capacity=self.spec.workers)
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
            with self.cores.request() as core:
                yield core
                run = min(HOG_SLICE * share, until - self.env.now)
                yield self.env.timeout(run)
            if share < 1.0 and self.env.now < until - 1e-9:
                yield self.env.timeout(min(HOG_SLICE * (1 - share), until - self.env.now))
