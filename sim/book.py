"""The desks' trade book and its ``/metrics``: what the trading system, not the prediction API,
knows about trades and P&L, exported for Prometheus as the ``trading-desk`` job.

A trade is counted when it is placed (its decision: the adoption KPI) and booked when its
horizon has passed and its P&L is known, as a desk's post-trade process would; nothing is
exported before it could be known. Booking happens when the book is read (a scrape): the same
numbers as booking each trade at its instant, without a simulation event per trade.

Every sum a KPI needs is a counter, so Prometheus' ``increase`` over a window gives it: the
P&L correlation is Pearson's r between the prediction's signal and the realised return,
computed in PromQL from n, the sums, the sums of squares and of products (docs/business.md).
Sums that can be negative (of the signal, the return, their product) are split into a
``sign="positive"`` and a ``sign="negative"`` counter of magnitudes: a counter never goes down.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from service.exposition import Exposition  # generate_latest's text, each series' prefix rendered once
from sim.trading import DECISIONS, NO_MODEL, DeskRule, Quote, Trade, decide


@dataclass(slots=True)
class _Sums:
    """What one desk booked for one model version."""

    trades: int = 0
    profit: float = 0.0
    loss: float = 0.0
    cost: float = 0.0
    # of trades that used a prediction: signal s, return r (bp)
    s: list[float] = field(default_factory=lambda: [0.0, 0.0])  # [positive part, negative part]
    r: list[float] = field(default_factory=lambda: [0.0, 0.0])
    sr: list[float] = field(default_factory=lambda: [0.0, 0.0])
    ss: float = 0.0
    rr: float = 0.0
    correct: int = 0
    strong: int = 0
    false_positives: int = 0
    false_negatives: int = 0  # a weaker prediction that was right: a full-size trade missed


def _add(parts: list[float], value: float) -> None:
    """Add ``value`` to a [positive part, negative part] pair of counters."""
    if value >= 0:
        parts[0] += value
    else:
        parts[1] -= value


@dataclass
class TradeBook:
    """Every desk's trades: placed now, booked ``horizon`` seconds later."""

    rules: Mapping[str, DeskRule]
    horizon: float
    rng: random.Random  # the desks' own stream: the baseline's direction
    placed: dict[tuple[str, str], int] = field(default_factory=dict)  # by desk and decision
    booked: dict[tuple[str, str], _Sums] = field(default_factory=dict)
    _open: deque[tuple[float, Trade, float]] = field(default_factory=deque)
    _exposition: Exposition = field(init=False)

    def __post_init__(self) -> None:
        self._exposition = Exposition(_BookCollector(self))
        for desk in self.rules:  # every desk's decisions exported from the start, at 0
            for decision in DECISIONS:
                self.placed[(desk, decision)] = 0

    def place(self, now: float, desk: str, quote: Quote | None, ret_bp: float) -> Trade:
        """The desk's order for a prediction request answered now; ``ret_bp`` is the move over the
        horizon that the market already decided (booked only once the horizon has passed)."""
        baseline_up = self.rng.random() < 0.5  # drawn for every order: the stream never depends on decisions
        trade = decide(desk, self.rules[desk], quote, baseline_up)
        self.placed[(desk, trade.decision)] += 1
        self._open.append((now + self.horizon, trade, ret_bp))
        return trade

    def book(self, now: float) -> None:
        """Book every trade whose horizon has passed by ``now``."""
        opened, booked, rules = self._open, self.booked, self.rules
        while opened and opened[0][0] <= now:
            _, trade, ret = opened.popleft()
            sums = booked.get((trade.desk, trade.model_version))
            if sums is None:
                sums = booked[(trade.desk, trade.model_version)] = _Sums()
            gross, cost = trade.settle(ret, rules[trade.desk])
            sums.trades += 1
            if gross >= 0:
                sums.profit += gross
            else:
                sums.loss -= gross
            sums.cost += cost
            s = trade.signal
            if s is None:
                continue
            _add(sums.s, s)
            _add(sums.r, ret)
            _add(sums.sr, s * ret)
            sums.ss += s * s
            sums.rr += ret * ret
            right = trade.side * ret > 0
            sums.correct += right
            if trade.strong:
                sums.strong += 1
                sums.false_positives += not right
            else:
                sums.false_negatives += right

    def exposition(self, now: float) -> str:
        """The desks' ``/metrics`` at ``now``, in the Prometheus text format."""
        self.book(now)
        return self._exposition.render().decode()


