"""Builds the simulated world for one run and drives it against a service."""

from __future__ import annotations

import random
from collections.abc import Callable, Generator
from typing import Any

import simpy

from sim.book import TradeBook
from sim.desk import Desk, report
from sim.driver import Pacing, drive, drive_paced
from sim.faults import Boundaries, inject
from sim.feed import FeedFaults, feed
from sim.fleet import Fleet, Launcher
from sim.market import Market
from sim.records import SimResult
from sim.rollout import Oracle, RolloutController
from sim.scaling import autoscale
from sim.scrape import scraper
from sim.specs import Build, FaultSpec, RegimePhase, WorldSpec
from sim.traffic import TrafficState, clients
from sim.transport import Transport


def stream(seed: int, name: str) -> random.Random:
    """An independent generator per purpose, so adding one stream never shifts another."""
    return random.Random(f"{seed}:{name}")


async def simulate(
    spec: WorldSpec,
    transport: Transport,
    admin_token: str | None = None,
    on_progress: Callable[[float], None] | None = None,
    restart: Callable[[], Transport] | None = None,
    live: Pacing | None = None,
    kill: Callable[[], None] | None = None,
    on_switch: Callable[[FaultSpec, bool, float], None] | None = None,
    result: SimResult | None = None,
    launch: Launcher | None = None,
    oracle: Oracle | None = None,
) -> SimResult:
    """Run the world for ``spec.duration`` simulated seconds against the service behind ``transport``.

    ``restart`` starts a fresh service process and returns its transport; a crash fault needs it.
    ``live`` (a drill): on that wall clock (e.g. ``service.WallClock()``), against a service on its
    own wall clock, and without the world's scrapes, since a real Prometheus scrapes the service;
    ``result.lag`` says how late the world ran. Its requests and rows are stamped with the wall
    clock from ``result.wall_start`` on, while its traffic follows the scenario's time of day.
    ``kill`` (live) ends the real service process at a crash; ``on_switch(fault, on, t)`` hears
    each fault switched on or off, as it happens. ``result`` (default a new one) is filled as the
    world runs, so a caller that cancels it (a drill's abort) keeps what happened until then.

    ``launch`` starts another replica's service (the fleet's further replicas, a rollout's new
    version, the autoscaler's pods); ``transport`` is the first replica's. ``oracle(t, queries)``
    answers a rollout gate's PromQL at simulated second ``t`` from what was scraped until then.
    """
    if spec.rollouts and not spec.fleet.labelled:
        raise ValueError("releases need a labelled fleet (FleetSpec(labelled=True)): versions are told apart by label")
    env = simpy.Environment()
    result = SimResult(duration=spec.duration) if result is None else result
    if live is not None:
        result.wall_start = live.now()
    clock_unix = spec.start_unix if result.wall_start is None else result.wall_start
    fleet = Fleet(
        env,
        spec.fleet,
        clock_unix,
        admin_token,
        launch,
        stream(spec.seed, "server"),
        stream(spec.seed, "router"),
        result,
    )
    build = spec.build or Build("", "", spec.server)
    fleet.start(build, transport)
    fleet.set_weights({build.version: 1.0})
    controller = RolloutController(env, fleet, build, spec.fleet, oracle, result)
    market = Market(spec.traffic.all_symbols, stream(spec.seed, "market"), tau=spec.market.tau)
    desk = Desk(env, spec.market.horizon)
    rules = {p.name: p.rule for p in spec.traffic.populations}
    book = TradeBook(rules, spec.market.horizon, stream(spec.seed, "desks"))
    boundaries = Boundaries(env, fleet, TrafficState(), market, FeedFaults(), restart, kill, on_switch)
    gateway = fleet.primary
    try:
        for _ in range(spec.fleet.replicas - 1):
            fleet.start(build)
        env.process(schedule(env, market, spec.market.regimes))
        if live is None:
            exported = controller.exposition if spec.fleet.labelled else None
            env.process(scraper(env, fleet, spec.scrape_interval, result, book, exported))
        for rollout in spec.rollouts:
            env.process(controller.run(rollout))
        if spec.fleet.autoscaling is not None:
            env.process(autoscale(env, fleet, controller, spec.fleet.autoscaling, spec.fleet.startup_delay, result))
        env.process(
            clients(
                env,
                fleet,
                spec.traffic,
                boundaries.traffic,
                market,
                desk,
                book,
                stream(spec.seed, "traffic"),
                result,
                spec.start_unix,
            )
        )
        feed_rng = stream(spec.seed, "feed")
        env.process(feed(env, fleet, market, spec.feed_interval, boundaries.feed, feed_rng, result))
        env.process(report(env, desk, spec.market.feedback_interval, result))
        for fault in spec.faults:
            env.process(inject(boundaries, fault, result))
        if live is not None:
            assert result.wall_start is not None
            await drive_paced(env, gateway, spec.duration, live, result.wall_start, result.lag, on_progress)
        else:
            await drive(env, gateway, spec.duration, on_progress)
    finally:
        await fleet.aclose()
    result.faults.sort(key=lambda f: (f.start, f.name))
    return result


def schedule(
    env: simpy.Environment, market: Market, phases: tuple[RegimePhase, ...]
) -> Generator[simpy.Event, Any, None]:
    """Move the market through the scenario's regimes."""
    for phase in sorted(phases, key=lambda p: p.start):
        yield env.timeout(max(0.0, phase.start - env.now))
        market.set_regime(phase.regime, phase.strength)
