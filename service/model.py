"""The factor model: a logistic regression over the factor values of one symbol.

A small closed-form model keeps the handler's own work at a few microseconds, so what the
simulator measures is the service and its faults, not numpy.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from service.errors import ServiceError
from service.numbers import finite, is_number

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


QUANTILES = 101  # a reference distribution: the 0th to 100th percentiles of the training data
ARTIFACT_FORMAT = 1


@dataclass(frozen=True)
class LogisticModel:
    """``P(up) = sigmoid(intercept + sum(coef[f] * x[f]))``.

    ``reference`` holds each feature's training distribution (101 quantiles, FEATURES order):
    drift is measured against it and a null is imputed with its median.
    """

    version: str
    coefficients: tuple[float, ...]
    intercept: float = 0.0
    trained_at: float | None = None
    reference: tuple[tuple[float, ...], ...] | None = None

    def imputation(self, feature: str) -> float:
        """What a null value is taken to be: the training median (quantile 50), 0 without a reference.

        The median rather than the mean: it is in the reference already, a tail of the training
        data does not move it, and for a factor that is never 0 (volatility, spread) it is a
        value the model has actually seen."""
        if self.reference is None:
            return 0.0
        return self.reference[FEATURES.index(feature)][QUANTILES // 2]

    def __post_init__(self) -> None:
        if len(self.coefficients) != len(FEATURES):
            raise ValueError(
                f"coefficients has {len(self.coefficients)} values, expected {len(FEATURES)} "
                f"(one per feature: {', '.join(FEATURES)})"
            )
        if self.reference is not None and (
            len(self.reference) != len(FEATURES) or any(len(q) != QUANTILES for q in self.reference)
        ):
            raise ValueError(f"reference must hold {QUANTILES} quantiles for each of the {len(FEATURES)} features")

    def predict(self, features: dict[str, float]) -> Prediction:
        z = self.intercept + sum(c * features[f] for c, f in zip(self.coefficients, FEATURES, strict=True))
        probability = 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0
        direction: Direction = "up" if probability >= 0.5 else "down"
        return Prediction(direction, probability, max(probability, 1.0 - probability))


class ModelFileError(ServiceError, ValueError):
    """A model artifact that cannot be loaded; the message names the file and the field."""


def load_model(path: Path) -> LogisticModel:
    """A model artifact: JSON with ``version``, ``intercept`` and ``coefficients`` by feature and,
    written by ``alertdrill train`` (``format`` 1), ``trained_at`` (Unix seconds) and each feature's
    ``reference`` quantiles. Other keys (``training`` metadata) are kept in the file, not read."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"{path}: cannot read model artifact: {exc}") from exc
    if not isinstance(doc, dict):
        raise ModelFileError(f"{path}: a model artifact is a JSON object, not {type(doc).__name__}")
    if doc.get("format", ARTIFACT_FORMAT) != ARTIFACT_FORMAT:
        raise ModelFileError(f"{path}: field format is {doc['format']!r}; this service reads format {ARTIFACT_FORMAT}")
    try:
        coefficients = doc["coefficients"]
        missing = [f for f in FEATURES if f not in coefficients]
        if missing:
            raise ModelFileError(f"{path}: field coefficients lacks {', '.join(missing)}")
        return LogisticModel(
            str(doc["version"]),
            tuple(_number(path, f"coefficients.{f}", coefficients[f]) for f in FEATURES),
            _number(path, "intercept", doc.get("intercept", 0.0)),
            _trained_at(path, doc.get("trained_at")),
            _reference(path, doc.get("reference")),
        )
    except ModelFileError:
        raise
    except KeyError as exc:
        raise ModelFileError(f"{path}: missing field {exc.args[0]!r}") from exc
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: {exc}") from exc


def _number(path: Path, field: str, value: object) -> float:
    number = finite(value) if isinstance(value, int | float) and is_number(value) else None
    if number is None:
        raise ModelFileError(f"{path}: field {field} must be a finite number, not {value!r}"[:300])
    return number


def _trained_at(path: Path, value: object) -> float | None:
    if value is None:
        return None
    seconds = finite(value) if isinstance(value, int | float) and is_number(value) else None
    if seconds is None or seconds < 0:
        raise ModelFileError(f"{path}: field trained_at must be Unix seconds, got {value!r}")
    return seconds


def _reference(path: Path, doc: object) -> tuple[tuple[float, ...], ...] | None:
    """Each feature's training distribution, checked here so drift is never scored against junk."""
    if doc is None:
        return None
    if not isinstance(doc, dict):
        raise ModelFileError(f"{path}: field reference must map each feature to {QUANTILES} quantiles")
    out = []
    for f in FEATURES:
        q = doc.get(f)
        if not isinstance(q, list) or len(q) != QUANTILES:
            got = f"{len(q)} values" if isinstance(q, list) else type(q).__name__
            raise ModelFileError(f"{path}: field reference.{f} must be a list of {QUANTILES} quantiles, got {got}")
        checked = [finite(v) if is_number(v) else None for v in q]
        values = tuple(v for v in checked if v is not None)
        if len(values) != QUANTILES:
            raise ModelFileError(f"{path}: field reference.{f} must hold finite numbers only")
        if any(b < a for a, b in itertools.pairwise(values)):
            raise ModelFileError(f"{path}: field reference.{f} must be in ascending order")
        out.append(values)
    return tuple(out)


def default_model(version: str) -> LogisticModel:
    """Coefficients of the stand-in model until a trained artifact is loaded."""
    return LogisticModel(version, (1.2, 0.8, 0.4, -0.1, -0.3, 0.2, 0.9, -0.5))
