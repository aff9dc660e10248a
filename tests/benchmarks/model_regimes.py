"""Benchmark: how accurate, and how confident, each model artifact is in every market regime.

    .venv/bin/python tests/benchmarks/model_regimes.py MODEL.json [MODEL2.json ...]
        [--samples 100000] [--strengths 0 0.3 0.6 1.0] [--regimes calm volatile ...] [--seed 0]

Why it exists: a scenario that releases a new model version (a canary, a blue-green switch)
needs artifacts whose behaviour is known before the scenario is run: a "good" retrain that is
as accurate as the serving model everywhere, a "regime-fragile" one that matches it in the calm
market and falls apart in one regime. Their accuracy cannot be read off the coefficients, so
this script measures it with the simulator's own market (``sim.market.Market``: the factors
of every tick and the direction the market then took) and the service's own model code
(``service.model.load_model`` and ``LogisticModel.predict``), not with a re-implementation.

For each (regime, strength) cell one seeded market is stepped until ``--samples`` ticks have
been drawn, and every model predicts on the same ticks (so the differences between models
are not sampling noise). Ticks are ``--dt`` simulated seconds apart on each symbol, twice
the factors' memory by default, so that consecutive ticks of a symbol are nearly
independent. With 100,000 ticks a cell the accuracy's standard error is at most 0.16 points
(``sqrt(0.25 / n)``), so a difference of one point between two models is well resolved. The
whole default table (4 regimes x 4 strengths) takes about 20 s for three models.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from dataclasses import dataclass
from pathlib import Path

from service.model import LogisticModel, load_model
from sim.market import Market
from sim.regimes import REGIMES

STRENGTHS: tuple[float, ...] = (0.0, 0.3, 0.6, 1.0)


@dataclass(frozen=True)
class Tick:
    factors: dict[str, float]
    up: bool


@dataclass(frozen=True)
class Cell:
    """One model's score in one (regime, strength): the share of ticks whose direction it got
    right and its mean confidence (``max(p, 1 - p)``)."""

    accuracy: float
    confidence: float
    n: int

    @property
    def stderr(self) -> float:
        return math.sqrt(self.accuracy * (1.0 - self.accuracy) / self.n)


def draw_ticks(regime: str, strength: float, n: int, seed: int, symbols: int, dt: float) -> list[Tick]:
    """``n`` ticks of a seeded market held in ``regime`` at ``strength`` (the market's own code:
    its factors after each step and the outcome it drew for that tick)."""
    rng = random.Random(f"model-regimes:{seed}:{regime}:{strength!r}")
    names = tuple(f"SYM{i:03d}" for i in range(symbols))
    market = Market(names, rng, regime=regime, strength=strength)
    ticks: list[Tick] = []
    now = 0.0
    while len(ticks) < n:
        now += dt
        market.step(now, dt)
        ticks.extend(Tick(dict(s.factors), s.up) for s in market.states.values())
    return ticks[:n]


def score(model: LogisticModel, ticks: list[Tick]) -> Cell:
    right = 0
    confidence = 0.0
    for tick in ticks:
        p = model.predict(tick.factors)
        right += (p.direction == "up") == tick.up
        confidence += p.confidence
    return Cell(right / len(ticks), confidence / len(ticks), len(ticks))


def measure(
    models: list[LogisticModel],
    regimes: list[str],
    strengths: list[float],
    n: int,
    seed: int,
    symbols: int,
    dt: float,
) -> dict[tuple[str, str, float], Cell]:
    """Every model's cell for every (regime, strength), keyed by (version, regime, strength)."""
    out: dict[tuple[str, str, float], Cell] = {}
    for regime in regimes:
        for strength in strengths:
            ticks = draw_ticks(regime, strength, n, seed, symbols, dt)
            for model in models:
                out[(model.version, regime, strength)] = score(model, ticks)
    return out


def render(
    cells: dict[tuple[str, str, float], Cell], versions: list[str], regimes: list[str], strengths: list[float]
) -> str:
    """A table: a row per (model, regime), a column per strength, each ``accuracy% / confidence%``."""
    vw = max(len("model"), *(len(v) for v in versions))
    rw = max(len("regime"), *(len(r) for r in regimes))
    head = f"{'model':<{vw}}  {'regime':<{rw}}" + "".join(f"  {f's={s:g} acc/conf':>18}" for s in strengths)
    lines = [head, "-" * len(head)]
    for version in versions:
        for regime in regimes:
            row = f"{version:<{vw}}  {regime:<{rw}}"
            for s in strengths:
                c = cells[(version, regime, s)]
                row += f"  {f'{100 * c.accuracy:5.1f}% / {100 * c.confidence:5.1f}%':>18}"
            lines.append(row)
    n = min(c.n for c in cells.values())
    worst = max(c.stderr for c in cells.values())
    lines.append(f"\n{n:,} ticks per cell; largest standard error of an accuracy {100 * worst:.2f} points")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("models", nargs="+", type=Path, help="model artifacts (JSON, as config/model.json)")
    parser.add_argument("--samples", type=int, default=100_000, help="ticks per (regime, strength) cell")
    parser.add_argument("--strengths", type=float, nargs="+", default=list(STRENGTHS))
    parser.add_argument("--regimes", nargs="+", default=list(REGIMES), choices=list(REGIMES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--symbols", type=int, default=100, help="symbols stepped together in one market")
    parser.add_argument("--dt", type=float, default=10.0, help="simulated seconds between a symbol's ticks")
    args = parser.parse_args(argv)

    models = [load_model(path) for path in args.models]
    versions = [m.version for m in models]
    if len(set(versions)) != len(versions):
        parser.error(f"two artifacts share a version: {versions}")
    cells = measure(models, args.regimes, args.strengths, args.samples, args.seed, args.symbols, args.dt)
    for path, model in zip(args.models, models, strict=True):
        print(f"{model.version}: {path}")
    print()
    print(render(cells, versions, args.regimes, args.strengths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
