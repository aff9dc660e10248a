"""A suite: every scenario file in a folder, each with its run folder, and one summary.

Scenarios run in parallel worker processes (one per core by default): each run owns its
Prometheus, its service and its run folder, so runs share nothing but the CPU. Workers hand
back a summary, not the run itself; the run folder holds the record.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from harness.errors import AlertdrillError, ConfigurationError
from harness.notebooks import run_report, suite_analysis
from harness.record import write_json
from harness.run import run_scenario
from harness.scenario import load_scenario


@dataclass(frozen=True)
class Delay:
    alert: str
    fired_after: float | None
    resolved_after: float | None


@dataclass(frozen=True)
class SuiteEntry:
    path: Path
    passed: bool = False
    alerts_fired: tuple[str, ...] = ()
    delays: tuple[Delay, ...] = ()
    wall_seconds: float | None = None
    error: str | None = None
    configuration_error: bool = False
    report: str | None = None  # the executed report notebook, relative to the suite folder
    report_error: str | None = None

    @property
    def ran(self) -> bool:
        return self.error is None


def scenario_files(folder: Path, recursive: bool = False) -> list[Path]:
    """Scenario files in a folder (and its subfolders, for coverage: scenarios/long counts)."""
    found = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(p for p in found if p.suffix in (".yaml", ".yml") and p.is_file())


def run_one(path: Path, out_dir: Path, seed: int | None, reports: bool = True) -> SuiteEntry:
    """One scenario (and its report), in whichever process calls it; errors become part of the entry."""
    try:
        scenario, base = load_scenario(path)
        result = run_scenario(scenario, base, seed=seed, out_dir=out_dir / path.stem)
    except AlertdrillError as exc:
        return SuiteEntry(path, error=str(exc), configuration_error=isinstance(exc, ConfigurationError))
    except Exception as exc:  # a bug must not take the rest of the suite down with it
        return SuiteEntry(path, error=f"{type(exc).__name__}: {exc}")
    report, report_error = None, None
    if reports:
        try:
            report = run_report(out_dir / path.stem).relative_to(out_dir)
        except Exception as exc:  # the verdict stands; the report's failure is reported beside it
            report_error = f"{type(exc).__name__}: {exc}"
    return SuiteEntry(
        path,
        passed=result.passed,
        alerts_fired=tuple(sorted(a.alertname for a in result.alerts if a.fired_at is not None)),
        delays=tuple(
            Delay(e.alert, e.fired_after, e.resolved_after)
            for e in result.verdict.expectations
            if e.fired_after is not None
        ),
        wall_seconds=round(result.timings.get("total", 0.0), 3),
        report=str(report) if report else None,
        report_error=report_error,
    )


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def run_suite(
    folder: Path,
    out_dir: Path,
    seed: int | None = None,
    on_done: Callable[[SuiteEntry, int, int], None] | None = None,
    jobs: int | None = None,
    reports: bool = True,
) -> list[SuiteEntry]:
    files = scenario_files(folder)
    if not files:
        raise ConfigurationError(f"{folder}: no scenario files (*.yaml) in this folder")
    jobs = jobs or default_jobs()
    done: dict[Path, SuiteEntry] = {}

    def finished(entry: SuiteEntry) -> None:
        done[entry.path] = entry
        if on_done is not None:
            on_done(entry, len(done), len(files))

    if jobs == 1:
        for path in files:
            finished(run_one(path, out_dir, seed, reports))
    else:
        with ProcessPoolExecutor(jobs) as pool:
            pending: set[Future[SuiteEntry]] = {pool.submit(run_one, p, out_dir, seed, reports) for p in files}
            try:
                while pending:
                    complete, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in complete:
                        finished(future.result())
            except BaseException:  # Ctrl-C: drop queued runs; running ones stop their own processes
                for future in pending:
                    future.cancel()
                raise
    entries = [done[p] for p in files]
    write_json(out_dir / "suite.json", suite_json(entries))
    if reports:
        try:
            suite_analysis([out_dir], out_dir / "analysis.ipynb")
        except Exception as exc:  # the runs and their verdicts stand without the analysis
            print(f"alertdrill: suite analysis notebook failed: {exc}", file=sys.stderr)
    return entries


def _delays(entry: SuiteEntry) -> str:
    return ", ".join(f"{d.alert} +{d.fired_after:g}s" for d in entry.delays if d.fired_after is not None) or "-"


def suite_json(entries: list[SuiteEntry]) -> dict[str, object]:
    return {
        "passed": all(e.passed for e in entries),
        "finished_unix": time.time(),
        "scenarios": [
            {
                "file": str(e.path),
                "passed": e.passed,
                "error": e.error,
                "run_folder": e.path.stem if e.ran else None,
                "alerts_fired": list(e.alerts_fired),
                "detection": [
                    {"alert": d.alert, "fired_after": d.fired_after, "resolved_after": d.resolved_after}
                    for d in e.delays
                ],
                "wall_seconds": e.wall_seconds,
                "report": e.report,
                "report_error": e.report_error,
            }
            for e in entries
        ],
    }


def suite_table(entries: list[SuiteEntry]) -> str:
    rows = [f"{'scenario':26} {'result':7} {'fired':>5}  {'detection delays (after fault start)':58} wall"]
    for e in entries:
        if not e.ran:
            rows.append(f"{e.path.stem:26} {'ERROR':7} {'-':>5}  {(e.error or '').splitlines()[0][:60]}")
            continue
        rows.append(
            f"{e.path.stem:26} {'pass' if e.passed else 'FAIL':7} {len(e.alerts_fired):>5}  "
            f"{_delays(e)[:58]:58} {e.wall_seconds or 0:.1f}s"
        )
    passed = sum(e.passed for e in entries)
    rows.append(f"{passed} passed, {len(entries) - passed} failed")
    return "\n".join(rows)


def exit_code(entries: list[SuiteEntry]) -> int:
    if any(e.configuration_error for e in entries):
        return 2
    return 0 if all(e.passed for e in entries) else 1
