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


def test_the_signal_is_the_operand_as_the_rule_writes_it() -> None:
    """Multi-line and all: what signals.csv and the plots show is the rule's own text."""
    expr = "max by (job, feature) (\n  rate(a_total[5m]) / rate(b_total[5m])\n) > 0.05\n"
    s = signal_of(expr)
    assert s is not None and s.expr == "max by (job, feature) (\n  rate(a_total[5m]) / rate(b_total[5m])\n)"
    s = signal_of("up{job='x'} == bool 0")
    assert s is not None and (s.expr, s.op, s.threshold) == ("up{job='x'}", "==", 0.0)


def test_a_metric_named_like_a_keyword_or_a_set_operator_in_a_string_is_no_set_operation() -> None:
    s = signal_of('rate(x_total{mode="a and b"}[5m]) > 1')
    assert s is not None and s.expr == 'rate(x_total{mode="a and b"}[5m])'
    s = signal_of("bool_total > bool 1 unless on_total")
    assert s is not None and (s.expr, s.op, s.threshold) == ("bool_total", ">", 1.0)


def test_no_signal_for_what_the_parser_cannot_read() -> None:
    """Prometheus accepted the rule (or the run would have failed before): a plot without
    its signal, not a failed run."""
    assert signal_of("rate(x[5m] > 1") is None


def test_every_shipped_alert_with_a_threshold_has_its_signal() -> None:
    from pathlib import Path

    from harness.engine import load_rule_groups

    rules = Path(__file__).resolve().parents[2] / "config" / "prometheus-alerts.yml"
    alerts = {r.name: r.expr for g in load_rule_groups([rules], check=False) for r in g.alerting_rules}
    without = sorted(name for name, expr in alerts.items() if signal_of(expr) is None)
    # the multi-window burns and the calendar and capacity alerts compare with no single number
    assert without == [
        "AvailabilitySLOFastBurn",
        "AvailabilitySLOSlowBurn",
        "CapacityPlanning",
        "DailyBusinessReview",
        "LatencySLOFastBurn",
        "LatencySLOSlowBurn",
        "WeeklyModelReview",
    ]
