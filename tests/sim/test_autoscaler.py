"""The HorizontalPodAutoscaler's rule (sim.autoscaler): kube-controller-manager's numbers, pure."""

from __future__ import annotations

import math

import pytest

from sim.autoscaler import (
    Decision,
    HpaSpec,
    PodSample,
    Reason,
    Recommendation,
    Recommendations,
    decide,
    raw_recommendation,
)

SPEC = HpaSpec(min_replicas=1, max_replicas=10, target_utilisation=0.6)


def ready(*utilisations: float) -> list[PodSample]:
    return [PodSample(True, u) for u in utilisations]


def unready(n: int, utilisation: float | None = 0.95) -> list[PodSample]:
    return [PodSample(False, utilisation) for _ in range(n)]


def missing(n: int) -> list[PodSample]:
    return [PodSample(True, None) for _ in range(n)]


def test_one_pod_at_90_percent_of_a_60_percent_target_asks_for_two() -> None:
    assert raw_recommendation(SPEC, 1, ready(0.9)) == Recommendation(2, 0.9, Reason.WITHIN_RANGE)
    decision, history = decide(SPEC, 0.0, 1, ready(0.9), ())
    assert decision == Decision(2, 2, 0.9, Reason.WITHIN_RANGE)  # a scale-up is not stabilised
    assert history == ((0.0, 1), (0.0, 2))  # seeded with current, then the raw recommendation


@pytest.mark.parametrize(
    ("utilisation", "replicas", "reason"),
    [
        (0.65, 4, Reason.WITHIN_TOLERANCE),  # ratio 1.083
        (0.54, 4, Reason.WITHIN_TOLERANCE),  # ratio 0.9: the lower edge is inside
        (0.72, 5, Reason.WITHIN_RANGE),  # ratio 1.2: ceil(4.8)
        (0.42, 3, Reason.WITHIN_RANGE),  # ratio 0.7: ceil(2.8)
    ],
)
def test_a_ratio_within_tolerance_keeps_the_current_count(utilisation: float, replicas: int, reason: str) -> None:
    assert raw_recommendation(SPEC, 4, ready(*[utilisation] * 4)) == Recommendation(replicas, utilisation, reason)


def test_the_ratio_is_over_ready_pods_with_a_metric_not_over_current() -> None:
    # spec.replicas 5 but only 4 pods listed: ceil(0.72 / 0.6 * 4) = 5, not ceil(1.2 * 5) = 6
    assert raw_recommendation(SPEC, 5, ready(0.72, 0.72, 0.72, 0.72)).replicas == 5


def test_utilisation_is_a_whole_percent_as_k8s_computes_it() -> None:
    # floored like int32(total * 100 / requests), without binary floating point's 28.999...
    assert raw_recommendation(SPEC, 1, ready(0.29)).utilisation == 0.29
    assert raw_recommendation(SPEC, 1, ready(0.999)).utilisation == 0.99
    # 90 / 60 is 1.5 exactly: two pods ask for 3, where 0.9 / 0.6 * 2 would ceil 3.0000000000000004 to 4
    assert raw_recommendation(SPEC, 2, ready(0.9, 0.9)).replicas == 3


def test_a_scale_down_waits_for_the_stabilisation_window() -> None:
    pods = ready(0.3, 0.3, 0.3, 0.3)
    assert raw_recommendation(SPEC, 4, pods).replicas == 2
    history: Recommendations = ()
    applied: list[tuple[float, int, str]] = []
    for k in range(22):  # every 15 s from t = 0 to 315
        now = 15.0 * k
        decision, history = decide(SPEC, now, 4, pods, history)
        assert decision.raw == 2
        applied.append((now, decision.desired, decision.reason))
    held = [(now, 4, Reason.STABILISED) for now in range(0, 301, 15)]
    assert applied == [*held, (315.0, 2, Reason.WITHIN_RANGE)]
    # the 4 seeded at t = 0 (and t = 0's own 2) left the window; t = 15 is exactly one window old
    assert history == tuple((15.0 * k, 2) for k in range(1, 22))


def test_the_stabilised_count_is_the_highest_recent_recommendation() -> None:
    history: Recommendations = ((0.0, 4), (100.0, 7), (250.0, 5))
    decision, new = decide(SPEC, 400.0, 7, ready(*[0.3] * 7), history)  # raw ceil(0.5 * 7) = 4
    assert decision == Decision(7, 4, 0.3, Reason.STABILISED)  # 7 at t = 100: exactly one window old
    assert new == ((100.0, 7), (250.0, 5), (400.0, 4))
    decision, new = decide(SPEC, 401.0, 7, ready(*[0.3] * 7), new)
    assert decision == Decision(5, 4, 0.3, Reason.STABILISED)  # 7 is out; 5 at t = 250 holds
    assert new == ((250.0, 5), (400.0, 4), (401.0, 4))


def test_a_scale_up_is_immediate_whatever_the_window_holds() -> None:
    decision, _ = decide(SPEC, 60.0, 2, ready(0.9, 0.9), ((0.0, 2), (45.0, 1)))
    assert decision == Decision(3, 3, 0.9, Reason.WITHIN_RANGE)


