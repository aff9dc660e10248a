"""The request and response bodies: the OpenAPI schema is the service's contract."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.feature_schema import Reason
from service.model import FEATURES

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbol: str = Field(min_length=1, max_length=16, pattern=r"^[A-Z0-9._-]+$", examples=["AAPL"])
    features: dict[str, FiniteFloat] | None = Field(
        default=None,
        description=f"One finite value per factor: {', '.join(FEATURES)}; omitted, the feature store's are used.",
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
                parts.append(f"unknown features: {', '.join(unknown)}")
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
