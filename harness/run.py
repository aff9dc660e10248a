"""One run: simulate the scenario against the service, store the samples in a real Prometheus,
evaluate the rules there, judge the expectations, and leave a run folder behind."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import httpx

from harness.deployments import deployments_json, with_deployments
from harness.engine import (
    AlertInstance,
    Evaluation,
    EvaluationWindow,
    Labels,
    RuleGroup,
    RuleTimeline,
    SampleSet,
    StartingPrometheus,
    checking_rules,
    evaluate_groups,
    read_rule_groups,
    starting_prometheus,
    write,
)
from harness.errors import ConfigurationError, FaultError, ServiceLostError
from harness.events import RunListener, Silent
from harness.gates import GateOracle, LiveSamples
from harness.notify import (
    DEFAULT_SPEED,
    Outage,
    Replay,
    ReplaySettings,
    check_config,
    pushes,
    read_alertmanager_config,
    replay,
)
from harness.record import (
    instance_json,
    replaced_atomically,
    writable_folder,
    write_json,
    write_jsonl,
    write_openmetrics,
    write_samples_parquet,
    write_signals,
    write_states,
)
from harness.scenario import ReceiverOutage, Scenario, check_alert_names
from harness.signals import SignalSeries, evaluate_signals
from harness.targets import Target, in_process, remote, spawned
from harness.verdict import Verdict, judge
from service.model import ModelFileError, load_model
from sim import SimResult, WorldSpec, simulate
from sim.faults import FaultInjectionError
from sim.records import FaultRecord
from sim.rollout import Oracle
from sim.specs import FaultKind
from sim.transport import ServiceGone


@dataclass
class RunResult:
    scenario: Scenario
    seed: int
    verdict: Verdict
    sim: SimResult
    samples: SampleSet
    timelines: list[RuleTimeline]
    rule_files: list[Path]
    timings: dict[str, float] = field(default_factory=dict)
    out_dir: Path | None = None
    signals: list[SignalSeries] = field(default_factory=list)
    replay: Replay | None = None  # the notifications, when the alerts were replayed through Alertmanager
    drill: dict[str, object] | None = None  # a live drill's own facts (harness.drill_run), verdict.json's "drill"

    @property
    def passed(self) -> bool:
        return self.verdict.passed

    @property
    def alerts(self) -> list[AlertInstance]:
        return sorted((a for t in self.timelines for a in t.instances), key=lambda a: (a.active_at, a.alertname))


@contextmanager
def _timed(timings: dict[str, float], phase: str, listener: RunListener) -> Iterator[None]:
    listener.phase_started(phase)
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[phase] = time.perf_counter() - started
        listener.phase_finished(phase, timings[phase])


def rule_paths(scenario: Scenario, base_dir: Path) -> list[Path]:
    return [(base_dir / p).resolve() for p in scenario.rules]


ServiceMode = Literal["in-process", "spawn"] | str  # or the URL of a service already running


def model_path(scenario: Scenario, base_dir: Path) -> Path:
    """The scenario's model artifact, checked here so a bad one is a configuration error, not a crash."""
    path = (base_dir / scenario.model).resolve()
    try:
        load_model(path)
    except ModelFileError as exc:
        raise ConfigurationError(f"scenario {scenario.name}: field model: {exc}") from exc
    return path


@contextmanager
def service_target(
    mode: ServiceMode,
    seed: int,
    world: WorldSpec,
    admin_token: str | None,
    model: Path | None = None,
    scale_out_rps: float | None = None,
) -> Iterator[Target]:
    if mode == "in-process":
        symbols = world.traffic.all_symbols
        with in_process(seed, world.server.workers, world.start_unix, model, scale_out_rps, symbols) as target:
            yield target
    elif mode == "spawn":
        with spawned(seed, world.server.workers, model, scale_out_rps, world.traffic.all_symbols) as target:
            yield target
    else:
        with remote(mode, admin_token) as target:
            yield target


def scenario_world(scenario: Scenario, seed: int, base_dir: Path | None) -> WorldSpec:
    """The simulator's view of the scenario, its replicas and releases included (their models
    are read from ``base_dir`` for their versions)."""
    world = scenario.world(seed)
    if scenario.deployment is None:
        return world
    if base_dir is None:
        raise ConfigurationError(f"scenario {scenario.name}: a deployment needs the scenario's folder for its models")
    try:
        return with_deployments(world, scenario, base_dir)
    except (ModelFileError, ValueError) as exc:
        raise ConfigurationError(f"scenario {scenario.name}: field deployments: {exc}") from exc


