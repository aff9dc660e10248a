"""Progress output of a run: bounded in a log, one counting line on a terminal."""

from __future__ import annotations

import io

from harness.report import ProgressPrinter


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_gets_a_line_per_tenth_of_the_run() -> None:
    out = io.StringIO()
    printer = ProgressPrinter(out)
    printer.phase_started("simulate")
    for minute in range(5, 1441, 5):  # a day, reported every five simulated minutes
        printer.simulated(minute * 60.0, 86400.0)
    printer.phase_finished("simulate", 42.0)
    lines = [line for line in out.getvalue().splitlines() if "simulated" in line]
    assert len(lines) == 10
    assert lines[0].endswith("(10 %)") and lines[-1] == "    simulated 1440 of 1440 min (100 %)"


def test_a_terminal_gets_one_line_that_counts_up() -> None:
    out = Terminal()
    printer = ProgressPrinter(out)
    for minute in (5, 10, 15):
        printer.simulated(minute * 60.0, 1800.0)
    printer.phase_finished("simulate", 1.0)
    text = out.getvalue()
    assert text.count("\r") == 3 and text.count("\n") == 2  # the counting line ends before the next phase
    assert text.endswith("simulate done in 1.00s\n")
