"""Lifecycle events of a run, for progress output, reports and notebooks to subscribe to."""

from __future__ import annotations

from typing import Protocol


class RunListener(Protocol):
    def phase_started(self, phase: str) -> None: ...

    def phase_finished(self, phase: str, seconds: float) -> None: ...

    def simulated(self, now: float, total: float) -> None: ...


class Silent:
    """A listener that ignores everything: the default for library calls."""

    def phase_started(self, phase: str) -> None:
        pass

    def phase_finished(self, phase: str, seconds: float) -> None:
        pass

    def simulated(self, now: float, total: float) -> None:
        pass
