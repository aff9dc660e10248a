"""Benchmark: what replicas cost per simulated request.

    .venv/bin/python tests/benchmarks/bench_replicas.py [--replicas 4] [--repeat 5] [--minutes 20] [--rate 40]

Runs the same world (steady traffic, no fault) as one service and as ``--replicas`` replicas
behind the router, interleaved ``--repeat`` times, and prints the median wall time per simulated
/predict request of the simulation and of the whole run, and their ratio. Each replica is a
service of its own that reads every feature batch and is scraped every interval, so some
cost grows with the replicas; the criterion (issue 16) is that four replicas run at no less
than half the single replica's speed per request. Not a test: quote medians and ratios.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from harness.run import run_scenario
from harness.scenario import parse_scenario

REPO = Path(__file__).resolve().parents[2]

WORLD = """
name: bench_replicas_{replicas}
duration: {minutes}m
seed: 0
traffic: {{rate: {rate}}}
unexpected_alerts: ignore
"""


def _scenario(replicas: int | None, minutes: int, rate: float):  # type: ignore[no-untyped-def]
    text = WORLD.format(replicas=replicas or 1, minutes=minutes, rate=rate)
    if replicas is not None:
        text += f"deployment: {{replicas: {replicas}}}\n"
    return parse_scenario(text, str(REPO / "scenarios" / "bench_replicas.yaml"))


def main() -> None:
    p = argparse.ArgumentParser(formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--replicas", type=int, default=4)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--minutes", type=int, default=20)
    p.add_argument("--rate", type=float, default=40.0)
    args = p.parse_args()
    worlds = {
        "1 service": _scenario(None, args.minutes, args.rate),
        f"{args.replicas} replicas": _scenario(args.replicas, args.minutes, args.rate),
    }
    per: dict[str, dict[str, list[float]]] = {k: {"simulate": [], "total": []} for k in worlds}
    requests: dict[str, int] = {}
    for round_ in range(args.repeat):
        for name, scenario in worlds.items():
            result = run_scenario(scenario, REPO / "scenarios", replay_speed=None)
            n = sum(result.sim.responses.values())
            requests[name] = n
            for phase in ("simulate", "total"):
                per[name][phase].append(result.timings[phase] / n)
            print(f"  round {round_ + 1}: {name:11} {n} requests, simulate {result.timings['simulate']:.2f} s")
    print(f"median of {args.repeat} interleaved rounds, {args.minutes} simulated minutes at {args.rate:g} req/s")
    base = "1 service"
    for name in worlds:
        sim, total = (statistics.median(per[name][k]) for k in ("simulate", "total"))
        print(
            f"  {name:11} {requests[name]} requests: {1e6 * sim:6.1f} us/request simulating, {1e6 * total:6.1f} all in"
        )
    many = f"{args.replicas} replicas"
    for phase in ("simulate", "total"):
        ratio = statistics.median(per[base][phase]) / statistics.median(per[many][phase])
        print(f"  {phase}: {args.replicas} replicas run at {ratio:.0%} of one service's speed per request")


if __name__ == "__main__":
    main()
