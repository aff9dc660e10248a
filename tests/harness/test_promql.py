"""PromQL read by the parser: metric names, calendar calls, the signal left of a threshold."""

from __future__ import annotations

import pytest

from harness.errors import ConfigurationError, PromQLError
from harness.promql import calendar_calls, metric_names, nodes, parse, reads_calendar, threshold


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ("up", {"up"}),
        ('up{job="x"} == 0', {"up"}),
        ("job:prediction_api_errors:ratio_rate5m > 0.1", {"job:prediction_api_errors:ratio_rate5m"}),
        # nested aggregations, by/without/on/ignoring/group_left label lists
        ("sum by (job) (max without (instance) (a_total))", {"a_total"}),
        (
            'sum by (job) (rate(a_total{route="/x"}[5m])) / on(job) group_left b offset 5m > bool 0.5 unless ALERTS',
            {"a_total", "b", "ALERTS"},
        ),
        ("a / ignoring(le, code) group_left(version) b", {"a", "b"}),
        ("a and on() b", {"a", "b"}),
        ("topk by (job) (3, a) or bottomk(2, b)", {"a", "b"}),
        ('count_values("version", build_info)', {"build_info"}),
        ("quantile(0.9, a)", {"a"}),
        # strings and label values hold no names
        ('a{route="rate(b[5m])", other=~"sum|c"}', {"a"}),
        ("a{name='single', raw=`back`}", {"a"}),
        ('label_replace(up, "hour", "$1", "instance", "(.*):.*")', {"up"}),
        ('label_join(up, "foo", ",", "bar", "baz")', {"up"}),
        # durations, offset, @, subqueries
        ("rate(a[1h30m] offset 1w)", {"a"}),
        ("a offset -5m", {"a"}),
        ("a @ 1700000000 + b @ start() + sum_over_time(c[5m] @ end())", {"a", "b", "c"}),
        ("max_over_time(rate(a[1m])[30m:1m] offset 5m)", {"a"}),
        ("changes(((count(ALERTS) > bool 0) or vector(0))[30d:1m]) / 2", {"ALERTS"}),
        ("holt_winters(a[1h], 0.5, 0.5)", {"a"}),  # Prometheus 2.42's name, registered with the parser
        # the metric name as a matcher: only an equality names a series
        ('{__name__="x"}', {"x"}),
        ('{__name__="x", job="y"} + on(job) z', {"x", "z"}),
        ('{__name__=~"x|y"}', set()),
        ('{__name__=~"x"}', set()),
        ('{__name__!="x", job="y"}', set()),
        ('count({__name__=~"prediction_api_.*"})', set()),
        # keyword-ish and function-ish metric names
        ("hour", {"hour"}),
        ("hour + hour()", {"hour"}),
        ("hour(minute)", {"minute"}),
        ("bool_total > bool 1", {"bool_total"}),
        ("offset_seconds offset 1m", {"offset_seconds"}),
        ("sum{} + by{} + start{}", {"sum", "by", "start"}),
        ("inf_total > Inf", {"inf_total"}),
        ("nan > bool 1", set()),  # NaN is a number, not a metric (case-insensitive)
        # no series at all
        ("time() - 300", set()),
        ("vector(1) > bool 0", set()),
    ],
)
def test_metric_names(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def test_a_parser_failure_is_a_configuration_error_with_the_reason() -> None:
    with pytest.raises(PromQLError, match="unclosed left parenthesis") as caught:
        metric_names("rate(x[5m]")
    assert isinstance(caught.value, ConfigurationError)
    with pytest.raises(PromQLError, match="unknown function"):
        parse("no_such_function(x)")


def test_the_walker_visits_every_node_the_root_first() -> None:
    kinds = [type(n).__name__ for n in nodes(parse('label_replace(rate(a[5m]), "d", "$1", "s", "(.*)") > 1'))]
    assert kinds[0] == "BinaryExpr"
    assert kinds.count("StringLiteral") == 4
    assert "MatrixSelector" in kinds and "VectorSelector" in kinds and kinds[-1] == "NumberLiteral"


@pytest.mark.parametrize(
    ("expr", "calls"),
    [
        ("hour()", {"hour"}),
        ("hour(x) == 9", {"hour"}),
        ("max(a == 1) and on () (day_of_week() == 1 and hour() == 9)", {"day_of_week", "hour"}),
        ("days_in_month(vector(time())) - day_of_month()", {"days_in_month", "day_of_month"}),
        ("month() + year() + minute() + day_of_year()", {"month", "year", "minute", "day_of_year"}),
        # a metric, a label, a string or a recording rule named after a calendar function is no call
        ("hour > 9", set()),
        ("hour{day_of_week='1'}", set()),
        ('up{job="hour()"}', set()),
        ('label_replace(up, "hour", "$1", "minute", "(.*)")', set()),
        ("job:hour:rate5m", set()),
        # time() and timestamp() are Unix seconds: a shift of the samples moves them along
        ("time() - x_timestamp_seconds > 300", set()),
        ("timestamp(up)", set()),
    ],
)
def test_calendar_calls(expr: str, calls: set[str]) -> None:
    assert calendar_calls(expr) == calls
    assert reads_calendar(expr) is bool(calls)


@pytest.mark.parametrize(
    ("expr", "signal", "op", "value"),
    [
        ("up == 0", "up", "==", 0.0),
        ("a > bool 0.5", "a", ">", 0.5),
        ("a <= -1", "a", "<=", -1.0),
        ("a != 1e3", "a", "!=", 1000.0),
        ("a >= 0x10", "a", ">=", 16.0),
        ("a > .5", "a", ">", 0.5),
        ("a < Inf", "a", "<", float("inf")),
        ("((a > 1))", "a", ">", 1.0),
        ("( (a + b) / c > 1 ) unless d", "(a + b) / c", ">", 1.0),
        ("a > 1 and b > 2 or c > 3", "a", ">", 1.0),  # and binds tighter than or: the first operand still
        ("(a > 1 and b) or c", "a", ">", 1.0),
        ("a >= 1 > 2", "a >= 1", ">", 2.0),  # the outermost comparison
        ('rate(x{a=">", b="> 1"}[1m]) > 1', 'rate(x{a=">", b="> 1"}[1m])', ">", 1.0),
        ("x @ 1 > 1", "x @ 1", ">", 1.0),  # as written (the parser would render x{} @ 1.000)
        ("foo  # a comment\n  > 10", "foo  # a comment", ">", 10.0),
        ("holt_winters(x[1h], 0.5, 0.5) > 1", "holt_winters(x[1h], 0.5, 0.5)", ">", 1.0),
    ],
)
def test_threshold(expr: str, signal: str, op: str, value: float) -> None:
    found = threshold(expr)
    assert found is not None and tuple(found) == (signal, op, value)
    parse(found.signal)  # the signal is PromQL on its own


@pytest.mark.parametrize(
    "expr",
    [
        "up",
        "a > b",
        "a > (5)",  # a parenthesised number is an expression, not a threshold
        "a > (14.4 * 0.001)",
        "5 < a",
        "a + 1 > 2 * 3",
        "(a > 1) * 2",
        "a and b > 1",  # the first operand has no comparison
        "-(a > 1)",
        "a > on(job) group_left max by (job) (b)",
        "# ( a comment with a parenthesis\n(a > 1) or b",  # the operand cannot be found in the text
    ],
)
def test_no_threshold(expr: str) -> None:
    assert threshold(expr) is None
