"""Market regimes: how each changes the factors' distributions and what they say about the outcome.

A regime is a distance from the calm market the model is trained on. ``strength`` scales
that distance (0 is calm, 1 the regime as catalogued, up to 2 beyond it), so a scenario can
say "a mildly volatile afternoon" as well as "the relation between momentum and returns
inverted". Factors are standardised: in the calm regime each is N(0, 1).

The outcome of a tick is ``up`` when ``beta . x + noise * eps > 0``, eps ~ N(0, 1): ``beta``
is the regime's relation between factors and returns, ``noise`` what the factors cannot
explain. With the calm regime's ``|beta| = 1`` and ``noise = 0.5`` a model that learned beta
is right about 85 % of the time, and its confidence is calibrated.

A tick also has a size: its realised return over the horizon is ``volatility * z`` basis points,
with ``z = beta . x + noise * eps`` the very draw that decided its direction (so its sign is the
direction, and no extra draw shifts any other). A prediction can then make or lose money in
proportion to how far the market moved, and a volatile regime moves it further.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from service.model import FEATURES

_N = len(FEATURES)


def _vec(**values: float) -> tuple[float, ...]:
    unknown = set(values) - set(FEATURES)
    if unknown:
        raise ValueError(f"not factors: {sorted(unknown)}")
    return tuple(values.get(f, 0.0) for f in FEATURES)


def _unit(v: tuple[float, ...]) -> tuple[float, ...]:
    norm = math.sqrt(sum(x * x for x in v))
    return tuple(x / norm for x in v)


CALM_BETA = _unit(
    _vec(
        order_book_imbalance=0.5,
        momentum_short=0.45,
        momentum_long=0.25,
        spread=-0.15,
        volume_ratio=0.1,
        trade_flow=0.5,
        mean_reversion=-0.35,
    )
)
CALM_NOISE = 0.5
CALM_VOLATILITY = 2.0  # basis points per unit of z: a calm tick moves 2.3 bp over the horizon (1 sd)


@dataclass(frozen=True)
class Regime:
    """A regime at strength 1: factor means and scales, the factor-outcome relation, the noise."""

    name: str
    description: str
    mean: tuple[float, ...] = (0.0,) * _N
    scale: tuple[float, ...] = (1.0,) * _N
    beta: tuple[float, ...] = CALM_BETA
    noise: float = CALM_NOISE
    volatility: float = CALM_VOLATILITY

    def at(self, strength: float) -> RegimeParams:
        """The regime ``strength`` of the way from calm (linear in every parameter)."""
        s = strength
        return RegimeParams(
            mean=tuple(s * m for m in self.mean),
            scale=tuple(1.0 + s * (k - 1.0) for k in self.scale),
            beta=tuple(c + s * (b - c) for c, b in zip(CALM_BETA, self.beta, strict=True)),
            noise=CALM_NOISE + s * (self.noise - CALM_NOISE),
            volatility=CALM_VOLATILITY + s * (self.volatility - CALM_VOLATILITY),
        )


@dataclass(frozen=True)
class RegimeParams:
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    beta: tuple[float, ...]
    noise: float
    volatility: float = CALM_VOLATILITY  # basis points of return per unit of the outcome's z


def _with(base: tuple[float, ...], **changes: float) -> tuple[float, ...]:
    return tuple(changes.get(f, b) for f, b in zip(FEATURES, base, strict=True))


REGIMES: Mapping[str, Regime] = MappingProxyType(
    {
        r.name: r
        for r in (
            Regime("calm", "The training regime: factors N(0, 1), the model right about 85 % of the time."),
            Regime(
                "volatile",
                "Outcomes far noisier than the factors explain (noise x2.4): the model stays accurate "
                "enough but is overconfident; factor distributions barely move.",
                mean=_vec(volatility=0.1),
                scale=_with((1.0,) * _N, volatility=1.15, spread=1.1, volume_ratio=1.15),
                noise=CALM_NOISE * 2.4,
                volatility=CALM_VOLATILITY * 2.0,  # prices move twice as far
            ),
            Regime(
                "trending",
                "Momentum persists: momentum and order-flow factors shift up, long momentum matters "
                "more and mean reversion less.",
                mean=_vec(momentum_short=0.6, momentum_long=0.9, trade_flow=0.4),
                beta=_with(CALM_BETA, momentum_long=0.6, mean_reversion=-0.1),
                noise=CALM_NOISE * 1.2,
                volatility=CALM_VOLATILITY * 1.3,
            ),
            Regime(
                "mean_reverting",
                "Moves reverse: momentum now predicts the opposite direction, order flow is absorbed, "
                "volume runs high; a model trained on calm data does worse than a coin.",
                mean=_vec(volume_ratio=0.8),
                scale=_with((1.0,) * _N, mean_reversion=1.3, momentum_short=0.7),
                beta=_with(
                    CALM_BETA,
                    momentum_short=-0.9,
                    momentum_long=-0.6,
                    mean_reversion=-0.2,
                    order_book_imbalance=0.1,
                    trade_flow=0.1,
                ),
            ),
        )
    }
)
