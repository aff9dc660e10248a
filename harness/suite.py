"""A suite: every scenario file in a folder, each with its run folder, and one summary."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.errors import AlertdrillError, ConfigurationError
from harness.record import write_json
from harness.run import RunResult, run_scenario
from harness.scenario import load_scenario


@dataclass(frozen=True)
class SuiteEntry:
    path: Path
    result: RunResult | None = None
    error: AlertdrillError | None = None

    @property
    def passed(self) -> bool:
        return self.result is not None and self.result.passed


def scenario_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def run_suite(
    folder: Path,
    out_dir: Path,
    seed: int | None = None,
    on_done: Callable[[SuiteEntry, int, int], None] | None = None,
) -> list[SuiteEntry]:
    files = scenario_files(folder)
    if not files:
        raise ConfigurationError(f"{folder}: no scenario files (*.yaml) in this folder")
    entries = []
    for i, path in enumerate(files, 1):
        try:
            scenario, base = load_scenario(path)
            result = run_scenario(scenario, base, seed=seed, out_dir=out_dir / path.stem)
            entry = SuiteEntry(path, result)
        except AlertdrillError as exc:
            entry = SuiteEntry(path, error=exc)
        entries.append(entry)
        if on_done is not None:
            on_done(entry, i, len(files))
    write_json(out_dir / "suite.json", suite_json(entries))
    return entries


def _delays(result: RunResult) -> str:
    parts = [f"{e.alert} +{e.fired_after:g}s" for e in result.verdict.expectations if e.fired_after is not None]
    return ", ".join(parts) or "-"


def suite_json(entries: list[SuiteEntry]) -> dict[str, object]:
    return {
        "passed": all(e.passed for e in entries),
        "finished_unix": time.time(),
        "scenarios": [
            {
                "file": str(e.path),
                "passed": e.passed,
                "error": str(e.error) if e.error else None,
                "run_folder": e.path.stem if e.result else None,
                "alerts_fired": sorted(a.alertname for a in e.result.alerts if a.fired_at is not None)
                if e.result
                else [],
                "wall_seconds": round(e.result.timings.get("total", 0.0), 3) if e.result else None,
            }
            for e in entries
        ],
    }


def suite_table(entries: list[SuiteEntry]) -> str:
    rows = [f"{'scenario':24} {'result':7} {'fired':>5}  {'detection delays (after fault start)':40} wall"]
    for e in entries:
        if e.result is None:
            rows.append(f"{e.path.stem:24} {'ERROR':7} {'-':>5}  {str(e.error).splitlines()[0][:60]}")
            continue
        fired = sum(1 for a in e.result.alerts if a.fired_at is not None)
        rows.append(
            f"{e.path.stem:24} {'pass' if e.passed else 'FAIL':7} {fired:>5}  {_delays(e.result)[:40]:40} "
            f"{e.result.timings.get('total', 0):.1f}s"
        )
    passed = sum(e.passed for e in entries)
    rows.append(f"{passed} passed, {len(entries) - passed} failed")
    return "\n".join(rows)


def exit_code(entries: list[SuiteEntry]) -> int:
    if any(isinstance(e.error, ConfigurationError) for e in entries):
        return 2
    return 0 if all(e.passed for e in entries) else 1
