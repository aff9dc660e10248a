"""Go's number formatting, as Prometheus' templates print numbers.

``{{ $value }}`` prints a float64 with Go's ``%v`` (shortest digits, exponent form from
1e+06 up and below 1e-04), and the ``humanize*`` functions use ``%.4g``. Python's
``repr`` and ``format`` differ in the thresholds and in NaN/Inf spelling, and an alert's
labels are its identity, so the difference matters.
"""

from __future__ import annotations

import math
from decimal import Decimal


def _special(v: float) -> str | None:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return None


def _shortest_digits(v: float) -> tuple[str, int]:
    """Shortest round-trip digits of |v| and the decimal point position (Go's digs.d, digs.dp)."""
    _, digits, exponent = Decimal(repr(abs(v))).normalize().as_tuple()
    text = "".join(map(str, digits))
    dp = len(digits) + int(exponent)
    return text, dp


def format_v(v: float) -> str:
    """Go's ``fmt.Sprint(float64)``: strconv 'g' with the shortest precision."""
    special = _special(v)
    if special is not None:
        return special
    if v == 0:
        return "-0" if math.copysign(1, v) < 0 else "0"
    digits, dp = _shortest_digits(v)
    sign = "-" if v < 0 else ""
    exp = dp - 1
    if exp < -4 or exp >= 6:  # strconv: "if precision was the shortest possible, use precision 6"
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if dp <= 0:
        return f"{sign}0.{'0' * -dp}{digits}"
    if dp >= len(digits):
        return f"{sign}{digits}{'0' * (dp - len(digits))}"
    return f"{sign}{digits[:dp]}.{digits[dp:]}"


def format_g(v: float, precision: int) -> str:
    """Go's ``%.<precision>g``; Python's 'g' has the same thresholds, not the same NaN/Inf."""
    special = _special(v)
    return special if special is not None else format(v, f".{precision}g")
