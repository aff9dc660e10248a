"""Chaos hooks: named faults that add delay or fail a fraction of requests.

Faults are named so the simulator can switch overlapping faults on and off independently;
their effects compose (delays add, failure probabilities combine). The generator that picks
failed requests is seeded per app, so a sequence of requests fails the same way every run.
Because delays add, how many faults may be active and how much delay they may add together
are capped (``Settings.chaos_max_faults``, ``chaos_max_delay_seconds``): 74 stacked faults
once made every request wait 130 s.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from service.clock import RequestClock
from service.errors import ServiceError


def _whole(value: object) -> object:
    """JSON Schema counts ``5.0`` as an integer; strict pydantic does not."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


class ChaosSpec(BaseModel):
    """One fault's effect, as the admin API accepts it: strictly (``false`` is not a delay,
    ``"1"`` not a rate), so what the schema calls invalid is refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    delay_seconds: float = Field(default=0.0, ge=0.0, le=60.0)
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    error_every: Annotated[int, BeforeValidator(_whole)] = Field(
        default=0, ge=0, description="Fail every Nth request (a broken pooled connection)."
    )
    cpu_cores: float = Field(default=0.0, ge=0.0, le=256.0, description="Cores a runaway thread burns.")
    feature_store_down: bool = Field(default=False, description="The feature store does not answer.")
    feature_store_delay: float = Field(default=0.0, ge=0.0, le=60.0, description="Added store latency.")


class InjectedFault(ServiceError):
    """Raised inside a request chosen to fail; the app answers it with a 503."""


class ChaosLimitError(ServiceError):
    """A fault that would take the active faults past a cap; the admin API answers 409."""


@dataclass
class Chaos:
    rng: random.Random
    faults: dict[str, ChaosSpec]
    max_faults: int = 16
    max_delay: float = 60.0  # seconds the active faults may add to a request, together
    served: int = 0  # requests that went through the hook, for error_every

    @classmethod
    def seeded(cls, seed: int, max_faults: int = 16, max_delay: float = 60.0) -> Chaos:
        return cls(random.Random(seed), {}, max_faults, max_delay)

    def set(self, name: str, spec: ChaosSpec) -> None:
        """Switch fault ``name`` on (or change it), unless that takes the active faults past a cap."""
        others = [f for n, f in self.faults.items() if n != name]
        if len(others) >= self.max_faults:
            raise ChaosLimitError(
                f"{len(others)} chaos faults are active, the most allowed (chaos_max_faults = {self.max_faults}): "
                "clear one first"
            )
        delay = sum(f.delay_seconds for f in others) + spec.delay_seconds
        if delay > self.max_delay:
            raise ChaosLimitError(
                f"with this fault the active faults would delay each request {delay:g} s, "
                f"over chaos_max_delay_seconds = {self.max_delay:g} s"
            )
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
