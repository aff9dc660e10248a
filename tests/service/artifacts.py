"""Model artifacts for the service's tests, written here so the tests do not depend on the
shipped ``config/model.json`` (which ``alertdrill train`` regenerates)."""

from __future__ import annotations

import json
from pathlib import Path
from statistics import NormalDist
from typing import Any

from service.model import FEATURES

TRAINED_AT = 1_767_225_600.0  # 2026-01-01T00:00:00Z
VOLATILITY_MEDIAN = 1.0  # volatility's reference is N(1, 1): its imputation is not 0


def normal_quantiles(mean: float = 0.0) -> list[float]:
    """The 0th..100th percentiles of N(mean, 1), the extremes cut at ±5 sigma."""
    inner = [NormalDist(mean).inv_cdf(p / 100) for p in range(1, 100)]
    return [mean - 5.0, *inner, mean + 5.0]


def artifact(**changes: Any) -> dict[str, Any]:
    """A format-1 artifact: P(up) = sigmoid(x[order_book_imbalance] + x[volatility]), every
    factor's reference standard normal but volatility's, N(1, 1)."""
    doc: dict[str, Any] = {
        "format": 1,
        "version": "factor-logit-20260101-test0001",
        "trained_at": TRAINED_AT,
        "intercept": 0.0,
        "coefficients": {f: 1.0 if f in ("order_book_imbalance", "volatility") else 0.0 for f in FEATURES},
        "reference": {f: normal_quantiles(VOLATILITY_MEDIAN if f == "volatility" else 0.0) for f in FEATURES},
        "training": {"samples": 1000, "regime": "calm"},
    }
    doc.update(changes)
    return doc


def write(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(json.dumps(doc))
    return path
