"""What a trading desk does with a prediction: the pure rule, with no clock and no I/O.

Every /predict request is an order the desk is about to place. The desk *uses* the prediction
when it came back in time (the service's own ``Server-Timing``, within the desk's deadline), was
made on fresh features (the reply's ``features_age_seconds``: past the factors' memory a
prediction is a guess, whatever its confidence says) and is confident enough. It then trades in
the predicted direction, sized by confidence, at full size from ``strong_confidence`` on.
Otherwise it places the order without the prediction: its baseline, a smaller position with no
edge. That split is the seed's adoption ("> 70 % of trades use predictions"); a full-size
position on a prediction that turns out wrong is a false positive ("< 5 % false positive
rate"): the risk the prediction made the desk take.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, NamedTuple

NO_MODEL = "none"  # the model_version of a trade placed without a prediction


class Decision:
    """Why an order was placed as it was. Plain strings, not an Enum: an Enum member hashes
    through Python code, and the book counts one per request."""

    USED: Final = "used"  # in time, fresh and confident enough: the prediction decided the trade
    LATE: Final = "late"  # answered after the desk's deadline: the order went without it
    STALE: Final = "stale"  # made on features older than the desk accepts (a feed outage)
    UNCONFIDENT: Final = "unconfident"  # in time, below the desk's minimum confidence
    FAILED: Final = "failed"  # no prediction: an error status or no answer at all


DECISIONS = (Decision.USED, Decision.LATE, Decision.STALE, Decision.UNCONFIDENT, Decision.FAILED)


@dataclass(frozen=True)
class DeskRule:
    """One desk's trading rule. ``deadline`` is seconds from request to answer; ``notional``
    dollars of a full-size position; ``cost_bp`` what a trade costs (spread, fees), in basis
    points of its notional; ``baseline_size`` the position, as a fraction of full size, of an
    order placed without a prediction; ``max_feature_age`` seconds, the oldest features a
    prediction may have been made on."""

    deadline: float = 0.005
    min_confidence: float = 0.55
    strong_confidence: float = 0.9
    notional: float = 25_000.0
    cost_bp: float = 0.1
    baseline_size: float = 0.25
    max_feature_age: float = 5.0

    def __post_init__(self) -> None:
        if not 0.5 <= self.min_confidence < self.strong_confidence <= 1.0:
            raise ValueError(
                f"confidences must satisfy 0.5 <= min_confidence(={self.min_confidence}) "
                f"< strong_confidence(={self.strong_confidence}) <= 1"
            )
        if min(self.deadline, self.notional, self.max_feature_age) <= 0 or self.cost_bp < 0:
            raise ValueError("deadline, notional and max_feature_age must be > 0, cost_bp >= 0")
        if not 0 <= self.baseline_size <= 1:
            raise ValueError(f"baseline_size(={self.baseline_size}) must be in [0, 1]")


class Quote(NamedTuple):
    """What a desk reads of a prediction: P(up), its confidence, who made it, how long it took
    and how old the features it was made on were. (Named tuples: one of each per request, and
    a frozen dataclass costs three times as much to make.)"""

    up_probability: float
    confidence: float
    model_version: str
    latency: float | None  # seconds, from Server-Timing; None when the service did not say
    features_age: float | None = None  # seconds; None when the caller sent the features itself


class Trade(NamedTuple):
    """One order as placed. ``side`` is +1 (buy) or -1 (sell); ``size`` the fraction of the desk's
    full size; ``signal`` the prediction's signed strength (2 P(up) - 1) when it was used."""

    desk: str
    decision: str  # one of DECISIONS
    model_version: str
    side: int
    size: float
    signal: float | None
    strong: bool

    def settle(self, ret_bp: float, rule: DeskRule) -> tuple[float, float]:
        """Gross P&L and cost in dollars once the move over the horizon (``ret_bp``) is known."""
        notional = rule.notional * self.size
        return notional * self.side * ret_bp / 1e4, notional * rule.cost_bp / 1e4


def decide(desk: str, rule: DeskRule, quote: Quote | None, baseline_up: bool) -> Trade:
    """The desk's order, with or without the prediction. ``baseline_up`` is the direction it would
    take on its own (no edge: the caller draws it from the desk's own seeded stream)."""
    if quote is None:
        decision = Decision.FAILED
    elif quote.latency is None or quote.latency > rule.deadline:
        decision = Decision.LATE  # a client that cannot tell when the answer was made cannot trust it
    elif quote.features_age is not None and quote.features_age > rule.max_feature_age:
        decision = Decision.STALE
    elif quote.confidence < rule.min_confidence:
        decision = Decision.UNCONFIDENT
    else:
        span = rule.strong_confidence - rule.min_confidence
        strong = quote.confidence >= rule.strong_confidence
        size = 1.0 if strong else 0.5 + 0.5 * (quote.confidence - rule.min_confidence) / span
        up = quote.up_probability >= 0.5
        return Trade(
            desk, Decision.USED, quote.model_version, 1 if up else -1, size, 2 * quote.up_probability - 1, strong
        )
    return Trade(desk, decision, NO_MODEL, 1 if baseline_up else -1, rule.baseline_size, None, False)
