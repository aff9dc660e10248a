"""A game-day drill: one scenario live, in wall-clock time, against a real deployment.

The world (traffic, feed, desk, faults) is the scenario's, stepped on the wall clock over
loopback HTTP; everything else is real and runs on its own: ``alertdrill serve`` (or the team's
service), a Prometheus scraping it and evaluating the rules (or the team's), and Alertmanager
routing to alertdrill's receivers (or the team's, or the config's own with ``live_receivers``).
The verdict is read from what that stack recorded — ``ALERTS`` from Prometheus, deliveries from
the receivers — and judged by the same expectations as a simulated run, into the same run
folder, with the drill's journal beside it.

Safety, as chaos tools do it: the stack must be steady before the world starts and again just
before the first fault (nothing firing the scenario does not expect), ``abort_on`` alerts stop
every fault at once, and every exit path — the end, an abort, an exception, Ctrl-C, SIGTERM —
switches off what is still on and says so in the journal (``harness.drill_safety``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import secrets
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from harness.drill import (
    Journal,
    Key,
    changes,
    live_prometheus,
    live_prometheus_config,
    poll_alertmanager,
    poll_prometheus,
    scraped_samples,
    timelines_from_prometheus,
)
from harness.drill_safety import ChaosSwitch, rollback
from harness.engine import EvaluationWindow, RuleGroup, checking_rules, parse_duration, read_mapping, read_rule_groups
from harness.errors import ConfigurationError, FaultError, QueryError, RunFolderError, ServiceLostError
from harness.notify import (
    DEFAULT_SPEED,
    DrillConfig,
    Outage,
    Receivers,
    Replay,
    alertmanager_server,
    check_config,
    drill_config,
    notifications,
    read_alertmanager_config,
)
from harness.record import replaced_atomically, writable_folder
from harness.run import (
    RunResult,
    alertmanager_path,
    model_path,
    outage_records,
    receiver_outages,
    rule_paths,
    write_run_files,
)
from harness.scenario import ReceiverOutage, Scenario, check_alert_names
from harness.signals import evaluate_signals
from harness.targets import live_service, remote
from harness.verdict import ExpectationResult, Verdict, judge
from service import WallClock
from sim import simulate
from sim.faults import CHAOS_KINDS, FaultInjectionError
from sim.records import SimResult
from sim.specs import FaultKind, FaultSpec
from sim.transport import HttpTransport, ServiceGone

STEADY_LEAD = 2.0  # seconds before the first fault at which the steady state is checked again
FIRST_SCRAPE_GRACE = 10.0  # seconds past a scrape interval to wait for Prometheus' first scrape
LAG_LIMIT = 2.0  # seconds the world may run late at worst before the drill says it fell behind


@dataclass(frozen=True)
class DrillOptions:
    """Where each part of the stack is: None starts alertdrill's own."""

    seed: int | None = None
    service_url: str | None = None
    admin_token: str | None = None
    prometheus_url: str | None = None
    alertmanager_url: str | None = None
    prometheus_config: Path | None = None  # default: the scenario's ``prometheus``
    job: str | None = None  # the scrape job the service is; default: the config's only job, or prediction-api
    alerts_match: str = ""  # a selector narrowing ALERTS on a shared Prometheus, e.g. {job="prediction-api"}
    live_receivers: bool = False
    abort_on: tuple[str, ...] = ()
    compare: bool = False  # also run the scenario simulated, and compare (harness.drill_compare)
    poll: float = 1.0  # seconds between two looks at Prometheus, Alertmanager and the receivers


@dataclass
class DrillFacts:
    """What a drill knows beyond a run's verdict: verdict.json's ``drill`` block."""

    wall_start: float | None = None
    stack: dict[str, str] = field(default_factory=dict)  # part -> "alertdrill" or its URL
    scrape_interval: float = 15.0
    phases: dict[str, float] = field(default_factory=dict)  # group -> its evaluations' offset from second 0
    steady_state: list[str] = field(default_factory=list)  # what was checked, and how it went
    aborted: str | None = None
    ran: float = 0.0  # seconds the world ran (its duration, unless aborted or interrupted)
    lag: dict[str, float] = field(default_factory=dict)
    rollback: list[str] = field(default_factory=list)
    compare: list[dict[str, Any]] | None = None
    notes: list[str] = field(default_factory=list)

    def record(self) -> dict[str, Any]:
        return {
            "wall_start": self.wall_start,
            "stack": self.stack,
            "scrape_interval": self.scrape_interval,
            "evaluation_phases": self.phases,
            "steady_state": self.steady_state,
            "aborted": self.aborted,
            "ran_seconds": round(self.ran, 3),
            "world_lag": self.lag,
            "rollback": self.rollback,
            "compare": self.compare,
            "notes": self.notes,
        }


