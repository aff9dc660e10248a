"""Deployments in a scenario file: the service's replicas and autoscaler (``deployment:``), the
releases during the run (``deployments:``: canary and blue-green, with gates) and what they must
come to (``rollout_expectations:``).

A scenario without ``deployment:`` is the single service of before: one target, no ``version``
label, the same world bit for bit. With it, every replica is its own target and carries the
version of the model it serves.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from harness.engine import parse_duration
from service.model import load_model  # the service's loader: the version is the one it serves
from sim.autoscaler import HpaSpec
from sim.records import RolloutDecision, RolloutRecord, SimResult
from sim.specs import Build, FleetSpec, GateSpec, RolloutSpec, ServerSpec, WorldSpec

if TYPE_CHECKING:
    from harness.scenario import Scenario

Seconds = Annotated[float, BeforeValidator(parse_duration), Field(ge=0)]
PositiveSeconds = Annotated[float, BeforeValidator(parse_duration), Field(gt=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AutoscalingModel(_Strict):
    """A HorizontalPodAutoscaler on CPU (``sim.autoscaler``): Kubernetes' defaults unless set."""

    min_replicas: int = Field(default=1, ge=1, le=64)
    max_replicas: int = Field(default=10, ge=1, le=64)
    target_cpu: float = Field(default=0.6, gt=0, le=1, description="Average CPU over requested, e.g. 0.6.")
    tolerance: float = Field(default=0.1, ge=0, lt=1)
    sync_period: PositiveSeconds = 15.0
    scale_down_stabilisation: Seconds = 300.0

    @model_validator(mode="after")
    def _bounds(self) -> AutoscalingModel:
        if self.max_replicas < self.min_replicas:
            raise ValueError(f"max_replicas {self.max_replicas} is below min_replicas {self.min_replicas}")
        if abs(self.target_cpu * 100 - round(self.target_cpu * 100)) > 1e-9:
            raise ValueError("target_cpu must be a whole percent (Kubernetes' averageUtilization), e.g. 0.6")
        return self

    def spec(self) -> HpaSpec:
        return HpaSpec(
            self.min_replicas,
            self.max_replicas,
            self.target_cpu,
            self.tolerance,
            self.sync_period,
            self.scale_down_stabilisation,
        )


class DeploymentOptions(_Strict):
    """The service as replicas: how many at the start, how long a new one takes to be ready."""

    replicas: int = Field(default=1, ge=1, le=64)
    startup_delay: Seconds = Field(default=30.0, description="From a replica's start to its first request.")
    autoscaling: AutoscalingModel | None = None


class Gate(_Strict):
    """A rollout gate: PromQL giving one number, ``{new}`` and ``{old}`` standing for the versions."""

    name: str = Field(pattern=r"^[A-Za-z0-9_-]+$", max_length=64)
    query: str = Field(min_length=1)
    max: float | None = None
    min: float | None = None
    samples: str | None = Field(default=None, description="PromQL counting what the gate judges on.")
    min_samples: float = Field(default=0.0, ge=0)

    @model_validator(mode="after")
    def _bounded(self) -> Gate:
        if self.max is None and self.min is None:
            raise ValueError("a gate needs max or min (or both)")
        if self.min_samples > 0 and self.samples is None:
            raise ValueError("min_samples needs samples: the PromQL that counts them")
        return self


def _percent_steps(steps: tuple[float, ...]) -> tuple[float, ...]:
    if any(b <= a for a, b in itertools.pairwise(steps)):
        raise ValueError("steps must increase")
    if steps[-1] != 100:
        raise ValueError("the last step must be 100 (percent): a canary ends with all traffic or is rolled back")
    return steps


class Rollout(_Strict):
    """A release at ``at``: the new ``model`` by canary steps, or blue-green."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", max_length=64)
    kind: Literal["canary", "blue_green"]
    at: Seconds
    model: str = Field(min_length=1, description="The new version's model artifact, relative to the scenario file.")
    service_time_median: PositiveSeconds | None = Field(
        default=None, description="CPU work per request on the new version (default: the scenario's server)."
    )
    steps: Annotated[tuple[Annotated[float, Field(gt=0, le=100)], ...], AfterValidator(_percent_steps)] = Field(
        default=(5.0, 25.0, 50.0, 100.0), min_length=1, description="Percent of traffic, canary only."
    )
    step_every: PositiveSeconds = 600.0
    replicas: int = Field(default=1, ge=1, le=64, description="At least this many canary replicas.")
    gates: tuple[Gate, ...] = ()
    keep_old: PositiveSeconds = Field(default=600.0, description="Blue-green: blue kept this long after the switch.")
    smoke_requests: int = Field(default=20, ge=0, le=10_000)
    inconclusive_limit: int = Field(default=3, ge=1, le=100)


class RolloutExpectation(_Strict):
    """What a rollout must come to: ``outcome`` at the step (percent) ``at_step``, decided
    ``within`` seconds of the rollout's start."""

    deployment: str = Field(min_length=1)
    outcome: Literal["promoted", "rolled_back"]
    at_step: float | None = Field(default=None, ge=0, le=100)
    within: tuple[Seconds, Seconds] | None = None
    max_failed_requests: int | None = Field(
        default=None, ge=0, description="Requests that did not answer 200 from the rollout's start to its end."
    )


