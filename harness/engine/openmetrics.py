"""Reads series from OpenMetrics text (timestamps in seconds), fast and with line-numbered errors.

prometheus_client's parser validates every family's type rules and costs ~65 µs a sample;
a backtest over a day of metrics has hundreds of thousands. Here only what a series needs is
read: name, labels, value, timestamp. Metadata lines are skipped; ``# EOF`` ends the input.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from harness.engine.samples import SampleSet
from harness.engine.yaml_lines import read_text
from harness.errors import ConfigurationError

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
# the label text is read quoted value by quoted value, so an exemplar's {...} after the sample is not taken in
_LINE = re.compile(rf'^({_NAME})(?:\{{((?:[^"}}]|"(?:[^"\\]|\\.)*")*)\}})?\s+(\S+)(?:\s+(\S+))?(?:\s+#.*)?$')
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|$)')
_UNESCAPE = re.compile(r"\\(.)")


class SeriesFileError(ConfigurationError):
    pass


def _value(text: str) -> float:
    special = {"NaN": math.nan, "+Inf": math.inf, "Inf": math.inf, "-Inf": -math.inf}
    return special[text] if text in special else float(text)


def _labels(text: str, where: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        m = _LABEL.match(text, pos)
        if m is None:
            raise SeriesFileError(f'{where}: cannot read labels {text[pos:]!r} (expected name="value", ...)')
        out.append((m.group(1), _UNESCAPE.sub(lambda e: "\n" if e.group(1) == "n" else e.group(1), m.group(2))))
        pos = m.end()
    return out


def parse_openmetrics(text: str, source: str = "<series>", start_unix: float = 0.0) -> SampleSet:
    samples = SampleSet(start_unix)
    known: dict[tuple[str, str | None], tuple[tuple[str, str], ...]] = {}
    # lines end at "\n" only: str.splitlines would also break inside label values, at \r, \x0b, U+2028 ...
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.removesuffix("\r")  # a CRLF file's line end; a \r in a label value is never last
        if not line.strip():
            continue
        if line.startswith("#"):
            if line.strip() == "# EOF":
                break
            continue
        where = f"{source}:{number}"
        m = _LINE.match(line)
        if m is None:
            raise SeriesFileError(f"{where}: not an OpenMetrics sample line: {line[:120]!r}")
        name, label_text, value_text, ts_text = m.groups()
        if ts_text is None:
            raise SeriesFileError(f"{where}: sample has no timestamp; a backtest needs one (Unix seconds) per sample")
        try:
            value, ts = _value(value_text), float(ts_text)
        except ValueError:
            raise SeriesFileError(f"{where}: value {value_text!r} or timestamp {ts_text!r} is not a number") from None
        key = (name, label_text)
        labels = known.get(key)
        if labels is None:  # series repeat line after line: read each label set once
            labels = known[key] = tuple(sorted([("__name__", name), *_labels(label_text or "", where)]))
        samples.add(labels, round(ts * 1000), value)
    for series in samples.series.values():
        series.sort()
    return samples


def load_openmetrics(path: Path) -> SampleSet:
    """An OpenMetrics file (UTF-8 text); one that is not text is a SeriesFileError naming the line."""
    return parse_openmetrics(read_text(path, "series file", SeriesFileError), str(path))
