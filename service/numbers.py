"""What counts as a number in the JSON the service reads (feature rows, model artifacts).

JSON gives Python ``bool`` (an ``int`` subclass), arbitrarily large ``int`` (``float()`` of
which raises ``OverflowError``) and, from Python's parser, ``NaN`` and ``Infinity``. One
helper decides, so no such value reaches arithmetic that would turn it into a 500.
"""

from __future__ import annotations

import math


def is_number(value: object) -> bool:
    """An int or float, not a bool (``true`` is not a factor value)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def finite(value: int | float) -> float | None:
    """``value`` as a finite float, or None when it is NaN, infinite or beyond float range."""
    try:
        result = float(value)
    except OverflowError:
        return None
    return result if math.isfinite(result) else None
