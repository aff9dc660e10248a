"""The trading desk: it learns each prediction's realised direction once the horizon has
passed and reports the outcomes back to the service in batches (``POST /feedback``), as a
desk's post-trade process would. The simulator knows the outcome when the prediction is
made; the service only learns it here, ``horizon`` later."""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import simpy

from sim.gateway import ServiceGateway
from sim.records import SimResult

MAX_BATCH = 10_000  # the service's limit per request


@dataclass
class Desk:
    env: simpy.Environment
    horizon: float
    pending: deque[tuple[float, str, str]] = field(default_factory=deque)

    def record(self, prediction_id: str, up: bool) -> None:
        self.pending.append((self.env.now + self.horizon, prediction_id, "up" if up else "down"))

    def due(self) -> list[dict[str, str]]:
        now, out = self.env.now, []
        while self.pending and self.pending[0][0] <= now:
            _, prediction_id, outcome = self.pending.popleft()
            out.append({"prediction_id": prediction_id, "outcome": outcome})
        return out


def report(
    env: simpy.Environment, gateway: ServiceGateway, desk: Desk, interval: float, result: SimResult
) -> Generator[simpy.Event, Any, None]:
    while True:
        yield env.timeout(interval)
        outcomes = desk.due()
        for i in range(0, len(outcomes), MAX_BATCH):
            reply = yield gateway.request("POST", "/feedback", json={"outcomes": outcomes[i : i + MAX_BATCH]})
            result.feedback_responses[reply.label] += 1
