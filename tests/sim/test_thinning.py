"""Thinning skips rejected candidates without SimPy events: the same run as one event each.

The reference below is the plain loop (a timeout per candidate). Both drive a fresh service
through the intraday open and close, with a traffic surge and a ramp switching on and off in
between (they change the rate mid-stream), and every scrape must be identical.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
from bisect import bisect
from collections.abc import Generator
from itertools import accumulate
from typing import Any

import pytest
import simpy

import sim.world
from service import Settings, SimulatedClock, create_app
from sim import SimResult, TrafficSpec, WorldSpec, simulate
from sim.profile import PEAK, PROFILES
from sim.specs import FaultKind, FaultSpec
from sim.traffic import _Call
from sim.transport import AsgiTransport


def _plain_clients(  # the loop before the skipping: one timeout per candidate
    env: simpy.Environment, fleet: Any, traffic: TrafficSpec, state: Any, market: Any,
    desk: Any, book: Any, rng: random.Random, result: SimResult, calendar_unix: float | None = None,
) -> Generator[simpy.Event, Any, None]:  # fmt: skip
    profile, peak = PROFILES[traffic.profile], PEAK[traffic.profile]
    origin = fleet.start_unix if calendar_unix is None else calendar_unix
    shares = list(accumulate(p.share for p in traffic.populations))
    while True:
        yield env.timeout(rng.expovariate(traffic.rate * peak * state.multiplier))
        if rng.random() * peak > profile(origin + env.now):
            continue
        population = traffic.populations[bisect(shares, rng.random() * shares[-1])]
        symbol = rng.choice(population.symbols)
        tick = market.states[symbol]
        body = json.dumps({"symbol": symbol}).encode()
        headers = ((b"x-client", population.name.encode()),)
        _Call(env, fleet.route(), body, headers, desk, book, population.name, tick.up, tick.ret, result).start()


def _run(start: str) -> SimResult:
    t0 = dt.datetime.fromisoformat(start).replace(tzinfo=dt.UTC).timestamp()
    faults = (
        FaultSpec("surge", FaultKind.TRAFFIC_SURGE, start=700, duration=400, magnitude=4.0),
        FaultSpec("ramp", FaultKind.TRAFFIC_RAMP, start=1500, duration=900, magnitude=3.0),
    )
    spec = WorldSpec(
        duration=3000, seed=11, start_unix=t0, traffic=TrafficSpec(rate=4, profile="intraday"), faults=faults
    )
    app = create_app(Settings(sim_clock=True, admin_token="t"), SimulatedClock(t0))
    return asyncio.run(simulate(spec, AsgiTransport(app), admin_token="t"))


@pytest.mark.parametrize("start", ["2026-01-05T14:05:00", "2026-01-05T20:40:00"])  # across the open, the close
def test_skipping_rejected_candidates_changes_nothing(start: str, monkeypatch: pytest.MonkeyPatch) -> None:
    skipping = _run(start)
    monkeypatch.setattr(sim.world, "clients", _plain_clients)
    plain = _run(start)
    assert sum(plain.responses.values()) > 500  # traffic really flowed, at both rates
    assert [(s.time, s.body) for s in skipping.scrapes] == [(s.time, s.body) for s in plain.scrapes]
    assert skipping.responses == plain.responses
    assert [(s.time, s.body) for s in skipping.desk_scrapes] == [(s.time, s.body) for s in plain.desk_scrapes]
