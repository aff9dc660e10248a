"""Predictions waiting for their outcome, and the calibration bins outcomes are counted in.

The trading desk reports each prediction's realised direction a horizon later. Counting,
per confidence bin, the outcomes, the predictions' summed confidence and the correct ones
lets Prometheus compute the expected calibration error over any window from counters:

    ECE = sum over bins |correct_b - confidence_sum_b| / N  =  sum over bins n_b/N * |acc_b - conf_b|
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

BIN_EDGES = (0.5, 0.6, 0.7, 0.8, 0.9)  # lower edges; the last bin includes 1.0
BINS = tuple(f"{e:.1f}" for e in BIN_EDGES)


def confidence_bin(confidence: float) -> str:
    index = min(int((confidence - 0.5) * 10 + 1e-9), len(BINS) - 1)
    return BINS[max(index, 0)]


@dataclass(frozen=True)
class Pending:
    direction: str
    confidence: float
    at: float


@dataclass
class PendingPredictions:
    """Bounded by age (``ttl``) and count (``capacity``): a desk that never reports costs nothing."""

    ttl: float
    capacity: int
    entries: OrderedDict[str, Pending] = field(default_factory=OrderedDict)

    def add(self, prediction_id: str, pending: Pending) -> int:
        """Remember a prediction; returns how many old ones were dropped unanswered."""
        self.entries[prediction_id] = pending
        return self.expire(pending.at)

    def expire(self, now: float) -> int:
        dropped = 0
        while self.entries:
            oldest = next(iter(self.entries.values()))
            if len(self.entries) <= self.capacity and oldest.at >= now - self.ttl:
                break
            self.entries.popitem(last=False)
            dropped += 1
        return dropped

    def take(self, prediction_id: str) -> Pending | None:
        return self.entries.pop(prediction_id, None)
