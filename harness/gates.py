"""The run's samples as the world scrapes them, and the oracle a rollout's gates ask.

A gate decides at a simulated instant from what was scraped until then (design.md, decision
10). So the run's Prometheus runs beside the simulation: at a decision, every scrape taken up to
that instant is turned into samples (stale markers included, ``TargetSamples``) and remote-written,
then each gate's PromQL is evaluated there by an instant query at that instant. Nothing later
has been written, and the instant query cannot look past its own time either.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import httpx

from harness.engine import (
    CONTROLLER_INSTANCE,
    CONTROLLER_JOB,
    DEFAULT_JOB,
    DESK_INSTANCE,
    DESK_JOB,
    Labels,
    SampleSet,
    Scrape,
    TargetSamples,
    instant_query,
    target_labels,
    write,
)
from harness.errors import ConfigurationError
from sim.records import SimResult


@dataclass
class LiveSamples:
    """Every target of a simulated run (the service's replicas, the desks, the rollout
    controller), read into one ``SampleSet`` in instalments, and what of it Prometheus has not
    been sent yet."""

    sim: SimResult
    samples: SampleSet
    _targets: dict[int, TargetSamples] = field(default_factory=dict)  # by id of the scrapes list
    _written: dict[Labels, int] = field(default_factory=dict)

    def advance(self, until: float | None = None) -> None:
        """Read every scrape taken at or before ``until`` (None: all of them)."""
        for scrapes, ended, labels in self._sources():
            target = self._targets.get(id(scrapes))
            if target is None:
                target = self._targets[id(scrapes)] = TargetSamples(self.samples, labels)
            target.take(scrapes, until)
            if ended is not None and (until is None or ended <= until):
                target.end(ended)

    def _sources(self) -> Iterator[tuple[Sequence[Scrape], float | None, Labels]]:
        """(scrapes so far, when the target ended, its labels) of every target, in a fixed order."""
        sim = self.sim
        for t in sim.targets:
            extra = (("version", t.version),) if t.version is not None else ()
            yield t.scrapes, t.ended, target_labels(DEFAULT_JOB, t.instance, extra)
        yield sim.desk_scrapes, None, target_labels(DESK_JOB, DESK_INSTANCE)
        if sim.controller_scrapes:
            yield sim.controller_scrapes, None, target_labels(CONTROLLER_JOB, CONTROLLER_INSTANCE)

    def unwritten(self) -> list[tuple[Labels, list[tuple[int, float]]]]:
        """The samples not handed out before, by series; handed out now."""
        out = []
        for labels, samples in self.samples.series.items():
            done = self._written.get(labels, 0)
            if done < len(samples):
                out.append((labels, samples[done:]))
                self._written[labels] = len(samples)
        return out


def samples_of(sim: SimResult, start_unix: float) -> SampleSet:
    """All of a finished simulation's samples at once."""
    live = LiveSamples(sim, SampleSet(start_unix))
    live.advance()
    return live.samples


@dataclass
class GateOracle:
    """Answers a rollout's gates at a simulated instant from the run's Prometheus at ``url``.
    ``url`` is asked for lazily (the Prometheus started beside the simulation may still be
    starting when the world begins)."""

    live: LiveSamples
    url: Callable[[], str]
    client: httpx.Client

    async def __call__(self, at: float, queries: tuple[str, ...]) -> list[float | None]:
        url = self.url()
        self.live.advance(at)
        write(self.client, url, self.live.unwritten())
        return [self._one(url, q, at) for q in queries]

    def _one(self, url: str, query: str, at: float) -> float | None:
        vector = instant_query(self.client, url, query, self.live.samples.start_unix + at)
        if not vector:
            return None
        if len(vector) > 1:
            raise ConfigurationError(
                f"gate query {query!r} returned {len(vector)} series at simulated second {at:g}; "
                "a gate needs one number: aggregate it (sum, max, ...)"
            )
        value = vector[0][1]
        return None if math.isnan(value) else value
