"""What the simulator is asked to build: plain values, independent of the scenario file format.

The harness parses and validates scenario files and hands the simulator these; the
simulator never sees YAML and never decides a verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sim.autoscaler import HpaSpec
from sim.trading import DeskRule


class FaultKind(StrEnum):
    LATENCY_SPIKE = "latency_spike"
    ERROR_BURST = "error_burst"
    TRAFFIC_SURGE = "traffic_surge"
    TRAFFIC_RAMP = "traffic_ramp"
    CPU_HOG = "cpu_hog"
    SERVICE_CRASH = "service_crash"
    FEATURE_STORE_OUTAGE = "feature_store_outage"
    PERIODIC_ERRORS = "periodic_errors"
    STALE_FEED = "stale_feed"
    FEED_OUTAGE = "feed_outage"
    NULL_FEATURES = "null_features"
    SCHEMA_BREAK = "schema_break"
    FEATURE_DRIFT = "feature_drift"
    REGIME_CHANGE = "regime_change"
    LOW_CONFIDENCE = "low_confidence"
    # Not the world's: the harness's notification replay makes receivers refuse (harness.notify).
    # The simulator never sees it (Scenario.world leaves it out); its record anchors expectations.
    RECEIVER_OUTAGE = "receiver_outage"


#: Faults the feed applies to what it publishes (the data layer's boundary).
FEED_FAULTS = frozenset(
    {
        FaultKind.STALE_FEED,
        FaultKind.FEED_OUTAGE,
        FaultKind.NULL_FEATURES,
        FaultKind.SCHEMA_BREAK,
        FaultKind.FEATURE_DRIFT,
    }
)


@dataclass(frozen=True)
class FaultSpec:
    """A fault switched on at ``start`` for ``duration`` simulated seconds.

    ``magnitude`` is in the fault's own unit: added seconds of latency for a latency spike,
    the fraction of requests that fail for an error burst, the factor on the arrival rate
    for a traffic surge, the cores a runaway thread burns for a CPU hog, the fraction of
    values or rows affected for nulls and schema breaks, the regime's strength for a regime
    change, the signal left for a low-confidence market; a crash has none. ``symbols`` and
    ``features`` narrow a data fault (empty: all); ``regime``, ``shift``, ``scale`` and
    ``mode`` are the data and market faults' own parameters.
    A fault with ``flap_on`` and ``flap_off`` switches on and off in that rhythm while it
    lasts (a flapping dependency).
    """

    name: str
    kind: FaultKind
    start: float
    duration: float
    magnitude: float = 0.0
    flap_on: float | None = None
    flap_off: float | None = None
    symbols: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    regime: str = ""
    shift: float = 0.0
    scale: float = 1.0
    mode: str = ""

    @property
    def end(self) -> float:
        return self.start + self.duration


@dataclass(frozen=True)
class Population:
    """One kind of client, a trading desk: its share of the requests, the symbols it trades and
    its trading rule."""

    name: str
    share: float
    symbols: tuple[str, ...]
    rule: DeskRule = field(default_factory=DeskRule)


DEFAULT_SYMBOLS = ("AAPL", "MSFT", "NVDA", "AMZN", "GOOG")


@dataclass(frozen=True)
class TrafficSpec:
    """Poisson arrivals of prediction requests, at ``rate`` times the profile's multiplier."""

    rate: float = 10.0
    profile: str = "flat"
    populations: tuple[Population, ...] = (Population("default", 1.0, DEFAULT_SYMBOLS),)

    @property
    def all_symbols(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s for p in self.populations for s in p.symbols))


@dataclass(frozen=True)
class ServerSpec:
    """The server's capacity: ``workers`` cores, each request's CPU work log-normal.

    Requests queue for a free core, so latency grows with load; a dependency's delay (a
    latency spike) is waiting, not CPU work, and holds no core.
    """

    workers: int = 2
    service_time_median: float = 0.002
    service_time_sigma: float = 0.35


