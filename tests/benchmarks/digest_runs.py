"""Run scenarios and print (or write) the digests of their stored samples and alert timelines.

    .venv/bin/python tests/benchmarks/digest_runs.py scenarios/*.yaml [--seed 0] [--jobs 2] [--write FILE]

A run is a pure function of its scenario and seed: a change for speed or structure must leave
these digests as they were. ``--write`` merges the digests into a JSON file keyed by scenario
name (``tests/scenarios/data/digests.json`` is the one the tests compare against).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from harness.digest import run_digest
from harness.run import run_scenario
from harness.scenario import load_scenario


def _one(path: str, seed: int) -> tuple[str, dict[str, object], float]:
    scenario, base = load_scenario(path)
    with tempfile.TemporaryDirectory(prefix="alertdrill-digest-") as tmp:
        started = time.perf_counter()
        run_scenario(scenario, base, seed=seed, out_dir=Path(tmp))
        wall = time.perf_counter() - started
        return scenario.name, run_digest(Path(tmp)).as_json(), wall


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scenarios", nargs="+")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--write", type=Path, help="merge the digests into this JSON file")
    args = p.parse_args()
    found: dict[str, dict[str, object]] = {}
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(_one, s, args.seed) for s in args.scenarios]
        for i, future in enumerate(as_completed(futures), 1):
            name, digest, wall = future.result()
            found[name] = {"seed": args.seed, **digest}
            print(
                f"[{i}/{len(futures)}] {name}: {digest['samples'][:12]} {digest['timeline'][:12]} ({wall:.1f}s)",
                file=sys.stderr,
                flush=True,
            )
    if args.write:
        known = json.loads(args.write.read_text()) if args.write.exists() else {}
        known.update(found)
        args.write.write_text(json.dumps(dict(sorted(known.items())), indent=2) + "\n")
    else:
        print(json.dumps(dict(sorted(found.items())), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
