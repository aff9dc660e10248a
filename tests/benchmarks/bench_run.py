"""Benchmark: wall time of whole runs and how it splits between phases.

    .venv/bin/python tests/benchmarks/bench_run.py [SCENARIO ...] [--repeat N]

Prints, per scenario, the median over N runs of each phase (check rules, simulate, parse the
scrapes, write them into Prometheus, evaluate the rules, total), the simulated-to-wall
speed-up and the wall cost of one exchange with the service (a request, a feature batch, an
outcome report or a scrape; simulate time divided by their number, so SimPy's share is in
it). Not a test: these machines are noisy, so quote medians or ratios.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from harness.run import RunResult, run_scenario
from harness.scenario import load_scenario

REPO = Path(__file__).resolve().parents[2]
PHASES = ("check rules", "simulate", "parse", "write", "evaluate")


def exchanges(result: RunResult) -> int:
    sim = result.sim
    answered = sum(sim.responses.values()) + sum(sim.feed_responses.values()) - sim.feed_responses["outage"]
    return answered + sum(sim.feedback_responses.values()) + len(sim.scrapes)


def main() -> None:
    p = argparse.ArgumentParser(formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("scenarios", nargs="*", default=[str(REPO / "scenarios" / "steady_state.yaml")])
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    for path in args.scenarios:
        scenario, base = load_scenario(path)
        runs = [run_scenario(scenario, base) for _ in range(args.repeat)]
        med = {k: statistics.median(r.timings.get(k, 0.0) for r in runs) for k in (*PHASES, "total")}
        n = exchanges(runs[0])
        print(f"{scenario.name}: {scenario.duration / 60:g} simulated min, {n} exchanges, median of {args.repeat}")
        for k in (*PHASES, "total"):
            print(f"  {k:12} {med[k]:8.3f} s  ({100 * med[k] / med['total']:5.1f} %)")
        other = med["total"] - sum(med[k] for k in PHASES)
        print(f"  {'(other)':12} {other:8.3f} s  ({100 * other / med['total']:5.1f} %)")
        each = ", ".join(f"{scenario.duration / r.timings['total']:.0f}x" for r in runs)
        print(f"  speed-up     {scenario.duration / med['total']:8.1f}x real time (runs: {each})")
        print(
            f"  per exchange {1e6 * med['simulate'] / n:8.1f} us simulating, {1e6 * med['total'] / n:.1f} us all in; "
            f"{n / med['simulate']:.0f} exchanges per wall second"
        )


if __name__ == "__main__":
    main()
