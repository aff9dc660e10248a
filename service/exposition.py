"""The /metrics text, byte for byte what ``prometheus_client.generate_latest`` writes, faster.

``generate_latest`` sorts, validates and escapes every label of every sample on every scrape,
though a service's series keep their labels for life: at a scrape every 15 s that was a
visible share of a simulated run, and it is work a production scrape pays too. ``Exposition``
asks ``generate_latest`` itself to render each series once, with a placeholder value, keeps
the text before the value, and from then on only formats the value. Families with samples
the text format moves around (``_created``, ``_gsum``, ``_gcount``) are rendered by
``generate_latest`` whole. ``tests/service/test_exposition.py`` compares the two.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from prometheus_client import generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString as _go_float


def _go(value: float) -> str:
    """prometheus_client's ``floatToGoString``, typed."""
    return str(_go_float(value))  # type: ignore[no-untyped-call]


_MOVED = ("_created", "_gsum", "_gcount")  # samples generate_latest moves to families of their own
_PLACEHOLDER = 12345.0
_PLACEHOLDER_TEXT = _go(_PLACEHOLDER)


@dataclass(frozen=True)
class _One:
    """A collector of one family, for rendering one piece of it with ``generate_latest``."""

    family: Metric

    def collect(self) -> Iterable[Metric]:
        yield self.family


def _family(template: Metric, samples: list[Sample]) -> Metric:
    family = Metric(template.name, template.documentation, template.type, template.unit)
    family.samples = samples
    return family


@dataclass
class Exposition:
    """Renders a collector's families as the Prometheus text format, remembering each series' prefix."""

    collector: Collector
    _heads: dict[tuple[str, str, str], str] = field(default_factory=dict)
    _prefixes: dict[tuple[str, tuple[tuple[str, str], ...]], str] = field(default_factory=dict)

    def render(self) -> bytes:
        out: list[str] = []
        for family in self.collector.collect():
            if any(s.name == family.name + suffix for s in family.samples for suffix in _MOVED):
                out.append(generate_latest(_One(family)).decode("utf-8"))
                continue
            out.append(self._head(family))
            for s in family.samples:
                out.append(self._line(family, s))
        return "".join(out).encode("utf-8")

    def _head(self, family: Metric) -> str:
        key = (family.name, family.type, family.documentation)
        head = self._heads.get(key)
        if head is None:
            head = self._heads[key] = generate_latest(_One(_family(family, []))).decode("utf-8")
        return head

    def _line(self, family: Metric, s: Sample) -> str:
        key = (s.name, tuple(s.labels.items()))
        prefix = self._prefixes.get(key)
        if prefix is None:
            probe = Sample(s.name, s.labels, _PLACEHOLDER)
            text = generate_latest(_One(_family(family, [probe]))).decode("utf-8")
            line = text[len(self._head(family)) :]
            suffix = f" {_PLACEHOLDER_TEXT}\n"
            if not line.endswith(suffix):  # not the shape expected: no shortcut for this series
                return generate_latest(_One(_family(family, [s]))).decode("utf-8")[len(self._head(family)) :]
            prefix = self._prefixes[key] = line[: -len(suffix) + 1]
        if s.timestamp is not None or s.exemplar is not None or s.native_histogram is not None:
            return generate_latest(_One(_family(family, [s]))).decode("utf-8")[len(self._head(family)) :]
        return f"{prefix}{_go(s.value)}\n"
