"""Prometheus-style durations ("90s", "5m", "1h30m") in scenario files and rule files."""

from __future__ import annotations

import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0, "y": 31536000.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")


def parse_duration(value: str | float | int) -> float:
    """Seconds in a duration; numbers are taken as seconds already.

    >>> parse_duration("1h30m")
    5400.0
    """
    if isinstance(value, bool):
        raise ValueError(f"duration {value!r} must be a number of seconds or a string like '5m'")
    if isinstance(value, int | float):
        return float(value)
    text = value.strip()
    if not text:
        raise ValueError("duration is empty: use a number of seconds or a string like '90s', '5m', '1h30m'")
    pos, total = 0, 0.0
    for match in _PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(text):
        raise ValueError(
            f"duration {value!r} is not valid: use a number of seconds or a string like '90s', '5m', '1h30m'"
        )
    return total


def format_duration(seconds: float) -> str:
    """Shortest Prometheus duration string for a whole number of seconds or milliseconds."""
    ms = round(seconds * 1000)
    if ms % 1000:
        return f"{ms}ms"
    s = ms // 1000
    parts = []
    for unit, size in (("h", 3600), ("m", 60), ("s", 1)):
        if s >= size:
            parts.append(f"{s // size}{unit}")
            s %= size
    return "".join(parts) or "0s"
