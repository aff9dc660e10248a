"""Schema validation of the rows the feature pipeline sends: pure code, no HTTP.

Rows are checked here rather than by the request model so that one bad row is rejected with
its reason while the rest of the batch is accepted, as a feed handler upgraded on one host
would need. A null value is not a violation: it is counted and imputed.

The first problem found in a row is its reason; the ``field`` it names is one of ``FIELDS``,
so the violations metric's label set stays bounded whatever the client sends (an unknown
key is ``unknown``; the detail text names it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal, get_args

from service.model import FEATURES
from service.numbers import finite, is_number

Reason = Literal["missing_field", "unknown_field", "wrong_type", "out_of_range"]
REASONS: tuple[Reason, ...] = get_args(Reason)
FIELDS = (*FEATURES, "symbol", "timestamp", "features", "unknown")  # the metric's field label values
MAX_CLOCK_SKEW = 5.0  # seconds a row's data may claim to be ahead of the service's clock

_SYMBOL = re.compile(r"[A-Z0-9._-]{1,16}")
_ROW_FIELDS = ("symbol", "timestamp", "features")
_SHOWN = 40  # characters of an offending value quoted in a detail


@dataclass(frozen=True)
class Violation:
    reason: Reason
    field: str  # one of FIELDS
    detail: str


@dataclass(frozen=True)
class ValidRow:
    symbol: str
    timestamp: float
    features: dict[str, float | None]  # every feature of FEATURES; None where the pipeline sent null


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def _names(keys: list[Any]) -> str:
    return ", ".join(_shown(k) for k in keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")


_ROW_KEYS = frozenset(_ROW_FIELDS)
_FEATURE_KEYS = frozenset(FEATURES)


def _plain_row(row: Any, now: float, abs_max: float) -> ValidRow | None:
    """A row in the shape the pipeline nearly always sends (float timestamp, float or null
    values, nothing missing or extra), accepted in one pass; None sends it down the careful
    path, which accepts the same rows and names the reason of any other."""
    if type(row) is not dict or row.keys() != _ROW_KEYS:
        return None
    symbol, timestamp, features = row["symbol"], row["timestamp"], row["features"]
    if type(symbol) is not str or type(timestamp) is not float or type(features) is not dict:
        return None
    # Comparisons are False for NaN, so a NaN or infinite number never passes here.
    if (
        not 0.0 <= timestamp <= now + MAX_CLOCK_SKEW
        or features.keys() != _FEATURE_KEYS
        or not _SYMBOL.fullmatch(symbol)
    ):
        return None
    values: dict[str, float | None] = {}
    for name in FEATURES:
        value = features[name]
        if value is not None and not (type(value) is float and -abs_max <= value <= abs_max):
            return None
        values[name] = value
    return ValidRow(symbol, timestamp, values)


def validate_row(row: Any, now: float, abs_max: float) -> ValidRow | Violation:
    """Check one row against the schema; ``now`` is the service's clock (bounds the timestamp)."""
    plain = _plain_row(row, now, abs_max)
    return plain if plain is not None else _careful_row(row, now, abs_max)


def _careful_row(row: Any, now: float, abs_max: float) -> ValidRow | Violation:
    if not isinstance(row, dict):
        return Violation("wrong_type", "unknown", f"a row is an object, not {type(row).__name__}")
    for name in _ROW_FIELDS:
        if name not in row:
            return Violation("missing_field", name, f"row lacks {name!r}")
    extra = sorted(set(row) - set(_ROW_FIELDS))
    if extra:
        return Violation("unknown_field", "unknown", f"unknown row field(s): {_names(extra)}")
    symbol, timestamp, features = row["symbol"], row["timestamp"], row["features"]
    if not isinstance(symbol, str) or not _SYMBOL.fullmatch(symbol):
        return Violation("wrong_type", "symbol", f"symbol must match {_SYMBOL.pattern}, got {_shown(symbol)}")
    if not is_number(timestamp):
        return Violation("wrong_type", "timestamp", f"timestamp must be Unix seconds, got {_shown(timestamp)}")
    seconds = finite(timestamp)
    if seconds is None or seconds < 0:
        return Violation("out_of_range", "timestamp", f"timestamp {_shown(timestamp)} is negative or not finite")
    if seconds > now + MAX_CLOCK_SKEW:
        return Violation(
            "out_of_range",
            "timestamp",
            f"timestamp {seconds!r} is {seconds - now:g}s ahead of the service's clock (at most {MAX_CLOCK_SKEW:g}s)",
        )
    if not isinstance(features, dict):
        return Violation("wrong_type", "features", f"features must be an object, not {type(features).__name__}")
    unknown = sorted(set(features) - set(FEATURES))
    if unknown:
        return Violation("unknown_field", "unknown", f"unknown feature(s): {_names(unknown)}")
    values: dict[str, float | None] = {}
    for name in FEATURES:
        if name not in features:
            return Violation("missing_field", name, f"feature {name!r} is missing")
        value = features[name]
        if value is None:
            values[name] = None
            continue
        if not is_number(value):
            return Violation("wrong_type", name, f"feature {name!r} must be a number or null, got {_shown(value)}")
        number = finite(value)
        if number is None or abs(number) > abs_max:
            return Violation("out_of_range", name, f"feature {name!r} = {_shown(value)} is beyond ±{abs_max:g}")
        values[name] = number
    return ValidRow(symbol, seconds, values)
