"""What a Kubernetes HorizontalPodAutoscaler does each sync: the pure rule, with no clock of its
own, no SimPy and no I/O.

The runbooks tell devops to "raise the HPA minimum" or "lower its CPU target"; a drill can only
show whether that works if the simulated fleet scales the way the real controller would, dead
bands and delays included. So this copies kube-controller-manager's podautoscaler (the no-
``behavior`` path of ``horizontal.go`` and ``GetResourceReplicas`` in ``replica_calculator.go``)
for one ``Resource`` metric, CPU, with an ``averageUtilization`` target:

1. ``raw_recommendation``: average utilisation over the ready pods with a metric, as a whole
   percent; ``desired = ceil(ratio * pods)`` with ``ratio = utilisation / target``, unless the
   ratio is within ``1 ± tolerance``. Pods still starting up count as 0 % on a scale-up, pods
   without a metric as 0 % on a scale-up and 100 % on a scale-down; if that turns the decision
   around, nothing changes.
2. ``decide``: the maximum of the raw recommendations of the last ``scale_down_stabilisation``
   seconds (so a scale-down waits five minutes, a scale-up does not), then clamped to
   ``[min_replicas, min(max_replicas, max(2 * current, 4))]``.

The caller keeps the stabilisation window's history (``Recommendations``, an immutable tuple) and
passes it back on the next sync: the controller's only state, held by whoever owns the HPA.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, NamedTuple, TypeAlias

#: horizontal.go's ``scaleUpLimitFactor`` and ``scaleUpLimitMinimum``: without a ``behavior``, one
#: sync may grow the target to at most max(2 * current, 4) replicas. It exists because a bogus CPU
#: report once multiplied a deployment many times over (kubernetes#32304); doubling per sync
#: still reaches any size in a few syncs.
SCALE_UP_LIMIT_FACTOR: Final = 2
SCALE_UP_LIMIT_MINIMUM: Final = 4

#: Added before flooring a percent: k8s sums integer millicores, so a pod at 29 % is at 29 %, not
#: at the 28 % that ``floor(100 * 0.29)`` gives in binary floating point.
_FLOAT_SLACK: Final = 1e-9

#: The stabilisation window's state: ``(time, raw recommendation)`` per sync, oldest first.
Recommendations: TypeAlias = tuple[tuple[float, int], ...]


class Reason:
    """Why a sync set the replicas it did. Plain strings, as in ``sim.trading.Decision``; the names
    follow the controller's condition reasons where it has one."""

    SCALING_DISABLED: Final = "scaling_disabled"  # the target has 0 replicas: k8s leaves it alone
    ABOVE_MAX: Final = "above_max_replicas"  # set to max_replicas before looking at any metric
    BELOW_MIN: Final = "below_min_replicas"  # set to min_replicas before looking at any metric
    NO_METRICS: Final = "no_metrics"  # no ready pod with a metric: the sync fails, nothing changes
    WITHIN_TOLERANCE: Final = "within_tolerance"  # usage ratio within 1 ± tolerance: keep current
    DIRECTION_REVERSED: Final = "direction_reversed"  # counting unready/missing pods turned it around
    WITHIN_RANGE: Final = "within_range"  # the computed count, needing no stabilisation or limit
    STABILISED: Final = "scale_down_stabilised"  # a higher recommendation within the window holds
    SCALE_UP_LIMIT: Final = "scale_up_limit"  # capped at max(2 * current, 4)
    TOO_MANY: Final = "too_many_replicas"  # capped at max_replicas
    TOO_FEW: Final = "too_few_replicas"  # raised to min_replicas


