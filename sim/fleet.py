"""The service as replicas behind a weighted router: a Kubernetes Service in front of a
Deployment's pods, with a traffic split per version as a service mesh (or Argo Rollouts'
canary weights) sets it.

Each replica is a real service of its own (an app instance in-process, a process with
``--spawn``) with its own cores, scraped as its own target. The router picks a version by its
weight, then one of that version's ready replicas at random. A world of one replica never draws
from the router's stream, so it is the world of before replicas existed, bit for bit.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import simpy

from sim.gateway import Outbox, ServiceGateway
from sim.records import SimResult, TargetScrapes
from sim.server import ServerModel
from sim.specs import Build, FleetSpec
from sim.transport import Transport

#: What builds a replica's service: a fresh app or process running ``build``'s model.
Launcher = Callable[[Build], Transport]

SINGLE_INSTANCE = "prediction-api:8000"  # the one target of a world without a deployment


class FleetError(RuntimeError):
    """The fleet cannot do what a rollout or the autoscaler asks (no launcher to start a replica)."""


@dataclass(eq=False)
class Replica:
    instance: str
    build: Build
    gateway: ServiceGateway
    server: ServerModel
    target: TargetScrapes
    ready_at: float
    removed_at: float | None = None

    @property
    def version(self) -> str:
        return self.build.version

    @property
    def live(self) -> bool:
        """Running (started, not removed): it takes features and chaos, even before it is ready."""
        return self.removed_at is None

    def ready(self, now: float) -> bool:
        return self.removed_at is None and now >= self.ready_at


class Fleet:
    """The replicas, their versions' traffic weights, and the router.

    ``weights`` are by version; a version without weight gets no traffic, and one whose replicas
    are not ready yet gets none either (a request is never routed to a pod that is not ready).
    """

    def __init__(
        self,
        env: simpy.Environment,
        spec: FleetSpec,
        start_unix: float,
        admin_token: str | None,
        launch: Launcher | None,
        service_rng: random.Random,
        router_rng: random.Random,
        result: SimResult,
    ) -> None:
        self.env, self.spec, self.start_unix, self.admin_token = env, spec, start_unix, admin_token
        self.launch, self.service_rng, self.router_rng, self.result = launch, service_rng, router_rng, result
        self.outbox = Outbox()
        self.replicas: list[Replica] = []
        self.weights: dict[str, float] = {}
        self._table: tuple[list[float], list[Replica]] | None = None
        self._started = 0

    # -- the replicas ------------------------------------------------------------------------

    def start(self, build: Build, transport: Transport | None = None, delay: float = 0.0) -> Replica:
        """A new replica of ``build``, ready ``delay`` seconds from now; ``transport`` is an
        already started service (the run's first replica), else the launcher starts one."""
        if transport is None:
            if self.launch is None:
                raise FleetError("starting a replica needs a launcher (in-process or --spawn, not --service-url)")
            transport = self.launch(build)
        index = self._started
        self._started += 1
        instance = f"prediction-api-{index}:8000" if self.spec.labelled else SINGLE_INSTANCE
        gateway = ServiceGateway(self.env, transport, self.start_unix, self.admin_token, outbox=self.outbox)
        replica = Replica(
            instance,
            build,
            gateway,
            ServerModel(self.env, build.server, self.service_rng),
            TargetScrapes(instance, build.version if self.spec.labelled else None),
            self.env.now + delay,
        )
        self.replicas.append(replica)
        self.result.targets.append(replica.target)
        if delay > 0:
            self.env.process(self._becomes_ready(delay))
        self._table = None
        return replica

    def _becomes_ready(self, delay: float) -> Generator[simpy.Event, Any, None]:
        """The routing table is rebuilt once a replica started now is ready."""
        yield self.env.timeout(delay)
        self._table = None

    def remove(self, replica: Replica) -> None:
        """Take ``replica`` out of the router at once; what it was already serving completes
        (its cores drain), and its scrapes stop at the next scrape (``TargetScrapes.ended``)."""
        if replica.removed_at is None:
            replica.removed_at = self.env.now
            self._table = None

    def live(self) -> list[Replica]:
        return [r for r in self.replicas if r.live]

    def of_version(self, version: str) -> list[Replica]:
        return [r for r in self.replicas if r.live and r.version == version]

    def set_weights(self, weights: dict[str, float]) -> None:
        self.weights = dict(weights)
        self._table = None

    @property
    def primary(self) -> ServiceGateway:
        """The gateway of the first replica: the world's clock and, alone, its service."""
        return self.replicas[0].gateway

    # -- the router --------------------------------------------------------------------------

    def route(self) -> Replica:
        """The replica a request arriving now goes to."""
        table = self._table
        if table is None:
            table = self._table = self._routing()
        bounds, replicas = table
        if len(replicas) == 1:
            return replicas[0]
        return replicas[bisect(bounds, self.router_rng.random() * bounds[-1])]

    def _routing(self) -> tuple[list[float], list[Replica]]:
        now = self.env.now
        ready = [r for r in self.replicas if r.ready(now)]
        by_version: dict[str, list[Replica]] = {}
        for r in ready:
            by_version.setdefault(r.version, []).append(r)
        bounds: list[float] = []
        chosen: list[Replica] = []
        total = 0.0
        for version, members in by_version.items():
            weight = self.weights.get(version, 0.0)
            if weight <= 0:
                continue
            for r in members:
                total += weight / len(members)
                bounds.append(total)
                chosen.append(r)
        if not chosen:  # nothing routable (all replicas down or starting): the oldest live one fails them
            fallback = self.live() or self.replicas
            return [1.0], [fallback[0]]
        return bounds, chosen

    # -- the world's plumbing ----------------------------------------------------------------

    async def aclose(self) -> None:
        for r in self.replicas:
            await r.gateway.aclose()
