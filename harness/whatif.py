"""What a routing change would have done: a recorded run's alerts through another Alertmanager config.

The run folder keeps what Prometheus' notifier sent (``alerts_sent.jsonl``) and what reached each
receiver (``notifications.jsonl``). ``alertdrill notify RUN --alertmanager-config FILE`` replays
the same sends through the real Alertmanager running FILE and sets the two side by side, matched
by receiver, status and alerts in time order: the same, later or earlier, gone, or new.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import ConfigurationError
from harness.notify import DEFAULT_SPEED, Outage, ReplaySettings, parse_pushes, read_alertmanager_config, replay

SAME_WITHIN = 15.0  # run seconds: one evaluation interval, the replay's precision


@dataclass(frozen=True)
class Row:
    receiver: str
    status: str
    alerts: tuple[str, ...]
    before: float | None  # run seconds, in the recorded run
    after: float | None  # run seconds, through the other config

    @property
    def change(self) -> str:
        if self.before is None:
            return "new"
        if self.after is None:
            return "gone"
        delta = self.after - self.before
        if abs(delta) <= SAME_WITHIN:
            return "same"
        return f"{'later' if delta > 0 else 'earlier'} {abs(delta):.0f}s"


def _load(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigurationError(
            f"{path}: no {what}: the run folder was written without notifications "
            "(--no-notify, no Alertmanager config, or an alertdrill before notifications)"
        ) from None
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read {what}: {exc.strerror}") from exc


def _key(record: dict[str, Any]) -> tuple[str, str, tuple[str, ...]]:
    names = tuple(sorted({str(a.get("alertname")) for a in record.get("alerts", [])}))
    return str(record.get("receiver")), str(record.get("status")), names


def compare(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[Row]:
    """Delivered notifications matched by (receiver, status, alert names), in time order."""
    heard_before = sorted((r for r in before if r.get("delivered")), key=lambda r: float(r["time"]))
    left = sorted((r for r in after if r.get("delivered")), key=lambda r: float(r["time"]))
    rows = []
    for record in heard_before:
        key = _key(record)
        match = next((r for r in left if _key(r) == key), None)
        if match is not None:
            left.remove(match)
        rows.append(Row(*key, float(record["time"]), float(match["time"]) if match else None))
    rows += [Row(*_key(r), None, float(r["time"])) for r in left]
    return sorted(rows, key=lambda r: min(t for t in (r.before, r.after) if t is not None))


def what_if(run_folder: Path, config: Path, speed: float = DEFAULT_SPEED) -> list[Row]:
    verdict = json.loads(_load(run_folder / "verdict.json", "verdict.json"))
    block = verdict.get("notifications")
    if not isinstance(block, dict):
        raise ConfigurationError(f"{run_folder / 'verdict.json'}: the run recorded no notifications (--no-notify?)")
    sent = run_folder / "alerts_sent.jsonl"
    pushes = parse_pushes(_load(sent, "alerts_sent.jsonl"), sent)
    before = [
        json.loads(line) for line in _load(run_folder / "notifications.jsonl", "notifications.jsonl").splitlines()
    ]
    outages = tuple(Outage(o["receiver"], o["start"], o["end"], o["status"]) for o in block.get("outages", []))
    result = replay(
        pushes,
        float(verdict["simulated_seconds"]),
        read_alertmanager_config(config),
        config,
        ReplaySettings(speed, outages),
    )
    return compare(before, [n.record() for n in result.notifications])


def what_if_table(rows: list[Row], config: Path) -> str:
    head = f"  {'recorded':>9}  {'with ' + config.name:>18}  {'receiver':28} {'status':8} {'change':12} alerts"
    lines = [head]
    for r in rows:
        before = "-" if r.before is None else f"{r.before:.0f}s"
        after = "-" if r.after is None else f"{r.after:.0f}s"
        lines.append(f"  {before:>9}  {after:>18}  {r.receiver:28} {r.status:8} {r.change:12} {', '.join(r.alerts)}")
    changed = sum(r.change != "same" for r in rows)
    lines.append(f"  {len(rows) - changed} the same, {changed} changed" if rows else "  no notification either way")
    return "\n".join(lines)