class Printer:
    """The drill's live output: each journal event as a line, and a status line (rewritten on a
    terminal, every 30 s in a log). The default prints nothing."""

    def event(self, record: dict[str, Any]) -> None:
        pass

    def status(self, t: float, duration: float, firing: list[str], heard: int) -> None:
        pass

    def note(self, text: str) -> None:
        """A step of the drill that is not an event of the stack (the simulated run of --compare)."""


@dataclass
class _Plan:
    """Everything checked before a process is started: a bad file costs no minutes."""

    scenario: Scenario
    seed: int
    groups: list[RuleGroup]
    rule_files: list[Path]
    model: Path
    prometheus_config: dict[str, Any]
    prometheus_source: Path | None
    job: str
    scrape_interval: float
    am_path: Path | None
    am_config: dict[str, Any]
    base_dir: Path
    evaluation_interval: float  # the Prometheus config's global one (groups that set none)


def plan_drill(scenario: Scenario, base_dir: Path, options: DrillOptions) -> _Plan:
    if scenario.deployment is not None:
        raise ConfigurationError(
            f"scenario {scenario.name}: a drill runs one live service; replicas, releases and the "
            "autoscaler (deployment:) are simulated only, with alertdrill run"
        )
    seed = scenario.seed if options.seed is None else options.seed
    paths = rule_paths(scenario, base_dir)
    prom_source: Path | None = None
    prom_config: dict[str, Any] = {}
    if options.prometheus_url is None:
        prom_source = options.prometheus_config or (base_dir / scenario.prometheus).resolve()
        prom_config = _read_prometheus_config(prom_source)
    evaluation = _global(prom_config, "evaluation_interval", scenario.evaluation_interval, prom_source)
    with checking_rules(paths) as check:
        try:
            groups = read_rule_groups(paths, default_interval=evaluation)
            check_alert_names(scenario, {r.name for g in groups for r in g.alerting_rules})
        except Exception:
            check.verdict()
            raise
        check.verdict()
    job, scrape = _job(prom_config, prom_source, options.job, scenario.scrape_interval)
    crash = [f.name for f in scenario.faults if f.kind == FaultKind.SERVICE_CRASH.value]
    if crash and options.service_url:
        raise ConfigurationError(
            f"scenario {scenario.name}: fault {crash[0]} crashes the service, which a drill can only do to "
            "a service it started (drop --service-url)"
        )
    if options.prometheus_url and not options.service_url:
        raise ConfigurationError(
            "--prometheus-url needs --service-url: your Prometheus scrapes your service, not one alertdrill starts"
        )
    am_path = None if options.alertmanager_url or options.prometheus_url else alertmanager_path(scenario, base_dir)
    outages = [f.name for f in scenario.faults if isinstance(f, ReceiverOutage)]
    if outages and (am_path is None or options.live_receivers):
        raise ConfigurationError(
            f"scenario {scenario.name}: fault {outages[0]} takes a receiver down, which a drill can only do to "
            "alertdrill's own receivers (drop --live-receivers / --alertmanager-url / --prometheus-url)"
        )
    am_config = read_alertmanager_config(am_path) if am_path is not None else {}
    if am_path is not None and not options.live_receivers:
        check_config(am_config, am_path, 1.0)  # what the drill's copy would refuse, refused now
    return _Plan(
        scenario, seed, groups, paths, model_path(scenario, base_dir), prom_config, prom_source, job, scrape,
        am_path, am_config, base_dir, evaluation,
    )  # fmt: skip


