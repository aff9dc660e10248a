"""Releases as a rollout controller runs them (Argo Rollouts, Flagger): a canary moved to the new
version step by step while its analysis passes, or a blue-green switch, rolled back when a gate
fails.

The controller decides from what Prometheus holds at the simulated instant of the decision: it
asks the ``Oracle`` (the harness writes the scrapes taken so far into the run's Prometheus and
evaluates the gates' PromQL there, at that instant) and waits for the answer before the world
moves on (design.md, decision 10). It never computes a metric itself; it compares the numbers
Prometheus gives with the gates' bounds, as Argo's ``successCondition`` does.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Awaitable, Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any

import simpy
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from service.exposition import Exposition  # generate_latest's text, each series' prefix rendered once
from sim.fleet import Fleet
from sim.gateway import json_body
from sim.records import GateResult, RolloutDecision, RolloutRecord, SimResult
from sim.specs import Build, FleetSpec, GateSpec, RolloutSpec

#: ``oracle(t, queries)``: each PromQL query's value at simulated second ``t`` (None: no data).
Oracle = Callable[[float, tuple[str, ...]], Awaitable[list[float | None]]]

CANARY, BLUE_GREEN = "canary", "blue_green"
PROMOTED, ROLLED_BACK, IN_PROGRESS = "promoted", "rolled_back", "in_progress"
PASS, FAIL, INCONCLUSIVE = "pass", "fail", "inconclusive"


class RolloutError(RuntimeError):
    """A rollout cannot be carried out as specified (gates without a Prometheus to ask)."""


def fill(query: str, new: str, old: str) -> str:
    """A gate's PromQL with the versions' label values in place of ``{new}`` and ``{old}``."""
    return query.replace("{new}", new).replace("{old}", old)


def judge_gate(gate: GateSpec, value: float | None, samples: float | None) -> str:
    """Pass, fail, or inconclusive: too few samples, or no data at all (NaN included), is not a
    verdict either way; the step waits for more traffic."""
    if gate.samples is not None and (samples is None or math.isnan(samples) or samples < gate.min_samples):
        return INCONCLUSIVE
    if value is None or math.isnan(value):
        return INCONCLUSIVE
    if gate.max is not None and value > gate.max:
        return FAIL
    if gate.min is not None and value < gate.min:
        return FAIL
    return PASS


def overall(results: tuple[GateResult, ...]) -> str:
    verdicts = {r.verdict for r in results}
    return FAIL if FAIL in verdicts else INCONCLUSIVE if INCONCLUSIVE in verdicts else PASS


class RolloutController:
    """The fleet's releases: which build is stable, what each rollout decided, and the
    ``rollout-controller`` job's exposition (replicas, traffic weights, phases)."""

    def __init__(
        self,
        env: simpy.Environment,
        fleet: Fleet,
        stable: Build,
        spec: FleetSpec,
        oracle: Oracle | None,
        result: SimResult,
        smoke_symbol: str = "AAPL",
    ) -> None:
        self.env, self.fleet, self.stable, self.spec, self.oracle, self.result = (
            env,
            fleet,
            stable,
            spec,
            oracle,
            result,
        )
        self.smoke_body = json_body({"symbol": smoke_symbol})
        self._exposition = Exposition(_ControllerCollector(self))
        self._now = 0.0  # the instant the exposition is rendered for (replicas' readiness)

    # -- one rollout ------------------------------------------------------------------------

    def run(self, spec: RolloutSpec) -> Generator[simpy.Event, Any, None]:
        env = self.env
        yield env.timeout(spec.at)
        if spec.gates and self.oracle is None:
            raise RolloutError(f"rollout {spec.name!r}: its gates need a Prometheus to ask")
        old = self.stable
        record = RolloutRecord(spec.name, spec.kind, spec.build.version, old.version, env.now)
        self.result.rollouts.append(record)
        if spec.kind == CANARY:
            yield from self._canary(spec, record, old)
        else:
            yield from self._blue_green(spec, record, old)

    def _canary(self, spec: RolloutSpec, record: RolloutRecord, old: Build) -> Generator[simpy.Event, Any, None]:
        stable_count = len(self.fleet.of_version(old.version))
        for step in spec.steps:
            if step >= 1.0:  # the last step is the promotion: nothing is left to compare with
                break
            # Argo with traffic routing: canary pods scaled to the step's share of the stable
            # count (at least ``replicas``), and the weight set only once they are available.
            wanted = max(spec.replicas, math.ceil(step * stable_count - 1e-9))
            yield from self._scale_to(spec.build, wanted, record, step)
            self.fleet.set_weights({old.version: 1.0 - step, spec.build.version: step})
            self._decide(record, "step", step, detail=f"{step:.0%} of traffic to {spec.build.version}")
            verdict = yield from self._analyse(spec, record, old.version, step)
            if verdict != PASS:
                self._roll_back(spec, record, old, step)
                return
        yield from self._scale_to(spec.build, stable_count, record, 1.0)
        self._promote(spec, record, old)

    def _blue_green(self, spec: RolloutSpec, record: RolloutRecord, old: Build) -> Generator[simpy.Event, Any, None]:
        blue = len(self.fleet.of_version(old.version))
        yield from self._scale_to(spec.build, blue, record, 0.0)
        failed = 0
        for i in range(spec.smoke_requests):
            green = self.fleet.of_version(spec.build.version)
            reply = yield green[i % len(green)].gateway.request("POST", "/predict", content=self.smoke_body)
            failed += not reply.ok
        detail = f"{spec.smoke_requests - failed}/{spec.smoke_requests} smoke requests answered 200"
        if failed:
            self._decide(record, "smoke", 0.0, detail=detail)
            self._roll_back(spec, record, old, 0.0)
            return
        self.fleet.set_weights({spec.build.version: 1.0})
        self._decide(record, "switch", 1.0, detail=f"{detail}; all traffic to green ({spec.build.version})")
        verdict = yield from self._analyse(spec, record, old.version, 1.0, until=self.env.now + spec.keep_old)
        if verdict != PASS:
            self._roll_back(spec, record, old, 1.0)
            return
        self._promote(spec, record, old)

    # -- analysis ---------------------------------------------------------------------------

    def _analyse(
        self, spec: RolloutSpec, record: RolloutRecord, old: str, step: float, until: float | None = None
    ) -> Generator[simpy.Event, Any, str]:
        """Judge the gates every ``step_every`` seconds: once (a canary step), or until ``until``
        (blue-green keeps judging green while blue waits). Inconclusive judgements hold the step,
        ``inconclusive_limit`` in a row roll back."""
        inconclusive = 0
        while True:
            yield self.env.timeout(spec.step_every if until is None else min(spec.step_every, until - self.env.now))
            results = yield from self._gates(spec, old)
            verdict = overall(results)
            if verdict == FAIL:
                self._decide(record, "analysis", step, results, "a gate failed")
                return FAIL
            if verdict == INCONCLUSIVE:
                inconclusive += 1
                self._decide(record, "hold", step, results, f"inconclusive {inconclusive}/{spec.inconclusive_limit}")
                if inconclusive >= spec.inconclusive_limit or (until is not None and self.env.now >= until - 1e-9):
                    return INCONCLUSIVE  # a release that cannot be verified (in time) is not promoted
                continue
            inconclusive = 0
            self._decide(record, "analysis", step, results, "every gate passed")
            if until is None or self.env.now >= until - 1e-9:
                return PASS

    def _gates(self, spec: RolloutSpec, old: str) -> Generator[simpy.Event, Any, tuple[GateResult, ...]]:
        if not spec.gates:
            return ()
        assert self.oracle is not None
        queries: list[str] = []
        for g in spec.gates:
            queries.append(fill(g.query, spec.build.version, old))
            if g.samples is not None:
                queries.append(fill(g.samples, spec.build.version, old))
        answers = yield self._ask(tuple(queries))
        out, i = [], 0
        for g in spec.gates:
            value = answers[i]
            samples = answers[i + 1] if g.samples is not None else None
            i += 2 if g.samples is not None else 1
            out.append(GateResult(g.name, value, samples, judge_gate(g, value, samples)))
        return tuple(out)

    def _ask(self, queries: tuple[str, ...]) -> simpy.Event:
        """An event that succeeds with the oracle's answers, asked at this very instant."""
        assert self.oracle is not None
        oracle, at, event = self.oracle, self.env.now, self.env.event()
        self.fleet.outbox.ask(lambda: oracle(at, queries), event.succeed)
        return event

    # -- changes to the fleet ---------------------------------------------------------------

    def _scale_to(
        self, build: Build, count: int, record: RolloutRecord, step: float
    ) -> Generator[simpy.Event, Any, None]:
        have = self.fleet.of_version(build.version)
        if len(have) >= count:
            return
        for _ in range(count - len(have)):
            self.fleet.start(build, delay=self.spec.startup_delay)
        self._decide(
            record, "scale", step, detail=f"{count} replicas of {build.version}, ready in {self.spec.startup_delay:g}s"
        )
        yield self.env.timeout(self.spec.startup_delay)

    def _roll_back(self, spec: RolloutSpec, record: RolloutRecord, old: Build, step: float) -> None:
        self.fleet.set_weights({old.version: 1.0})
        for replica in self.fleet.of_version(spec.build.version):
            self.fleet.remove(replica)
        record.outcome, record.at_step, record.ended = ROLLED_BACK, step, self.env.now
        self._decide(record, "rollback", 0.0, detail=f"all traffic back to {old.version}")

    def _promote(self, spec: RolloutSpec, record: RolloutRecord, old: Build) -> None:
        self.fleet.set_weights({spec.build.version: 1.0})
        for replica in self.fleet.of_version(old.version):
            self.fleet.remove(replica)
        self.stable = spec.build
        record.outcome, record.at_step, record.ended = PROMOTED, 1.0, self.env.now
        self._decide(record, "promote", 1.0, detail=f"{spec.build.version} is stable")

    def _decide(
        self,
        record: RolloutRecord,
        action: str,
        step: float,
        gates: tuple[GateResult, ...] = (),
        detail: str = "",
    ) -> None:
        record.decisions.append(RolloutDecision(self.env.now, action, step, gates, detail))

    # -- the controller's /metrics ----------------------------------------------------------

    def exposition(self, now: float) -> str:
        """What a rollout controller and kube-state-metrics would export, for dashboards, in the
        Prometheus text format (rendered as the desks' book is: ``service.exposition``)."""
        self._now = now
        return self._exposition.render().decode()


_PHASES = {IN_PROGRESS: "Progressing", PROMOTED: "Healthy", ROLLED_BACK: "Degraded"}


@dataclass
class _ControllerCollector:
    controller: RolloutController

    def collect(self) -> Iterator[Metric]:
        c = self.controller
        replicas = GaugeMetricFamily(
            "rollout_replicas", "Replicas of the service, by version and readiness.", labels=["state", "version"]
        )
        counts = Counter((r.version, "ready" if r.ready(c._now) else "starting") for r in c.fleet.replicas if r.live)
        for (version, state), n in sorted(counts.items()):
            replicas.add_metric([state, version], n)
        yield replicas
        weights = GaugeMetricFamily(
            "rollout_traffic_weight", "Share of requests the router sends to a version.", labels=["version"]
        )
        for version, weight in sorted(c.fleet.weights.items()):
            weights.add_metric([version], weight)
        yield weights
        phases = GaugeMetricFamily("rollout_phase", "1 for the phase a rollout is in.", labels=["phase", "rollout"])
        for record in c.result.rollouts:
            phases.add_metric([_PHASES[record.outcome], record.name], 1)
        yield phases