async def simulate_scenario(
    scenario: Scenario,
    seed: int,
    listener: RunListener | None = None,
    service: ServiceMode = "in-process",
    admin_token: str | None = None,
    model: Path | None = None,
    base_dir: Path | None = None,
    oracle: Oracle | None = None,
    result: SimResult | None = None,
) -> SimResult:
    """Drive the service (in-process by default) through the scenario's world; ``oracle``
    answers its rollouts' gates, ``result`` is filled as the world runs."""
    listener = listener or Silent()
    world = scenario_world(scenario, seed, base_dir)
    scale_out = scenario.service.scale_out_rps
    with service_target(service, seed, world, admin_token, model, scale_out) as target:
        grows = world.fleet.replicas > 1 or world.rollouts or world.fleet.autoscaling is not None
        if grows and target.launch is None:
            raise ConfigurationError(
                f"scenario {scenario.name}: replicas and releases need a service alertdrill starts "
                "(in-process or --spawn, not --service-url)"
            )
        try:
            return await simulate(
                world,
                target.start(),
                admin_token=target.admin_token,
                on_progress=lambda now: listener.simulated(now, world.duration),
                restart=target.restart,
                launch=target.launch,
                oracle=oracle,
                result=result,
            )
        except FaultInjectionError as exc:
            raise FaultError(f"{scenario.name}: {exc}") from exc
        except ServiceGone as exc:
            raise ServiceLostError(f"{scenario.name}: the service is gone: {exc}{target.last_words()}") from exc


@dataclass
class Preflight:
    """A run's listener that, at each progress tick of the simulation, also asks whether what
    the run will need next still stands (promtool has not rejected the rules, Prometheus has not
    exited): a failure ends the run then, not after minutes of simulating for nothing."""

    listener: RunListener
    checks: tuple[Callable[[], None], ...]

    def phase_started(self, phase: str) -> None:
        self.listener.phase_started(phase)

    def phase_finished(self, phase: str, seconds: float) -> None:
        self.listener.phase_finished(phase, seconds)

    def simulated(self, now: float, total: float) -> None:
        for check in self.checks:
            check()
        self.listener.simulated(now, total)


def evaluate(
    starting: StartingPrometheus,
    samples: SampleSet,
    groups: list[RuleGroup],
    window: EvaluationWindow,
    timings: dict[str, float],
    listener: RunListener,
    *,
    signals: bool = False,
    unwritten: list[tuple[Labels, list[tuple[int, float]]]] | None = None,
) -> tuple[Evaluation, list[SignalSeries]]:
    """Write the samples into the run's Prometheus (those not ``unwritten`` already are there:
    a rollout's gates asked for them) and evaluate every group there; with ``signals``, also
    what each alert watched (for a run folder's plots)."""
    prom = starting.ready()
    with httpx.Client(timeout=60.0) as client:
        with _timed(timings, "write", listener):
            write(client, prom.url, list(samples.series.items()) if unwritten is None else unwritten)
        with _timed(timings, "evaluate", listener):
            evaluation = evaluate_groups(client, prom.url, groups, window)
        if not signals:
            return evaluation, []
        with _timed(timings, "signals", listener):
            return evaluation, evaluate_signals(client, prom.url, groups, window)


def alertmanager_path(scenario: Scenario, base_dir: Path) -> Path | None:
    """The Alertmanager config the run's alerts are replayed through. None when the scenario
    names none and the default one is not there (a folder of scenarios without ``config/``):
    the run then records no notifications, unless it expects some."""
    path = (base_dir / scenario.alertmanager).resolve()
    if path.exists() or "alertmanager" in scenario.model_fields_set or scenario.notifications is not None:
        return path
    return None


def receiver_outages(scenario: Scenario) -> tuple[Outage, ...]:
    return tuple(
        Outage(f.receiver, f.start, f.start + f.duration, f.status)
        for f in scenario.faults
        if isinstance(f, ReceiverOutage)
    )


