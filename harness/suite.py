"""A suite: every scenario file in a folder, each with its run folder, and one summary.

Scenarios run in parallel worker processes (one per core by default): each run owns its
Prometheus, its service and its run folder, so runs share nothing but the CPU. Workers hand
back a summary, not the run itself; the run folder holds the record.

With seeds (``alertdrill suite --seeds 0-19``) the suite is the matrix of scenarios by seeds,
and every cell of it goes into the one pool at once, longest scenario first: a verdict that holds
for one seed may be luck, and a sweep is only as fast as its last straggler.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import signal
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing.managers import SyncManager
from pathlib import Path

from harness.engine import die_with_parent
from harness.errors import AlertdrillError, ConfigurationError
from harness.events import Silent
from harness.notebooks import run_report, suite_analysis
from harness.notify import DEFAULT_SPEED, Replay
from harness.record import write_json
from harness.run import run_scenario
from harness.scenario import load_scenario

MAX_SEEDS = 10_000  # a typo such as 0-199999 should be an error, not a week of runs


@dataclass(frozen=True)
class Delay:
    alert: str
    fired_after: float | None
    resolved_after: float | None


@dataclass(frozen=True)
class SuiteRun:
    """One cell of the suite: a scenario file, the seed that overrides its own (or None), its run folder."""

    path: Path
    seed: int | None
    folder: str  # relative to the suite folder


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
    seed: int | None = None  # None: the scenario's own seed
    folder: str | None = None  # the run folder, relative to the suite folder (default: the file's stem)
    # The PagerDuty services a delivered firing notification reached ("devops" for pagerduty-devops),
    # and how many notifications were delivered; None: the alerts were not replayed (--no-notify).
    paged: tuple[str, ...] | None = None
    notifications: int | None = None

    @property
    def ran(self) -> bool:
        return self.error is None

    @property
    def run_folder(self) -> str:
        return self.folder or self.path.stem


LIVE_EVERY = 1.0  # seconds between live status reports while runs are under way


@dataclass(frozen=True)
class Progress:
    """Where the suite stands: sent once when the runs are submitted, then after each finished run."""

    done: int
    total: int
    running: int
    finished: SuiteEntry | None = None  # the run that just finished; None for the first report
    # Runs under way: (run folder, simulated seconds done, of how many), for a live status line.
    under_way: tuple[tuple[str, float, float], ...] = ()


class _Simulated(Silent):
    """A run's listener that reports its simulated progress to the suite (``put`` may be a queue's,
    across processes), so the suite shows progress from its first second, not its first finish."""

    def __init__(self, folder: str, put: Callable[[tuple[str, float, float]], None]) -> None:
        self.folder, self.put = folder, put

    def simulated(self, now: float, total: float) -> None:
        self.put((self.folder, now, total))


def scenario_files(folder: Path, recursive: bool = False) -> list[Path]:
    """Scenario files in a folder (and its subfolders, for coverage: scenarios/long counts)."""
    found = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(p for p in found if p.suffix in (".yaml", ".yml") and p.is_file())


_SEED_PART = re.compile(r"([0-9]+)(?:-([0-9]+))?")


def parse_seeds(spec: str) -> list[int]:
    """Seeds from ``0-19``, ``0,3,7`` or ``0-4,9`` (inclusive ranges), sorted, each once.

    Raises ValueError naming the part that is wrong, so the command line can say which.
    """
    if not spec.strip():
        raise ValueError("no seeds given (e.g. 0-19, 0,3,7 or 0-4,9)")
    seeds: set[int] = set()
    for raw in spec.split(","):
        part = raw.strip()
        match = _SEED_PART.fullmatch(part)
        if match is None:
            if not part:
                raise ValueError(f"{spec!r} has an empty item (a stray comma?)")
            if re.fullmatch(r"-[0-9]+(-[0-9]+)?", part):
                raise ValueError(f"{part!r}: seeds are 0 or more")
            raise ValueError(f"{part!r} is not a seed or a range of seeds (e.g. 0-19, 0,3,7 or 0-4,9)")
        low = int(match[1])
        high = int(match[2]) if match[2] is not None else low
        if high < low:
            raise ValueError(f"{part!r}: the range ends before it starts (did you mean {high}-{low}?)")
        if high - low + 1 + len(seeds) > MAX_SEEDS:
            raise ValueError(f"{spec!r}: more than {MAX_SEEDS} seeds")
        seeds.update(range(low, high + 1))
    return sorted(seeds)


def format_seeds(seeds: list[int]) -> str:
    """The shortest spec ``parse_seeds`` reads back as these seeds: ``[0, 1, 2, 3, 9]`` is ``0-3,9``."""
    parts: list[str] = []
    ordered = sorted(set(seeds))
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ",".join(parts)


def suite_runs(files: list[Path], seed: int | None = None, seeds: list[int] | None = None) -> list[SuiteRun]:
    """The suite's cells in report order (file, then seed). Without ``seeds`` a run folder is
    named after its file, as it always was; with them, ``<file>-seed<N>``, so seeds never share one.
    """
    if seeds is None:
        return [SuiteRun(p, seed, p.stem) for p in files]
    if seed is not None:
        raise ConfigurationError("a suite takes --seed or --seeds, not both")
    if not seeds:
        raise ConfigurationError("--seeds: no seeds")
    return [SuiteRun(p, s, f"{p.stem}-seed{s}") for p in files for s in seeds]


def longest_first(runs: list[SuiteRun]) -> list[SuiteRun]:
    """Runs by simulated duration, longest first, so the pool does not end on one long straggler.

    A file that does not load sorts first: its worker fails at once and the error shows early.
    """
    durations: dict[Path, float] = {}
    for path in {r.path for r in runs}:
        try:
            durations[path] = load_scenario(path)[0].duration
        except Exception:  # the worker reports it, with the same message, as the run's error
            durations[path] = math.inf
    return sorted(runs, key=lambda r: -durations[r.path])  # stable: ties keep file, then seed order


PAGERDUTY_PREFIX = "pagerduty-"


def paged(replay: Replay | None) -> tuple[str, ...] | None:
    """The PagerDuty receivers a delivered firing notification reached, without their "pagerduty-"
    prefix, sorted; None when the run's alerts were not replayed through Alertmanager."""
    if replay is None:
        return None
    return tuple(
        sorted(
            {
                n.receiver.removeprefix(PAGERDUTY_PREFIX)
                for n in replay.notifications
                if n.kind == "pagerduty"
                and n.delivered
                and (n.status == "firing" or any(a.status == "firing" for a in n.alerts))
            }
        )
    )


