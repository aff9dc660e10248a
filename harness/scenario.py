"""Scenario files: traffic, faults and expectations, as data (design.md, decision 7).

YAML is validated by pydantic; every error names the file, the field, its line and what is
accepted. The same models are the Python API for tests and notebooks.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from harness.deployments import DeploymentOptions, Rollout, RolloutExpectation, deployment_problems
from harness.engine import compose, line_of, parse_duration, read_text
from harness.errors import ScenarioError
from service.model import FEATURES
from service.settings import SYMBOL_PATTERN
from sim.regimes import REGIMES
from sim.specs import (
    DEFAULT_SYMBOLS,
    FaultKind,
    FaultSpec,
    MarketSpec,
    Population,
    RegimePhase,
    ServerSpec,
    TrafficSpec,
    WorldSpec,
)
from sim.trading import DeskRule

Seconds = Annotated[float, BeforeValidator(parse_duration), Field(ge=0)]
PositiveSeconds = Annotated[float, BeforeValidator(parse_duration), Field(gt=0)]

DEFAULT_START = dt.datetime(2026, 1, 5, 14, 30, tzinfo=dt.UTC)  # a Monday, mid-session
DEFAULT_RULES = ("../config/prometheus-alerts.yml",)
DEFAULT_MODEL = "../config/model.json"
DEFAULT_ALERTMANAGER = "../config/alertmanager.yml"
DEFAULT_PROMETHEUS = "../config/prometheus.yml"
MAX_SCENARIO_BYTES = 1_000_000  # a scenario is a page of YAML; a larger file is a mistake, refused unparsed


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Symbol = Annotated[str, Field(pattern=SYMBOL_PATTERN)]  # the service's: a symbol it would refuse is no use


def _feature(name: str) -> str:
    if name not in FEATURES:
        raise ValueError(f"{name!r} is not a factor (factors: {', '.join(FEATURES)})")
    return name


def _regime(name: str) -> str:
    if name not in REGIMES:
        raise ValueError(f"{name!r} is not a regime (regimes: {', '.join(REGIMES)})")
    return name


Feature = Annotated[str, AfterValidator(_feature)]
RegimeName = Annotated[str, AfterValidator(_regime)]
Strength = Annotated[float, Field(ge=0, le=2, description="0 is calm, 1 the regime as catalogued.")]


class PopulationModel(_Strict):
    """A kind of client, a trading desk: its share of the requests, its symbols and its trading
    rule (sim/trading.py; docs/business.md says what each field does)."""

    name: str = Field(pattern=r"^[a-z0-9_]{1,32}$")
    share: float = Field(gt=0)
    symbols: tuple[Symbol, ...] = Field(min_length=1)
    deadline: PositiveSeconds = Field(default=DeskRule.deadline, description="A later prediction is not used.")
    min_confidence: float = Field(default=DeskRule.min_confidence, ge=0.5, lt=1)
    strong_confidence: float = Field(default=DeskRule.strong_confidence, gt=0.5, le=1)
    notional: float = Field(default=DeskRule.notional, gt=0, description="Dollars of a full-size position.")
    cost_bp: float = Field(default=DeskRule.cost_bp, ge=0, le=100, description="A trade's cost, bp of its notional.")
    baseline_size: float = Field(default=DeskRule.baseline_size, ge=0, le=1)
    max_feature_age: PositiveSeconds | None = Field(
        default=None,
        description="A prediction made on older features is not used (default 5 s, or two feed intervals if longer).",
    )

    @model_validator(mode="after")
    def _rule_holds(self) -> PopulationModel:
        self.rule(feed_interval=1.0)  # DeskRule refuses an impossible rule, saying why
        return self

    def rule(self, feed_interval: float) -> DeskRule:
        return DeskRule(
            self.deadline,
            self.min_confidence,
            self.strong_confidence,
            self.notional,
            self.cost_bp,
            self.baseline_size,
            self.max_feature_age or default_max_feature_age(feed_interval),
        )


def default_max_feature_age(feed_interval: float) -> float:
    """A desk accepts features as old as the feed normally leaves them: a world whose feed
    publishes every 15 s has desks that trade on 15-second-old features, or none at all."""
    return max(DeskRule.max_feature_age, 2 * feed_interval)


class Traffic(_Strict):
    rate: float = Field(default=10.0, gt=0, le=5000, description="Requests per simulated second, times the profile.")
    profile: Literal["flat", "intraday"] = "flat"
    symbols: tuple[Symbol, ...] = Field(default=DEFAULT_SYMBOLS, min_length=1, description="Without populations.")
    populations: tuple[PopulationModel, ...] = ()

    def spec(self, feed_interval: float) -> TrafficSpec:
        populations = tuple(Population(p.name, p.share, p.symbols, p.rule(feed_interval)) for p in self.populations)
        populations = populations or (
            Population("default", 1.0, self.symbols, DeskRule(max_feature_age=default_max_feature_age(feed_interval))),
        )
        return TrafficSpec(rate=self.rate, profile=self.profile, populations=populations)


class Server(_Strict):
    workers: int = Field(default=ServerSpec.workers, ge=1, le=256, description="Cores serving requests.")
    service_time_median: PositiveSeconds = ServerSpec.service_time_median
    service_time_sigma: float = Field(default=ServerSpec.service_time_sigma, ge=0, le=3)


class RegimeEntry(_Strict):
    """From ``at`` on, the market is in ``regime`` at ``strength`` (see sim/regimes.py)."""

    at: Seconds
    regime: RegimeName
    strength: Strength = 1.0


class Market(_Strict):
    tau: PositiveSeconds = Field(default=MarketSpec.tau, description="How long the factors remember.")
    horizon: PositiveSeconds = Field(default=MarketSpec.horizon, description="When a prediction's outcome is known.")
    feedback_interval: PositiveSeconds = Field(
        default=MarketSpec.feedback_interval, description="How often the desk reports outcomes."
    )
    regimes: tuple[RegimeEntry, ...] = Field(default=(RegimeEntry(at=0.0, regime="calm"),), min_length=1)

    def spec(self) -> MarketSpec:
        phases = tuple(RegimePhase(r.at, r.regime, r.strength) for r in self.regimes)
        return MarketSpec(self.tau, self.horizon, self.feedback_interval, phases)


class ServiceOptions(_Strict):
    """Settings of the service under test that a scenario may change."""

    scale_out_rps: float | None = Field(default=None, gt=0, description="The autoscaler's per-replica target.")


class Flap(_Strict):
    """Switch the fault on for ``on_for``, off for ``off_for``, again and again while it lasts.

    (Not ``on``/``off``: YAML 1.1 reads those keys as booleans.)
    """

    on_for: PositiveSeconds
    off_for: PositiveSeconds


class _Fault(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_-]+$", max_length=64)
    start: Seconds
    duration: PositiveSeconds
    flap: Flap | None = None

    def magnitude(self) -> float:
        return 0.0

    def extras(self) -> dict[str, object]:
        """The fault's own parameters beyond its magnitude (FaultSpec fields)."""
        return {}


