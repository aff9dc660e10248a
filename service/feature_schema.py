"""Schema validation of the rows the feature pipeline sends: pure code, no HTTP.

Rows are checked here rather than by the request model so that one bad row is rejected with
its reason while the rest of the batch is accepted, as a feed handler upgraded on one host
would need. A null value is not a violation: it is counted and imputed.

The first problem found in a row is its reason; the ``field`` it names is one of ``FIELDS``,
so the violations metric's label set stays bounded whatever the client sends (an unknown
key is ``unknown``; the detail text names it). For the same reason a row's symbol must be one
the service is configured with (``Settings.symbols``): symbols become label values.

A factor value is judged by ``feature_value`` wherever it comes in, a row here or a
``/predict`` body (``service/routes/predict.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from service.model import FEATURES
from service.numbers import finite, is_number
from service.settings import SYMBOL_PATTERN

Reason = Literal["missing_field", "unknown_field", "wrong_type", "out_of_range", "unknown_symbol"]
REASONS: tuple[Reason, ...] = get_args(Reason)
FIELDS = (*FEATURES, "symbol", "timestamp", "features", "unknown")  # the metric's field label values
MAX_CLOCK_SKEW = 5.0  # seconds a row's data may claim to be ahead of the service's clock

_SYMBOL = re.compile(SYMBOL_PATTERN)
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


def clipped(text: str) -> str:
    """``text``, cut to a length fit to quote in a detail."""
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def _shown(value: Any) -> str:
    return clipped(repr(value))


def listed(keys: Sequence[Any], show: Callable[[Any], str] = _shown) -> str:
    """The first five of ``keys`` and how many more: a detail stays short whatever was sent."""
    return ", ".join(show(k) for k in keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")


def feature_value(name: str, value: Any, abs_max: float, nullable: bool = False) -> float | Violation:
    """One factor value, as /features and /predict both take it: a real number (a bool or a
    numeric string is not one), finite, within ±``abs_max``. ``nullable`` only words the
    message for a row, where null is taken (and imputed) before this is asked."""
    if not is_number(value):
        expected = "a number or null" if nullable else "a number"
        return Violation("wrong_type", name, f"feature {name!r} must be {expected}, got {_shown(value)}")
    number = finite(value)
    if number is None or abs(number) > abs_max:
        return Violation("out_of_range", name, f"feature {name!r} = {_shown(value)} is beyond ±{abs_max:g}")
    return number


def feature_values(features: dict[str, Any], abs_max: float) -> dict[str, float] | list[Violation]:
    """Every value of a /predict body's ``features`` as a float, or what is wrong with them."""
    values: dict[str, float] = {}
    wrong: list[Violation] = []
    for name, value in features.items():
        if type(value) is float and -abs_max <= value <= abs_max:  # nearly always: no call
            values[name] = value
            continue
        checked = feature_value(name, value, abs_max)
        if isinstance(checked, Violation):
            wrong.append(checked)
        else:
            values[name] = checked
    return wrong or values


_ROW_KEYS = frozenset(_ROW_FIELDS)
_FEATURE_KEYS = frozenset(FEATURES)


def _plain_row(row: Any, now: float, abs_max: float, symbols: Collection[str] | None = None) -> ValidRow | None:
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
        or (symbols is not None and symbol not in symbols)
    ):
        return None
    values: dict[str, float | None] = {}
    for name in FEATURES:
        value = features[name]
        if value is not None and not (type(value) is float and -abs_max <= value <= abs_max):
            return None
        values[name] = value
    return ValidRow(symbol, timestamp, values)


def validate_row(row: Any, now: float, abs_max: float, symbols: Collection[str] | None = None) -> ValidRow | Violation:
    """Check one row against the schema; ``now`` is the service's clock (bounds the timestamp),
    ``symbols`` those the service takes (None: any that matches the pattern)."""
    plain = _plain_row(row, now, abs_max, symbols)
    return plain if plain is not None else _careful_row(row, now, abs_max, symbols)


def _careful_row(row: Any, now: float, abs_max: float, symbols: Collection[str] | None = None) -> ValidRow | Violation:
    if not isinstance(row, dict):
        return Violation("wrong_type", "unknown", f"a row is an object, not {type(row).__name__}")
    for name in _ROW_FIELDS:
        if name not in row:
            return Violation("missing_field", name, f"row lacks {name!r}")
    extra = sorted(set(row) - set(_ROW_FIELDS))
    if extra:
        return Violation("unknown_field", "unknown", f"unknown row field(s): {listed(extra)}")
    symbol, timestamp, features = row["symbol"], row["timestamp"], row["features"]
    if not isinstance(symbol, str) or not _SYMBOL.fullmatch(symbol):
        return Violation("wrong_type", "symbol", f"symbol must match {_SYMBOL.pattern}, got {_shown(symbol)}")
    if symbols is not None and symbol not in symbols:
        return Violation(
            "unknown_symbol", "symbol", f"symbol {symbol!r} is not one this service takes: {listed(sorted(symbols))}"
        )
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
        return Violation("unknown_field", "unknown", f"unknown feature(s): {listed(unknown)}")
    values: dict[str, float | None] = {}
    for name in FEATURES:
        if name not in features:
            return Violation("missing_field", name, f"feature {name!r} is missing")
        value = features[name]
        if value is None:
            values[name] = None
            continue
        number = feature_value(name, value, abs_max, nullable=True)
        if isinstance(number, Violation):
            return number
        values[name] = number
    return ValidRow(symbol, seconds, values)
