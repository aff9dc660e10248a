"""Scrapes to stored samples, exactly as Prometheus' scrape loop would have stored them.

Per scrape: every exposed sample, plus a synthetic ``up`` (1, or 0 when the scrape failed)
and ``scrape_samples_scraped``; a stale marker for every series that was in the previous
successful scrape and is not in this one, and for every series when a scrape fails
(design.md, decision 4). Times are Unix milliseconds, as remote write wants them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from prometheus_client.parser import text_string_to_metric_families

from harness.engine.remote_write import STALE_NAN, Labels, is_stale

DEFAULT_JOB = "prediction-api"
DEFAULT_INSTANCE = "prediction-api:8000"
# The trading desks' exporter, as config/prometheus.yml scrapes it (docs/business.md).
DESK_JOB = "trading-desk"
DESK_INSTANCE = "trading-desk:9102"
# The rollout controller's state (replicas, traffic weights, phases) in a world with a deployment.
CONTROLLER_JOB = "rollout-controller"
CONTROLLER_INSTANCE = "rollout-controller:8090"


@dataclass
class SampleSet:
    """Every stored sample of a run, by series, in time order."""

    start_unix: float
    series: dict[Labels, list[tuple[int, float]]] = field(default_factory=dict)

    def add(self, labels: Labels, timestamp_ms: int, value: float) -> None:
        self.series.setdefault(labels, []).append((timestamp_ms, value))

    def __len__(self) -> int:
        return sum(len(v) for v in self.series.values())

    def rows(self) -> Iterable[tuple[float, int, str, Labels, float, bool]]:
        """(seconds since start, unix ms, metric name, other labels, value, stale) per sample."""
        for labels, samples in sorted(self.series.items()):
            name = dict(labels).get("__name__", "")
            rest = tuple(kv for kv in labels if kv[0] != "__name__")
            for ts, value in samples:
                yield ts / 1000 - self.start_unix, ts, name, rest, value, is_stale(value)


class StaleMarking:
    """Appends successive snapshots of a set of series, with a stale marker where one vanishes.

    Prometheus does this for a target's scrapes and for each rule's output between evaluations.
    """

    def __init__(self, out: SampleSet) -> None:
        self.out = out
        self.previous: set[Labels] = set()

    def observe(self, timestamp_ms: int, current: dict[Labels, float]) -> None:
        for labels, value in current.items():
            self.out.add(labels, timestamp_ms, value)
        for labels in self.previous - current.keys():
            self.out.add(labels, timestamp_ms, STALE_NAN)
        self.previous = set(current)


def _series_labels(name: str, labels: dict[str, str], target: Labels) -> Labels:
    merged = dict(labels)
    for key, value in target:
        if key in merged:  # honor_labels: false
            merged[f"exported_{key}"] = merged[key]
        merged[key] = value
    merged["__name__"] = name
    return tuple(sorted(merged.items()))


# A sample line of the text format without escapes or a timestamp: by far the common case.
_LINE = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^\\]*)\})? ([^ ]+)")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)",?')


def _fast_line(line: str) -> tuple[str, dict[str, str], str] | None:
    """Name, labels and value text of a plain sample line; None for anything else."""
    m = _LINE.fullmatch(line)
    if m is None:
        return None
    name, label_text, value = m.groups()
    labels: dict[str, str] = {}
    if label_text:
        end = 0
        for lm in _LABEL.finditer(label_text):
            if lm.start() != end:
                return None
            labels[lm.group(1)] = lm.group(2)
            end = lm.end()
        if end != len(label_text):
            return None
    return name, labels, value


def _full_samples(body: str) -> list[tuple[str, dict[str, str], float]]:
    return [(s.name, s.labels, float(s.value)) for f in text_string_to_metric_families(body) for s in f.samples]


class ScrapeReader:
    """Reads the scrapes of one target into series, remembering each series by its line's text
    before the value: a target exposes the same series scrape after scrape, so after the first
    scrape a sample costs a split, a lookup and a ``float``. A line never seen is checked in
    full (``_fast_line``); a body with any line the fast reader does not accept is read whole by
    prometheus_client's parser."""

    def __init__(self, target: Labels) -> None:
        self.target = target
        self._series: dict[str, Labels] = {}

    def read(self, body: str) -> dict[Labels, float]:
        out: dict[Labels, float] = {}
        series = self._series
        for line in body.splitlines():
            if not line or line[0] == "#":
                continue
            key, _, value = line.rpartition(" ")
            labels = series.get(key)
            if labels is None:
                parsed = _fast_line(line)
                if parsed is None:
                    return self._full(body)
                labels = series[key] = _series_labels(parsed[0], parsed[1], self.target)
            try:
                out[labels] = float(value)
            except ValueError:
                return self._full(body)
        return out

    def _full(self, body: str) -> dict[Labels, float]:
        return {_series_labels(name, labels, self.target): value for name, labels, value in _full_samples(body)}


