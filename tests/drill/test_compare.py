"""The simulation-versus-reality rows of ``alertdrill drill --compare``: the bound check can fail."""

from __future__ import annotations

from harness.drill_compare import Row, report, table


def test_a_row_is_within_its_bound_either_way() -> None:
    assert Row("e", "fired", 60.0, 70.0, 35.0).within
    assert Row("e", "fired", 60.0, 26.0, 35.0).within
    assert Row("e", "fired", 60.0, 25.0 - 1e-3, 35.0).within is False  # negative control: outside by a hair


def test_seen_on_one_side_only_is_outside_and_unbounded_rows_are_shown() -> None:
    assert Row("e", "fired", None, 70.0, 35.0).within is False
    assert Row("e", "fired", None, None, 35.0).within
    assert Row("e", "heard", 10.0, 100.0, None).within  # notifications: shown, not bounded


def test_the_table_marks_each_row() -> None:
    text = table([Row("HighErrorRate fires", "fired", 60.0, 70.0, 35.0), Row("x", "fired", 60.0, 0.0, 35.0)])
    assert "ok" in text and "OUT" in text and "+10.0s" in text and "-60.0s" in text
    drill = {"compare": [Row("y", "resolved", 1.0, 2.0, 5.0).record()]}
    assert "+1.0s" in report(drill) and "(no comparison)" in report({})