def run_one(
    run: SuiteRun,
    out_dir: Path,
    reports: bool = True,
    progress: Callable[[tuple[str, float, float]], None] | None = None,
    replay_speed: float | None = DEFAULT_SPEED,
) -> SuiteEntry:
    """One scenario (and its report), in whichever process calls it; errors become part of the entry."""
    folder = out_dir / run.folder
    listener = _Simulated(run.folder, progress) if progress is not None else None
    try:
        scenario, base = load_scenario(run.path)
        result = run_scenario(
            scenario, base, seed=run.seed, out_dir=folder, listener=listener, replay_speed=replay_speed
        )
    except AlertdrillError as exc:
        return SuiteEntry(
            run.path,
            error=str(exc),
            configuration_error=isinstance(exc, ConfigurationError),
            seed=run.seed,
            folder=run.folder,
        )
    except Exception as exc:  # a bug must not take the rest of the suite down with it
        return SuiteEntry(run.path, error=f"{type(exc).__name__}: {exc}", seed=run.seed, folder=run.folder)
    report, report_error = None, None
    if reports:
        try:
            report = run_report(folder).relative_to(out_dir)
        except Exception as exc:  # the verdict stands; the report's failure is reported beside it
            report_error = f"{type(exc).__name__}: {exc}"
    return SuiteEntry(
        run.path,
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
        seed=run.seed,
        folder=run.folder,
        paged=paged(result.replay),
        notifications=None if result.replay is None else sum(n.delivered for n in result.replay.notifications),
    )


def _run_in_worker(
    run: SuiteRun,
    out_dir: Path,
    reports: bool,
    progress: Callable[[tuple[str, float, float]], None],
    replay_speed: float | None,
) -> SuiteEntry:
    """``run_one`` in a pool worker, which ends once an interrupted run has let go of what it held.

    Left to itself the worker would take the run already queued for it, whose progress queue
    belongs to a manager about to stop: that printed a ``ConnectionRefusedError`` traceback per
    worker after every SIGTERM, and could start a run nobody waits for.
    """
    try:
        return run_one(run, out_dir, reports, progress, replay_speed)
    except KeyboardInterrupt:
        os._exit(128 + signal.SIGTERM)


WORKER_CLEANUP = 60.0  # seconds an interrupted worker may take to stop its Prometheus and service


