"""Whole drills, measured: how late the world ran, and how far the live fire and resolve times
fell from the simulated ones against the stated bound.

    .venv/bin/python tests/benchmarks/bench_drill.py                          # the CI drill, once (~6 min)
    .venv/bin/python tests/benchmarks/bench_drill.py --repeat 3
    .venv/bin/python tests/benchmarks/bench_drill.py tests/drill/quick/quick.yaml --repeat 5

Each repeat is ``alertdrill drill SCENARIO --compare`` with the next seed. Prints, per drill,
the verdict, the world's lateness (median, P99, max over every event) and each compared time
(simulated, live, difference, bound); then the medians over the repeats and the largest share of
its bound any difference used.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="scenarios/drills/crash_and_errors.yaml")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--first-seed", type=int, default=0)
    args = parser.parse_args()
    medians, worsts, shares = [], [], []
    for i in range(args.repeat):
        seed = args.first_seed + i
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "drill"
            done = subprocess.run(
                [sys.executable, "-m", "harness.cli", "drill", args.scenario, "--compare", "-q",
                 "--seed", str(seed), "--out", str(out)],
                capture_output=True, text=True, cwd=REPO, check=False,
            )  # fmt: skip
            if not (out / "verdict.json").exists():
                print(f"seed {seed}: no verdict (exit {done.returncode}): {done.stderr.strip()[-500:]}")
                continue
            verdict = json.loads((out / "verdict.json").read_text())
        lag = verdict["drill"]["world_lag"]
        medians.append(lag["median"])
        worsts.append(lag["max"])
        print(
            f"seed {seed}: {'PASSED' if verdict['passed'] else 'FAILED'} (exit {done.returncode}); world lag over "
            f"{lag['events']} events: median {lag['median'] * 1000:.2f} ms, P99 {lag['p99'] * 1000:.1f} ms, "
            f"max {lag['max']:.3f} s"
        )
        for row in verdict["drill"]["compare"] or []:
            diff = row["difference"]
            bound = row["bound"]
            if diff is not None and bound:
                shares.append(abs(diff) / bound)
            print(
                f"    {row['expectation'][:44]:44} {row['what']:8} simulated {_s(row['simulated'])} "
                f"live {_s(row['live'])} diff {_s(diff, '+')} bound {_s(bound)}"
            )
    if medians:
        print(
            f"\n{len(medians)} drill(s): world lag median of medians {statistics.median(medians) * 1000:.2f} ms, "
            f"worst {max(worsts):.3f} s; largest difference {max(shares, default=0):.0%} of its bound"
        )


def _s(x: float | None, sign: str = "") -> str:
    return "     -" if x is None else f"{x:{sign}6.1f}s"


if __name__ == "__main__":
    main()