@dataclass(frozen=True)
class RegimePhase:
    """From ``start`` (simulated seconds) the market is in ``regime`` at ``strength``."""

    start: float
    regime: str = "calm"
    strength: float = 1.0


@dataclass(frozen=True)
class MarketSpec:
    """The market behind the feed and the trading desk that reports outcomes.

    ``tau`` is the factors' memory; an outcome is known ``horizon`` after its tick and the
    desk reports known outcomes every ``feedback_interval``.
    """

    tau: float = 5.0
    horizon: float = 5.0
    feedback_interval: float = 2.0
    regimes: tuple[RegimePhase, ...] = (RegimePhase(0.0),)


@dataclass(frozen=True)
class Build:
    """What a replica runs: a model ``version`` (the label its series carry), the ``model`` the
    harness's launcher loads for it (a path; the simulator never opens it), and the CPU work
    each request costs on it (a new version may be heavier)."""

    version: str
    model: str
    server: ServerSpec = field(default_factory=ServerSpec)


@dataclass(frozen=True)
class FleetSpec:
    """The service as replicas behind a weighted router.

    ``labelled`` False is the single service of every scenario without a ``deployment``: one
    target, ``prediction-api:8000``, its series without a ``version`` label, exactly as before
    replicas existed. True: each replica is its own ``instance`` and its series carry
    ``version``, as a Kubernetes pod's would after relabelling, and the rollout controller's
    state is scraped as the ``rollout-controller`` job. A replica started mid-run takes
    ``startup_delay`` seconds before it is ready (routable, scraped).
    """

    replicas: int = 1
    labelled: bool = False
    startup_delay: float = 30.0
    autoscaling: HpaSpec | None = None  # a HorizontalPodAutoscaler on the stable version's replicas

    def __post_init__(self) -> None:
        if not self.labelled and (self.replicas > 1 or self.autoscaling is not None):
            raise ValueError("several replicas need labelled=True: unlabelled, their series would be one")


@dataclass(frozen=True)
class GateSpec:
    """One analysis of a rollout step: ``query`` (PromQL with ``{new}`` and ``{old}`` standing for
    the versions' label values) must be at most ``max`` and at least ``min``; it is judged only
    once ``samples`` (PromQL, same placeholders) is at least ``min_samples``, else the step waits.
    The real Prometheus evaluates both, at the simulated instant of the decision."""

    name: str
    query: str
    max: float | None = None
    min: float | None = None
    samples: str | None = None
    min_samples: float = 0.0


@dataclass(frozen=True)
class RolloutSpec:
    """A release started at ``at``: ``canary`` moves ``steps`` (fractions of traffic, the last 1.0)
    to ``build``, judging its gates ``step_every`` seconds into each step before the last; reaching
    the last (all traffic) is the promotion, as in Argo Rollouts; ``blue_green`` brings up
    as many green replicas as blue has, smoke-checks them, switches all traffic at once, and keeps
    blue for ``keep_old`` seconds while the gates watch green. A gate that fails rolls back; one
    that cannot judge (too few samples) ``inconclusive_limit`` times in a row rolls back too."""

    name: str
    kind: str  # "canary" or "blue_green"
    at: float
    build: Build
    steps: tuple[float, ...] = (0.05, 0.25, 0.5, 1.0)
    step_every: float = 600.0
    replicas: int = 1
    gates: tuple[GateSpec, ...] = ()
    keep_old: float = 600.0
    smoke_requests: int = 20
    inconclusive_limit: int = 3


@dataclass(frozen=True)
class WorldSpec:
    duration: float
    seed: int
    start_unix: float
    scrape_interval: float = 15.0
    feed_interval: float = 1.0
    traffic: TrafficSpec = field(default_factory=TrafficSpec)
    server: ServerSpec = field(default_factory=ServerSpec)
    market: MarketSpec = field(default_factory=MarketSpec)
    faults: tuple[FaultSpec, ...] = ()
    build: Build | None = None  # the version serving at second 0; None: the launcher's default model
    fleet: FleetSpec = field(default_factory=FleetSpec)
    rollouts: tuple[RolloutSpec, ...] = ()