@pytest.mark.parametrize(
    ("spec", "current", "expected"),
    [
        (SPEC, 1, Decision(4, 5, 3.0, Reason.SCALE_UP_LIMIT)),  # ceil(300 / 60) = 5, limit max(2, 4) = 4
        (SPEC, 3, Decision(6, 15, 3.0, Reason.SCALE_UP_LIMIT)),  # limit max(6, 4) = 6
        (SPEC, 6, Decision(10, 30, 3.0, Reason.TOO_MANY)),  # limit 12, max_replicas 10
        (HpaSpec(max_replicas=5), 3, Decision(5, 15, 3.0, Reason.TOO_MANY)),  # max 5 below the limit 6
    ],
)
def test_a_scale_up_is_limited_to_double_or_four_and_to_max_replicas(
    spec: HpaSpec, current: int, expected: Decision
) -> None:
    decision, history = decide(spec, 0.0, current, ready(*[3.0] * current), ())
    assert decision == expected
    assert history[-1] == (0.0, expected.raw)  # the window records the unlimited recommendation


def test_min_replicas_is_the_floor() -> None:
    spec = HpaSpec(min_replicas=3)
    # ceil(12 / 60 * 4) = 1; the 4 recorded at t = 0 is out of the window at t = 400
    decision, _ = decide(spec, 400.0, 4, ready(0.12, 0.12, 0.12, 0.12), ((0.0, 4),))
    assert decision == Decision(3, 1, 0.12, Reason.TOO_FEW)
    decision, _ = decide(spec, 400.0, 4, ready(0.0, 0.0, 0.0, 0.0), ((0.0, 4),))
    assert decision == Decision(3, 0, 0.0, Reason.TOO_FEW)  # idle pods ask for 0


def test_a_count_outside_the_bounds_is_moved_to_them_before_any_metric() -> None:
    spec = HpaSpec(min_replicas=3, max_replicas=6)
    seeded = ((0.0, 2),)
    assert decide(spec, 0.0, 2, ready(3.0, 3.0), ()) == (Decision(3, 3, None, Reason.BELOW_MIN), seeded)
    assert decide(spec, 15.0, 9, ready(0.01), seeded) == (Decision(6, 6, None, Reason.ABOVE_MAX), seeded)
    assert decide(spec, 15.0, 0, ready(3.0), seeded) == (Decision(0, 0, None, Reason.SCALING_DISABLED), seeded)


def test_unready_pods_count_as_idle_on_a_scale_up() -> None:
    # 2 ready at 90 %: ratio 1.5. With the unready pod at 0 %: 180 / 3 = 60 %, ratio 1.0, within
    # tolerance: stay at 3, where ceil(current * 1.5) would have asked for 5.
    assert raw_recommendation(SPEC, 3, ready(0.9, 0.9) + unready(1)) == Recommendation(3, 0.9, Reason.WITHIN_TOLERANCE)
    # 3 ready at 90 % + 1 unready: 270 / 4 = 67 % (floored), ratio 1.117, ceil(4.47) = 5, not 6
    assert raw_recommendation(SPEC, 4, ready(0.9, 0.9, 0.9) + unready(1)) == Recommendation(5, 0.9, Reason.WITHIN_RANGE)
    # 2 ready at 90 % + 2 unready: 180 / 4 = 45 %, ratio 0.75, now a scale-down: keep 4
    assert raw_recommendation(SPEC, 4, ready(0.9, 0.9) + unready(2)) == Recommendation(
        4, 0.9, Reason.DIRECTION_REVERSED
    )


def test_unready_pods_are_left_out_of_a_scale_down() -> None:
    # 2 ready at 30 %: ratio 0.5, ceil(0.5 * 2) = 1; the unready pods' 95 % is not evidence
    assert raw_recommendation(SPEC, 4, ready(0.3, 0.3) + unready(2)) == Recommendation(1, 0.3, Reason.WITHIN_RANGE)


def test_only_unready_or_missing_pods_is_a_failed_sync_that_changes_nothing() -> None:
    seeded = ((0.0, 3),)
    for pods in (unready(3), missing(3), []):
        assert raw_recommendation(SPEC, 3, pods) == Recommendation(None, None, Reason.NO_METRICS)
        assert decide(SPEC, 15.0, 3, pods, seeded) == (Decision(3, 3, None, Reason.NO_METRICS), seeded)


def test_missing_metrics_count_as_full_on_a_scale_down() -> None:
    # 5 pods at 20 %: ratio 0.333. The missing pod at 100 %: (5 * 20 + 100) / 6 = 33 %, ratio
    # 0.55, ceil(3.3) = 4, where leaving it out (ceil(0.333 * 5)) or at 0 % (16 %) would ask for 2.
    pods = ready(*[0.2] * 5) + missing(1)
    assert raw_recommendation(SPEC, 6, pods) == Recommendation(4, 0.2, Reason.WITHIN_RANGE)
    # 1 pod at 50 %, 3 missing: (50 + 300) / 4 = 87 %, ratio 1.45: the scale-down turned around
    assert raw_recommendation(SPEC, 4, ready(0.5) + missing(3)) == Recommendation(4, 0.5, Reason.DIRECTION_REVERSED)