def run_drill(
    scenario: Scenario,
    base_dir: Path,
    out_dir: Path,
    options: DrillOptions | None = None,
    printer: Printer | None = None,
) -> RunResult:
    """The whole drill; its run folder in ``out_dir`` (the journal from the first second on).

    Raises what a run raises for bad input (exit 2); ``KeyboardInterrupt`` after the rollback."""
    options = options or DrillOptions()
    printer = printer or Printer()
    plan = plan_drill(scenario, base_dir, options)
    writable_folder(out_dir)
    _fresh(out_dir)
    facts = DrillFacts(scrape_interval=plan.scrape_interval)
    started = time.perf_counter()
    sim = SimResult(duration=scenario.duration)  # filled as the world runs (its wall_start: second 0), kept on an abort
    with Journal(out_dir / "journal.jsonl", printer.event) as journal, contextlib.ExitStack() as stack:
        journal.event("drill_start", 0.0, scenario=scenario.name, seed=plan.seed, duration=scenario.duration)
        try:
            live = _start_stack(stack, plan, options, out_dir, facts, journal, sim)
        except BaseException as exc:
            journal.event("interrupted" if isinstance(exc, KeyboardInterrupt) else "failed", 0.0, why=str(exc))
            raise
        drill = _Drill(plan, options, live, journal, printer, facts, sim)
        try:
            asyncio.run(drill.steady("before the world starts", 0.0))
            asyncio.run(drill.run())
        except BaseException as exc:
            journal.event("interrupted" if isinstance(exc, KeyboardInterrupt) else "failed", drill.now(), why=str(exc))
            raise
        finally:
            facts.wall_start = sim.wall_start
            facts.ran = max(0.0, drill.now()) if sim.wall_start is not None else 0.0
            facts.rollback = rollback(live.chaos, drill.chaos_faults, drill.active, journal, drill.now())
        end = (facts.wall_start or time.time()) + scenario.duration
        result = _result(plan, live, drill, sim, end, facts, out_dir, started)
        journal.event("verdict", drill.now(), passed=result.passed)
    if options.compare and facts.aborted is None:
        printer.note("simulating the scenario for --compare ...")
        _compare(result, plan, facts)
    _write(result, out_dir)
    return result


def _compare(result: RunResult, plan: _Plan, facts: DrillFacts) -> None:
    """The scenario simulated with the drill's intervals (and seed), beside the drill: its rows
    join the drill's facts and one more expectation, that every row is inside its bound."""
    from harness.drill_compare import compare
    from harness.run import run_scenario

    intervals = {"scrape_interval": plan.scrape_interval, "evaluation_interval": plan.evaluation_interval}
    scenario = plan.scenario.model_copy(update=intervals)
    speed = DEFAULT_SPEED if result.replay else None
    simulated = run_scenario(scenario, plan.base_dir, seed=plan.seed, replay_speed=speed)
    rows = compare(result, simulated, plan.groups, plan.scrape_interval, facts.phases)
    facts.compare = [r.record() for r in rows]
    result.drill = facts.record()
    out = [r for r in rows if not r.within]
    said = f"{len(rows) - len(out)} of {len(rows)} times inside their bound"
    if out:
        diff = "unseen on one side" if out[0].difference is None else f"{out[0].difference:+.1f}s"
        said += f"; outside: {out[0].expectation} ({out[0].what}) {diff}"
    check = ExpectationResult(
        "the simulated run predicts the drill (scrape + evaluation interval + the group's phase)", "", not out, said
    )
    result.verdict = Verdict(result.verdict.passed and check.passed, (*result.verdict.expectations, check))


@dataclass
class _Live:
    """The stack a drill runs against, whoever started each part."""

    service_url: str
    prometheus_url: str
    chaos: ChaosSwitch
    alertmanager_url: str | None = None
    receivers: Receivers | None = None
    drill_am: DrillConfig | None = None
    kill: Callable[[], None] | None = None
    restart: Callable[[], Any] | None = None


