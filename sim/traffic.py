"""Client traffic: Poisson arrivals of /predict requests, served by the server model; the desk
learns each prediction's outcome."""

from __future__ import annotations

import math
import random
from bisect import bisect
from collections.abc import Generator
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

import simpy
from pydantic_core import from_json

from sim.book import TradeBook
from sim.desk import Desk
from sim.fleet import Fleet, Replica
from sim.gateway import Reply, json_body
from sim.market import Market
from sim.profile import PEAK, PROFILES
from sim.records import SimResult
from sim.specs import TrafficSpec
from sim.trading import Quote


@dataclass
class TrafficState:
    """What faults change about traffic while the run goes on."""

    multiplier: float = 1.0
    ramps: dict[str, float] = field(default_factory=dict)  # each ramp's current factor, by fault name


def clients(
    env: simpy.Environment,
    fleet: Fleet,
    traffic: TrafficSpec,
    state: TrafficState,
    market: Market,
    desk: Desk,
    book: TradeBook,
    rng: random.Random,
    result: SimResult,
    calendar_unix: float | None = None,
) -> Generator[simpy.Event, Any, None]:
    """A Poisson process whose rate follows the profile, by thinning; each request a ``_Call``.

    The profile reads the scenario's calendar (``calendar_unix``, Unix seconds of second 0;
    default the world's clock): a live drill stamps its requests with the wall clock but keeps
    the traffic of the time of day its scenario describes.

    Candidates are drawn at the profile's peak rate and kept with probability profile/peak;
    overnight the intraday profile keeps about one in sixty. A rejected candidate that comes
    before anything else scheduled changes nothing another process could see, so the loop
    skips ahead to the next candidate without a SimPy event for it: the same draws, in the
    same order, at the same (bit for bit) times; only an accepted candidate, or one with
    something else scheduled before it, waits for a timeout.
    """
    profile, peak = PROFILES[traffic.profile], PEAK[traffic.profile]
    origin = fleet.start_unix if calendar_unix is None else calendar_unix
    shares = list(accumulate(p.share for p in traffic.populations))
    # What a client sends again and again is encoded once.
    client_headers = {p.name: ((b"x-client", p.name.encode()),) for p in traffic.populations}
    bodies = {s: json_body({"symbol": s}) for s in traffic.all_symbols}
    t = env.now
    while True:
        t = t + rng.expovariate(traffic.rate * peak * state.multiplier)  # as SimPy adds a delay to now
        if t >= env.peek():  # something else happens first: it may change the rate or the market
            yield at(env, t)
        if rng.random() * peak > profile(origin + t):
            continue
        if env.now != t:
            yield at(env, t)
        population = traffic.populations[bisect(shares, rng.random() * shares[-1])]
        symbol = rng.choice(population.symbols)
        tick = market.states[symbol]
        headers = client_headers[population.name]
        _Call(
            env, fleet.route(), bodies[symbol], headers, desk, book, population.name, tick.up, tick.ret, result
        ).start()


def at(env: simpy.Environment, t: float) -> simpy.Timeout:
    """A timeout that fires at exactly ``t``: SimPy computes ``now + delay``, so the delay is the
    one whose sum rounds to ``t`` (``t - now`` itself may be an ulp off)."""
    delay = t - env.now
    for _ in range(8):
        landed = env.now + delay
        if landed == t:
            return env.timeout(delay)
        delay = math.nextafter(delay, math.inf if landed < t else -math.inf)
    raise AssertionError(f"no delay from {env.now!r} lands on {t!r}")


@dataclass
class _Call:
    """One request, from arrival to the reply's last byte, as callbacks.

    A process per request would cost four more events each (its start and end, the core's
    grant, the reply) and a generator resumed at every step; at tens of thousands of requests
    per simulated hour that was a large share of a run. The steps, and so the order of
    everything observable, are a process' ``with cores.request(): ...; yield reply; yield
    timeout(work)``: wait for a core, send the request stamped with the queueing and the
    modelled work, hold the core for the work, then release it and hand the prediction to the
    desk, which places its order with or without the prediction (``book``). Only the work is a
    SimPy event. ``up`` and ``ret`` are the direction and size of the move the market will make
    over the prediction's horizon. The router chose the ``replica`` when the request arrived.
    """

    env: simpy.Environment
    replica: Replica
    body: bytes
    headers: tuple[tuple[bytes, bytes], ...]
    desk: Desk
    book: TradeBook
    population: str
    up: bool
    ret: float
    result: SimResult
    arrived: float = 0.0
    work: float = 0.0
    reply: Reply | None = None

    def start(self) -> None:
        self.arrived = self.env.now
        self.replica.server.cores.acquire(self._served)

    def _served(self) -> None:
        server = self.replica.server
        self.work = work = server.service_time()
        server.cpu_seconds += work
        self.replica.gateway.call(
            self._answered,
            "POST",
            "/predict",
            content=self.body,
            service_time=work,
            queue_time=self.env.now - self.arrived,
            arrived=self.arrived,
            headers=self.headers,
        )

    def _answered(self, reply: Reply) -> None:
        self.reply = reply
        self.env.timeout(self.work).callbacks.append(self._done)

    def _done(self, _: simpy.Event) -> None:
        assert self.reply is not None
        self.replica.server.cores.release()
        label = self.reply.label
        self.result.responses[label] += 1
        if label != "200":
            self.result.failed_at.append(self.env.now)
        prediction = read_prediction(self.reply)
        if prediction is not None:
            self.desk.record(prediction[0], self.up, self.replica)
        self.book.place(self.env.now, self.population, None if prediction is None else prediction[1], self.ret)


def read_prediction(reply: Reply) -> tuple[str, Quote] | None:
    """The prediction's id and what a desk reads of it, or None when the reply holds none."""
    if reply.status != 200:
        return None
    try:
        body = from_json(reply.content)  # pydantic-core's parser: a seventh of json.loads' time here
        age = body.get("features_age_seconds")
        quote = Quote(
            float(body["probability"]),
            float(body["confidence"]),
            str(body["model_version"]),
            reply.duration,
            None if age is None else float(age),
        )
        prediction_id = body["prediction_id"]
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return (prediction_id, quote) if isinstance(prediction_id, str) else None
