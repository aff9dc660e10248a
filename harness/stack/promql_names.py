"""The metric names a PromQL expression reads, for ``check-config``'s "does this metric exist".

This is a tokenizer, not an evaluator: whether an expression *parses* is promtool's verdict
(check-config asks it first); here we only pick out identifiers that are metric names —
not functions, keywords, label names, strings or durations.
"""

from __future__ import annotations

import re

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_BRACES = re.compile(r"\{[^{}]*\}")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_SUBQUERY = re.compile(r"\[[^\[\]]*\]")
_IDENT = re.compile(r"(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(\s*\()?")
_NAME_MATCHER = re.compile(r'__name__\s*=\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)"')
_KEYWORDS = frozenset(
    {
        "and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right",
        "inf", "nan", "start", "end", "atan2",
    }
)  # fmt: skip


def metric_names(expr: str) -> set[str]:
    """Names of the series an expression selects (``{__name__="x"}`` included)."""
    names = set(_NAME_MATCHER.findall(expr))
    text = _STRING.sub(" ", expr)
    text = _BRACES.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    text = _SUBQUERY.sub(" ", text)
    text = re.sub(r"\b\d+(?:\.\d+)?(?:e[+-]?\d+)?[smhdwy]*\b", " ", text, flags=re.IGNORECASE)
    for name, call in _IDENT.findall(text):
        if call or name.lower() in _KEYWORDS:
            continue
        names.add(name)
    return names