def _start_stack(
    stack: contextlib.ExitStack,
    plan: _Plan,
    options: DrillOptions,
    out_dir: Path,
    facts: DrillFacts,
    journal: Journal,
    sim: SimResult,
) -> _Live:
    scenario, world = plan.scenario, plan.scenario.world(plan.seed)
    am_url = options.alertmanager_url
    receivers, drill_am = None, None
    if plan.am_path is not None:
        config: dict[str, Any] | Path
        if options.live_receivers:
            config = plan.am_path  # the file itself: its secrets and templates where it keeps them
        else:
            outages = receiver_outages(scenario)
            receivers = stack.enter_context(Receivers(failing=_failing(outages, sim)))
            drill_am = drill_config(plan.am_config, plan.am_path, 1.0, receivers)
            config = drill_am.config
        am_url = stack.enter_context(alertmanager_server(config, keep_log_in=out_dir)).url
        facts.stack["alertmanager"] = "alertdrill"
    elif am_url:
        facts.stack["alertmanager"] = am_url
    if receivers is None and scenario.notifications is not None:
        facts.notes.append(
            "notifications: not judged (they went to receivers that are not alertdrill's); "
            "the journal holds Alertmanager's view of the alerts instead"
            if am_url
            else "notifications: not judged (no Alertmanager to ask: give --alertmanager-url)"
        )
    if options.service_url is None:
        token = secrets.token_urlsafe(16)
        symbols = world.traffic.all_symbols
        service = stack.enter_context(
            live_service(
                token,
                seed=plan.seed,
                workers=world.server.workers,
                model=plan.model,
                scale_out_rps=scenario.service.scale_out_rps,
                symbols=symbols,
            )
        )
        service_url, kill = service.url, service.kill
        restart: Callable[[], Any] | None = functools.partial(service.start, wait=False)
        facts.stack["service"] = "alertdrill"
    else:
        target = stack.enter_context(remote(options.service_url, options.admin_token))
        service_url, token, kill, restart = target.base_url, options.admin_token or "", None, None
        facts.stack["service"] = service_url
    chaos = ChaosSwitch(service_url, token)
    if options.prometheus_url is None:
        assert plan.prometheus_source is not None
        config = live_prometheus_config(
            plan.prometheus_config,
            plan.prometheus_source,
            {plan.job: [service_url.removeprefix("http://").removeprefix("https://").rstrip("/")]},
            plan.rule_files,
            [am_url.removeprefix("http://")] if am_url else [],
        )
        prom_url = stack.enter_context(live_prometheus(config, keep_log_in=out_dir)).url
        facts.stack["prometheus"] = "alertdrill"
    else:
        prom_url = options.prometheus_url.rstrip("/")
        facts.stack["prometheus"] = prom_url
    ours = sorted(part for part, who in facts.stack.items() if who == "alertdrill")
    journal.event(
        "stack_up", 0.0, service=service_url, prometheus=prom_url, alertmanager=am_url, started_by_alertdrill=ours
    )
    _wait_first_scrape(prom_url, plan.job, plan.scrape_interval, journal)
    return _Live(service_url, prom_url, chaos, am_url, receivers, drill_am, kill, restart)


