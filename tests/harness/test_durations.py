import pytest

from harness.engine import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("5m", 300),
        ("1h30m", 5400),
        ("40ms", 0.04),
        ("1d", 86400),
        (12, 12),
        (2.5, 2.5),
    ],
)
def test_parse(text: str | float, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "5", "5 m", "m5", "5x", "1h 30m", "-5s"])
def test_parse_rejects_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(ValueError, match="5m"):
        parse_duration(text)


def test_parse_rejects_booleans() -> None:
    with pytest.raises(ValueError):
        parse_duration(True)


@pytest.mark.parametrize(("seconds", "text"), [(0, "0s"), (90, "1m30s"), (3600, "1h"), (0.04, "40ms")])
def test_format(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == pytest.approx(seconds)
