"""Intraday traffic profiles: how the request rate moves with the trading day.

US equities trade 09:30-16:00 New York time (14:30-21:00 UTC in winter). Traffic peaks at
the open and the close, sags at midday, and is a trickle outside the session. The profile
is a multiplier of the scenario's rate, a function of the wall time the simulated clock
stands for, so a run that starts mid-session sees mid-session traffic.
"""

from __future__ import annotations

import math
from collections.abc import Callable

OPEN_UTC = 14.5 * 3600
CLOSE_UTC = 21.0 * 3600
DAY = 86400.0

Profile = Callable[[float], float]


def flat(unix: float) -> float:
    return 1.0


def intraday(unix: float) -> float:
    """1 at midday; about 3 in the first half hour, 2.5 in the last; 0.05 outside the session."""
    second = unix % DAY
    weekday = int(unix // DAY + 3) % 7  # 1970-01-01 was a Thursday: 0 is Monday
    if weekday >= 5 or not OPEN_UTC <= second < CLOSE_UTC:
        return 0.05
    since_open = (second - OPEN_UTC) / 60.0
    to_close = (CLOSE_UTC - second) / 60.0
    return 1.0 + 2.0 * math.exp(-since_open / 20.0) + 1.5 * math.exp(-to_close / 20.0)


PROFILES: dict[str, Profile] = {"flat": flat, "intraday": intraday}
PEAK = {"flat": 1.0, "intraday": 3.01}  # an upper bound of each profile, for thinning