class _Drill:
    """The world and its watcher, side by side on one event loop."""

    def __init__(
        self,
        plan: _Plan,
        options: DrillOptions,
        live: _Live,
        journal: Journal,
        printer: Printer,
        facts: DrillFacts,
        sim: SimResult,
    ) -> None:
        self.plan, self.options, self.live = plan, options, live
        self.journal, self.printer, self.facts, self.sim = journal, printer, facts, sim
        # Chaos hooks are named after the scenario's faults: the rollback switches off these, no one else's.
        self.chaos_faults = sorted(f.name for f in plan.scenario.faults if FaultKind(f.kind) in CHAOS_KINDS)
        self.active: dict[str, FaultSpec] = {}
        self.firing: dict[Key, str] = {}
        self.am_states: dict[Key, str] = {}
        self.heard = 0
        self.world: asyncio.Task[Any] | None = None
        self.started_wall = time.time()
        faults = [f.start for f in plan.scenario.faults]
        self.first_fault = min(faults) if faults else None
        self.steady_checked = self.first_fault is None or self.first_fault <= STEADY_LEAD
        # Alerts a scenario expects with no fault to anchor them may fire before any fault does.
        self.allowed = {e.alert for e in plan.scenario.expectations if e.fault is None and not e.silent}

    def now(self) -> float:
        """Seconds since the world's second 0 (before it: since the drill started, negative)."""
        origin = self.sim.wall_start
        return time.time() - origin if origin is not None else self.started_wall - time.time()

    async def steady(self, when: str, t: float, client: httpx.AsyncClient | None = None) -> None:
        """Nothing firing that the scenario does not expect, and the service ready."""
        async with contextlib.AsyncExitStack() as own:
            asking = client if client is not None else await own.enter_async_context(httpx.AsyncClient(timeout=5.0))
            try:
                alerts = await poll_prometheus(asking, self.live.prometheus_url, self.options.alerts_match)
                ready = (await asking.get(f"{self.live.service_url}/ready")).status_code
            except (httpx.HTTPError, QueryError) as exc:
                raise SteadyStateError(f"steady state {when}: cannot ask the stack: {exc}") from exc
        self._judge_steady(when, t, alerts, ready)

    def _judge_steady(self, when: str, t: float, alerts: dict[Key, str], ready: int) -> None:
        """Firing alerts count; pending ones are only noted (a ``for: 1h`` alert pending in a
        five-minute drill will not page, and if it fires later the verdict says so)."""
        firing = {dict(k).get("alertname", "") for k, state in alerts.items() if state == "firing"}
        unexpected = sorted(f"{name} (firing)" for name in firing - self.allowed)
        pending = sorted({dict(k).get("alertname", "") for k, state in alerts.items() if state == "pending"})
        ok = ready == 200 and not unexpected
        said = f"{when}: " + ("steady" if ok else f"service /ready {ready}; " * (ready != 200) + ", ".join(unexpected))
        self.facts.steady_state.append(said)
        self.journal.event("steady_state", t, ok=ok, when=when, unexpected=unexpected, pending=pending, ready=ready)
        if not ok:
            raise SteadyStateError(f"steady state not met {said.removeprefix(when + ': ')} ({when})")

    async def run(self) -> None:
        spec = self.plan.scenario.world(self.plan.seed)
        transport = HttpTransport(httpx.AsyncHTTPTransport(retries=2), self.live.service_url)
        self.world = asyncio.ensure_future(
            simulate(
                spec,
                transport,
                admin_token=self.live.chaos.token,
                restart=self.live.restart,
                live=WallClock(),
                kill=self.live.kill,
                on_switch=self._switched,
                result=self.sim,
            )
        )
        client = httpx.AsyncClient(timeout=5.0)  # one for every look at the stack, not one a second
        watcher = asyncio.ensure_future(self._watch(client))
        try:
            await self.world
        except asyncio.CancelledError:
            if self.facts.aborted is None:
                raise
        except FaultInjectionError as exc:
            raise FaultError(f"{self.plan.scenario.name}: {exc}") from exc
        except ServiceGone as exc:
            raise ServiceLostError(f"{self.plan.scenario.name}: the service is gone: {exc}") from exc
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await watcher
            try:
                await self._look(client)  # the last state before the rollback
            finally:
                await client.aclose()

    def _switched(self, fault: FaultSpec, on: bool, t: float) -> None:
        if on:
            self.active[fault.name] = fault
        else:
            self.active.pop(fault.name, None)
        kind = fault.kind.value
        self.journal.event("fault_on" if on else "fault_off", self.now(), fault=fault.name, kind=kind, planned=t)

    def abort(self, why: str) -> None:
        if self.facts.aborted is None:
            self.facts.aborted = why
            self.journal.event("abort", self.now(), why=why)
            if self.world is not None:
                self.world.cancel()

    async def _watch(self, client: httpx.AsyncClient) -> None:
        duration = self.plan.scenario.duration
        while True:
            await asyncio.sleep(self.options.poll)
            await self._look(client)
            t = self.now()
            firing = sorted({dict(k).get("alertname", "") for k, s in self.firing.items() if s == "firing"})
            hit = sorted(set(firing) & set(self.options.abort_on))
            if hit:
                self.abort(f"--abort-on: {', '.join(hit)} firing")
            if not self.steady_checked and self.first_fault is not None and t >= self.first_fault - STEADY_LEAD:
                self.steady_checked = True
                try:
                    await self.steady(f"before the first fault (at {self.first_fault:g}s)", t, client)
                except SteadyStateError as exc:
                    self.abort(str(exc))
            self.printer.status(t, duration, firing, self.heard)

    async def _look(self, client: httpx.AsyncClient) -> None:
        """One look at Prometheus' alerts, Alertmanager's and the receivers' deliveries: their
        changes go into the journal."""
        t = self.now()
        try:
            states = await poll_prometheus(client, self.live.prometheus_url, self.options.alerts_match)
        except QueryError as exc:
            self.journal.event("watch_error", t, source="prometheus", error=str(exc))
        else:
            for c in changes(self.firing, states):
                labels = {k: v for k, v in c.labels if k != "alertname"}
                self.journal.event(f"alert_{c.state}", t, alert=c.alertname, labels=labels, was=c.was)
            self.firing = states
        if self.live.alertmanager_url:
            try:
                am = await poll_alertmanager(client, self.live.alertmanager_url)
            except QueryError as exc:
                self.journal.event("watch_error", t, source="alertmanager", error=str(exc))
            else:
                for c in changes(self.am_states, am, gone="gone"):
                    fields = {"alert": c.alertname, "was": c.was, **({"by": c.by} if c.by else {})}
                    self.journal.event(f"alertmanager_{c.state}", t, **fields)
                self.am_states = am
        self._heard()

    def _heard(self) -> None:
        """Notifications completed since the last look (a refused one once its retries are over)."""
        if self.live.receivers is None or self.sim.wall_start is None:
            return
        origin = self.sim.wall_start
        keys = self.live.drill_am.routing_keys if self.live.drill_am else {}
        found = notifications(self.live.receivers.attempts(), lambda wall: wall - origin, keys)
        for n in found[self.heard :]:
            self.journal.event(
                "notification",
                n.time,
                receiver=n.receiver,
                kind=n.kind,
                status=n.status,
                alerts=sorted(n.names()),
                delivered=n.delivered,
                incident=n.incident,
            )
        self.heard = len(found)


