"""The market: per symbol, eight standardised factors moving as Ornstein-Uhlenbeck processes,
and the direction and size (realised return) of each tick's next move.

Factors have a memory of ``tau`` simulated seconds, so a prediction made from data a few
seconds old is still informed and one made from data half a minute old is a guess: that is
why freshness matters. A tick's outcome is drawn when the tick happens (see
``sim/regimes.py``); the trading desk learns it after the horizon.

Everything here is pure and seeded: the same seed and schedule give the same market.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from service.model import FEATURES
from sim.regimes import REGIMES, RegimeParams

_N = len(FEATURES)


@dataclass
class SymbolState:
    latent: list[float]  # N(0, 1) per factor, before the regime's mean and scale
    factors: dict[str, float] = field(default_factory=dict)
    up: bool = True
    ret: float = 0.0  # the tick's realised return over the horizon, basis points (its sign is ``up``)
    tick: float = 0.0


@dataclass
class Market:
    symbols: tuple[str, ...]
    rng: random.Random
    tau: float = 5.0
    regime: str = "calm"
    strength: float = 1.0
    signal: float = 1.0  # < 1: factors say less along the direction that matters (a low-confidence market)
    states: dict[str, SymbolState] = field(default_factory=dict)
    _params: RegimeParams | None = None
    _scheduled: tuple[str, float] = ("calm", 1.0)
    _overrides: dict[str, tuple[str, float]] = field(default_factory=dict)  # by fault name, latest last
    _signals: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for s in self.symbols:
            self.states[s] = SymbolState([self.rng.gauss(0.0, 1.0) for _ in range(_N)])
        self.set_regime(self.regime, self.strength)

    def set_regime(self, name: str, strength: float = 1.0) -> None:
        """The regime the schedule says; a regime-change fault overrides it while it lasts."""
        self._scheduled = (name, strength)
        self._refresh()

    def override(self, fault: str, regime: str, strength: float) -> None:
        self._overrides[fault] = (regime, strength)
        self._refresh()

    def release(self, fault: str) -> None:
        self._overrides.pop(fault, None)
        self._refresh()

    def dampen(self, fault: str, signal: float) -> None:
        self._signals[fault] = signal
        self._refresh()

    def undampen(self, fault: str) -> None:
        self._signals.pop(fault, None)
        self._refresh()

    def _refresh(self) -> None:
        self.regime, self.strength = list(self._overrides.values())[-1] if self._overrides else self._scheduled
        self._params = REGIMES[self.regime].at(self.strength)
        self.signal = math.prod(self._signals.values())

    @property
    def params(self) -> RegimeParams:
        assert self._params is not None
        return self._params

    def step(self, now: float, dt: float) -> None:
        """Advance every symbol by ``dt`` seconds and draw the new tick's outcome."""
        phi = math.exp(-dt / self.tau)
        kick = math.sqrt(1.0 - phi * phi)
        gauss = self.rng.gauss
        for state in self.states.values():
            state.latent = [phi * u + kick * gauss(0.0, 1.0) for u in state.latent]
            self._observe(state, now)

    def _observe(self, state: SymbolState, now: float) -> None:
        p = self.params
        x = [m + k * u for m, k, u in zip(p.mean, p.scale, state.latent, strict=True)]
        if self.signal != 1.0:
            x = _shrink(x, p, self.signal)
        state.factors = dict(zip(FEATURES, x, strict=True))
        z = sum(b * v for b, v in zip(p.beta, x, strict=True)) + p.noise * self.rng.gauss(0.0, 1.0)
        state.up = z > 0.0
        state.ret = p.volatility * z  # the same draw: a size for the direction, nothing else shifts
        state.tick = now

    def sample(self, n: int) -> tuple[list[list[float]], list[bool]]:
        """``n`` independent draws from the current regime's stationary distribution (training data)."""
        xs, ys = [], []
        state = SymbolState([0.0] * _N)
        for _ in range(n):
            state.latent = [self.rng.gauss(0.0, 1.0) for _ in range(_N)]
            self._observe(state, 0.0)
            xs.append([state.factors[f] for f in FEATURES])
            ys.append(state.up)
        return xs, ys


def _shrink(x: list[float], p: RegimeParams, signal: float) -> list[float]:
    """Scale the factors' deviation along ``beta`` by ``signal``: the market is quiet exactly where
    the model looks, while each factor's own distribution hardly changes."""
    norm2 = sum(b * b for b in p.beta)
    d = [v - m for v, m in zip(x, p.mean, strict=True)]
    along = sum(b * v for b, v in zip(p.beta, d, strict=True)) / norm2
    return [v - (1.0 - signal) * along * b for v, b in zip(x, p.beta, strict=True)]
