"""Rule variants: an alerting rule with another threshold, ``for`` or range windows, or
another expression altogether (a templated one: ``${name}`` over a grid of values).

The threshold is the one ``harness.promql.threshold`` finds with the parser (the outermost
comparison with a number, left of any ``and``/``or``/``unless``); windows are the range
selectors of the alert's own expression (``[5m]``), not those of the recording rules it reads.
Each rewrite is checked by parsing the result again: the threshold must be the new one and the
signal unchanged, every window the asked one; promtool then checks the rule files written.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from dataclasses import dataclass

from harness.engine import AlertingRule, RecordingRule, RuleGroup, format_duration
from harness.errors import ConfigurationError
from harness.promql import parse, threshold

_RANGE = re.compile(r"\[(\d+(?:ms|[smhdwy]))\]")


@dataclass(frozen=True)
class AlertGrid:
    """The values to try for one alerting rule (empty: keep the rule's own)."""

    thresholds: tuple[float, ...] = ()
    holds: tuple[float, ...] = ()  # `for`, seconds
    windows: tuple[tuple[str, tuple[str, ...]], ...] = ()  # range as written -> ranges to try
    expressions: tuple[ExpressionGrid, ...] = ()


@dataclass(frozen=True)
class ExpressionGrid:
    """A whole expression to try: ``${name}`` placeholders in ``expr`` (and ``name``) take every
    combination of ``params``; ``hold`` is its own ``for`` (None: the grid's, else the rule's)."""

    name: str
    expr: str
    params: tuple[tuple[str, tuple[str, ...]], ...] = ()
    hold: float | None = None

    def expand(self, alert: str) -> list[tuple[str, str]]:
        """(name, expression) per combination of the parameters, each parsed by the PromQL parser."""
        keys = [k for k, _ in self.params]
        unused = [k for k in keys if f"${{{k}}}" not in self.expr]
        if unused:
            raise ConfigurationError(f"alerts.{alert}.expressions {self.name!r}: params.{unused[0]} is not used")
        out = []
        for values in itertools.product(*(v for _, v in self.params)):
            mapping = dict(zip(keys, values, strict=True))
            name, expr = (
                _substitute(self.name, mapping, alert, self.name),
                _substitute(self.expr, mapping, alert, self.name),
            )
            try:
                parse(expr)
            except Exception as exc:  # the parser's own error, with the expression it refused
                raise ConfigurationError(
                    f"alerts.{alert}.expressions {name!r}: not PromQL: {expr.strip()!r}: {exc}"
                ) from exc
            out.append((name, expr))
        return out


_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


def _substitute(text: str, mapping: dict[str, str], alert: str, expression: str) -> str:
    """``text`` with each ``${name}`` replaced; any other ``$`` (a regex anchor, ``label_replace``'s
    ``$1``) left as it is."""

    def value(m: re.Match[str]) -> str:
        if m.group(1) not in mapping:
            raise ConfigurationError(
                f"alerts.{alert}.expressions {expression!r}: placeholder ${{{m.group(1)}}} has no value in params"
            )
        return mapping[m.group(1)]

    return _PLACEHOLDER.sub(value, text)


@dataclass(frozen=True)
class Variant:
    alert: str  # the rule it varies
    key: str  # its name in the variant rule files: unique, readable
    expr: str
    hold: float
    threshold: float | None
    windows: tuple[tuple[str, str], ...]  # (as written, as tried), only those changed
    current: bool  # the rule exactly as configured
    expression: str | None = None  # the name of the tried expression, when it is not the rule's own

    def describe(self) -> str:
        parts = [] if self.expression is None else [self.expression]
        if self.threshold is not None:
            parts.append(f"threshold {self.threshold:g}")
        parts.append(f"for {format_duration(self.hold)}")
        parts += [f"{a}->{b}" for a, b in self.windows]
        return ", ".join(parts)


def with_threshold(expr: str, value: float) -> str:
    """``expr`` with its threshold replaced by ``value``; ConfigurationError when it has none."""
    found = threshold(expr)
    if found is None:
        raise ConfigurationError(f"no threshold to vary in {expr!r}: it is not a comparison with a number")
    at = expr.find(found.signal)
    tail = re.compile(rf"(\s*{re.escape(found.op)}\s*(?:bool\s+)?)([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)")
    m = tail.match(expr, at + len(found.signal)) if at >= 0 else None
    if m is None:
        raise ConfigurationError(f"cannot find the threshold of {expr!r} in its text")
    new = expr[: m.start(2)] + repr(float(value)) + expr[m.end(2) :]
    check = threshold(new)
    if check is None or check.value != float(value) or check.signal != found.signal or check.op != found.op:
        raise ConfigurationError(f"rewriting the threshold of {expr!r} to {value:g} did not give that threshold")
    return new


def with_windows(expr: str, windows: dict[str, str]) -> str:
    """``expr`` with each range selector ``[a]`` written as ``[windows[a]]``."""
    missing = [w for w in windows if f"[{w}]" not in expr]
    if missing:
        raise ConfigurationError(f"{expr!r} has no range [{missing[0]}] to vary")
    new = _RANGE.sub(lambda m: f"[{windows.get(m.group(1), m.group(1))}]", expr)
    parse(new)  # still PromQL to the parser (promtool checks the files later)
    return new


def variants(rule: AlertingRule, grid: AlertGrid) -> list[Variant]:
    """Every combination the grid names, the configured rule among them (marked ``current``)."""
    original = threshold(rule.expr)
    thresholds: tuple[float | None, ...] = grid.thresholds or ((original.value,) if original else (None,))
    if grid.thresholds and original is None:
        raise ConfigurationError(f"alert {rule.name}: its expression has no threshold to vary")
    holds = grid.holds or (rule.hold,)
    window_choices = [[(w, t) for t in tried] for w, tried in grid.windows]
    out: list[Variant] = []
    seen: set[tuple[object, ...]] = set()
    for value, hold, chosen in itertools.product(thresholds, holds, itertools.product(*window_choices)):
        changed = tuple((a, b) for a, b in chosen if a != b)
        ident = (value, hold, changed)
        if ident in seen:
            continue
        seen.add(ident)
        expr = rule.expr
        if value is not None and original is not None and value != original.value:
            expr = with_threshold(expr, value)
        if changed:
            expr = with_windows(expr, dict(changed))
        current = (original is None or value == original.value) and hold == rule.hold and not changed
        key = f"{rule.name}__{len(out)}"
        out.append(Variant(rule.name, key, expr, hold, value, changed, current))
    for expression in grid.expressions:
        expression_holds = (expression.hold,) if expression.hold is not None else holds
        for (name, expr), hold in itertools.product(expression.expand(rule.name), expression_holds):
            same = next((k for k, v in enumerate(out) if _same(expr, v.expr) and hold == v.hold), None)
            if same is not None:  # already tried (the configured rule, say): scored once, under this name
                if out[same].expression not in (None, name):
                    raise ConfigurationError(
                        f"alerts.{rule.name}.expressions {name!r} is {out[same].expression!r} again: name it once"
                    )
                out[same] = dataclasses.replace(out[same], expression=name)
                continue
            current = _same(expr, rule.expr) and hold == rule.hold
            out.append(Variant(rule.name, f"{rule.name}__{len(out)}", expr, hold, None, (), current, name))
    if not any(v.current for v in out):  # the configured rule is always scored, to compare with
        out.append(
            Variant(
                rule.name,
                f"{rule.name}__{len(out)}",
                rule.expr,
                rule.hold,
                original.value if original else None,
                (),
                True,
            )
        )
    return out


def _same(a: str, b: str) -> bool:
    """The same expression to the parser (spacing and redundant layout aside): a tried
    expression that is the configured one, say."""
    return a == b or str(parse(a)) == str(parse(b))


def variant_groups(groups: list[RuleGroup], chosen: list[Variant]) -> list[RuleGroup]:
    """What a sweep evaluates: every recording rule, in its group, in order (the alerts read
    them), then per varied alert one group of its variants at the interval of its group."""
    out = [
        RuleGroup(g.name, g.interval, g.source, tuple(r for r in g.rules if isinstance(r, RecordingRule)))
        for g in groups
    ]
    out = [g for g in out if g.rules]
    home = {r.name: (g, r) for g in groups for r in g.alerting_rules}
    by_alert: dict[str, list[Variant]] = {}
    for v in chosen:
        by_alert.setdefault(v.alert, []).append(v)
    for alert, items in by_alert.items():
        group, rule = home[alert]
        rules = tuple(AlertingRule(v.key, v.expr, v.hold, rule.keep_firing_for, rule.labels) for v in items)
        out.append(RuleGroup(f"tune-{alert}", group.interval, group.source, rules))
    return out


def variant_document(groups: list[RuleGroup]) -> dict[str, object]:
    """The variant groups as a Prometheus rule file (for promtool and for people)."""

    def rule(r: AlertingRule | RecordingRule) -> dict[str, object]:
        if isinstance(r, RecordingRule):
            return {"record": r.record, "expr": r.expr, **({"labels": dict(r.labels)} if r.labels else {})}
        body: dict[str, object] = {"alert": r.name, "expr": r.expr}
        if r.hold:
            body["for"] = format_duration(r.hold)
        if r.keep_firing_for:
            body["keep_firing_for"] = format_duration(r.keep_firing_for)
        if r.labels:
            body["labels"] = dict(r.labels)
        return body

    return {
        "groups": [
            {"name": g.name, "interval": format_duration(g.interval), "rules": [rule(r) for r in g.rules]}
            for g in groups
        ]
    }