class LatencySpike(_Fault):
    """A dependency slows: every prediction takes ``delay`` longer."""

    kind: Literal["latency_spike"]
    delay: PositiveSeconds

    def magnitude(self) -> float:
        return self.delay


class ErrorBurst(_Fault):
    """A fraction ``error_rate`` of predictions fail with a 5xx."""

    kind: Literal["error_burst"]
    error_rate: float = Field(gt=0, le=1)

    def magnitude(self) -> float:
        return self.error_rate


class PeriodicErrors(_Fault):
    """Every ``every``-th prediction fails with a 5xx: a steady error ratio without noise
    (one broken connection in a pool the requests go round)."""

    kind: Literal["periodic_errors"]
    every: int = Field(ge=2, le=1_000_000)

    def magnitude(self) -> float:
        return float(self.every)


class TrafficSurge(_Fault):
    """Clients send ``multiplier`` times the usual rate."""

    kind: Literal["traffic_surge"]
    multiplier: float = Field(gt=0, le=100)

    def magnitude(self) -> float:
        return self.multiplier


class TrafficRamp(_Fault):
    """Traffic grows linearly to ``multiplier`` times its rate over the fault's duration, then
    drops back (organic growth, for capacity planning)."""

    kind: Literal["traffic_ramp"]
    multiplier: float = Field(gt=1, le=100)

    def magnitude(self) -> float:
        return self.multiplier


