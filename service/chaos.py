"""Chaos hooks: named faults that add delay or fail a fraction of requests.

Faults are named so the simulator can switch overlapping faults on and off independently;
their effects compose (delays add, failure probabilities combine). The generator that picks
failed requests is seeded per app, so a sequence of requests fails the same way every run.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from service.clock import RequestClock


class ChaosSpec(BaseModel):
    """One fault's effect, as the admin API accepts it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    delay_seconds: float = Field(default=0.0, ge=0.0, le=60.0)
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    error_every: int = Field(default=0, ge=0, description="Fail every Nth request (a broken pooled connection).")
    cpu_cores: float = Field(default=0.0, ge=0.0, le=256.0, description="Cores a runaway thread burns.")
    feature_store_down: bool = Field(default=False, description="The feature store does not answer.")
    feature_store_delay: float = Field(default=0.0, ge=0.0, le=60.0, description="Added store latency.")


class InjectedFault(Exception):
    """Raised inside a request chosen to fail; the app answers it with a 503."""


@dataclass
class Chaos:
    rng: random.Random
    faults: dict[str, ChaosSpec]
    served: int = 0  # requests that went through the hook, for error_every

    @classmethod
    def seeded(cls, seed: int) -> Chaos:
        return cls(random.Random(seed), {})

    def set(self, name: str, spec: ChaosSpec) -> None:
        self.faults[name] = spec

    def clear(self, name: str) -> bool:
        return self.faults.pop(name, None) is not None

    @property
    def cpu_cores(self) -> float:
        return sum(f.cpu_cores for f in self.faults.values())

    async def apply(self, clock: RequestClock) -> None:
        """Spend the injected delay, then fail the request with the combined probability."""
        if not self.faults:
            return
        delay = sum(f.delay_seconds for f in self.faults.values())
        if delay:
            await clock.sleep(delay)
        self.served += 1
        for name, f in self.faults.items():
            if f.error_every and self.served % f.error_every == 0:
                raise InjectedFault(name)
        survive = 1.0
        for f in self.faults.values():
            survive *= 1.0 - f.error_rate
        if survive < 1.0 and self.rng.random() >= survive:
            raise InjectedFault(", ".join(sorted(self.faults)))