def test_missing_metrics_count_as_the_target_when_it_is_above_100_percent() -> None:
    spec = HpaSpec(max_replicas=20, target_utilisation=1.5)
    # 5 at 30 % + 3 at 150 %: 75 %, ratio 0.5, 4 replicas (at 100 %: 56 %, ratio 0.373, 3)
    assert raw_recommendation(spec, 8, ready(*[0.3] * 5) + missing(3)).replicas == 4


def test_missing_metrics_count_as_idle_on_a_scale_up() -> None:
    # 2 at 90 % + 1 without a metric (ready or not: missing comes first): 60 %, within tolerance
    for absent in (missing(1), unready(1, None)):
        assert raw_recommendation(SPEC, 3, ready(0.9, 0.9) + absent) == Recommendation(3, 0.9, Reason.WITHIN_TOLERANCE)
    # 3 at 120 % + 1 missing: 360 / 4 = 90 %, ratio 1.5, ceil(1.5 * 4) = 6, not ceil(2.0 * current 4) = 8
    assert raw_recommendation(SPEC, 4, ready(1.2, 1.2, 1.2) + missing(1)).replicas == 6


def test_a_count_on_the_wrong_side_of_current_keeps_current() -> None:
    # 5 pods listed for spec.replicas 3 (a scale-down under way): 4 at 30 % + 1 missing at 100 %
    # is 44 %, ratio 0.733, but ceil(0.733 * 5) = 4 would scale *up* on low load: keep 3
    assert raw_recommendation(SPEC, 3, ready(*[0.3] * 4) + missing(1)) == Recommendation(
        3, 0.3, Reason.DIRECTION_REVERSED
    )
    # 3 pods listed for 6: 2 at 120 % + 1 unready is 80 %, ratio 1.33, but ceil(1.33 * 3) = 4
    # would scale *down* on high load: keep 6
    assert raw_recommendation(SPEC, 6, ready(1.2, 1.2) + unready(1)) == Recommendation(
        6, 1.2, Reason.DIRECTION_REVERSED
    )


def test_decide_is_pure() -> None:
    history: Recommendations = ((0.0, 4), (15.0, 3))
    first = decide(SPEC, 30.0, 4, ready(0.3, 0.3, 0.3, 0.3), history)
    assert decide(SPEC, 30.0, 4, ready(0.3, 0.3, 0.3, 0.3), history) == first
    assert history == ((0.0, 4), (15.0, 3))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_replicas": 0}, r"min_replicas\(=0\) must be >= 1"),
        ({"min_replicas": 5, "max_replicas": 4}, r"max_replicas\(=4\) must be >= min_replicas\(=5\)"),
        ({"target_utilisation": 0.0}, r"target_utilisation\(=0.0\) must be > 0"),
        ({"target_utilisation": -0.5}, r"target_utilisation\(=-0.5\) must be > 0"),
        ({"target_utilisation": math.nan}, r"target_utilisation\(=nan\) must be > 0"),
        ({"target_utilisation": 0.625}, r"must be a whole percent"),
        ({"tolerance": -0.1}, r"tolerance\(=-0.1\) must be in \[0, 1\)"),
        ({"tolerance": 1.0}, r"tolerance\(=1.0\) must be in \[0, 1\)"),
        ({"sync_period": 0.0}, r"sync_period\(=0.0\) must be > 0"),
        ({"scale_down_stabilisation": -1.0}, r"scale_down_stabilisation\(=-1.0\) must be >= 0"),
    ],
)
def test_a_nonsensical_spec_is_refused(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        HpaSpec(**kwargs)  # type: ignore[arg-type]


def test_a_spec_takes_targets_above_100_percent_and_a_zero_window() -> None:
    spec = HpaSpec(min_replicas=2, max_replicas=2, target_utilisation=1.5, tolerance=0.0, scale_down_stabilisation=0)
    assert (spec.target_percent, spec.max_replicas) == (150, 2)


@pytest.mark.parametrize("utilisation", [-0.1, math.nan, math.inf])
def test_a_nonsensical_sample_is_refused(utilisation: float) -> None:
    with pytest.raises(ValueError, match=r"utilisation\(=.*\) must be a finite number >= 0, or None"):
        PodSample(True, utilisation)


def test_decide_refuses_a_negative_count_and_a_clock_going_back() -> None:
    with pytest.raises(ValueError, match=r"current\(=-1\) must be >= 0"):
        decide(SPEC, 0.0, -1, ready(0.5), ())
    with pytest.raises(ValueError, match=r"now\(=10.0\) is before the last recommendation's time\(=15.0\)"):
        decide(SPEC, 10.0, 2, ready(0.5), ((15.0, 2),))