class CpuHog(_Fault):
    """A runaway thread in the service burns ``cores`` cores, competing with requests."""

    kind: Literal["cpu_hog"]
    cores: float = Field(gt=0, le=256)

    def magnitude(self) -> float:
        return self.cores


class FeatureStoreOutage(_Fault):
    """The feature store stops answering the prediction service (its circuit breaker should open)."""

    kind: Literal["feature_store_outage"]


class StaleFeed(_Fault):
    """The feed keeps resending each listed symbol's last row (all symbols when none are listed):
    batches arrive, the data in them does not move."""

    kind: Literal["stale_feed"]
    symbols: tuple[Symbol, ...] = ()

    def extras(self) -> dict[str, object]:
        return {"symbols": self.symbols}


class FeedOutage(_Fault):
    """The feed sends nothing at all."""

    kind: Literal["feed_outage"]


class NullFeatures(_Fault):
    """Each value of the listed factors (all when none are listed) arrives as null with probability ``rate``."""

    kind: Literal["null_features"]
    rate: float = Field(gt=0, le=1)
    features: tuple[Feature, ...] = ()
    symbols: tuple[Symbol, ...] = ()

    def magnitude(self) -> float:
        return self.rate

    def extras(self) -> dict[str, object]:
        return {"features": self.features, "symbols": self.symbols}


class SchemaBreak(_Fault):
    """A fraction of rows breaks the schema in ``field``: sent as text (``wrong_type``), left out
    (``missing_field``) or absurd (``out_of_range``). The service rejects such rows."""

    kind: Literal["schema_break"]
    fraction: float = Field(default=1.0, gt=0, le=1)
    field: Feature = "spread"
    mode: Literal["wrong_type", "missing_field", "out_of_range"] = "wrong_type"
    symbols: tuple[Symbol, ...] = ()

    def magnitude(self) -> float:
        return self.fraction

    def extras(self) -> dict[str, object]:
        return {"features": (self.field,), "mode": self.mode, "symbols": self.symbols}


class FeatureDrift(_Fault):
    """The listed factors arrive as ``value * scale + shift`` (in the calm regime's standard
    deviations): an upstream unit change, a recalibrated vendor."""

    kind: Literal["feature_drift"]
    features: tuple[Feature, ...] = Field(min_length=1)
    shift: float = Field(default=0.0, ge=-100, le=100)
    scale: float = Field(default=1.0, gt=0, le=100)
    symbols: tuple[Symbol, ...] = ()

    @model_validator(mode="after")
    def _changes_something(self) -> FeatureDrift:
        if self.shift == 0.0 and self.scale == 1.0:
            raise ValueError("give shift (not 0) or scale (not 1): as written the fault changes nothing")
        return self

    def extras(self) -> dict[str, object]:
        return {"features": self.features, "shift": self.shift, "scale": self.scale, "symbols": self.symbols}


class RegimeChange(_Fault):
    """The market moves to ``regime`` at ``strength`` for the fault's duration, then back to its schedule."""

    kind: Literal["regime_change"]
    regime: RegimeName
    strength: Strength = 1.0

    def magnitude(self) -> float:
        return self.strength

    def extras(self) -> dict[str, object]:
        return {"regime": self.regime}


class LowConfidence(_Fault):
    """The factors go quiet along the direction that predicts returns (``signal`` of it is left):
    outcomes near coin flips, and a calibrated model says so with low confidence."""

    kind: Literal["low_confidence"]
    signal: float = Field(default=0.25, gt=0, lt=1)

    def magnitude(self) -> float:
        return self.signal


class ServiceCrash(_Fault):
    """The service process dies; it is restarted (with fresh state) when the fault ends."""

    kind: Literal["service_crash"]


class ReceiverOutage(_Fault):
    """A notification receiver (PagerDuty, chat, the ticket inbox) refuses every delivery: it
    answers ``status`` (SMTP: a temporary failure). Applied by the notification replay to the
    receiver named (``*``: all of them), not by the simulated world, which does not see it."""

    kind: Literal["receiver_outage"]
    receiver: str = Field(default="*", min_length=1)
    status: int = Field(default=500, ge=400, le=599)

    def magnitude(self) -> float:
        return float(self.status)


