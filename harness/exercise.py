"""A real scrape of a service that has done everything once: features published (a null
among them, a bad row), a prediction made, its outcome reported; of the trading desks'
book after one order of every kind; and of the rollout controller in the middle of a canary.
Labelled families only show their series after use; check-config reads metric names from
these scrapes."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import httpx

from harness.errors import ConfigurationError
from service import Settings, SimulatedClock, create_app
from service.model import FEATURES
from sim.transport import Headers, Reply

_T0 = 1_767_225_600.0


async def _exercise(model: Path | None) -> str:
    app = create_app(Settings(sim_clock=True, model_path=str(model) if model else None), SimulatedClock(_T0))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service") as client:

        def at(t: float) -> dict[str, str]:
            return {"X-Sim-Time": repr(_T0 + t)}

        features: dict[str, float | None] = dict.fromkeys(FEATURES, 0.1)
        features[FEATURES[0]] = None
        rows = [{"symbol": "AAPL", "timestamp": _T0, "features": features}, {"symbol": "AAPL"}]
        await client.post("/features", json={"source": "market-feed", "updates": rows}, headers=at(0))
        answer = (await client.post("/predict", json={"symbol": "AAPL"}, headers=at(1))).json()
        outcome = {"prediction_id": answer["prediction_id"], "outcome": answer["direction"]}
        await client.post("/feedback", json={"outcomes": [outcome]}, headers=at(6))
        return (await client.get("/metrics", headers=at(7))).text


def scrape_exercised_service(model: Path | None = None) -> str:
    """The /metrics text of a fresh in-process service after one of everything."""
    from service.model import ModelFileError

    if model is not None and not model.is_file():
        raise ConfigurationError(f"{model}: model artifact not found (the scrape needs the served model)")
    try:
        return asyncio.run(_exercise(model))
    except ModelFileError as exc:
        raise ConfigurationError(str(exc)) from exc


def scrape_exercised_desks() -> str:
    """The trading desks' /metrics (sim/book.py, the `trading-desk` job) after one of every
    kind of order: a full-size and a smaller one on a prediction, one placed too late to use
    it, all booked. Labelled families only show their series after use, like the service's."""
    from sim.book import TradeBook
    from sim.trading import DeskRule, Quote

    book = TradeBook({"desk": DeskRule()}, horizon=1.0, rng=random.Random(0))

    def quote(up: float, latency: float) -> Quote:
        return Quote(up_probability=up, confidence=max(up, 1 - up), model_version="v1", latency=latency)

    book.place(0.0, "desk", quote(0.95, 0.001), 2.0)  # full size, right
    book.place(0.0, "desk", quote(0.3, 0.001), 1.5)  # smaller, wrong: a negative signal
    book.place(0.0, "desk", quote(0.95, 0.5), -1.0)  # too late: placed without it
    return book.exposition(2.0)


class _NoService:
    """A replica's transport that is never asked anything: the controller's exposition needs
    the fleet's replicas, versions and weights, not a service behind them."""

    async def exchange(self, method: str, path: str, headers: Headers, body: bytes | None) -> Reply:
        return Reply(None, error="no service: the controller's exposition only")

    async def aclose(self) -> None:
        return None


def scrape_exercised_controller() -> str:
    """The rollout controller's /metrics (sim/rollout.py, the `rollout-controller` job) in the
    middle of a canary: two replicas of the stable version, one of the new version ready and
    serving a quarter of the traffic, the rollout Progressing. A small SimPy world run up to
    that instant; no request is sent, so its replicas need no service behind them."""
    import simpy

    from sim.fleet import Fleet
    from sim.records import SimResult
    from sim.rollout import CANARY, RolloutController
    from sim.specs import Build, FleetSpec, RolloutSpec

    env = simpy.Environment()
    spec = FleetSpec(replicas=2, labelled=True, startup_delay=30.0)
    result = SimResult(duration=3600.0)
    fleet = Fleet(env, spec, _T0, None, lambda build: _NoService(), random.Random(0), random.Random(1), result)
    stable, new = Build("v1", "model-v1.json"), Build("v2", "model-v2.json")
    for _ in range(spec.replicas):
        fleet.start(stable)
    fleet.set_weights({stable.version: 1.0})
    controller = RolloutController(env, fleet, stable, spec, None, result)
    canary = RolloutSpec("canary-v2", CANARY, at=60.0, build=new, steps=(0.25, 1.0), step_every=600.0)
    env.process(controller.run(canary))
    env.run(until=canary.at + spec.startup_delay + 1.0)  # the canary's replica ready, its weight set
    return controller.exposition(env.now)