@dataclass(frozen=True)
class HpaSpec:
    """One HPA: ``target_utilisation`` is the average CPU usage it aims at, as a fraction of each
    pod's CPU request (``averageUtilization: 60`` is 0.6). The rest are kube-controller-manager's
    flags, at their defaults: ``--horizontal-pod-autoscaler-tolerance`` (0.1),
    ``--horizontal-pod-autoscaler-sync-period`` (15 s) and
    ``--horizontal-pod-autoscaler-downscale-stabilization`` (5 min). ``sync_period`` is the
    caller's to keep; no decision depends on it."""

    min_replicas: int = 1
    max_replicas: int = 10
    target_utilisation: float = 0.6
    tolerance: float = 0.1
    sync_period: float = 15.0
    scale_down_stabilisation: float = 300.0

    def __post_init__(self) -> None:
        # minReplicas 0 needs the HPAScaleToZero alpha gate and an Object or External metric.
        if self.min_replicas < 1:
            raise ValueError(f"min_replicas(={self.min_replicas}) must be >= 1")
        if self.max_replicas < self.min_replicas:
            raise ValueError(f"max_replicas(={self.max_replicas}) must be >= min_replicas(={self.min_replicas})")
        percent = self.target_utilisation * 100
        if not (math.isfinite(percent) and percent > 0):  # `not >` also catches NaN
            raise ValueError(f"target_utilisation(={self.target_utilisation}) must be > 0")
        if abs(percent - round(percent)) > _FLOAT_SLACK:
            raise ValueError(
                f"target_utilisation(={self.target_utilisation}) must be a whole percent: "
                "k8s' averageUtilization is an integer percent of the request"
            )
        # 1 or more would hold any scale-down (|1 - ratio| <= 1 for every ratio in [0, 1]).
        if not 0 <= self.tolerance < 1:
            raise ValueError(f"tolerance(={self.tolerance}) must be in [0, 1)")
        if not self.sync_period > 0:
            raise ValueError(f"sync_period(={self.sync_period}) must be > 0")
        if not self.scale_down_stabilisation >= 0:
            raise ValueError(f"scale_down_stabilisation(={self.scale_down_stabilisation}) must be >= 0")

    @property
    def target_percent(self) -> int:
        """The target as k8s holds it: an integer percent."""
        return round(self.target_utilisation * 100)


@dataclass(frozen=True)
class PodSample:
    """One pod of the target as the HPA sees it at a sync. ``utilisation`` is its CPU usage over
    the metrics window divided by its CPU request; None when metrics-server has no sample for it
    yet (a pod just scheduled). Every pod has the same request (one pod template), so the
    average of the ratios is k8s' ``sum(usage) / sum(requests)``.

    ``ready`` False means "not yet ready" in groupPods' sense, not the readiness probe's: a pod
    still within ``--horizontal-pod-autoscaler-cpu-initialization-period`` (5 min) that is not
    ready or whose sample predates its readiness. A pod that was ready and later fails its probe
    (overloaded) is ready here: its CPU is real load. Pods being deleted or failed are left out
    by the caller, as groupPods ignores them."""

    ready: bool
    utilisation: float | None

    def __post_init__(self) -> None:
        u = self.utilisation
        if u is not None and not (math.isfinite(u) and u >= 0):
            raise ValueError(f"utilisation(={u}) must be a finite number >= 0, or None")


class Recommendation(NamedTuple):
    """``raw_recommendation``'s answer. ``replicas`` is None when no ready pod had a metric (k8s
    fails the sync: "did not receive metrics for targeted pods"); ``utilisation`` is the ready
    pods' average, floored to a whole percent, which is what the HPA's status reports."""

    replicas: int | None
    utilisation: float | None
    reason: str  # WITHIN_TOLERANCE, DIRECTION_REVERSED, WITHIN_RANGE or NO_METRICS


class Decision(NamedTuple):
    """One sync: ``desired`` the replicas to set (``current`` when nothing changes); ``raw`` the
    recommendation before stabilisation and limits (``desired`` when none was computed);
    ``utilisation`` the ready pods' average (None when not measured); ``reason`` a ``Reason``."""

    desired: int
    raw: int
    utilisation: float | None
    reason: str


def _percent(total: float, pods: int) -> int:
    """GetResourceUtilizationRatio's ``int32(metricsTotal * 100 / requestsTotal)``: floored, so
    the ratio is an integer over an integer and ``ceil`` never sees 1.5000000000000002."""
    return math.floor(100 * total / pods + _FLOAT_SLACK)


