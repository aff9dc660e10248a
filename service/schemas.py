"""The request and response bodies: the OpenAPI schema is the service's contract."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, model_validator

from service.feature_schema import Reason, clipped, listed
from service.model import FEATURES
from service.settings import SYMBOL_PATTERN

# A factor value as the schema shows it. The value itself is judged in the endpoint by the rule
# /features rows are judged by (``feature_schema.feature_value``: no bool, no numeric string,
# finite, within ``Settings.feature_abs_max``), so pydantic must take it as sent, not coerce it.
FeatureValue = Annotated[Any, WithJsonSchema({"type": "number"})]


# Exactly the model's factors, each a number (its bounds are the settings', set in the app's schema).
_FEATURES_SCHEMA = {
    "type": "object",
    "properties": {name: {"type": "number"} for name in FEATURES},
    "required": list(FEATURES),
    "additionalProperties": False,
}


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbol: str = Field(pattern=SYMBOL_PATTERN, examples=["AAPL"])
    features: Annotated[dict[str, FeatureValue], WithJsonSchema(_FEATURES_SCHEMA)] | None = Field(
        default=None,
        description=f"One number per factor: {', '.join(FEATURES)}, finite, within the service's "
        "feature_abs_max (1000 unless configured); omitted, the feature store's are used.",
    )

    @model_validator(mode="after")
    def _exactly_the_model_features(self) -> PredictRequest:
        if self.features is None:
            return self
        missing = [f for f in FEATURES if f not in self.features]
        unknown = sorted(set(self.features) - set(FEATURES))
        if missing or unknown:
            parts = []
            if missing:
                parts.append(f"missing features: {', '.join(missing)}")
            if unknown:
                parts.append(f"unknown features: {listed(unknown, clipped)}")
            raise ValueError("; ".join(parts) + f" (expected exactly: {', '.join(FEATURES)})")
        return self


class PredictResponse(BaseModel):
    prediction_id: str = Field(description="Report the outcome under this id (POST /feedback).")
    symbol: str
    direction: Literal["up", "down"]
    probability: float
    confidence: float
    model_version: str
    degraded: bool = Field(default=False, description="Features came from the fallback cache.")
    features_age_seconds: float | None = None
    imputed: list[str] = Field(
        default_factory=list,
        description="Features that were null in the store, predicted on with the model's training median instead.",
    )


class FeatureBatch(BaseModel):
    """Rows are validated one by one (service/feature_schema.py): a bad row is rejected with a
    reason, the rest of the batch is kept."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(default="unknown", pattern=r"^[a-z0-9_-]{1,32}$", description="The upstream data source.")
    updates: list[Any] = Field(
        min_length=1,
        max_length=10_000,
        description="Rows {symbol, timestamp (Unix seconds of the data), features: {name: number or null}}.",
    )


class RejectedRow(BaseModel):
    index: int = Field(description="Position of the row in the batch's updates.")
    symbol: str | None = Field(description="The row's symbol, if it had a string one.")
    field: str = Field(description="What is wrong: a feature, symbol, timestamp, features or unknown.")
    reason: Reason
    detail: str


class FeatureBatchResult(BaseModel):
    accepted: int
    rejected: list[RejectedRow] = Field(default_factory=list)


class Outcome(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prediction_id: str = Field(min_length=1, max_length=64)
    outcome: Literal["up", "down"]


class FeedbackBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcomes: list[Outcome] = Field(min_length=1, max_length=10_000)


class FeedbackResult(BaseModel):
    matched: int
    unmatched: int


class Health(BaseModel):
    status: Literal["ok"]
    model_version: str
    admin: Literal["accepted", "refused", "disabled"] | None = Field(
        default=None,
        description="Only when the probe carries an Authorization header: whether that admin token "
        "is the service's (disabled: the service has none).",
    )


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, bool] = Field(description="model_loaded, feature_store_reachable")


class Problem(BaseModel):
    """Every error but a 422: what went wrong, in words."""

    detail: str


class InvalidItem(BaseModel):
    loc: list[str | int] = Field(description="Where: body, then the path into it.")
    msg: str
    type: str


class ValidationProblem(BaseModel):
    """Every 422: FastAPI's shape, each item cut short and at most 20 items (the last may say how
    many more there were)."""

    detail: list[InvalidItem]


# What each error status means on this service; a route lists the ones it can answer.
_MEANING = {
    400: "A simulated-clock request without valid X-Sim-* time headers, or a body that cannot be parsed.",
    401: "Missing or wrong bearer token.",
    404: "Not found.",
    409: "Conflicts with the service's state.",
    413: "Request body over the service's max_body_bytes.",
    422: "The request is well-formed but invalid: where and why, per item.",
    503: "Unavailable.",
}


def errors(*statuses: int, **meaning: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route answering ``statuses``; ``meaning`` overrides a description by
    status (``s404="..."``)."""
    return {
        status: {
            "model": ValidationProblem if status == 422 else Problem,
            "description": meaning.get(f"s{status}", _MEANING[status]),
        }
        for status in statuses
    }