Fault = Annotated[
    LatencySpike
    | ErrorBurst
    | PeriodicErrors
    | TrafficSurge
    | TrafficRamp
    | CpuHog
    | ServiceCrash
    | FeatureStoreOutage
    | StaleFeed
    | FeedOutage
    | NullFeatures
    | SchemaBreak
    | FeatureDrift
    | RegimeChange
    | LowConfidence
    | ReceiverOutage,
    Field(discriminator="kind"),
]


def _ordered(window: tuple[float, float]) -> tuple[float, float]:
    if window[0] > window[1]:
        raise ValueError(f"min {window[0]:g}s is after max {window[1]:g}s: give [min, max]")
    return window


Window = Annotated[tuple[Seconds, Seconds], AfterValidator(_ordered)]


class Expectation(_Strict):
    """An alert fires (and resolves) within windows relative to a fault, or stays silent.

    ``fires_within`` is measured from the fault's start to the alert's firing;
    ``resolves_within`` from the fault's end to the alert's resolution; without a fault, both
    from the run's start (an alert that time alone raises: a model's age, a weekly review).
    Every instance of the
    alert (with ``labels``, when given) that fires after the fault starts is held to the windows.
    """

    alert: str = Field(min_length=1)
    labels: dict[str, str] = Field(
        default_factory=dict, description="Only instances with these labels (e.g. symbol: NVDA)."
    )
    fault: str | None = None
    fires_within: Window | None = None
    resolves_within: Window | None = None
    silent: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> Expectation:
        if self.silent and (self.fires_within or self.resolves_within or self.fault):
            raise ValueError("a silent expectation takes no fault, fires_within or resolves_within")
        if not self.silent and self.fires_within is None:
            raise ValueError("give fires_within: [min, max] (after the fault starts), or silent: true")
        return self


class NotificationExpectation(_Strict):
    """What a receiver hears about an alert: a notification listing it ``within`` a window after
    the fault starts (or the run, without a fault), and a resolved one ``resolved_within`` after
    the fault ends; or, ``silent``, nothing (about ``alert``, or at all without one). ``count``
    is the number of firing notifications listing the alert (a repeat, a regrouping)."""

    receiver: str = Field(min_length=1)
    alert: str | None = None
    fault: str | None = None
    within: Window | None = None
    resolved_within: Window | None = None
    count: int | None = Field(default=None, ge=0)
    silent: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> NotificationExpectation:
        if self.silent and (self.within or self.resolved_within or self.fault or self.count is not None):
            raise ValueError("a silent notification expectation takes no fault, within, resolved_within or count")
        if not self.silent and self.alert is None:
            raise ValueError("name the alert the receiver hears about, or give silent: true")
        if not self.silent and self.within is None and self.count is None:
            raise ValueError("give within: [min, max] (after the fault starts), count, or silent: true")
        return self


Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class _Origin:
    """The text a scenario was parsed from, so a check made later (against its rule files) can name the line."""

    source: str
    text: str

    def describe(self, problems: list[tuple[Loc, str]]) -> str:
        root = compose(self.text)
        return "\n".join(
            f"{self.source}:{line_of(root, loc)}: field {_field_name(loc)}: {msg}" for loc, msg in problems
        )