def raw_recommendation(spec: HpaSpec, current: int, pods: Sequence[PodSample]) -> Recommendation:
    """The replica count the metric asks for, before stabilisation and limits; ``current`` is the
    target's ``spec.replicas``, returned when the change would be too small.

    It follows GetResourceReplicas step by step, because each step is a behaviour a drill can hit:

    - The first ratio is over ready pods with a metric only, and when no pod is unready or
      missing, ``ceil(ratio * ready pods)``: pods that exist but are not counted do not dilute it.
    - A pod without a metric is "missing" even when not ready (groupPods checks that first). On a
      scale-up it counts as 0 %, on a scale-down as 100 % (or the target, when above 100 %):
      whichever way the decision goes, the unknown pod damps it.
    - Unready pods count, as 0 %, only on a scale-up: a starting pod's CPU (JIT, caches) is no
      evidence of load, but it will take load once ready, so the scale-up is smaller.
    - After that recomputation, a ratio within tolerance or on the other side of 1, or a count
      on the wrong side of ``current``, keeps ``current``: what the unknowns did was only damp.
    """
    ready = [p.utilisation for p in pods if p.ready and p.utilisation is not None]
    unready = sum(1 for p in pods if not p.ready and p.utilisation is not None)
    missing = sum(1 for p in pods if p.utilisation is None)
    if not ready:
        return Recommendation(None, None, Reason.NO_METRICS)
    target = spec.target_percent
    percent = _percent(sum(ready), len(ready))
    ratio = percent / target
    utilisation = percent / 100
    scale_up_with_unready = unready > 0 and ratio > 1.0
    if not scale_up_with_unready and missing == 0:
        if abs(1.0 - ratio) <= spec.tolerance:
            return Recommendation(current, utilisation, Reason.WITHIN_TOLERANCE)
        return Recommendation(math.ceil(ratio * len(ready)), utilisation, Reason.WITHIN_RANGE)

    total, counted = sum(ready), len(ready)
    if missing and ratio < 1.0:
        total += missing * max(100, target) / 100
        counted += missing
    elif missing and ratio > 1.0:
        counted += missing  # at 0 %
    if scale_up_with_unready:
        counted += unready  # at 0 %
    new_ratio = _percent(total, counted) / target
    if abs(1.0 - new_ratio) <= spec.tolerance:
        return Recommendation(current, utilisation, Reason.WITHIN_TOLERANCE)
    if (ratio < 1.0 < new_ratio) or (ratio > 1.0 > new_ratio):
        return Recommendation(current, utilisation, Reason.DIRECTION_REVERSED)
    replicas = math.ceil(new_ratio * counted)
    if (new_ratio < 1.0 and replicas > current) or (new_ratio > 1.0 and replicas < current):
        return Recommendation(current, utilisation, Reason.DIRECTION_REVERSED)
    return Recommendation(replicas, utilisation, Reason.WITHIN_RANGE)


def decide(
    spec: HpaSpec, now: float, current: int, pods: Sequence[PodSample], history: Recommendations
) -> tuple[Decision, Recommendations]:
    """One sync of reconcileAutoscaler at ``now`` (seconds, any epoch): the decision and the
    history to pass to the next sync. Start with ``history=()``.

    - An empty history is seeded with ``(now, current)``, as recordInitialRecommendation does: a
      new HPA (or a restarted controller) does not scale down for the first window.
    - ``current`` 0 disables scaling; outside ``[min_replicas, max_replicas]`` it is moved to the
      nearest bound without looking at metrics; a sync without metrics changes nothing. None of
      these records a recommendation, so the history comes back as it went in (after seeding).
    - Otherwise the raw recommendation is recorded and the applied one is the maximum of those
      made in the last ``scale_down_stabilisation`` seconds, now included (an entry exactly one
      window old still counts: k8s drops only those ``Before(cutoff)``). Scale-ups are not
      stabilised, the no-``behavior`` default. Entries older than the window are dropped from the
      returned history (k8s overwrites one of them; either way they no longer count).
    - Last, convertDesiredReplicasWithRules: at least ``min_replicas``, at most
      ``min(max_replicas, max(2 * current, 4))``. That limit is the no-``behavior`` one; an HPA
      with a ``behavior`` (or the docs' defaults spelled out: 100 % or 4 pods per 15 s) allows
      ``max(2 * current, current + 4)`` instead, which this does not model.
    """
    if current < 0:
        raise ValueError(f"current(={current}) must be >= 0")
    if history and now < history[-1][0]:
        raise ValueError(f"now(={now}) is before the last recommendation's time(={history[-1][0]})")
    if not history:
        history = ((now, current),)
    if current == 0:
        return Decision(0, 0, None, Reason.SCALING_DISABLED), history
    if current > spec.max_replicas:
        return Decision(spec.max_replicas, spec.max_replicas, None, Reason.ABOVE_MAX), history
    if current < spec.min_replicas:
        return Decision(spec.min_replicas, spec.min_replicas, None, Reason.BELOW_MIN), history

    rec = raw_recommendation(spec, current, pods)
    if rec.replicas is None:
        return Decision(current, current, None, Reason.NO_METRICS), history
    raw = rec.replicas
    cutoff = now - spec.scale_down_stabilisation
    kept = tuple(entry for entry in history if entry[0] >= cutoff)
    stabilised = max([raw, *(replicas for _, replicas in kept)])
    history = (*kept, (now, raw))

    limit = max(SCALE_UP_LIMIT_FACTOR * current, SCALE_UP_LIMIT_MINIMUM)
    ceiling = min(spec.max_replicas, limit)
    if stabilised < spec.min_replicas:
        return Decision(spec.min_replicas, raw, rec.utilisation, Reason.TOO_FEW), history
    if stabilised > ceiling:
        reason = Reason.SCALE_UP_LIMIT if spec.max_replicas > limit else Reason.TOO_MANY
        return Decision(ceiling, raw, rec.utilisation, reason), history
    reason = Reason.STABILISED if stabilised != raw else rec.reason
    return Decision(stabilised, raw, rec.utilisation, reason), history
