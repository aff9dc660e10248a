"""The feature pipeline: every ``interval`` the market ticks and the feed publishes each
symbol's factors, stamped with the tick's simulated time, in one batch.

Data faults act here, on what is published (design.md, decision 3): a stale feed resends a
symbol's last row, an outage sends nothing, and nulls, schema breaks and drift alter the
rows on their way to the service.
"""

from __future__ import annotations

import random
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import simpy

from service.model import FEATURES  # the service's contract: the factors it predicts from
from sim.fleet import Fleet
from sim.gateway import json_body
from sim.market import Market
from sim.records import SimResult
from sim.specs import FaultKind, FaultSpec

SOURCE = "market-feed"
OUT_OF_RANGE = 1.0e9  # far beyond any standardised factor


@dataclass
class FeedFaults:
    """The data faults active now, by name, and the rows a stale feed keeps resending."""

    active: dict[str, FaultSpec] = field(default_factory=dict)
    frozen: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def start(self, fault: FaultSpec) -> None:
        self.active[fault.name] = fault

    def stop(self, fault: FaultSpec) -> None:
        self.active.pop(fault.name, None)
        for key in [k for k in self.frozen if k[0] == fault.name]:
            del self.frozen[key]

    @property
    def outage(self) -> bool:
        return any(f.kind is FaultKind.FEED_OUTAGE for f in self.active.values())

    def row(self, symbol: str, row: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        """The row as the faults let it through."""
        for f in self.active.values():
            if f.symbols and symbol not in f.symbols:
                continue
            if f.kind is FaultKind.STALE_FEED:
                return self.frozen.setdefault((f.name, symbol), row)
        values: dict[str, Any] = dict(row["features"])
        # Drift first (it changes numbers), then nulls and breaks (they replace them), so
        # overlapping faults compose whatever order they started in.
        ordered = sorted(self.active.values(), key=lambda f: f.kind is not FaultKind.FEATURE_DRIFT)
        for f in ordered:
            if f.symbols and symbol not in f.symbols:
                continue
            chosen = f.features or FEATURES
            if f.kind is FaultKind.FEATURE_DRIFT:
                for name in chosen:
                    values[name] = round(values[name] * f.scale + f.shift, 6)
            elif f.kind is FaultKind.NULL_FEATURES:
                for name in chosen:
                    if rng.random() < f.magnitude:
                        values[name] = None
            elif f.kind is FaultKind.SCHEMA_BREAK and rng.random() < f.magnitude:
                name = chosen[0]
                if f.mode == "missing_field":
                    values.pop(name, None)
                elif f.mode == "out_of_range":
                    values[name] = OUT_OF_RANGE
                else:  # wrong_type: a number sent as text
                    values[name] = str(values[name])
        return {**row, "features": values}


def feed(
    env: simpy.Environment,
    fleet: Fleet,
    market: Market,
    interval: float,
    faults: FeedFaults,
    rng: random.Random,
    result: SimResult,
) -> Generator[simpy.Event, Any, None]:
    while True:
        now = fleet.primary.now_unix()
        market.step(now, interval)
        if faults.outage:
            result.feed_responses["outage"] += 1
        else:
            updates = []
            for symbol, state in market.states.items():
                values = {k: round(v, 6) for k, v in state.factors.items()}
                fresh = {"symbol": symbol, "timestamp": now, "features": values}
                updates.append(faults.row(symbol, fresh, rng))
            body = json_body({"source": SOURCE, "updates": updates})
            for replica in fleet.live():  # every replica reads the same pipeline
                reply = yield replica.gateway.request("POST", "/features", content=body)
                result.feed_responses[reply.label] += 1
        yield env.timeout(interval)
