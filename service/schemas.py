"""The request and response bodies: the OpenAPI schema is the service's contract."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

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
    symbol: str
    direction: Literal["up", "down"]
    probability: float
    confidence: float
    model_version: str
    degraded: bool = Field(default=False, description="Features came from the fallback cache.")
    features_age_seconds: float | None = None


class FeatureUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbol: str = Field(min_length=1, max_length=16, pattern=r"^[A-Z0-9._-]+$")
    timestamp: float = Field(ge=0, allow_inf_nan=False, description="Unix seconds of the market data.")
    features: dict[str, FiniteFloat]


class FeatureBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    updates: list[FeatureUpdate] = Field(min_length=1, max_length=10_000)


class FeatureBatchResult(BaseModel):
    accepted: int


class Health(BaseModel):
    status: Literal["ok"]
    model_version: str
