"""The drill journal survives its writer: every event written before a SIGKILL can be read back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.drill import Journal, read_journal
from harness.errors import RunFolderError

REPO = Path(__file__).resolve().parents[2]


def test_events_are_lines_with_wall_and_scenario_time(tmp_path: Path) -> None:
    echoed: list[dict[str, object]] = []
    with Journal(tmp_path / "journal.jsonl", echo=echoed.append) as journal:
        journal.event("fault_on", 600.0, fault="slow-dependency")
        journal.event("alert_firing", 735.5, alert="HighLatency")
    events = list(read_journal(tmp_path / "journal.jsonl"))
    assert [(e["event"], e["t"]) for e in events] == [("fault_on", 600.0), ("alert_firing", 735.5)]
    assert events[0]["fault"] == "slow-dependency" and isinstance(events[0]["wall"], float)
    assert echoed == events


def test_a_line_cut_short_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_text('{"event":"fault_on","t":1}\n{"event":"fau')
    assert [e["event"] for e in read_journal(path)] == ["fault_on"]


def test_an_unwritable_journal_names_its_path(tmp_path: Path) -> None:
    with pytest.raises(RunFolderError, match="cannot write the drill's journal"):
        Journal(tmp_path / "missing" / "journal.jsonl")


def test_every_event_before_a_sigkill_is_readable(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from pathlib import Path\n"
            "from harness.drill import Journal\n"
            "j = Journal(Path(sys.argv[1]))\n"
            "i = 0\n"
            "while True:\n"
            "    j.event('tick', float(i), n=i)\n"
            "    i += 1\n"
            "    time.sleep(0.001)\n",
            str(path),
        ],
        cwd=REPO,
    )
    deadline = time.monotonic() + 20
    while (not path.exists() or path.stat().st_size < 2000) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    events = list(read_journal(path))
    assert len(events) > 20
    assert [e["n"] for e in events] == list(range(len(events)))  # none lost, none garbled
