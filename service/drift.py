"""Feature drift: how far the recent values of each factor are from its training distribution.

The score is ``1 - D``, where D is the Kolmogorov-Smirnov distance (the largest gap between
two cumulative distribution functions) between the values of the last ``window`` seconds and
the model's reference distribution. Why KS: it is bounded in [0, 1] with 1 meaning the two
match, so a threshold reads the same for every factor; it needs no binning (PSI does, and is
unbounded); it is blind to units and monotone transforms, so a factor in basis points and one
in ratios compare. Its noise floor is about 1.36/sqrt(n) at 95 %, where n is the number of
*independent* values: the factors have memory, so n is far below the count of values; a
10-minute window over five symbols keeps it near 0.08, well clear of the 0.2 a score of 0.8
allows. Too few values give no score at all: no data is not drift.

The reference CDF is piecewise linear between the 101 training quantiles (probabilities 0,
0.01, ..., 1), 0 below the first and 1 above the last. Repeated quantiles (a factor with a
point mass, like a spread pinned at one tick) make it jump; the distance below compares the
step function of the sample with both the value and the left limit of that CDF, so identical
data scores 1 there too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from service.model import FEATURES, QUANTILES

MAX_VALUES = 200_000  # per feature: memory and scrape time stay bounded at any feed rate
_STEP = 1.0 / (QUANTILES - 1)

FloatArray = npt.NDArray[np.float64]


def reference_cdf(x: FloatArray, quantiles: FloatArray, *, left: bool = False) -> FloatArray:
    """The reference CDF at ``x`` (``left``: its left limit, which differs where quantiles repeat)."""
    j = np.searchsorted(quantiles, x, side="left" if left else "right")
    return _cdf_at(x, quantiles, j)


def _cdf_at(x: FloatArray, quantiles: FloatArray, j: npt.NDArray[np.intp]) -> FloatArray:
    """The CDF at ``x`` given ``j``, the count of quantiles below x (left limit) or at most x.
    Row by row where ``x``, ``quantiles`` and ``j`` are 2-D (several factors at once)."""
    # j selects the segment [q[j-1], q[j]) that holds x.
    size = quantiles.shape[-1]
    inner = (j > 0) & (j < size)
    k = np.clip(j, 1, size - 1)
    lo, hi = np.take_along_axis(quantiles, k - 1, axis=-1), np.take_along_axis(quantiles, k, axis=-1)
    # Inside a segment hi > lo strictly (hi > x >= lo, or hi >= x > lo for the left limit).
    with np.errstate(divide="ignore", invalid="ignore"):
        within = (k - 1 + (x - lo) / (hi - lo)) * _STEP
    return np.where(inner, within, np.where(j == 0, 0.0, 1.0))


def ks_distance(values: FloatArray, reference: tuple[float, ...]) -> float:
    """sup |F_n - G| between a sample's empirical CDF F_n and the reference CDF G (see ``ks_distances``)."""
    return ks_distances([values], [reference])[0]


def ks_distances(samples: Sequence[FloatArray], references: Sequence[tuple[float, ...]]) -> list[float]:
    """sup |F_n - G| of each sample to its reference.

    F_n steps at each sorted value x_(i) from (i-1)/n to i/n and G is non-decreasing, so the
    supremum is at a sample value: i/n - G(x_(i)) above, or G(x_(i)-) - (i-1)/n below.
    G(x-) differs from G(x) only where x is one of the quantiles, so it is computed only there.
    At every scrape this runs for eight factors of a few thousand values each.
    """
    return [
        _sorted_distance(np.sort(np.asarray(s, dtype=np.float64)), np.asarray(r, dtype=np.float64))
        for s, r in zip(samples, references, strict=True)
    ]


def _sorted_distance(x: FloatArray, q: FloatArray) -> float:
    """``ks_distance`` of a sorted sample. The values with j quantiles at most them are one run
    of x, all inside the segment [q[j-1], q[j]), so each segment's ends are repeated over its
    run rather than gathered value by value: ``_cdf_at``'s arithmetic at a fraction of its cost."""
    n, size = len(x), len(q)
    if n == 0:
        raise ValueError("the KS distance of an empty sample is undefined")
    starts = np.searchsorted(x, q, side="left")  # quantile k is at most x_i exactly when i >= starts[k]
    runs = np.diff(starts, prepend=0, append=n)  # runs[j]: how many values have j quantiles at most them
    below_all, above_all, inner = int(runs[0]), int(runs[size]), runs[1:size]
    lo, hi = np.repeat(q[:-1], inner), np.repeat(q[1:], inner)
    within = (np.repeat(np.arange(size - 1), inner) + (x[below_all : n - above_all] - lo) / (hi - lo)) * _STEP
    at = np.concatenate((np.zeros(below_all), within, np.ones(above_all)))
    before = at
    ends = np.searchsorted(x, q, side="right")
    if (ends != starts).any():  # values that sit on a quantile: there G(x-) < G(x)
        on = np.unique(np.concatenate([np.arange(a, b) for a, b in zip(starts, ends, strict=True) if b > a]))
        before = at.copy()
        before[on] = _cdf_at(x[on], q, np.searchsorted(q, x[on], side="left"))
    above = np.arange(1, n + 1) / n - at
    below = before - np.arange(0, n) / n
    return float(max(above.max(), below.max(), 0.0))