@dataclass
class _BookCollector:
    book: TradeBook

    def collect(self) -> Iterator[Metric]:
        book = self.book
        placed = CounterMetricFamily(
            "desk_trades", "Orders placed, by desk and whether a prediction decided them.", labels=["desk", "decision"]
        )
        for (desk, decision), n in sorted(book.placed.items()):
            placed.add_metric([desk, decision], n)
        yield placed
        rules = GaugeMetricFamily(
            "desk_rule_deadline_seconds",
            "How soon a prediction must come back for the desk to use it.",
            labels=["desk"],
        )
        for desk, rule in sorted(book.rules.items()):
            rules.add_metric([desk], rule.deadline)
        yield rules
        labels = ["desk", "model_version"]
        families = {
            name: CounterMetricFamily(name, doc, labels=labels)
            for name, doc in (
                ("desk_settled_trades", "Trades booked once their horizon passed (model_version none: no prediction)."),
                ("desk_profit_dollars", "Gross profit of the booked trades that made money."),
                ("desk_loss_dollars", "Gross loss of the booked trades that lost money, as a positive amount."),
                ("desk_cost_dollars", "What the booked trades cost (spread and fees)."),
                (
                    "desk_signal_squared_sum",
                    "Sum of the squared signal (2 P(up) - 1) of trades on a prediction.",
                ),
                ("desk_return_bp_squared_sum", "Sum of the squared realised return (bp) of those trades."),
                ("desk_correct_predictions", "Used predictions whose direction the market took."),
                ("desk_strong_signals", "Used predictions confident enough for a full-size position."),
                ("desk_false_positives", "Full-size positions on a prediction the market went against."),
                ("desk_false_negatives", "Predictions below full size whose direction the market took."),
            )
        }
        signed = {
            name: CounterMetricFamily(name, doc, labels=[*labels, "sign"])
            for name, doc in (
                ("desk_signal_sum", "Sum of the signal of trades that used a prediction, split by its sign."),
                ("desk_return_bp_sum", "Sum of the realised return (bp) of those trades, split by its sign."),
                ("desk_signal_return_sum", "Sum of signal times return (bp) of those trades, split by its sign."),
            )
        }
        for (desk, version), sums in sorted(book.booked.items()):
            values = [desk, version]
            families["desk_settled_trades"].add_metric(values, sums.trades)
            families["desk_profit_dollars"].add_metric(values, sums.profit)
            families["desk_loss_dollars"].add_metric(values, sums.loss)
            families["desk_cost_dollars"].add_metric(values, sums.cost)
            if version == NO_MODEL:
                continue
            families["desk_signal_squared_sum"].add_metric(values, sums.ss)
            families["desk_return_bp_squared_sum"].add_metric(values, sums.rr)
            families["desk_correct_predictions"].add_metric(values, sums.correct)
            families["desk_strong_signals"].add_metric(values, sums.strong)
            families["desk_false_positives"].add_metric(values, sums.false_positives)
            families["desk_false_negatives"].add_metric(values, sums.false_negatives)
            for name, parts in (
                ("desk_signal_sum", sums.s),
                ("desk_return_bp_sum", sums.r),
                ("desk_signal_return_sum", sums.sr),
            ):
                signed[name].add_metric([*values, "positive"], parts[0])
                signed[name].add_metric([*values, "negative"], parts[1])
        yield from families.values()
        yield from signed.values()
