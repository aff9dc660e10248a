"""Service settings: one immutable value passed to ``create_app``, never read from globals."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


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
    feature_abs_max: float = Field(default=1000.0, gt=0, description="Largest |value| a feature row may carry.")
    upstream_timeout: float = Field(default=10.0, gt=0, description="Seconds without a good batch: upstream down.")
    drift_window: float = Field(default=600.0, gt=0, description="Seconds of recent values drift is measured on.")
    drift_min_values: int = Field(default=200, ge=1, description="Fewer recent values: no drift score.")
    feedback_ttl: float = Field(default=600.0, gt=0, description="Seconds a prediction waits for its outcome.")
    feedback_max_pending: int = Field(default=100_000, ge=1, description="Predictions remembered for feedback.")
    chaos_seed: int = Field(default=0, description="Seed of the generator that picks failed requests.")
    chaos_delay_seconds: float = Field(default=0.0, ge=0.0, description="Delay added from start.")
    chaos_error_rate: float = Field(default=0.0, ge=0.0, le=1.0, description="Fraction failed from start.")
