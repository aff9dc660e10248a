"""Service settings: one immutable value passed to ``create_app``, never read from globals."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

# What a symbol and a source look like on the wire (service/feature_schema.py, service/schemas.py).
SYMBOL_PATTERN = r"^[A-Z0-9._-]{1,16}$"
SOURCE_PATTERN = r"^[a-z0-9_-]{1,32}$"
# Every symbol a simulated scenario trades (sim/specs.py, scenarios/).
DEFAULT_SYMBOLS = ("AAPL", "MSFT", "NVDA", "AMZN", "GOOG", "META", "TSLA", "SPY", "QQQ")


class Settings(BaseModel):
    """What an operator can set when starting the prediction service."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model_version: str = "logit-0.1.0"
    model_path: str | None = Field(default=None, description="Model artifact (JSON) to load, and to reload.")
    admin_token: str | None = Field(
        default=None,
        description="Bearer token for /admin; the admin API answers 404 while this is unset.",
    )
    sim_clock: bool = Field(
        default=False,
        description="Honour X-Sim-Time: latency and timestamps are the simulator's modelled time.",
    )
    scale_out_rps: float = Field(
        default=800.0,
        gt=0,
        description="Request rate per replica at which the autoscaler adds one: 80% of what 2 cores serve at ~2 ms.",
    )
    cpu_cores: float | None = Field(
        default=None, gt=0, description="Cores the service may use; default: this machine's count."
    )
    breaker_failure_threshold: int = Field(default=5, ge=1, description="Failures in a row that open it.")
    breaker_reset_timeout: float = Field(default=30.0, gt=0, description="Seconds open before a probe.")
    fallback_max_age: float = Field(
        default=60.0, ge=0, description="Oldest cached features served while the feature store is unreachable."
    )
    access_log: bool = Field(default=False, description="One ECS JSON line per request (probes excluded).")
    clients: tuple[str, ...] = Field(
        default=("default", "market_making", "stat_arb", "momentum", "execution"),
        description="X-Client values kept as a metric label; any other is counted as 'other'.",
    )
    feature_abs_max: float = Field(default=1000.0, gt=0, description="Largest |value| a feature may carry.")
    symbols: tuple[Annotated[str, StringConstraints(pattern=SYMBOL_PATTERN)], ...] = Field(
        default=DEFAULT_SYMBOLS,
        min_length=1,
        description="Symbols whose feature rows are taken; a row for any other is rejected (unknown_symbol). "
        "Each is a metric label value, so the list bounds the series /features can create.",
    )
    sources: tuple[Annotated[str, StringConstraints(pattern=SOURCE_PATTERN)], ...] = Field(
        default=("market-feed", "unknown"),
        min_length=1,
        description="Upstream sources whose batches are taken; a batch from any other is a 422. "
        "'unknown' is the source of a batch that names none: drop it to make sources name themselves.",
    )
    max_body_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=1,
        description="Largest request body (413 beyond); a 10,000-row feature batch is 2.8-5 MB.",
    )
    upstream_timeout: float = Field(default=10.0, gt=0, description="Seconds without a good batch: upstream down.")
    drift_window: float = Field(default=600.0, gt=0, description="Seconds of recent values drift is measured on.")
    drift_min_values: int = Field(default=200, ge=1, description="Fewer recent values: no drift score.")
    feedback_ttl: float = Field(default=600.0, gt=0, description="Seconds a prediction waits for its outcome.")
    feedback_max_pending: int = Field(default=100_000, ge=1, description="Predictions remembered for feedback.")
    chaos_seed: int = Field(default=0, description="Seed of the generator that picks failed requests.")
    chaos_delay_seconds: float = Field(default=0.0, ge=0.0, le=60.0, description="Delay added from start.")
    chaos_error_rate: float = Field(default=0.0, ge=0.0, le=1.0, description="Fraction failed from start.")
    chaos_max_faults: int = Field(default=16, ge=1, description="Chaos faults active at once, at most (409 beyond).")
    chaos_max_delay_seconds: float = Field(
        default=60.0, ge=0.0, description="Total delay the active faults may add to a request (409 beyond)."
    )

    @model_validator(mode="after")
    def _start_within_the_caps(self) -> Settings:
        if self.chaos_delay_seconds > self.chaos_max_delay_seconds:
            raise ValueError(
                f"chaos_delay_seconds={self.chaos_delay_seconds:g} is over "
                f"chaos_max_delay_seconds={self.chaos_max_delay_seconds:g}"
            )
        return self
