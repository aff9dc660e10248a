"""The factor model: a logistic regression over the factor values of one symbol.

A small closed-form model keeps the handler's own work at a few microseconds, so what the
simulator measures is the service and its faults, not numpy.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

FEATURES: tuple[str, ...] = (
    "order_book_imbalance",
    "momentum_short",
    "momentum_long",
    "volatility",
    "spread",
    "volume_ratio",
    "trade_flow",
    "mean_reversion",
)

Direction = Literal["up", "down"]


@dataclass(frozen=True)
class Prediction:
    direction: Direction
    probability: float
    confidence: float


@dataclass(frozen=True)
class LogisticModel:
    """``P(up) = sigmoid(intercept + sum(coef[f] * x[f]))``."""

    version: str
    coefficients: tuple[float, ...]
    intercept: float = 0.0

    def __post_init__(self) -> None:
        if len(self.coefficients) != len(FEATURES):
            raise ValueError(
                f"coefficients has {len(self.coefficients)} values, expected {len(FEATURES)} "
                f"(one per feature: {', '.join(FEATURES)})"
            )

    def predict(self, features: dict[str, float]) -> Prediction:
        z = self.intercept + sum(c * features[f] for c, f in zip(self.coefficients, FEATURES, strict=True))
        probability = 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0
        direction: Direction = "up" if probability >= 0.5 else "down"
        return Prediction(direction, probability, max(probability, 1.0 - probability))


class ModelFileError(ValueError):
    """A model artifact that cannot be loaded; the message names the file and the field."""


def load_model(path: Path) -> LogisticModel:
    """A model artifact: JSON with ``version``, ``intercept`` and ``coefficients`` by feature."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"{path}: cannot read model artifact: {exc}") from exc
    try:
        coefficients = doc["coefficients"]
        missing = [f for f in FEATURES if f not in coefficients]
        if missing:
            raise ModelFileError(f"{path}: field coefficients lacks {', '.join(missing)}")
        return LogisticModel(
            str(doc["version"]), tuple(float(coefficients[f]) for f in FEATURES), float(doc.get("intercept", 0.0))
        )
    except KeyError as exc:
        raise ModelFileError(f"{path}: missing field {exc.args[0]!r}") from exc
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: {exc}") from exc


def default_model(version: str) -> LogisticModel:
    """Coefficients of the stand-in model until a trained artifact is loaded."""
    return LogisticModel(version, (1.2, 0.8, 0.4, -0.1, -0.3, 0.2, 0.9, -0.5))