def deployment_problems(scenario: Scenario) -> list[tuple[tuple[str | int, ...], str]]:
    """Checks across fields, each with the location of the field at fault."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    names = [d.name for d in scenario.deployments]
    for i, d in enumerate(scenario.deployments):
        if names.index(d.name) != i:
            problems.append((("deployments", i, "name"), f"deployment name {d.name!r} is used twice"))
        if d.at >= scenario.duration:
            problems.append((("deployments", i, "at"), f"starts at {d.at:g}s, not before the run's end"))
    if scenario.deployments and scenario.deployment is None:
        problems.append((("deployments",), "a release needs the service as replicas: add deployment: {replicas: N}"))
    for i, e in enumerate(scenario.rollout_expectations):
        if e.deployment not in names:
            where = ("rollout_expectations", i, "deployment")
            problems.append((where, f"{e.deployment!r} names no deployment (deployments: {names})"))
    return problems


def load_build(scenario: Scenario, base_dir: Path, model: str, service_time: float | None) -> Build:
    """A build from a model file: its version is the artifact's own (what its series carry)."""
    path = (base_dir / model).resolve()
    server = ServerSpec(
        scenario.server.workers,
        scenario.server.service_time_median if service_time is None else service_time,
        scenario.server.service_time_sigma,
    )
    return Build(load_model(path).version, str(path), server)


def with_deployments(world: WorldSpec, scenario: Scenario, base_dir: Path) -> WorldSpec:
    """The scenario's world with its replicas, autoscaler and releases (the models read for
    their versions; a missing or broken one raises ``ModelFileError``)."""
    options = scenario.deployment
    if options is None:
        return world
    stable = load_build(scenario, base_dir, scenario.model, None)
    rollouts = []
    for d in scenario.deployments:
        build = load_build(scenario, base_dir, d.model, d.service_time_median)
        if build.version == stable.version:
            raise ValueError(f"deployment {d.name!r}: its model has the version already serving ({build.version})")
        gates = tuple(GateSpec(g.name, g.query, g.max, g.min, g.samples, g.min_samples) for g in d.gates)
        steps = tuple(s / 100 for s in d.steps)
        rollouts.append(
            RolloutSpec(
                d.name,
                d.kind,
                d.at,
                build,
                steps,
                d.step_every,
                d.replicas,
                gates,
                d.keep_old,
                d.smoke_requests,
                d.inconclusive_limit,
            )
        )
    scaling = options.autoscaling.spec() if options.autoscaling is not None else None
    fleet = FleetSpec(options.replicas, True, options.startup_delay, scaling)
    return dataclasses.replace(world, build=stable, fleet=fleet, rollouts=tuple(rollouts))


def judge_rollout(
    e: RolloutExpectation, records: list[RolloutRecord], failed_at: Sequence[float] = ()
) -> tuple[bool, str]:
    """Whether the rollout came to what ``e`` says: (passed, what was observed). ``failed_at``:
    when each request that failed ended."""
    record = next((r for r in records if r.name == e.deployment), None)
    if record is None:
        return False, "never started"
    step = None if record.at_step is None else record.at_step * 100
    observed = f"{record.outcome}" + (f" at {step:g}%" if step is not None else "")
    if record.ended is not None:
        observed += f", {record.ended - record.started:g}s after it started"
    passed = record.outcome == e.outcome
    if e.at_step is not None:
        passed = passed and step is not None and abs(step - e.at_step) < 1e-9
    if e.within is not None:
        passed = passed and record.ended is not None and e.within[0] <= record.ended - record.started <= e.within[1]
    if e.max_failed_requests is not None:
        end = math.inf if record.ended is None else record.ended
        failed = sum(record.started <= t <= end for t in failed_at)
        observed += f", {failed} failed requests meanwhile"
        passed = passed and failed <= e.max_failed_requests
    return passed, observed


def deployments_json(sim: SimResult) -> dict[str, object]:
    """A run's releases and the autoscaler's changes, every decision with what Prometheus
    answered each gate (the run folder's ``deployments.json``)."""

    def decision(d: RolloutDecision) -> dict[str, object]:
        return {
            "time": d.time,
            "action": d.action,
            "step": d.step,
            "detail": d.detail,
            "gates": [{"gate": g.gate, "value": g.value, "samples": g.samples, "verdict": g.verdict} for g in d.gates],
        }

    return {
        "rollouts": [
            {
                "name": r.name,
                "kind": r.kind,
                "version": r.version,
                "old_version": r.old_version,
                "started": r.started,
                "outcome": r.outcome,
                "at_step": r.at_step,
                "ended": r.ended,
                "decisions": [decision(d) for d in r.decisions],
            }
            for r in sim.rollouts
        ],
        "scaling": [decision(d) for d in sim.scaling],
        "replicas": [
            {"instance": t.instance, "version": t.version, "scrapes": len(t.scrapes), "ended": t.ended}
            for t in sim.targets
        ],
    }


def describe_rollout(e: RolloutExpectation) -> str:
    text = f"{e.deployment} is {e.outcome.replace('_', ' ')}"
    if e.at_step is not None:
        text += f" at {e.at_step:g}%"
    if e.within is not None:
        text += f" within [{e.within[0]:g}s, {e.within[1]:g}s] of its start"
    if e.max_failed_requests is not None:
        text += f", with at most {e.max_failed_requests} failed requests"
    return text
