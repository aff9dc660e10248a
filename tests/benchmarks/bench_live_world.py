"""How late a live world runs: the scenario's traffic, feed and desk on the wall clock against
``alertdrill serve`` (wall clock, 1 uvicorn worker) over loopback, as a drill drives it.

    .venv/bin/python tests/benchmarks/bench_live_world.py                    # 60 s at 10 req/s
    .venv/bin/python tests/benchmarks/bench_live_world.py --seconds 120 --rate 50

Prints the number of events and exchanges, and the lateness of each event against its instant
(median, P99, max), which a drill reports in its verdict.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from harness.scenario import Scenario  # noqa: E402
from harness.targets import live_service  # noqa: E402
from service import WallClock  # noqa: E402
from sim import simulate  # noqa: E402
from sim.transport import HttpTransport  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=10.0)
    args = parser.parse_args()
    token = "bench-token"
    with live_service(token) as service:
        url = service.url
        scenario = Scenario.model_validate({"name": "live", "duration": args.seconds, "traffic": {"rate": args.rate}})
        transport = HttpTransport(httpx.AsyncHTTPTransport(retries=2), url)
        result = asyncio.run(simulate(scenario.world(0), transport, admin_token=token, live=WallClock()))
    lag = sorted(result.lag)
    exchanges = sum(result.responses.values()) + sum(result.feed_responses.values())
    exchanges += sum(result.feedback_responses.values())
    print(f"{args.seconds:g} s at {args.rate:g} req/s: {len(lag)} events, {exchanges} exchanges")
    print(
        f"lateness: median {statistics.median(lag) * 1000:.2f} ms, "
        f"P99 {lag[int(0.99 * (len(lag) - 1))] * 1000:.2f} ms, max {lag[-1] * 1000:.2f} ms"
    )


if __name__ == "__main__":
    main()
