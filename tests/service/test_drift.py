"""Drift: the KS distance to a reference given by quantiles, and the score the service exports."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from service.drift import DriftWindow, ks_distance, reference_cdf
from service.model import FEATURES
from tests.asgi_client import AsgiClient
from tests.service import artifacts
from tests.service.helpers import T0, Services, at, scrape, value

LEVELS = np.linspace(0.0, 1.0, 101)


def normal_reference() -> tuple[float, ...]:
    return tuple(np.quantile(np.random.default_rng(1).normal(size=200_000), LEVELS))


def test_ks_distance_of_a_shifted_and_an_identical_sample() -> None:
    reference = normal_reference()
    sample = np.random.default_rng(2).normal(size=20_000)
    assert ks_distance(sample, reference) < 0.03
    # Shifted by half a sigma: D = Phi(0.25) - Phi(-0.25) = 0.197.
    assert ks_distance(sample + 0.5, reference) == pytest.approx(0.197, abs=0.015)
    assert ks_distance(sample - 0.5, reference) == pytest.approx(0.197, abs=0.015)
    assert ks_distance(np.full(10, 100.0), reference) == 1.0  # all above the reference's maximum
    assert ks_distance(np.full(10, -100.0), reference) == 1.0


def test_ks_distance_is_exact_against_the_piecewise_linear_cdf() -> None:
    reference = tuple(np.linspace(0.0, 100.0, 101))  # uniform on [0, 100]: G(x) = x / 100
    assert ks_distance(np.array([50.0]), reference) == pytest.approx(0.5)
    assert ks_distance(np.array([25.0, 75.0]), reference) == pytest.approx(0.25)
    assert ks_distance(np.array([10.0, 20.0, 30.0, 40.0]), reference) == pytest.approx(0.6)  # 1 - G(40)


def test_a_point_mass_in_the_reference_is_no_drift_for_data_that_has_it_too() -> None:
    rng = np.random.default_rng(3)

    def draw(n: int) -> np.ndarray:
        return np.where(rng.random(n) < 0.6, 0.0, rng.exponential(1.0, n))  # 60 % exactly at one tick

    reference = tuple(np.quantile(draw(200_000), LEVELS))
    q = np.asarray(reference)
    at_mass = np.flatnonzero(q == 0.0).max() / 100  # quantiles 0 to 59 are 0: G(0) = 0.59
    assert at_mass == pytest.approx(0.59)
    assert ks_distance(draw(5_000), reference) < 0.03
    assert ks_distance(np.zeros(100), reference) == pytest.approx(1 - at_mass)  # F(0) = 1
    assert reference_cdf(np.array([0.0]), q)[0] == pytest.approx(at_mass)  # the CDF's value at the mass
    assert reference_cdf(np.array([0.0]), q, left=True)[0] == 0.0  # and its left limit


def test_the_window_keeps_values_by_arrival_time_and_skips_nulls() -> None:
    window = DriftWindow(600.0)
    window.add(0.0, {"spread": 1.0, "volatility": None})
    window.add(500.0, {"spread": 2.0})
    assert list(window.recent("spread", 500.0)) == [1.0, 2.0]
    assert list(window.recent("spread", 700.0)) == [2.0]  # the first is more than 600 s old
    assert len(window.recent("volatility", 700.0)) == 0
    window.add(1200.0, {"spread": 0.0})  # trimmed on write too
    assert len(window.values["spread"]) == 1
    reference = (normal_reference(),) * len(FEATURES)
    scores = window.scores(1200.0, reference, min_values=1)
    assert list(scores) == ["spread"] and scores["spread"][1] == 1
    assert scores["spread"][0] == pytest.approx(0.5, abs=0.01)  # one value at the median: D = 1/2
    assert window.scores(1200.0, reference, min_values=2) == {}
    assert window.scores(1200.0, None, min_values=1) == {}


SYMBOLS = tuple(f"S{i:04d}" for i in range(600))  # publish's, all taken by the service


def publish(c: AsgiClient, t: float, values: np.ndarray, shift: float = 0.0) -> None:
    """One batch: a row per value, on distinct symbols; ``spread`` shifted by ``shift`` sigma."""
    updates = [
        {
            "symbol": f"S{i:04d}",
            "timestamp": T0 + t,
            "features": {f: float(v) + (shift if f == "spread" else 0.0) for f in FEATURES},
        }
        for i, v in enumerate(values)
    ]
    reply = c.post("/features", json={"updates": updates}, headers=at(t))
    assert reply.json()["accepted"] == len(values)


def test_the_drift_score_needs_enough_values_and_falls_when_a_feature_shifts(services: Services) -> None:
    c = services(symbols=SYMBOLS)
    rng = np.random.default_rng(4)
    publish(c, 0, rng.normal(size=150))
    m = scrape(c, 1)
    assert value(m, "prediction_api_feature_drift_score", feature="spread") is None  # 150 < 200: no data, no drift
    assert value(m, "prediction_api_feature_drift_window_values", feature="spread") is None
    publish(c, 60, rng.normal(size=450))
    m = scrape(c, 61)
    assert value(m, "prediction_api_feature_drift_window_values", feature="spread") == 600
    assert value(m, "prediction_api_feature_drift_score", feature="spread") > 0.9  # type: ignore[operator]
    # volatility's reference is N(1, 1): the same standard normal values are 1 sigma off for it.
    assert value(m, "prediction_api_feature_drift_score", feature="volatility") < 0.8  # type: ignore[operator]
    publish(c, 700, rng.normal(size=600), shift=1.0)  # the unshifted values are now out of the 600 s window
    m = scrape(c, 701)
    assert value(m, "prediction_api_feature_drift_window_values", feature="spread") == 600
    assert value(m, "prediction_api_feature_drift_score", feature="spread") < 0.8  # type: ignore[operator]
    assert value(m, "prediction_api_feature_drift_score", feature="momentum_short") > 0.9  # type: ignore[operator]
    assert value(scrape(c, 1400), "prediction_api_feature_drift_score", feature="spread") is None  # window empty


def test_drift_window_and_minimum_are_settings_and_no_reference_means_no_score(services: Services) -> None:
    c = services(drift_window=30.0, drift_min_values=10, symbols=SYMBOLS)
    publish(c, 0, np.random.default_rng(5).normal(size=10))
    assert value(scrape(c, 30), "prediction_api_feature_drift_window_values", feature="spread") == 10
    assert value(scrape(c, 31), "prediction_api_feature_drift_window_values", feature="spread") is None
    bare = services(artifact={"version": "old", "coefficients": dict.fromkeys(FEATURES, 0.0)}, symbols=SYMBOLS)
    publish(bare, 0, np.random.default_rng(6).normal(size=300))
    assert value(scrape(bare, 1), "prediction_api_feature_drift_score", feature="spread") is None


def test_the_reference_follows_a_model_reload(services: Services, tmp_path: Path) -> None:
    path = artifacts.write(tmp_path / "served.json", artifacts.artifact())
    c = services(model_path=str(path), admin_token="t", symbols=SYMBOLS)
    publish(c, 0, np.random.default_rng(7).normal(size=300))
    assert value(scrape(c, 1), "prediction_api_feature_drift_score", feature="volatility") < 0.8  # type: ignore[operator]
    artifacts.write(path, artifacts.artifact(reference={f: artifacts.normal_quantiles() for f in FEATURES}))
    assert c.post("/admin/model/reload", headers={**at(2), "Authorization": "Bearer t"}).status_code == 200
    assert value(scrape(c, 2), "prediction_api_feature_drift_score", feature="volatility") > 0.9  # type: ignore[operator]


def _ks_twice(values: np.ndarray, reference: tuple[float, ...]) -> float:
    """The distance computed the plain way, G and its left limit each over every value: the
    oracle for ``ks_distance``, which reuses G where no value sits on a quantile."""
    x = np.sort(values)
    n, q = len(x), np.asarray(reference)
    above = np.arange(1, n + 1) / n - reference_cdf(x, q)
    below = reference_cdf(x, q, left=True) - np.arange(0, n) / n
    return float(max(above.max(), below.max(), 0.0))


@pytest.mark.parametrize("seed", range(4))
def test_ks_distance_is_bit_for_bit_the_plain_computation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    tied = tuple(sorted([0.0] * 30 + list(rng.normal(size=71))))  # a point mass, as a pinned spread has
    smooth = tuple(np.quantile(rng.normal(size=5000), np.linspace(0, 1, 101)))
    ends = tuple(sorted([-1.0] * 10 + list(rng.uniform(-1, 1, size=81)) + [1.0] * 10))  # masses at both ends
    for reference in (tied, smooth, ends):
        edges = [reference[0], reference[-1]] * 7
        values = np.concatenate([rng.normal(0.2, 1.3, size=2000), np.zeros(50), np.asarray(reference[:20]), edges])
        assert ks_distance(values, reference) == _ks_twice(values, reference)


def test_the_window_keeps_what_a_bounded_deque_would() -> None:
    """Values in, old ones out by time and by count, across compactions and growth."""
    from collections import deque

    from service import drift

    window = drift._Recent(capacity=8)
    reference: deque[tuple[float, float]] = deque(maxlen=drift.MAX_VALUES)
    rng = np.random.default_rng(3)
    now = 0.0
    for _ in range(5000):
        now += float(rng.exponential(0.2))
        value = float(rng.normal())
        window.add(now, value)
        reference.append((now, value))
        since = now - 30.0
        window.trim(since)
        while reference and reference[0][0] < since:
            reference.popleft()
        assert len(window) == len(reference)
    assert list(window.live()) == [v for _, v in reference]


def test_the_window_drops_the_oldest_beyond_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    from service import drift

    monkeypatch.setattr(drift, "MAX_VALUES", 10)
    window = drift._Recent(capacity=4)
    for i in range(25):
        window.add(float(i), float(i))
    assert list(window.live()) == [float(i) for i in range(15, 25)]


def test_rows_added_together_leave_the_window_that_rows_added_one_by_one_do() -> None:
    rng = np.random.default_rng(9)
    together, one_by_one = DriftWindow(20.0), DriftWindow(20.0)
    now = 0.0
    for _ in range(400):
        now += float(rng.exponential(1.0))
        rows = [
            {f: (None if rng.random() < 0.2 else float(rng.normal())) for f in FEATURES}
            for _ in range(int(rng.integers(0, 7)))
        ]
        together.add_rows(now, rows)
        for row in rows:
            one_by_one.add(now, row)
    for f in FEATURES:
        assert list(together.recent(f, now)) == list(one_by_one.recent(f, now))
        assert len(together.recent(f, now)) > 20


@pytest.mark.parametrize("seed", range(3))
def test_distances_computed_together_are_the_ones_computed_alone(seed: int) -> None:
    from service.drift import ks_distances

    rng = np.random.default_rng(seed)
    tied = tuple(sorted([0.0] * 30 + list(rng.normal(size=71))))
    smooth = tuple(np.quantile(rng.normal(size=5000), np.linspace(0, 1, 101)))
    references = [tied, smooth, smooth, tied, smooth]
    samples = [np.concatenate([rng.normal(0.3, 1.2, size=n), np.zeros(5)]) for n in (995, 995, 995, 1495, 295)]
    together = ks_distances(samples, references)
    assert together == [ks_distance(s, r) for s, r in zip(samples, references, strict=True)]


@pytest.mark.parametrize("bound", [50, 200_000])
def test_the_sorted_window_is_the_window_sorted(monkeypatch: pytest.MonkeyPatch, bound: int) -> None:
    """``sorted_live`` (updated from the last call's) against a fresh sort, at irregular scrapes,
    with repeated values (rounded, ±0.0), bursts that force a full sort, growth, compaction and,
    with a small bound, values dropped by count."""
    from service import drift

    monkeypatch.setattr(drift, "MAX_VALUES", bound)
    window = drift._Recent(capacity=16)
    rng = np.random.default_rng(11)
    now, checked = 0.0, 0
    for step in range(3000):
        now += 1.0
        burst = 200 if step % 700 == 0 else int(rng.integers(1, 6))
        window.extend(now, [round(float(v), 1) for v in rng.normal(scale=0.3, size=burst)] + [-0.0] * (step % 3 == 0))
        window.trim(now - 60.0)
        if rng.random() < 0.1:
            assert np.array_equal(window.sorted_live(), np.sort(window.live()))
            checked += 1
    assert checked > 200