class SteadyStateError(ConfigurationError):
    """The stack was not steady before the drill's faults: nothing was injected."""

    exit_code = 1


def _failing(outages: tuple[Outage, ...], sim: SimResult) -> Callable[[str, str], int | None]:
    """A receiver outage of the scenario, on the drill's clock (none before the world starts)."""

    def failing(receiver: str, kind: str) -> int | None:
        if sim.wall_start is None:
            return None
        now = time.time() - sim.wall_start
        return next((o.status for o in outages if o.covers(receiver, now)), None)

    return failing


def _result(
    plan: _Plan,
    live: _Live,
    drill: _Drill,
    sim: SimResult,
    end: float,
    facts: DrillFacts,
    out_dir: Path,
    started: float,
) -> RunResult:
    scenario = plan.scenario
    if facts.aborted is not None:  # a fault the abort switched off ended then, not as planned
        sim.faults[:] = [dataclasses.replace(f, end=min(f.end, facts.ran)) for f in sim.faults]
    origin = facts.wall_start if facts.wall_start is not None else time.time()
    end = min(end, time.time())
    lag = sorted(sim.lag)
    if lag:
        facts.lag = {
            "median": round(statistics.median(lag), 4),
            "p99": round(lag[min(len(lag) - 1, int(0.99 * len(lag)))], 4),
            "max": round(lag[-1], 4),
            "limit": LAG_LIMIT,
            "events": len(lag),
        }
    with httpx.Client(timeout=60.0) as client:
        timelines = timelines_from_prometheus(
            client, live.prometheus_url, plan.groups, origin, end, drill.options.alerts_match
        )
        facts.phases = _phases(client, live.prometheus_url, plan.groups, origin)
        selector = f'{{job="{plan.job}"}}'
        samples = scraped_samples(client, live.prometheus_url, selector, origin, end)
        window = EvaluationWindow(origin, max(0.0, end - origin))
        signals = evaluate_signals(client, live.prometheus_url, plan.groups, window) if window.duration else []
    instances = [a for t in timelines for a in t.instances]
    faults = sorted(sim.faults + outage_records(scenario), key=lambda f: (f.start, f.name))
    sim.faults[:] = faults
    replay = None
    if live.receivers is not None:
        keys = live.drill_am.routing_keys if live.drill_am else {}
        found = notifications(live.receivers.attempts(), lambda w: w - origin, keys)
        integrations = live.drill_am.integrations if live.drill_am else []
        replay = Replay(notifications=found, integrations=integrations, speed=1.0)
    judged = judge(scenario, faults, instances, replay.notifications if replay is not None else None)
    extra = list(_drill_checks(facts))
    verdict = Verdict(judged.passed and all(e.passed for e in extra), judged.expectations + tuple(extra))
    timings = {"total": time.perf_counter() - started}
    result = RunResult(
        scenario, plan.seed, verdict, sim, samples, timelines, plan.rule_files, timings, out_dir, signals, replay
    )
    result.drill = facts.record()
    return result


def _drill_checks(facts: DrillFacts) -> Iterator[ExpectationResult]:
    if facts.aborted is not None:
        yield ExpectationResult("the drill runs to its end", "", False, f"aborted: {facts.aborted}")
    if facts.lag:
        late = facts.lag["max"]
        yield ExpectationResult(
            f"the world keeps to the wall clock (at worst {LAG_LIMIT:g}s late)",
            "",
            late <= LAG_LIMIT,
            f"median {facts.lag['median'] * 1000:.1f} ms late, at worst {late:.3f}s",
        )


