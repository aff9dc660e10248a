"""PromQL read by a parser, not by patterns: what alertdrill must know of an expression
without evaluating it — the metric names it selects (check-config), whether it calls a
calendar function (crosscheck) and the signal left of an alert's threshold (plots).

Regular expressions over the text could not tell a metric or label named ``hour`` from a
call of ``hour()``, nor a string or a label list from an operand. The parser is
``promql-parser`` (Rust bindings of GreptimeTeam's promql-parser), whose grammar follows
Prometheus 2.45; of the functions of the Prometheus 2.42 we run it lacks only
``holt_winters`` (renamed ``double_exponential_smoothing`` in 3.0), registered here. Whether
an expression is valid PromQL stays promtool's verdict: one the parser cannot read raises
``PromQLError``, and each caller says so rather than guessing from the text.

A leaf (the parser and ``harness.errors`` only), not part of ``harness/stack``: the plots'
signals (``harness.signals``, in the run layer) read PromQL too, and ``harness.stack``
imports the run layer (crosscheck → backtest, record → signals).
"""

from __future__ import annotations

import contextlib
from typing import NamedTuple

import promql_parser
from promql_parser import BinaryExpr, Call, Expr, MatchOp, NumberLiteral, ParenExpr, ValueType, VectorSelector

from harness.errors import PromQLError

# Read the wall-clock date of their argument (or of the evaluation time): ``time()`` and
# ``timestamp()`` give Unix seconds, which a shift of the samples moves along with them.
CALENDAR_FUNCTIONS = frozenset(
    {"day_of_week", "day_of_month", "day_of_year", "days_in_month", "hour", "minute", "month", "year"}
)
COMPARISONS = frozenset({"==", "!=", ">", "<", ">=", "<="})
SET_OPERATORS = frozenset({"and", "or", "unless"})

_HOLT_WINTERS = promql_parser.Function(
    "holt_winters", [ValueType.Matrix, ValueType.Scalar, ValueType.Scalar], ValueType.Vector
)
with contextlib.suppress(ValueError):  # raised by a version of the parser that has it built in
    promql_parser.register_extra_functions([_HOLT_WINTERS])


def parse(expr: str) -> Expr:
    """The expression's syntax tree; ``PromQLError`` with the parser's reason if it has none."""
    try:
        return promql_parser.parse(expr)
    except ValueError as exc:
        raise PromQLError(f"alertdrill's PromQL parser cannot read it: {exc}") from exc


def nodes(tree: Expr) -> list[Expr]:
    """Every node of a tree, depth first, the root first (a range selector's vector selector
    and a function's string arguments included)."""
    out: list[Expr] = []
    promql_parser.walk(tree, out.append)
    return out


def matched_values(selector: VectorSelector, label: str) -> set[str]:
    """The values a selector pins ``label`` to with ``=`` (in any of its ``or`` groups); for
    ``__name__``, the metric name written before the braces too."""
    values = {selector.name} if label == "__name__" and selector.name else set()
    for group in (selector.matchers.matchers, *selector.matchers.or_matchers):
        values.update(m.value for m in group if m.name == label and m.op == MatchOp.Equal)
    return values


def metric_names(expr: str) -> set[str]:
    """Names of the series an expression selects: ``x`` and ``{__name__="x"}``, not a regex
    on ``__name__`` (no name) nor functions, label names, strings or keywords."""
    return {
        name
        for node in nodes(parse(expr))
        if isinstance(node, VectorSelector)
        for name in matched_values(node, "__name__")
    }


def calendar_calls(expr: str) -> set[str]:
    """The calendar functions an expression calls (``hour()``, not a metric named ``hour``)."""
    return {n.func.name for n in nodes(parse(expr)) if isinstance(n, Call) and n.func.name in CALENDAR_FUNCTIONS}


def reads_calendar(expr: str) -> bool:
    """Whether an expression depends on the wall-clock date, which a shift of its samples
    in time (crosscheck's, to Unix 0) cannot preserve."""
    return bool(calendar_calls(expr))


class Threshold(NamedTuple):
    signal: str  # the comparison's left operand, as written in the expression
    op: str
    value: float


def threshold(expr: str) -> Threshold | None:
    """The outermost comparison of an expression with a number on its right, after taking
    the first operand of top-level ``and``/``or``/``unless`` and removing parentheses:
    ``histogram_quantile(...) > 0.025`` watches ``histogram_quantile(...)`` against 0.025
    (``bool`` or not). None for expressions of another shape."""
    node, parens = parse(expr), 0
    while True:
        if isinstance(node, ParenExpr):
            node, parens = node.expr, parens + 1
        elif isinstance(node, BinaryExpr) and str(node.op) in SET_OPERATORS:
            node = node.lhs
        else:
            break
    if not (isinstance(node, BinaryExpr) and str(node.op) in COMPARISONS and isinstance(node.rhs, NumberLiteral)):
        return None
    signal = _left_operand_text(expr, parens, node)
    return None if signal is None else Threshold(signal, str(node.op), node.rhs.val)


def _left_operand_text(expr: str, parens: int, comparison: BinaryExpr) -> str | None:
    """The text of the comparison's left operand as the expression writes it.

    The parser keeps no positions and its rendering differs from the source (``x{}``, and
    not always valid: an ``@`` before 1970), so the operand is found in the text: it starts
    after the ``parens`` parentheses the descent removed (a left operand starts where its
    operation does) and ends before the first occurrence of the operator whose prefix parses
    to the same tree. None if no prefix does (a comment holding a parenthesis before them).
    """
    start = 0
    for _ in range(parens):
        start = expr.find("(", start) + 1
        if start == 0:
            return None
    wanted, op = str(comparison.lhs), str(comparison.op)
    end = expr.find(op, start)
    while end != -1:
        text = expr[start:end]
        try:
            if str(promql_parser.parse(text)) == wanted:
                return text.strip()
        except ValueError:
            pass  # the prefix stops inside a string or before a closing parenthesis
        end = expr.find(op, end + 1)
    return None
