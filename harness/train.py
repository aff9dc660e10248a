"""``alertdrill train``: fit the factor model on the calm market and write its artifact.

The model is the logistic regression the service serves, fitted by Newton's method (IRLS)
with numpy on draws from the simulated market's calm regime. The artifact carries what the
service needs beyond coefficients: its version and training time (model age), and each
factor's reference distribution as 101 quantiles (drift is measured against it).

Training is a pure function of seed, sample count, regime and training time: the shipped
``config/model.json`` is reproducible bit for bit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from service.model import FEATURES, QUANTILES
from service.outcomes import BINS as CONFIDENCE_BINS
from sim.market import Market
from sim.regimes import REGIMES

BINS = len(CONFIDENCE_BINS)  # [0.5, 0.6) ... [0.9, 1.0], as the service counts them


@dataclass(frozen=True)
class Quality:
    """How a model does on one market: accuracy, mean confidence, expected calibration error."""

    accuracy: float
    confidence: float
    ece: float


def fit_logistic(x: NDArray[np.float64], y: NDArray[np.float64], ridge: float = 1e-6) -> NDArray[np.float64]:
    """Intercept first, then one coefficient per column; 25 Newton steps converge long before."""
    design = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(design.shape[1])
    for _ in range(25):
        p = 1.0 / (1.0 + np.exp(-design @ w))
        gradient = design.T @ (y - p) - ridge * w
        hessian = (design * (p * (1.0 - p))[:, None]).T @ design + ridge * np.eye(len(w))
        step = np.linalg.solve(hessian, gradient)
        w += step
        if float(np.max(np.abs(step))) < 1e-10:
            break
    return w


def draw(
    seed: int, n: int, regime: str = "calm", strength: float = 1.0, signal: float = 1.0
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    market = Market(("TRAIN",), random.Random(f"{seed}:train:{regime}:{strength}:{signal}"))
    market.set_regime(regime, strength)
    if signal != 1.0:
        market.dampen("train", signal)
    xs, ys = market.sample(n)
    return np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)


def quality(w: NDArray[np.float64], x: NDArray[np.float64], y: NDArray[np.float64]) -> Quality:
    p = 1.0 / (1.0 + np.exp(-(w[0] + x @ w[1:])))
    correct = (p >= 0.5) == (y > 0.5)
    confidence = np.maximum(p, 1.0 - p)
    bins = np.minimum(((confidence - 0.5) * 10 + 1e-9).astype(int), BINS - 1)
    gap = sum(abs(float(correct[bins == b].sum() - confidence[bins == b].sum())) for b in range(BINS))
    return Quality(float(correct.mean()), float(confidence.mean()), gap / len(y))


def train(
    seed: int = 0, samples: int = 100_000, regime: str = "calm", trained_at: float = 0.0
) -> tuple[dict[str, object], Quality]:
    """The artifact as a JSON-ready dict, and the model's quality on fresh draws of its regime."""
    x, y = draw(seed, samples, regime)
    w = fit_logistic(x, y)
    coefficients = {f: round(float(c), 6) for f, c in zip(FEATURES, w[1:], strict=True)}
    intercept = round(float(w[0]), 6)
    reference = np.quantile(x, np.linspace(0.0, 1.0, QUANTILES), axis=0)
    held_out = quality(np.array([intercept, *coefficients.values()]), *draw(seed + 1, samples // 2, regime))
    digest = hashlib.sha256(json.dumps([intercept, coefficients], sort_keys=True).encode()).hexdigest()[:8]
    day = dt.datetime.fromtimestamp(trained_at, dt.UTC).strftime("%Y%m%d")
    artifact: dict[str, object] = {
        "format": 1,
        "version": f"factor-logit-{day}-{digest}",
        "trained_at": trained_at,
        "intercept": intercept,
        "coefficients": coefficients,
        "reference": {f: [round(float(q), 6) for q in reference[:, i]] for i, f in enumerate(FEATURES)},
        "training": {
            "regime": regime,
            "samples": samples,
            "seed": seed,
            "held_out_accuracy": round(held_out.accuracy, 4),
            "held_out_confidence": round(held_out.confidence, 4),
            "held_out_ece": round(held_out.ece, 4),
        },
    }
    return artifact, held_out


def write_artifact(artifact: dict[str, object], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(artifact, indent=1) + "\n", encoding="utf-8")


def regime_table(
    artifact: dict[str, object], seed: int = 0, samples: int = 50_000, strengths: tuple[float, ...] = (0.1, 0.3, 1.0)
) -> list[tuple[str, float, Quality]]:
    """The model's quality in every regime at several strengths, and in a low-confidence market."""
    coefficients = artifact["coefficients"]
    assert isinstance(coefficients, dict)
    w = np.array([float(artifact["intercept"]), *(float(coefficients[f]) for f in FEATURES)])  # type: ignore[arg-type]
    rows = [("calm", 1.0, quality(w, *draw(seed + 2, samples)))]
    for name in REGIMES:
        if name != "calm":
            rows += [(name, s, quality(w, *draw(seed + 2, samples, name, s))) for s in strengths]
    rows += [(f"low_confidence signal={s:g}", 1.0, quality(w, *draw(seed + 2, samples, signal=s))) for s in (0.25,)]
    return rows
