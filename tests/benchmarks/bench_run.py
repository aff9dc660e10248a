"""Benchmark: wall time of whole runs and how it splits between phases.

    .venv/bin/python tests/benchmarks/bench_run.py [SCENARIO ...] [--repeat N]

Prints, per scenario, the median over N runs of each phase (simulate, write, evaluate,
total) and the simulated-to-wall speed-up. Not a test: these machines are noisy, so quote
medians or ratios.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from harness.run import run_scenario
from harness.scenario import load_scenario

REPO = Path(__file__).resolve().parents[2]
PHASES = ("check rules", "simulate", "write", "evaluate", "total")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("scenarios", nargs="*", default=[str(REPO / "scenarios" / "steady_state.yaml")])
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    for path in args.scenarios:
        scenario, base = load_scenario(path)
        runs = [run_scenario(scenario, base).timings for _ in range(args.repeat)]
        med = {k: statistics.median(r[k] for r in runs) for k in PHASES}
        requests = scenario.traffic.rate * scenario.duration
        print(
            f"{scenario.name}: {scenario.duration / 60:g} simulated min, ~{requests:.0f} requests, "
            f"median of {args.repeat}"
        )
        for k in PHASES:
            print(f"  {k:12} {med[k]:8.3f} s  ({100 * med[k] / med['total']:5.1f} %)")
        print(
            f"  speed-up     {scenario.duration / med['total']:8.1f}x real time; "
            f"{requests / med['simulate']:.0f} simulated requests per wall second"
        )


if __name__ == "__main__":
    main()
