"""The request and response bodies: the OpenAPI schema is the service's contract."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.model import FEATURES

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbol: str = Field(min_length=1, max_length=16, pattern=r"^[A-Z0-9._-]+$", examples=["AAPL"])
    features: dict[str, FiniteFloat] = Field(
        description=f"One finite value per factor: {', '.join(FEATURES)}.",
    )

    @model_validator(mode="after")
    def _exactly_the_model_features(self) -> PredictRequest:
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


class Health(BaseModel):
    status: Literal["ok"]
    model_version: str
