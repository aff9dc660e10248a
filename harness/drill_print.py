"""A drill's live output on stderr: each journal event as one line the moment it happens, and a
status line — rewritten in place on a terminal, once every 30 s in a log — saying how far the
drill is, what fires and how many notifications were heard."""

from __future__ import annotations

import shutil
import sys
import time
from typing import Any, TextIO

from harness.drill_run import Printer

QUIET_EVENTS = {"watch_error"}  # said once per streak, not every poll


class DrillPrinter(Printer):
    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stderr
        self.live = self.out.isatty()
        self.last_status = 0.0
        self.status_shown = False
        self.errors: set[str] = set()

    def event(self, record: dict[str, Any]) -> None:
        line = describe(record)
        if record["event"] in QUIET_EVENTS:
            source = str(record.get("source"))
            if source in self.errors:
                return
            self.errors.add(source)
        elif record["event"].startswith("alert"):
            self.errors.clear()
        if self.live and self.status_shown:
            self.out.write("\r\x1b[K")
            self.status_shown = False
        self.out.write(f"  {record['t']:>8.1f}s  {line}\n")
        self.out.flush()

    def status(self, t: float, duration: float, firing: list[str], heard: int) -> None:
        now = time.monotonic()
        if not self.live and now - self.last_status < 30:
            return
        self.last_status = now
        bar = "#" * round(20 * min(1.0, max(0.0, t) / duration))
        line = f"[{bar:20}] {_clock(t)} / {_clock(duration)}  firing: {', '.join(firing) or '-'}  heard: {heard}"
        if self.live:
            self.out.write("\r" + line[: shutil.get_terminal_size().columns - 1] + "\x1b[K")
            self.status_shown = True
        else:
            self.out.write(line + "\n")
        self.out.flush()

    def note(self, text: str) -> None:
        if self.live and self.status_shown:
            self.out.write("\r\x1b[K")
            self.status_shown = False
        self.out.write(text + "\n")
        self.out.flush()


def describe(record: dict[str, Any]) -> str:
    """One journal event, for a person."""
    kind = record["event"]
    if kind in ("fault_on", "fault_off"):
        return f"fault {record['fault']} ({record['kind']}) {'ON' if kind == 'fault_on' else 'off'}"
    if kind.startswith("alert_"):
        labels = ", ".join(f"{k}={v}" for k, v in sorted(record.get("labels", {}).items()) if k not in ("severity",))
        return f"alert {record['alert']} {kind.removeprefix('alert_')}" + (f"  {{{labels}}}" if labels else "")
    if kind.startswith("alertmanager_"):
        by = f" ({record['by']})" if record.get("by") else ""
        return f"alertmanager: {record['alert']} {kind.removeprefix('alertmanager_')}{by}"
    if kind == "notification":
        got = "delivered" if record.get("delivered") else "REFUSED"
        alerts = ", ".join(record.get("alerts", []))
        return f"{record['receiver']} ({record['kind']}) heard {record['status']}: {alerts} [{got}]"
    if kind == "steady_state":
        if record.get("ok"):
            pending = record.get("pending") or []
            return f"steady state {record['when']}: ok" + (
                f" (pending, not firing: {', '.join(pending)})" if pending else ""
            )
        return f"steady state {record['when']}: NOT MET ({', '.join(record.get('unexpected', []))})"
    if kind == "rollback":
        return "rollback: " + "; ".join(record.get("notes", []))
    if kind == "abort":
        return f"ABORT: {record['why']}"
    if kind == "drill_start":
        return f"drill {record['scenario']} (seed {record['seed']}, {_clock(record['duration'])} of wall time)"
    if kind == "stack_up":
        ours = set(record.get("started_by_alertdrill", []))
        parts = [
            f"{part} {record[part]}" + (" (started by alertdrill)" if part in ours else " (yours)")
            for part in ("service", "prometheus", "alertmanager")
            if record.get(part)
        ]
        return "stack up: " + ", ".join(parts)
    if kind == "first_scrape":
        return f"Prometheus scraped job {record['job']} ({record['targets']} target(s) up)"
    if kind == "verdict":
        return "verdict: " + ("PASSED" if record.get("passed") else "FAILED")
    if kind in ("interrupted", "failed"):
        return f"{kind}: {record.get('why', '')}"
    if kind == "watch_error":
        return f"cannot read {record['source']}: {record['error']}"
    rest = {k: v for k, v in record.items() if k not in ("wall", "t", "event")}
    return f"{kind} {rest}" if rest else kind


def _clock(seconds: float) -> str:
    seconds = max(0.0, seconds)
    return f"{int(seconds // 60):02d}:{int(seconds % 60):02d}"