def parse_exposition(body: str, target: Labels) -> dict[Labels, float]:
    """Every sample of one scrape, by its series' labels (the target's labels added)."""
    return ScrapeReader(target).read(body)


class Scrape(Protocol):
    """What the engine needs of one scrape: when (seconds since the run's start), its body (None
    when it failed) and whether it succeeded. A simulator's scrape record is one; the engine
    knows no simulator."""

    @property
    def time(self) -> float: ...

    @property
    def body(self) -> str | None: ...

    @property
    def ok(self) -> bool: ...


class TargetSamples:
    """One target's samples, appended scrape by scrape as Prometheus' scrape loop appends them:
    a run that must ask Prometheus mid-way (a rollout gate) reads its scrapes in instalments,
    and the samples are the same as those of all the scrapes read at once."""

    def __init__(self, out: SampleSet, target: Labels) -> None:
        self.out, self.target = out, target
        self.exposed = StaleMarking(out)
        self.reader = ScrapeReader(target)
        self.up = _series_labels("up", {}, target)
        self.scraped = _series_labels("scrape_samples_scraped", {}, target)
        self.taken = 0  # scrapes read so far
        self.ended = False

    def take(self, scrapes: Sequence[Scrape], until: float | None = None) -> None:
        """Read the scrapes not read yet, up to (and including) simulated second ``until``."""
        start_unix, out = self.out.start_unix, self.out
        i = self.taken
        while i < len(scrapes) and (until is None or scrapes[i].time <= until):
            scrape = scrapes[i]
            ts = round((start_unix + scrape.time) * 1000)
            current = self.reader.read(scrape.body) if scrape.body is not None else {}
            self.exposed.observe(ts, current)
            out.add(self.up, ts, 1.0 if scrape.ok else 0.0)
            out.add(self.scraped, ts, float(len(current)))
            i += 1
        self.taken = i

    def end(self, time: float) -> None:
        """The target left service discovery at ``time``: its scrape loop stops and marks every
        series it stored stale, ``up`` too (Prometheus' end-of-run staleness), so nothing of a
        removed replica lingers for the five-minute lookback."""
        if self.ended:
            return
        ts = round((self.out.start_unix + time) * 1000)
        self.exposed.observe(ts, {})
        if self.taken:
            self.out.add(self.up, ts, STALE_NAN)
            self.out.add(self.scraped, ts, STALE_NAN)
        self.ended = True


def samples_from_scrapes(
    scrapes: Sequence[Scrape],
    start_unix: float,
    job: str = DEFAULT_JOB,
    instance: str = DEFAULT_INSTANCE,
    into: SampleSet | None = None,
    extra: Labels = (),
) -> SampleSet:
    """The samples of one target's scrapes, added ``into`` a set (another target's) if given.
    ``extra``: target labels beyond ``instance`` and ``job`` (a replica's ``version``)."""
    out = SampleSet(start_unix) if into is None else into
    TargetSamples(out, target_labels(job, instance, extra)).take(scrapes)
    return out


def target_labels(job: str, instance: str, extra: Labels = ()) -> Labels:
    return tuple(sorted((("instance", instance), ("job", job), *extra)))