def _without(ordered: FloatArray, gone: FloatArray) -> FloatArray | None:
    """``ordered`` with one occurrence of each value of the sorted ``gone`` taken out; None if
    some value is not there. A value that leaves k times takes the first k of its equals."""
    if not len(gone):
        return ordered
    at = np.searchsorted(ordered, gone) + (np.arange(len(gone)) - np.searchsorted(gone, gone))
    if at[-1] >= len(ordered) or not np.array_equal(ordered[at], gone):
        return None
    return np.delete(ordered, at)


class _Recent:
    """One feature's recent values and their arrival times, oldest first, in numpy buffers: the
    live values are one slice, handed to the KS computation at every scrape without a copy.
    Old values leave by moving the start; the buffer is compacted (or grown) when it fills.
    At most ``MAX_VALUES`` are kept, the oldest dropped first, as a bounded deque would."""

    def __init__(self, capacity: int = 4096) -> None:
        self.times = np.empty(capacity, dtype=np.float64)
        self.values = np.empty(capacity, dtype=np.float64)
        self.start = self.end = 0
        # The values of buffer positions [_sorted_from, _sorted_to), sorted: the last scrape's.
        self._sorted = np.empty(0, dtype=np.float64)
        self._sorted_from = self._sorted_to = 0

    def __len__(self) -> int:
        return self.end - self.start

    def add(self, now: float, value: float) -> None:
        self.extend(now, [value])

    def extend(self, now: float, values: list[float]) -> None:
        """Values that arrived at ``now``, in order; beyond ``MAX_VALUES`` the oldest go."""
        k = len(values)
        while self.end + k > len(self.values):
            self._make_room(k)
        self.times[self.end : self.end + k] = now
        self.values[self.end : self.end + k] = values
        self.end += k
        self.start = max(self.start, self.end - MAX_VALUES)

    def trim(self, since: float) -> None:
        times, start, end = self.times, self.start, self.end
        while start < end and times[start] < since:
            start += 1
        self.start = start

    def live(self) -> FloatArray:
        """The values now in the window (a view: valid until the next ``add``)."""
        return self.values[self.start : self.end]

    def sorted_live(self) -> FloatArray:
        """``np.sort(self.live())``, updated from the last call's: between two scrapes a few
        dozen values leave and arrive out of thousands, so those are taken out and put in where
        they sort, rather than sorting everything again (what comes out is the same multiset,
        sorted). Falls back to a full sort when much has changed."""
        start, end = self.start, self.end
        gone, new = self.values[self._sorted_from : start], self.values[self._sorted_to : end]
        small = self._sorted_from <= start <= self._sorted_to <= end and 4 * (len(gone) + len(new)) <= end - start
        kept = _without(self._sorted, np.sort(gone)) if small else None  # None also if not found (cannot be)
        if kept is None:
            ordered = np.sort(self.live())
        else:
            new = np.sort(new)
            ordered = np.insert(kept, np.searchsorted(kept, new), new) if len(new) else kept
        self._sorted, self._sorted_from, self._sorted_to = ordered, start, end
        return ordered

    def _make_room(self, incoming: int) -> None:
        live = self.end - self.start
        capacity = len(self.values)
        while (live + incoming) * 2 > capacity:  # mostly live: grow (keeps compactions rare)
            capacity *= 2
        times, values = np.empty(capacity, dtype=np.float64), np.empty(capacity, dtype=np.float64)
        times[:live], values[:live] = self.times[self.start : self.end], self.values[self.start : self.end]
        if self._sorted_from == self.start:  # the sorted cache's positions move with the values
            self._sorted_from, self._sorted_to = 0, self._sorted_to - self.start
        else:  # values it holds are not kept: it is rebuilt at the next scrape
            self._sorted, self._sorted_from, self._sorted_to = self._sorted[:0], 0, 0
        self.times, self.values, self.start, self.end = times, values, 0, live


@dataclass
class DriftWindow:
    """The non-null values of each feature that arrived in the last ``window`` seconds (clock time)."""

    window: float
    values: dict[str, _Recent] = field(default_factory=lambda: {f: _Recent() for f in FEATURES})

    def add(self, now: float, features: dict[str, float | None]) -> None:
        self.add_rows(now, [features])

    def add_rows(self, now: float, rows: list[dict[str, float | None]]) -> None:
        """The non-null values of rows that arrived together at ``now``, feature by feature
        (one numpy write per feature, not one per value)."""
        since = now - self.window
        for name, recent in self.values.items():
            values = [v for row in rows if (v := row.get(name)) is not None]
            if values:
                recent.extend(now, values)
                recent.trim(since)

    def recent(self, feature: str, now: float) -> FloatArray:
        recent = self.values[feature]
        recent.trim(now - self.window)
        return recent.live()

    def scores(
        self, now: float, reference: tuple[tuple[float, ...], ...] | None, min_values: int
    ) -> dict[str, tuple[float, int]]:
        """Score and number of values per feature with at least ``min_values``; none without a reference."""
        if reference is None:
            return {}
        out: dict[str, tuple[float, int]] = {}
        for i, name in enumerate(FEATURES):
            recent = self.values[name]
            recent.trim(now - self.window)
            if len(recent) >= min_values:
                d = _sorted_distance(recent.sorted_live(), np.asarray(reference[i], dtype=np.float64))
                out[name] = (1.0 - d, len(recent))
        return out
