"""The trading desk: it learns each prediction's realised direction once the horizon has
passed and reports the outcomes back to the service in batches (``POST /feedback``), as a
desk's post-trade process would. The simulator knows the outcome when the prediction is
made; the service only learns it here, ``horizon`` later. Each outcome goes to the replica that
made the prediction (only it knows the prediction's id); a replica removed meanwhile never hears
it, as a pod that is gone would not."""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import simpy

from sim.fleet import Replica
from sim.records import SimResult

MAX_BATCH = 10_000  # the service's limit per request


@dataclass
class Desk:
    env: simpy.Environment
    horizon: float
    pending: deque[tuple[float, str, str, Replica | None]] = field(default_factory=deque)

    def record(self, prediction_id: str, up: bool, replica: Replica | None = None) -> None:
        self.pending.append((self.env.now + self.horizon, prediction_id, "up" if up else "down", replica))

    def due(self) -> list[dict[str, str]]:
        """Every outcome known by now, whichever replica made its prediction."""
        return [o for batch in self.due_by_replica().values() for o in batch]

    def due_by_replica(self) -> dict[Replica | None, list[dict[str, str]]]:
        """Outcomes known by now, by the replica that made the prediction, each in prediction order."""
        now: float = self.env.now
        out: dict[Replica | None, list[dict[str, str]]] = {}
        while self.pending and self.pending[0][0] <= now:
            _, prediction_id, outcome, replica = self.pending.popleft()
            batch = out.get(replica)
            if batch is None:
                batch = out[replica] = []
            batch.append({"prediction_id": prediction_id, "outcome": outcome})
        return out


def report(env: simpy.Environment, desk: Desk, interval: float, result: SimResult) -> Generator[simpy.Event, Any, None]:
    while True:
        yield env.timeout(interval)
        for replica, outcomes in desk.due_by_replica().items():
            if replica is None or not replica.live:
                result.feedback_responses["replica gone"] += 1
                continue
            for i in range(0, len(outcomes), MAX_BATCH):
                body = {"outcomes": outcomes[i : i + MAX_BATCH]}
                reply = yield replica.gateway.request("POST", "/feedback", json=body)
                result.feedback_responses[reply.label] += 1