def notify(
    scenario: Scenario,
    groups: list[RuleGroup],
    timelines: list[RuleTimeline],
    am_config: dict[str, object],
    am_path: Path,
    speed: float,
    out_dir: Path | None,
) -> Replay:
    """The run's alerts, as Prometheus' notifier sends them, through the real Alertmanager."""
    interval = {id(rule): g.interval for g in groups for rule in g.alerting_rules}
    sends = pushes(((t, interval[id(t.rule)]) for t in timelines), scenario.duration)
    settings = ReplaySettings(speed, receiver_outages(scenario))
    return replay(sends, scenario.duration, am_config, am_path, settings, keep_log_in=out_dir)


def outage_records(scenario: Scenario) -> list[FaultRecord]:
    """Receiver outages happen exactly as planned (the replay applies them), so the plan is their record."""
    return [
        FaultRecord(f.name, FaultKind.RECEIVER_OUTAGE, f.start, f.start + f.duration, float(f.status))
        for f in scenario.faults
        if isinstance(f, ReceiverOutage)
    ]


async def arun_scenario(
    scenario: Scenario,
    base_dir: Path,
    *,
    seed: int | None = None,
    out_dir: Path | None = None,
    listener: RunListener | None = None,
    service: ServiceMode = "in-process",
    admin_token: str | None = None,
    replay_speed: float | None = DEFAULT_SPEED,
) -> RunResult:
    """The whole run; awaitable so it works from a running event loop (Jupyter, pytest-asyncio).
    ``replay_speed`` None: the alerts are not replayed through Alertmanager (no notifications)."""
    listener = listener or Silent()
    seed = scenario.seed if seed is None else seed
    timings: dict[str, float] = {}
    started = time.perf_counter()
    if out_dir is not None:
        writable_folder(out_dir)
    paths = rule_paths(scenario, base_dir)
    model = model_path(scenario, base_dir)
    am_path = alertmanager_path(scenario, base_dir) if replay_speed is not None else None
    speed = replay_speed if am_path is not None else None  # None: no replay
    am_config = read_alertmanager_config(am_path) if am_path is not None else {}
    if am_path is not None and speed is not None:
        check_config(am_config, am_path, speed)
    # promtool and Prometheus are launched first, so they work on the other core while the
    # world is simulated; a rejection of the rules stops the simulation at its next progress tick.
    with checking_rules(paths) as rule_check, starting_prometheus(keep_log_in=out_dir) as starting:
        try:
            groups = read_rule_groups(paths, default_interval=scenario.evaluation_interval)
            check_alert_names(scenario, {r.name for g in groups for r in g.alerting_rules})
        except Exception:  # a file promtool rejects may not even be readable: promtool's words first
            rule_check.verdict()
            raise
        sim = SimResult(duration=scenario.duration)
        live = LiveSamples(sim, SampleSet(scenario.start_unix()))
        with httpx.Client(timeout=60.0) as client:
            oracle = GateOracle(live, lambda: starting.ready().url, client) if scenario.deployments else None
            with _timed(timings, "simulate", listener):
                preflight = Preflight(listener, (rule_check.verdict_if_done, starting.check_alive))
                await simulate_scenario(scenario, seed, preflight, service, admin_token, model, base_dir, oracle, sim)
        with _timed(timings, "check rules", listener):
            rule_check.verdict()
        with _timed(timings, "parse", listener):
            live.advance()
            samples = live.samples
        window = EvaluationWindow(scenario.start_unix(), scenario.duration)
        plots = out_dir is not None  # what each alert watched is only plotted
        unwritten = live.unwritten() if oracle is not None else None
        evaluation, signals = evaluate(
            starting, samples, groups, window, timings, listener, signals=plots, unwritten=unwritten
        )
    timelines = evaluation.timelines
    instances = [a for t in timelines for a in t.instances]
    sim.faults[:] = sorted(sim.faults + outage_records(scenario), key=lambda f: (f.start, f.name))
    sent = None
    if am_path is not None and speed is not None:
        with _timed(timings, "notify", listener):
            sent = notify(scenario, groups, timelines, am_config, am_path, speed, out_dir)
    verdict = judge(
        scenario, sim.faults, instances, sent.notifications if sent is not None else None, sim.rollouts, sim.failed_at
    )
    timings["total"] = time.perf_counter() - started
    result = RunResult(scenario, seed, verdict, sim, samples, timelines, paths, timings, out_dir, signals, sent)
    if out_dir is not None:
        with _timed(timings, "record", listener):
            write_run_folder(result, out_dir)
    return result


