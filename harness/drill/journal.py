"""A drill's journal: one JSON line per event, written and flushed as it happens.

A drill is a live exercise: when it is killed, the people running it still need to know which
faults were on and what had fired. So each event is one ``write`` of a whole line, flushed at once
to the kernel (a SIGKILL of alertdrill loses nothing already written; a power cut may), and the
reader skips a last line cut short. Each line carries the wall time and the scenario time.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

from harness.errors import RunFolderError


class Journal:
    """``journal.jsonl`` of one drill; ``echo`` (if given) also gets each event, for live output."""

    def __init__(self, path: Path, echo: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.path, self.echo = path, echo
        try:
            self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as exc:
            raise RunFolderError(f"{path}: cannot write the drill's journal: {exc.strerror}") from exc

    def event(self, event: str, run_time: float, **fields: Any) -> None:
        """Record ``event`` (``fault_on``, ``alert_firing``, ``rollback``, ...) at ``run_time``."""
        record = {"wall": round(time.time(), 3), "t": round(run_time, 3), "event": event, **fields}
        os.write(self._fd, (json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n").encode())
        if self.echo is not None:
            self.echo(record)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def read_journal(path: Path) -> Iterator[dict[str, Any]]:
    """The events of a journal, in order; a last line cut short (a drill killed mid-write) is skipped."""
    with path.open(encoding="utf-8") as f:
        for line in f:
            if not line.endswith("\n"):
                return  # cut short
            yield json.loads(line)
