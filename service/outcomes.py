"""Predictions waiting for their outcome, and the calibration bins outcomes are counted in.

The trading desk reports each prediction's realised direction a horizon later
(``POST /feedback``, by the ``prediction_id`` ``/predict`` answered). A prediction is
remembered until then, at most ``ttl`` seconds and ``capacity`` entries: a desk that never
reports costs bounded memory, and what is dropped unanswered is counted.

Calibration is counted per confidence bin b ([0.5, 0.6), ..., [0.9, 1.0], labelled by the
lower edge): n_b predictions with a known outcome (``prediction_api_calibration_predictions_total``),
their summed confidence (``..._calibration_confidence_total``) and the correct ones
(``..._calibration_correct_total``). With acc_b = correct_b / n_b and conf_b = confsum_b / n_b,
the expected calibration error over any window w is, from counters alone,

    ECE = sum_b n_b/N * |acc_b - conf_b| = sum_b |correct_b - confsum_b| / N

    sum(abs(sum by (bin) (increase(prediction_api_calibration_correct_total[w]))
          - sum by (bin) (increase(prediction_api_calibration_confidence_total[w]))))
      / sum(increase(prediction_api_calibration_predictions_total[w]))

(aggregate by bin before ``abs``: across instances the gaps of one bin add before they count).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

BIN_EDGES = (0.5, 0.6, 0.7, 0.8, 0.9)  # lower edges; the last bin includes 1.0
BINS = tuple(f"{e:.1f}" for e in BIN_EDGES)


def confidence_bin(confidence: float) -> str:
    """The label of the bin ``confidence`` (in [0.5, 1]) falls in."""
    index = min(int((confidence - 0.5) * 10 + 1e-9), len(BINS) - 1)
    return BINS[max(index, 0)]


@dataclass(frozen=True)
class Pending:
    direction: str
    confidence: float
    at: float  # clock time of the prediction


@dataclass
class PendingPredictions:
    """Predictions by id, oldest first; bounded by age (``ttl``) and count (``capacity``)."""

    ttl: float
    capacity: int
    entries: OrderedDict[str, Pending] = field(default_factory=OrderedDict)

    def add(self, prediction_id: str, pending: Pending) -> int:
        """Remember a prediction; returns how many were dropped unanswered to make room or as too old."""
        self.entries[prediction_id] = pending
        self.entries.move_to_end(prediction_id)  # a reused id is as new as its latest prediction
        return self.expire(pending.at)

    def expire(self, now: float) -> int:
        """Drop the entries older than ``ttl`` and those beyond ``capacity``; returns how many."""
        dropped = 0
        while self.entries:
            oldest = next(iter(self.entries.values()))
            if len(self.entries) <= self.capacity and oldest.at >= now - self.ttl:
                break
            self.entries.popitem(last=False)
            dropped += 1
        return dropped

    def take(self, prediction_id: str, now: float) -> tuple[Pending | None, int]:
        """The prediction an outcome is for, consumed (a second report finds nothing), unless it
        is older than ``ttl``; and how many entries expired on the way."""
        dropped = self.expire(now)
        return self.entries.pop(prediction_id, None), dropped
