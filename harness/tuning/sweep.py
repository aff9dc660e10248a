"""The sweep: every variant over every run of the corpus, each run in a Prometheus of its own,
the runs spread over Dask workers (a local cluster by default, any scheduler's address to go
wide: design.md, decision 9). A run's answer depends on the run alone, so the results are the
same whatever the number of workers, and they are put together in the corpus' order."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from harness.backtest import load_samples_parquet
from harness.engine import (
    EvaluationWindow,
    RuleGroup,
    TemplateContext,
    evaluate_groups,
    owned_temp_dir,
    prometheus_server,
    write,
)
from harness.errors import ConfigurationError
from harness.tuning.truth import Firing, RunTruth, run_truth

#: A variant's firings in one run, by variant key: (fired_at, resolved_at), seconds from the start.
RunFirings = dict[str, list[tuple[float, float | None]]]


@dataclass(frozen=True)
class CorpusRun:
    folder: Path
    truth: RunTruth
    start_unix: float


def read_corpus(folder: Path) -> list[CorpusRun]:
    """Every run folder under ``folder`` (a suite's output, e.g. ``--seeds 0-19``) with its
    samples and verdict, in name order; a corpus without any is a configuration error."""
    runs = []
    for verdict_path in sorted(folder.glob("*/verdict.json")):
        run = verdict_path.parent
        if not (run / "samples.parquet").is_file():
            continue
        try:
            verdict = json.loads(verdict_path.read_text(encoding="utf-8"))
            runs.append(CorpusRun(run, run_truth(run.name, verdict), float(verdict["start_unix"])))
        except (ValueError, KeyError, TypeError, AssertionError) as exc:
            raise ConfigurationError(f"{verdict_path}: not a run folder's verdict.json ({exc})") from exc
    if not runs:
        raise ConfigurationError(
            f"{folder}: no run folders (verdict.json and samples.parquet); make a corpus with "
            f"alertdrill suite scenarios --seeds 0-19 --no-reports --out {folder}"
        )
    return runs


def evaluate_run(folder: str, groups: list[RuleGroup], start_unix: float, duration: float) -> RunFirings:
    """One run's samples in a fresh Prometheus, every group evaluated there as in a run; what
    fired, by rule name. A Dask task: plain arguments, a picklable answer."""
    samples = load_samples_parquet(Path(folder) / "samples.parquet")
    window = EvaluationWindow(start_unix, duration)
    with prometheus_server() as prom, httpx.Client(timeout=120.0) as client:
        write(client, prom.url, list(samples.series.items()))
        evaluation = evaluate_groups(client, prom.url, groups, window, TemplateContext())
    out: RunFirings = {}
    for timeline in evaluation.timelines:
        out[timeline.rule.name] = [(a.fired_at, a.resolved_at) for a in timeline.instances if a.fired_at is not None]
    return out


def sweep(
    corpus: list[CorpusRun],
    groups: list[RuleGroup],
    *,
    workers: int = 2,
    scheduler: str | None = None,
    on_done: Callable[[int, int, str], None] | None = None,
) -> list[RunFirings]:
    """Each run's firings, in the corpus' order, computed on Dask workers."""
    import dask
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    scratch = None
    if scheduler is None:
        # Dask's scratch space (its locks and spill files) in a folder of ours, removed after the
        # sweep, or after a SIGKILL by the next alertdrill that makes one (owned_temp_dir).
        scratch = owned_temp_dir("dask")
        with dask.config.set({"temporary-directory": str(scratch)}):  # the scheduler's scratch too
            cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",  # loopback only
                dashboard_address=None,
                # The scheduler serves HTTP (health, metrics) even without a dashboard, on port
                # 8787 unless told otherwise: a fixed port, taken by any other cluster. A free one.
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                local_directory=str(scratch),
            )
    try:
        with Client(cluster if cluster is not None else scheduler) as client:  # type: ignore[no-untyped-call]
            futures = {
                client.submit(
                    evaluate_run,
                    str(run.folder),
                    groups,
                    run.start_unix,
                    run.truth.duration,
                    key=f"tune-{k}-{run.folder.name}",
                ): k
                for k, run in enumerate(corpus)
            }
            results: list[RunFirings | None] = [None] * len(corpus)
            for done, future in enumerate(as_completed(futures), start=1):  # type: ignore[no-untyped-call]
                k = futures[future]
                results[k] = future.result()
                if on_done is not None:
                    on_done(done, len(corpus), corpus[k].folder.name)
    finally:
        if cluster is not None:
            cluster.close()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]


def firings(found: RunFirings, key: str) -> list[Firing]:
    return [Firing(a, b) for a, b in found.get(key, [])]
