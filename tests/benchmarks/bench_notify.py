"""How the replay speed k trades wall time for precision: the figures behind DEFAULT_SPEED.

    .venv/bin/python tests/benchmarks/bench_notify.py                 # k = 100, 300, 1000, 3000
    .venv/bin/python tests/benchmarks/bench_notify.py --speeds 1000 --repeat 10

One synthetic incident through the real Alertmanager with config/alertmanager.yml (the one of
tests/notify/test_replay.py: a page, a muted warning, three stale symbols in one chat message,
both resolved), at each speed, ``--repeat`` times. For each notification, the error is its
delivery time (run seconds) minus when Alertmanager's timers say it is due: the alert's firing
(or resolving) evaluation plus the route's group_wait (or the next group_interval tick). Prints,
per speed: wall seconds of the replay, and the median and maximum error over every notification
of every repeat, and whether every repeat heard the same notifications.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from harness.notify import ReplaySettings, pushes, read_alertmanager_config, replay  # noqa: E402
from tests.notify.test_replay import DUE, DURATION, INCIDENT, _what  # noqa: E402

CONFIG = REPO / "config" / "alertmanager.yml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speeds", default="100,300,1000,3000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    config = read_alertmanager_config(CONFIG)
    sends = pushes(INCIDENT, DURATION)
    print(f"{'k':>6} {'wall s':>8} {'median err s':>13} {'max err s':>10} {'slowed':>7}  same notifications")
    for speed in (float(s) for s in args.speeds.split(",")):
        walls, errors, seen, slowed = [], [], set(), 0
        for _ in range(args.repeat):
            started = time.perf_counter()
            result = replay(sends, DURATION, config, CONFIG, ReplaySettings(speed))
            walls.append(time.perf_counter() - started)
            slowed += result.speed != speed
            seen.add(tuple(_what(result)))
            times = [n.time for n in result.notifications if n.delivered]
            errors += [t - due for t, due in zip(times, DUE, strict=False)]
        print(
            f"{speed:6g} {statistics.median(walls):8.2f} {statistics.median(errors):13.2f} "
            f"{max(errors):10.2f} {slowed:7d}  {'yes' if len(seen) == 1 else f'NO: {len(seen)} different'}"
        )


if __name__ == "__main__":
    main()
