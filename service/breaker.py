"""A circuit breaker: closed, open, half-open, on whatever clock the caller passes in.

After ``failure_threshold`` consecutive failures it opens and rejects calls at once, so a
dead dependency costs no timeouts; after ``reset_timeout`` it lets one probe through
(half-open): success closes it, failure opens it again.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(
        self,
        failure_threshold: int = 5,
        reset_timeout: float = 30.0,
        on_change: Callable[[BreakerState, BreakerState], None] | None = None,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError(f"failure_threshold(={failure_threshold}) must be >= 1")
        if reset_timeout <= 0:
            raise ValueError(f"reset_timeout(={reset_timeout}) must be > 0")
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self.state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probing = False
        self._on_change = on_change

    def _move(self, to: BreakerState) -> None:
        if to is not self.state:
            before, self.state = self.state, to
            if self._on_change is not None:
                self._on_change(before, to)

    def allow(self, now: float) -> bool:
        """May a call go to the dependency now?"""
        if self.state is BreakerState.OPEN and now - self._opened_at >= self.reset_timeout:
            self._move(BreakerState.HALF_OPEN)
        if self.state is BreakerState.CLOSED:
            return True
        if self.state is BreakerState.HALF_OPEN and not self._probing:
            self._probing = True
            return True
        return False

    def success(self, now: float) -> None:
        self._failures, self._probing = 0, False
        self._move(BreakerState.CLOSED)

    def failure(self, now: float) -> None:
        self._probing = False
        self._failures += 1
        if self.state is BreakerState.HALF_OPEN or self._failures >= self.failure_threshold:
            self._opened_at = now
            self._move(BreakerState.OPEN)
