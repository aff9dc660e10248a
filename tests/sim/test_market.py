"""The market's generating process: seeded, stationary, with memory, moved by regimes."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from service.model import FEATURES
from sim.market import Market
from sim.regimes import CALM_BETA, REGIMES


def _run(seed: int, steps: int = 200) -> list[dict[str, float]]:
    market = Market(("A", "B"), random.Random(seed))
    out = []
    for t in range(steps):
        market.step(float(t), 1.0)
        out.append(dict(market.states["A"].factors))
    return out


def test_same_seed_same_market_other_seed_other_market() -> None:
    assert _run(7) == _run(7)
    assert _run(7) != _run(8)


def test_calm_factors_are_standard_normal_with_a_memory_of_tau() -> None:
    market = Market(("A",), random.Random(1), tau=5.0)
    xs = []
    for t in range(40_000):
        market.step(float(t), 1.0)
        xs.append(market.states["A"].factors["spread"])
    assert abs(statistics.fmean(xs)) < 0.1
    assert statistics.stdev(xs) == pytest.approx(1.0, abs=0.08)
    lag = 5
    corr = statistics.correlation(xs[:-lag], xs[lag:])
    assert corr == pytest.approx(math.exp(-1.0), abs=0.05)


def test_outcomes_follow_the_calm_relation() -> None:
    market = Market(("A",), random.Random(2))
    xs, ys = market.sample(20_000)
    agree = sum((sum(b * v for b, v in zip(CALM_BETA, x, strict=True)) > 0) == y for x, y in zip(xs, ys, strict=True))
    assert 0.82 < agree / len(ys) < 0.88  # noise 0.5 against |beta| = 1: about 85 %


def test_strength_zero_is_calm_and_one_is_the_catalogue() -> None:
    for regime in REGIMES.values():
        assert regime.at(0.0) == REGIMES["calm"].at(1.0)
        full = regime.at(1.0)
        got = [*full.mean, *full.scale, *full.beta, full.noise]
        assert got == pytest.approx([*regime.mean, *regime.scale, *regime.beta, regime.noise])


def test_a_regime_change_overrides_the_schedule_and_gives_it_back() -> None:
    market = Market(("A",), random.Random(3))
    market.set_regime("trending", 0.5)
    market.override("fault", "mean_reverting", 1.0)
    assert (market.regime, market.strength) == ("mean_reverting", 1.0)
    market.set_regime("volatile", 0.2)  # the schedule moves on beneath the fault
    assert market.regime == "mean_reverting"
    market.release("fault")
    assert (market.regime, market.strength) == ("volatile", 0.2)


def test_a_low_confidence_market_is_quiet_along_beta_only() -> None:
    def spread(signal: float) -> tuple[float, float]:
        market = Market(("A",), random.Random(4))
        if signal != 1.0:
            market.dampen("quiet", signal)
        xs, _ = market.sample(20_000)
        along = [sum(b * v for b, v in zip(CALM_BETA, x, strict=True)) for x in xs]
        return statistics.stdev(along), statistics.stdev(x[FEATURES.index("spread")] for x in xs)

    loud, quiet = spread(1.0), spread(0.25)
    assert quiet[0] == pytest.approx(0.25 * loud[0], rel=0.05)
    assert quiet[1] > 0.9 * loud[1]  # a single factor's spread hardly changes: no drift to see
