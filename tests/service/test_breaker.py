import pytest

from service.breaker import BreakerState, CircuitBreaker


def test_opens_after_the_threshold_of_failures_in_a_row() -> None:
    b = CircuitBreaker(failure_threshold=3, reset_timeout=30)
    for t in range(2):
        assert b.allow(t)
        b.failure(t)
    b.success(2)  # a success resets the count
    for t in range(3, 6):
        assert b.allow(t)
        b.failure(t)
    assert b.state is BreakerState.OPEN
    assert not b.allow(10)


def test_half_open_lets_one_probe_through_and_a_success_closes() -> None:
    moves: list[tuple[BreakerState, BreakerState]] = []
    b = CircuitBreaker(1, 30, on_change=lambda a, z: moves.append((a, z)))
    b.failure(0)
    assert not b.allow(29.9)
    assert b.allow(30) and b.state is BreakerState.HALF_OPEN
    assert not b.allow(30.1)  # the probe is still out
    b.success(30.2)
    state: BreakerState = b.state  # moved by success(): not the HALF_OPEN mypy narrowed it to above
    assert state is BreakerState.CLOSED and b.allow(31)
    assert moves == [
        (BreakerState.CLOSED, BreakerState.OPEN),
        (BreakerState.OPEN, BreakerState.HALF_OPEN),
        (BreakerState.HALF_OPEN, BreakerState.CLOSED),
    ]


def test_a_failed_probe_opens_again_for_another_timeout() -> None:
    b = CircuitBreaker(1, 30)
    b.failure(0)
    assert b.allow(30)
    b.failure(30)
    assert b.state is BreakerState.OPEN
    assert not b.allow(59) and b.allow(60)


@pytest.mark.parametrize(("threshold", "timeout", "message"), [(0, 30, "failure_threshold"), (1, 0, "reset_timeout")])
def test_bad_settings_name_the_value(threshold: int, timeout: float, message: str) -> None:
    with pytest.raises(ValueError, match=rf"{message}\(="):
        CircuitBreaker(threshold, timeout)