class Scenario(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    duration: PositiveSeconds
    seed: int = Field(default=0, ge=0)
    start: dt.datetime = Field(default=DEFAULT_START, description="Wall time of simulated second 0.")
    scrape_interval: PositiveSeconds = 15.0
    feed_interval: PositiveSeconds = Field(default=1.0, description="How often the pipeline publishes features.")
    evaluation_interval: PositiveSeconds = Field(
        default=15.0, description="Interval of rule groups that set none (prometheus.yml's global one)."
    )
    rules: tuple[str, ...] = Field(
        default=DEFAULT_RULES, min_length=1, description="Rule files, relative to the scenario file."
    )
    model: str = Field(default=DEFAULT_MODEL, description="Model artifact the service loads, relative to the file.")
    traffic: Traffic = Traffic()
    server: Server = Server()
    market: Market = Market()
    service: ServiceOptions = ServiceOptions()
    faults: tuple[Fault, ...] = ()
    expectations: tuple[Expectation, ...] = ()
    alertmanager: str = Field(
        default=DEFAULT_ALERTMANAGER,
        description="Alertmanager config the alerts are replayed through, relative to the file.",
    )
    prometheus: str = Field(
        default=DEFAULT_PROMETHEUS,
        description="Prometheus config a live drill runs (its scrape and evaluation intervals), relative to the file.",
    )
    notifications: tuple[NotificationExpectation, ...] | None = Field(
        default=None, description="What each receiver hears; absent: notifications are recorded, not judged."
    )
    unexpected_alerts: Literal["fail", "ignore"] = "fail"
    deployment: DeploymentOptions | None = Field(
        default=None, description="The service as replicas (absent: one service, its series without version)."
    )
    deployments: tuple[Rollout, ...] = Field(default=(), description="Releases during the run: canary, blue_green.")
    rollout_expectations: tuple[RolloutExpectation, ...] = ()
    _origin: _Origin | None = PrivateAttr(default=None)  # set by parse_scenario, for later errors' lines

    @model_validator(mode="after")
    def _references(self, info: ValidationInfo) -> Scenario:
        if info.context and info.context.get("skip_references"):
            return self
        problems = reference_problems(self)
        if problems:
            raise ValueError("; ".join(f"{'.'.join(map(str, loc))}: {msg}" for loc, msg in problems))
        return self

    def start_unix(self) -> float:
        return self.start.timestamp()

    def world(self, seed: int | None = None) -> WorldSpec:
        """The simulator's view of this scenario."""
        return WorldSpec(
            duration=self.duration,
            seed=self.seed if seed is None else seed,
            start_unix=self.start_unix(),
            scrape_interval=self.scrape_interval,
            feed_interval=self.feed_interval,
            traffic=self.traffic.spec(self.feed_interval),
            server=ServerSpec(self.server.workers, self.server.service_time_median, self.server.service_time_sigma),
            market=self.market.spec(),
            faults=tuple(
                FaultSpec(
                    f.name,
                    FaultKind(f.kind),
                    f.start,
                    f.duration,
                    f.magnitude(),
                    f.flap.on_for if f.flap else None,
                    f.flap.off_for if f.flap else None,
                    **f.extras(),  # type: ignore[arg-type]
                )
                for f in self.faults
                if not isinstance(f, ReceiverOutage)  # the notification replay's, not the world's
            ),
        )


def _describe_problems(scenario: Scenario, problems: list[tuple[Loc, str]]) -> str:
    if scenario._origin is not None:
        return scenario._origin.describe(problems)
    return "\n".join(f"scenario {scenario.name}: field {_field_name(loc)}: {msg}" for loc, msg in problems)


def reference_problems(scenario: Scenario) -> list[tuple[Loc, str]]:
    """Checks across fields, each with the location of the field at fault."""
    problems: list[tuple[Loc, str]] = []
    names = [f.name for f in scenario.faults]
    for i, f in enumerate(scenario.faults):
        if names.index(f.name) != i:
            problems.append((("faults", i, "name"), f"fault name {f.name!r} is used twice; names must be unique"))
        if f.start + f.duration > scenario.duration:
            ends = f.start + f.duration
            problems.append(
                (
                    ("faults", i, "duration"),
                    f"fault {f.name!r} ends at {ends:g}s, after the run's {scenario.duration:g}s",
                )
            )
        traded = set(scenario.traffic.spec(scenario.feed_interval).all_symbols)
        for symbol in getattr(f, "symbols", ()):
            if symbol not in traded:
                problems.append(
                    (("faults", i, "symbols"), f"{symbol!r} is not traded in this scenario (symbols: {sorted(traded)})")
                )
    for i, r in enumerate(scenario.market.regimes):
        if i == 0 and r.at != 0:
            problems.append((("market", "regimes", 0, "at"), "the first regime must start at 0s"))
        if i and r.at <= scenario.market.regimes[i - 1].at:
            problems.append((("market", "regimes", i, "at"), "regimes must be listed in time order"))
    for i, e in enumerate(scenario.expectations):
        if e.fault is not None and e.fault not in names:
            problems.append((("expectations", i, "fault"), f"{e.fault!r} names no fault (faults: {names})"))
    for i, n in enumerate(scenario.notifications or ()):
        if n.fault is not None and n.fault not in names:
            problems.append((("notifications", i, "fault"), f"{n.fault!r} names no fault (faults: {names})"))
    if scenario.start.tzinfo is None:
        problems.append((("start",), "start must carry a timezone, e.g. 2026-01-05T14:30:00Z"))
    problems += deployment_problems(scenario)
    return problems


def alert_name_problems(scenario: Scenario, known: Collection[str]) -> list[tuple[Loc, str]]:
    """Expectations naming an alert that none of ``known`` (the rule files' alerting rules) is."""
    named: list[tuple[Loc, str]] = [
        (("expectations", i, "alert"), e.alert) for i, e in enumerate(scenario.expectations)
    ]
    named += [(("notifications", i, "alert"), n.alert) for i, n in enumerate(scenario.notifications or ()) if n.alert]
    return [(loc, _unknown_alert(alert, known)) for loc, alert in named if alert not in known]


def check_alert_names(scenario: Scenario, known: Collection[str]) -> None:
    """Every expectation names an alert its rule files define (``known``): a typo would otherwise
    pass as ``silent`` or fail only after the run. Raises ScenarioError naming the file and line
    (for a scenario parsed from one) and the alerts the rules define."""
    problems = alert_name_problems(scenario, known)
    if problems:
        raise ScenarioError(_describe_problems(scenario, problems))


def _unknown_alert(alert: str, known: Collection[str]) -> str:
    by_lower = {k.lower(): k for k in known}
    close = difflib.get_close_matches(alert.lower(), by_lower, n=1)
    hint = f" (did you mean {by_lower[close[0]]!r}?)" if close else ""
    defined = f"define: {', '.join(sorted(set(known)))}" if known else "define no alerting rule"
    return f"{alert!r} is defined by no rule{hint}; the scenario's rule files {defined}"


def load_scenario(path: str | Path) -> tuple[Scenario, Path]:
    """Parse and validate a scenario file (UTF-8, at most ``MAX_SCENARIO_BYTES``); returns it with
    its folder (rule paths are relative to it)."""
    path = Path(path)
    text = read_text(path, "scenario file", ScenarioError, limit=MAX_SCENARIO_BYTES)
    return parse_scenario(text, str(path)), path.parent


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise ScenarioError(f"{source}{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: a scenario is a mapping with at least name and duration")
    try:
        scenario = Scenario.model_validate(data, context={"skip_references": True})
    except ValidationError as exc:
        raise ScenarioError(_describe(exc, text, source)) from exc
    scenario._origin = _Origin(source, text)
    problems = reference_problems(scenario)
    if problems:
        raise ScenarioError(scenario._origin.describe(problems))
    return scenario


def _field_name(loc: Loc) -> str:
    return ".".join(f"[{s}]" if isinstance(s, int) else str(s) for s in loc).replace(".[", "[") or "(top level)"


def _describe(exc: ValidationError, text: str, source: str) -> str:
    root = compose(text)
    lines = []
    for err in exc.errors():
        loc: Loc = tuple(s for s in err["loc"] if not (isinstance(s, str) and s in _VARIANT_TAGS))
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "union_tag_invalid":
            loc = (*loc, "kind")
            message = f"{err['input'].get('kind')!r} is not a fault kind (accepted: {', '.join(_VARIANT_TAGS)})"
        elif err["type"] == "union_tag_not_found":
            message = f"a fault needs a kind (accepted: {', '.join(_VARIANT_TAGS)})"
        elif err["type"] == "extra_forbidden":
            message = "unknown field (check its spelling and indentation)"
        line = line_of(root, loc)
        where = f"{source}:{line}" if line else source
        lines.append(f"{where}: field {_field_name(loc)}: {message}")
    return "\n".join(lines)


_VARIANT_TAGS = tuple(k.value for k in FaultKind)