def run_scenario(
    scenario: Scenario,
    base_dir: Path,
    *,
    seed: int | None = None,
    out_dir: Path | None = None,
    listener: RunListener | None = None,
    service: ServiceMode = "in-process",
    admin_token: str | None = None,
    replay_speed: float | None = DEFAULT_SPEED,
) -> RunResult:
    """Synchronous ``arun_scenario``, for scripts and the CLI (not from inside a running loop)."""
    return asyncio.run(
        arun_scenario(
            scenario,
            base_dir,
            seed=seed,
            out_dir=out_dir,
            listener=listener,
            service=service,
            admin_token=admin_token,
            replay_speed=replay_speed,
        )
    )


def verdict_json(result: RunResult) -> dict[str, object]:
    return {
        "scenario": result.scenario.name,
        "unexpected_alerts": result.scenario.unexpected_alerts,
        "seed": result.seed,
        "passed": result.passed,
        "start_unix": result.scenario.start_unix(),
        "rule_files": [str(p) for p in result.rule_files],
        "faults": [
            {"name": f.name, "kind": f.kind.value, "start": f.start, "end": f.end, "magnitude": f.magnitude}
            for f in result.sim.faults
        ],
        "alerts": [instance_json(a) for a in result.alerts],
        "expectations": [
            {
                "expected": e.description,
                "alert": e.alert,
                "fault": e.fault,
                "observed": e.observed,
                "fired_after": e.fired_after,
                "resolved_after": e.resolved_after,
                "passed": e.passed,
            }
            for e in result.verdict.expectations
        ],
        "requests": dict(sorted(result.sim.responses.items())),
        "scrapes": len(result.sim.scrapes),
        "samples": len(result.samples),
        "notifications": None
        if result.replay is None
        else {
            "delivered": sum(n.delivered for n in result.replay.notifications),
            "refused": sum(not n.delivered for n in result.replay.notifications),
            "replay_speed": result.replay.speed,
            "replayed_seconds": round(result.replay.replayed, 3),
            "pushes": result.replay.pushes,
            "max_push_lag": round(result.replay.max_lag, 3),
            "max_jitter": round(result.replay.jitter, 3),
            "outages": [o.record() for o in result.replay.outages],
        },
        "simulated_seconds": result.scenario.duration,
        "scrape_interval": result.scenario.scrape_interval,
        "wall_seconds": round(result.timings.get("total", 0.0), 3),
        "timings": {k: round(v, 3) for k, v in result.timings.items()},
        **({"drill": result.drill} if result.drill is not None else {}),
    }


def rules_json(result: RunResult) -> dict[str, object]:
    """Each alert rule as evaluated: for reports that plot what it watched against its threshold."""
    signals = {s.alert: s for s in result.signals}
    return {
        "alerts": [
            {
                "alert": t.rule.name,
                "expr": t.rule.expr,
                "for": t.rule.hold,
                "labels": dict(t.rule.labels),
                "signal": signals[t.rule.name].expr if t.rule.name in signals else None,
                "op": signals[t.rule.name].op if t.rule.name in signals else None,
                "threshold": signals[t.rule.name].threshold if t.rule.name in signals else None,
            }
            for t in result.timelines
        ]
    }


def write_run_folder(result: RunResult, out_dir: Path) -> None:
    """Every file of the run folder, which appears whole or not at all (``replaced_atomically``)."""
    with replaced_atomically(out_dir) as staging:
        write_run_files(result, staging)


def write_run_files(result: RunResult, staging: Path) -> None:
    """The files of a run folder, into ``staging`` (a drill adds its journal beside them)."""
    write_json(staging / "verdict.json", verdict_json(result))
    write_states(staging / "states.csv", (r for t in result.timelines for r in t.rows))
    write_samples_parquet(staging / "samples.parquet", result.samples)
    write_openmetrics(staging / "samples.om", result.samples)
    write_signals(staging / "signals.csv", result.signals)
    write_json(staging / "rules.json", rules_json(result))
    if result.sim.rollouts or result.sim.scaling:
        write_json(staging / "deployments.json", deployments_json(result.sim))
    if result.replay is not None:
        write_jsonl(staging / "notifications.jsonl", (n.record() for n in result.replay.notifications))
        write_jsonl(staging / "alerts_sent.jsonl", (p.record() for p in result.replay.sent))
