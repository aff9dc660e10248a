"""Benchmark: alertdrill tune's sweep, many rule variants over a corpus, on 1 and on 2 Dask workers.

    .venv/bin/python tests/benchmarks/bench_tune.py CORPUS [--runs 20] [--variants 1000] [--workers 1 2]

Builds a grid of about ``--variants`` variants over the shipped rules (thresholds, ``for`` and
windows of HighLatency, HighErrorRate, HighCPU, DataStaleness and ModelAccuracyDrop), takes
the first ``--runs`` run folders of CORPUS (a suite's ``--seeds`` output), and times the whole
sweep (a Prometheus per run, every variant evaluated there, scores) once per worker count.
Prints variants x runs, the wall time of each and the speed-up; the issue's criterion is
1,000 variants x 20 runs in at most 10 minutes on 2 cores. Not a test: quote the figures.
"""

from __future__ import annotations

import argparse
import math
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

from harness.engine import load_rule_groups
from harness.tuning.grid import load_tuning_file
from harness.tuning.results import score_all
from harness.tuning.sweep import read_corpus, sweep
from harness.tuning.tune import plan
from harness.tuning.variants import variant_groups

REPO = Path(__file__).resolve().parents[2]


def grid(variants: int) -> dict[str, object]:
    """About ``variants`` variants, spread over five alerts (thresholds x for x windows)."""
    n = max(1, math.ceil((variants / 12) ** 0.5))  # 4 alerts of 2n thresholds x n `for`s, one of them x 2 windows

    def spread(lo: float, hi: float, k: int) -> list[float]:
        return [round(float(x), 6) for x in np.linspace(lo, hi, k)]

    holds = [f"{int(s)}s" for s in np.linspace(0, 600, n)]
    return {
        "rules": str(REPO / "config" / "prometheus-alerts.yml"),
        "alerts": {
            "HighLatency": {"threshold": spread(0.01, 0.05, 2 * n), "for": holds, "windows": {"1m": ["1m", "2m"]}},
            "HighErrorRate": {"threshold": spread(0.001, 0.05, 2 * n), "for": holds},
            "HighCPU": {"threshold": spread(0.5, 0.95, 2 * n), "for": holds},
            "DataStaleness": {"threshold": spread(10, 120, 2 * n), "for": holds},
            "ModelAccuracyDrop": {"threshold": spread(0.5, 0.75, 2 * n), "for": holds},
        },
    }


def main() -> None:
    p = argparse.ArgumentParser(formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("corpus", type=Path)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--variants", type=int, default=1000)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="alertdrill-bench-tune-"))
    try:
        path = tmp / "grid.yaml"
        path.write_text(yaml.safe_dump(grid(args.variants)))
        tuning = load_tuning_file(path)
        chosen, paths = plan(tuning, tmp)
        groups = variant_groups(load_rule_groups(paths, default_interval=15.0), chosen)
        corpus = read_corpus(args.corpus)[: args.runs]
        hours = sum(r.truth.duration for r in corpus) / 3600
        print(f"{len(chosen)} variants x {len(corpus)} runs ({hours:.1f} simulated hours)")
        walls = {}
        first = None
        for workers in args.workers:
            started = time.perf_counter()
            found = sweep(corpus, groups, workers=workers)
            scored = score_all(chosen, corpus, found, tuning.grace)
            walls[workers] = time.perf_counter() - started
            rows = [s.row() for s in scored]
            same = "" if first is None else (", results identical" if rows == first else ", RESULTS DIFFER")
            first = rows if first is None else first
            each = 1000 * walls[workers] / (len(chosen) * len(corpus))
            print(f"  {workers} worker(s): {walls[workers]:.1f} s, {each:.1f} ms per variant and run{same}")
        if len(walls) > 1:
            lo, hi = min(walls), max(walls)
            print(f"  speed-up {lo} -> {hi} workers: {walls[lo] / walls[hi]:.2f}x")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
