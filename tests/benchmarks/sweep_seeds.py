"""Run scenarios over many seeds and print, per expectation, how many seeds held and the
median (min-max) detection and resolution delay.

    python tests/benchmarks/sweep_seeds.py scenarios/feed_outage.yaml ... --seeds 0-19 --jobs 2
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor, as_completed

from harness.run import run_scenario
from harness.scenario import load_scenario


def _one(path: str, seed: int) -> tuple[str, int, bool, list[tuple[str, bool, float | None, float | None]]]:
    scenario, base = load_scenario(path)
    result = run_scenario(scenario, base, seed=seed)
    rows = [(e.description, e.passed, e.fired_after, e.resolved_after) for e in result.verdict.expectations]
    return scenario.name, seed, result.passed, rows


def _seeds(text: str) -> list[int]:
    lo, _, hi = text.partition("-")
    return list(range(int(lo), int(hi or lo) + 1))


def _spread(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):7.0f}s ({min(values):.0f}-{max(values):.0f})"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scenarios", nargs="+")
    p.add_argument("--seeds", default="0-19", help="inclusive range, e.g. 0-19")
    p.add_argument("--jobs", type=int, default=2)
    args = p.parse_args()
    seeds = _seeds(args.seeds)
    started = time.perf_counter()
    stats: dict[tuple[str, str], list[tuple[bool, float | None, float | None]]] = defaultdict(list)
    failed: list[tuple[str, int]] = []
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(_one, s, seed) for s in args.scenarios for seed in seeds]
        for i, future in enumerate(as_completed(futures), 1):
            name, seed, passed, rows = future.result()
            if not passed:
                failed.append((name, seed))
            for description, ok, fired, resolved in rows:
                stats[(name, description)].append((ok, fired, resolved))
            verdict = "pass" if passed else "FAIL"
            print(f"[{i}/{len(futures)}] {name} seed {seed}: {verdict}", file=sys.stderr, flush=True)
    print(f"\n{'scenario':22} {'held':>6}  {'fired after (median, range)':30} {'resolved after':28} expectation")
    for (name, description), runs in sorted(stats.items()):
        held = sum(ok for ok, _, _ in runs)
        fired = [f for _, f, _ in runs if f is not None]
        resolved = [r for _, _, r in runs if r is not None]
        print(f"{name:22} {held:>3}/{len(runs):<2}  {_spread(fired):30} {_spread(resolved):28} {description[:60]}")
    print(f"\n{len(futures) - len(failed)}/{len(futures)} runs passed in {time.perf_counter() - started:.0f}s")
    for name, seed in sorted(failed):
        print(f"  failed: {name} seed {seed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