def _interrupt_workers(pool: ProcessPoolExecutor) -> None:
    """Ctrl-C, SIGTERM or an error here: drop the queued runs and interrupt the running ones.

    A terminal's Ctrl-C reaches the workers too, but a SIGTERM sent to alertdrill alone does
    not: each worker gets one, which its inherited handler turns into KeyboardInterrupt in the
    run it is doing, so that run stops its Prometheus and service and removes its folders, and
    the worker then ends (``_run_in_worker``); this waits for that. (A worker dies with SIGKILL
    if alertdrill itself is killed: its children are bound to it, and its temporary folders
    are swept by the next run.)
    """
    # The executor keeps its workers in a private attribute (no public handle on them), which
    # shutdown() empties: read it first.
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(ProcessLookupError, ValueError):
            process.terminate()
    # Wait for them here: shutdown(wait=False) above means the pool's exit no longer does, and
    # this process's end (or the manager's) would cut their cleanup short.
    deadline = time.monotonic() + WORKER_CLEANUP
    for process in processes:
        with contextlib.suppress(ValueError, AssertionError):
            process.join(max(0.0, deadline - time.monotonic()))


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def run_suite(
    folder: Path,
    out_dir: Path,
    seed: int | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    jobs: int | None = None,
    reports: bool = True,
    *,
    seeds: list[int] | None = None,
    analysis: bool | None = None,
    replay_speed: float | None = DEFAULT_SPEED,
) -> list[SuiteEntry]:
    """Run every scenario of ``folder`` (for each of ``seeds``, if given) and write ``suite.json``.

    ``reports``: a report notebook per run folder; ``analysis``: the suite's ``analysis.ipynb``
    (default: as ``reports``). Entries come back in file, then seed order, whatever finished first.
    """
    files = scenario_files(folder)
    if not files:
        raise ConfigurationError(f"{folder}: no scenario files (*.yaml) in this folder")
    runs = suite_runs(files, seed, seeds)
    jobs = min(jobs or default_jobs(), len(runs))
    done: dict[SuiteRun, SuiteEntry] = {}

    under_way: dict[str, tuple[float, float]] = {}

    def report(finished: SuiteEntry | None = None) -> None:
        if finished is not None:
            under_way.pop(finished.run_folder, None)
        if on_progress is not None:
            left = len(runs) - len(done)
            live = tuple((folder, now, total) for folder, (now, total) in under_way.items())
            on_progress(Progress(len(done), len(runs), min(jobs, left), finished, live))

    def simulated(update: tuple[str, float, float]) -> None:
        folder, now, total = update
        under_way[folder] = (now, total)

    def live(update: tuple[str, float, float]) -> None:
        simulated(update)
        report()

    if jobs == 1:  # in this process, in report order: nothing to balance
        report()
        for run in runs:
            done[run] = run_one(run, out_dir, reports, live, replay_speed)
            report(done[run])
    else:
        # Progress crosses from the workers through a manager's queue; like the workers, the
        # manager's process dies with this one. Over loopback TCP (with the manager's authkey),
        # not a Unix socket in TMPDIR, whose path can be too long for one.
        manager = SyncManager(address=("127.0.0.1", 0))
        manager.start(die_with_parent, (signal.SIGKILL,))
        with manager, ProcessPoolExecutor(jobs, initializer=die_with_parent, initargs=(signal.SIGKILL,)) as pool:
            updates = manager.Queue()
            submitted = {
                pool.submit(_run_in_worker, run, out_dir, reports, updates.put, replay_speed): run
                for run in longest_first(runs)
            }
            pending: set[Future[SuiteEntry]] = set(submitted)
            report()
            try:
                while pending:
                    complete, pending = wait(pending, timeout=LIVE_EVERY, return_when=FIRST_COMPLETED)
                    while not updates.empty():
                        simulated(updates.get_nowait())
                    for future in complete:
                        done[submitted[future]] = future.result()
                        report(done[submitted[future]])
                    if not complete:
                        report()
            except BaseException:
                _interrupt_workers(pool)
                raise
    entries = [done[run] for run in runs]
    out_dir.mkdir(parents=True, exist_ok=True)  # no run made it when no scenario loaded
    write_json(out_dir / "suite.json", suite_json(entries, seeds))
    if analysis is None:
        analysis = reports
    if analysis:
        try:
            suite_analysis([out_dir], out_dir / "analysis.ipynb")
        except Exception as exc:  # the runs and their verdicts stand without the analysis
            print(f"alertdrill: suite analysis notebook failed: {exc}", file=sys.stderr)
    return entries


def _delays(entry: SuiteEntry) -> list[str]:
    return [f"{d.alert} +{d.fired_after:g}s" for d in entry.delays if d.fired_after is not None]


