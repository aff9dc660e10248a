"""Splitting an alert expression into the signal it watches and its threshold."""

from __future__ import annotations

from harness.signals import signal_of


def test_the_outermost_comparison_with_a_number_is_the_threshold() -> None:
    s = signal_of('histogram_quantile(0.95, sum by (le) (rate(x_bucket{a=">"}[1m]))) > 0.025')
    assert s is not None and (s.op, s.threshold) == (">", 0.025)
    assert s.expr == 'histogram_quantile(0.95, sum by (le) (rate(x_bucket{a=">"}[1m])))'


def test_the_first_operand_of_a_set_operation_and_parentheses_are_unwrapped() -> None:
    s = signal_of("(time() - max(ts) > 300) or (sum(increase(rows[5m])) == 0)")
    assert s is not None and (s.expr, s.op, s.threshold) == ("time() - max(ts)", ">", 300.0)
    s = signal_of("accuracy < 0.60\n  and\noutcomes >= 100")
    assert s is not None and (s.expr, s.op, s.threshold) == ("accuracy", "<", 0.6)


def test_no_signal_when_the_threshold_is_not_a_number() -> None:
    assert signal_of("a > (14.4 * 0.001) and b > (14.4 * 0.001)") is None
    assert signal_of("up") is None
    assert signal_of("predict_linear(r[6h], 14400) > on (job) max by (job) (target)") is None