def _phases(client: httpx.Client, url: str, groups: list[RuleGroup], origin: float) -> dict[str, float]:
    """Each group's evaluation offset from the world's second 0, as the rule manager keeps it
    (its ``lastEvaluation``): the phase a simulated run, evaluating at 0, interval, ..., lacks."""
    import datetime as dt

    try:
        body = client.get(f"{url}/api/v1/rules").json()
    except (httpx.HTTPError, ValueError):
        return {}
    intervals = {g.name: g.interval for g in groups}
    phases = {}
    for g in body.get("data", {}).get("groups", []):
        name, last = g.get("name"), g.get("lastEvaluation")
        if name not in intervals or not last or last.startswith("0001"):
            continue
        at = dt.datetime.fromisoformat(last).timestamp()  # Go's RFC 3339 with nanoseconds: read since 3.11
        phases[name] = round((at - origin) % intervals[name], 3)
    return phases


def _wait_first_scrape(url: str, job: str, interval: float, journal: Journal) -> None:
    """Prometheus takes up a new target within 5 s and scrapes it within one interval: the world
    starts once it has, so the first fault is never before the first scrape."""
    deadline = time.monotonic() + interval + FIRST_SCRAPE_GRACE
    with httpx.Client(timeout=5.0) as client:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError, ValueError, KeyError):
                body = client.get(f"{url}/api/v1/query", params={"query": f'up{{job="{job}"}}'}).json()
                values = [float(r["value"][1]) for r in body["data"]["result"]]
                if any(v == 1 for v in values):  # the drilled target up (a team's job may have others)
                    journal.event("first_scrape", 0.0, job=job, targets=len(values))
                    return
            time.sleep(0.25)
    raise SteadyStateError(
        f"Prometheus at {url} has not scraped job {job} successfully within {interval + FIRST_SCRAPE_GRACE:g}s "
        "(is the service up, and is it that job's target?)"
    )


def _read_prometheus_config(path: Path) -> dict[str, Any]:
    return read_mapping(path, "Prometheus config", ConfigurationError, limit=10 * 1024 * 1024)


def _global(config: dict[str, Any], key: str, default: float, source: Path | None) -> float:
    value = (config.get("global") or {}).get(key)
    if value is None:  # Prometheus' own default is a minute; a team's Prometheus (no config here): the scenario's
        return default if not config else 60.0
    try:
        return parse_duration(str(value))
    except ValueError as exc:
        raise ConfigurationError(f"{source}: global.{key}: {exc}") from None


def _job(config: dict[str, Any], source: Path | None, wanted: str | None, default: float) -> tuple[str, float]:
    """The scrape job the drill's service is, and its scrape interval."""
    if not config:  # the team's Prometheus: its config is its own
        return wanted or "prediction-api", default
    jobs = {str(j.get("job_name")): j for j in config.get("scrape_configs") or [] if isinstance(j, dict)}
    name = wanted or (next(iter(jobs)) if len(jobs) == 1 else "prediction-api")
    if name not in jobs:
        raise ConfigurationError(
            f"{source}: no scrape job {name!r} for the drill's service (jobs: {', '.join(jobs) or 'none'}); "
            "name one with --job"
        )
    interval = jobs[name].get("scrape_interval") or (config.get("global") or {}).get("scrape_interval") or "1m"
    try:
        return name, parse_duration(str(interval))
    except ValueError as exc:
        raise ConfigurationError(f"{source}: scrape interval of job {name}: {exc}") from None


def _fresh(out_dir: Path) -> None:
    """An empty run folder: the journal is written into it from the first second. A folder that
    holds something other than a run (no verdict.json, no journal) is not emptied: a mistyped
    ``--out`` must not cost anybody their files."""
    import shutil

    if out_dir.exists() and any(out_dir.iterdir()):
        if not ((out_dir / "verdict.json").exists() or (out_dir / "journal.jsonl").exists()):
            raise RunFolderError(f"{out_dir}: not empty and not a run folder; give --out a new or a run folder")
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)


def _write(result: RunResult, out_dir: Path) -> None:
    """The run folder's files beside the journal and logs, replacing the folder whole at the end."""
    import shutil

    with replaced_atomically(out_dir) as staging:
        write_run_files(result, staging)
        for name in ("journal.jsonl", "prometheus.log", "alertmanager.log"):
            if (out_dir / name).exists():
                shutil.copy(out_dir / name, staging / name)