def suite_json(entries: list[SuiteEntry], seeds: list[int] | None = None) -> dict[str, object]:
    """The suite's record; ``seeds`` is the swept list (null without ``--seeds``), each entry its own."""
    return {
        "passed": all(e.passed for e in entries),
        "finished_unix": time.time(),
        "seeds": seeds,
        "scenarios": [
            {
                "file": str(e.path),
                "seed": e.seed,
                "passed": e.passed,
                "error": e.error,
                "run_folder": e.run_folder if e.ran else None,
                "alerts_fired": list(e.alerts_fired),
                "detection": [
                    {"alert": d.alert, "fired_after": d.fired_after, "resolved_after": d.resolved_after}
                    for d in e.delays
                ],
                "paged": None if e.paged is None else list(e.paged),
                "notifications_delivered": e.notifications,
                "wall_seconds": e.wall_seconds,
                "report": e.report,
                "report_error": e.report_error,
            }
            for e in entries
        ],
    }


def _spread(entries: list[SuiteEntry]) -> str:
    """Per alert, the median (min-max) detection delay over the runs that saw it fire."""
    by_alert: dict[str, list[float]] = {}
    for e in entries:
        for d in e.delays:
            if d.fired_after is not None:
                by_alert.setdefault(d.alert, []).append(d.fired_after)
    return ", ".join(
        f"{alert} +{statistics.median(v):g}s" + (f" ({min(v):g}-{max(v):g})" if min(v) < max(v) else "")
        for alert, v in sorted(by_alert.items())
    )


DELAYS_WIDTH = 46  # with the others, the table (and its seed column) fits 120 columns
PAGED_WIDTH = 17  # "data-engineering," fits on a line


def _wrap(items: list[str], width: int) -> list[str]:
    """A column's lines: ``items`` comma-separated, wrapped between items (an item longer than the
    column is cut), so the column keeps its width; ["-"] when there is none."""
    lines: list[str] = []
    for i, item in enumerate(items):
        item += "," if i < len(items) - 1 else ""
        if lines and len(lines[-1]) + 1 + len(item) <= width:
            lines[-1] += " " + item
        else:
            lines.append(item[:width])
    return lines or ["-"]


def suite_table(entries: list[SuiteEntry], by_seed: bool = False) -> str:
    """The summary printed after a suite; ``by_seed`` adds the seed column and a "held k/n seeds" line per
    scenario. Detection delays and ``paged`` (the PagerDuty services a run paged: "-" for none, or when
    its alerts were not replayed) wrap onto lines of their own, under their column, when they do not fit it.
    The last line is always ``<passed> passed, <failed> failed``: CI reads it.
    """
    seed_head = f" {'seed':>5}" if by_seed else ""
    heads = f"{'detection delays (after fault start)':{DELAYS_WIDTH}} {'paged':{PAGED_WIDTH}}"
    rows = [f"{'scenario':26}{seed_head} {'result':7} {'fired':>5}  {heads} wall"]
    for e in entries:
        seed = f" {'-' if e.seed is None else e.seed:>5}" if by_seed else ""
        if not e.ran:
            rows.append(f"{e.path.stem:26}{seed} {'ERROR':7} {'-':>5}  {(e.error or '').splitlines()[0][:60]}")
            continue
        lead = f"{e.path.stem:26}{seed} {'pass' if e.passed else 'FAIL':7} {len(e.alerts_fired):>5}  "
        delays, paged = _wrap(_delays(e), DELAYS_WIDTH), _wrap(list(e.paged or ()), PAGED_WIDTH)
        for i in range(max(len(delays), len(paged))):
            delay = delays[i] if i < len(delays) else ""
            pages = paged[i] if i < len(paged) else ""
            wall = f" {e.wall_seconds or 0:.1f}s" if i == 0 else ""
            rows.append(
                f"{lead if i == 0 else ' ' * len(lead)}{delay:{DELAYS_WIDTH}} {pages:{PAGED_WIDTH}}{wall}".rstrip()
            )
    if by_seed:
        by_file: dict[Path, list[SuiteEntry]] = {}
        for e in entries:
            by_file.setdefault(e.path, []).append(e)
        rows.append("")
        for path, group in by_file.items():
            held = sum(e.passed for e in group)
            line = f"{path.stem:26} held {held}/{len(group)} seeds"
            failed = [e.seed for e in group if not e.passed and e.seed is not None]
            if failed:
                line += f" (not: --seeds {format_seeds(failed)})"
            spread = _spread(group)
            rows.append(f"{line}  {spread}" if spread else line)
    passed = sum(e.passed for e in entries)
    rows.append(f"{passed} passed, {len(entries) - passed} failed")
    return "\n".join(rows)


def exit_code(entries: list[SuiteEntry]) -> int:
    if any(e.configuration_error for e in entries):
        return 2
    return 0 if all(e.passed for e in entries) else 1
