"""The HorizontalPodAutoscaler as a process of the world: every sync period it reads each
replica's CPU as the kubelet does (the CPU the replica's cores did over the period, over the
cores it requested; not through Prometheus) and applies ``sim.autoscaler.decide`` to the stable
version's replicas. A new replica serves only after the fleet's start-up delay; a replica removed
first stops taking requests and finishes those it has."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from sim.autoscaler import HpaSpec, PodSample, Recommendations, decide
from sim.fleet import Fleet, Replica
from sim.records import RolloutDecision, SimResult
from sim.rollout import RolloutController


def autoscale(
    env: simpy.Environment,
    fleet: Fleet,
    controller: RolloutController,
    spec: HpaSpec,
    startup_delay: float,
    result: SimResult,
) -> Generator[simpy.Event, Any, None]:
    history: Recommendations = ()
    read: dict[Replica, tuple[float, float]] = {}  # replica: (time, cpu seconds) at the last sync
    while True:
        yield env.timeout(spec.sync_period)
        now = env.now
        replicas = fleet.of_version(controller.stable.version)
        pods = []
        for r in replicas:
            before = read.get(r)
            read[r] = (now, r.server.cpu_seconds)
            if before is None or not r.ready(now):
                pods.append(PodSample(r.ready(now), None))
            else:
                used = (r.server.cpu_seconds - before[1]) / (now - before[0])
                pods.append(PodSample(True, used / r.server.spec.workers))
        decision, history = decide(spec, now, len(replicas), pods, history)
        if decision.desired == len(replicas):
            continue
        if decision.desired > len(replicas):
            for _ in range(decision.desired - len(replicas)):
                fleet.start(controller.stable, delay=startup_delay)
        else:
            for r in replicas[decision.desired :][::-1]:  # the newest go first
                fleet.remove(r)
        shown = "n/a" if decision.utilisation is None else f"{decision.utilisation:.0%}"
        detail = f"{len(replicas)} -> {decision.desired} replicas: CPU {shown} of requests ({decision.reason})"
        result.scaling.append(RolloutDecision(now, "scale", None, (), detail))
