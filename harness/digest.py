"""Digests of what a run recorded: its stored samples and its alert timeline.

A simulated run is a pure function of its scenario and seed, so two runs of the same scenario
and seed must store the same samples and see the same alerts, whatever was changed for speed
or structure. A digest reduces a run folder to short hashes that a test can keep: one of every
stored sample of the service and the world's other targets (labels, millisecond timestamp, the
value's exact bits — stale markers included), one of the trading desks' samples (the
``trading-desk`` job, kept apart so that adding the business layer could show the service's
samples unchanged), and one of every alert instance and every pending/firing row of
``states.csv``.

They are computed from the run folder's files, not from objects in memory, so a digest taken
by one version of alertdrill can be compared with one taken by another. Alert values are
compared to 12 significant digits, since Prometheus itself is not bit-for-bit repeatable there.
"""

from __future__ import annotations

import csv
import hashlib
import json
import struct
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from harness.engine import DESK_JOB

DESK_JOB_LABEL = f'"job": "{DESK_JOB}"'  # as the labels column writes it (harness.record)


@dataclass(frozen=True)
class RunDigest:
    samples: str
    timeline: str
    sample_count: int
    alert_count: int
    desk_samples: str = ""
    desk_sample_count: int = 0

    def as_json(self) -> dict[str, object]:
        return {
            "samples": self.samples,
            "timeline": self.timeline,
            "sample_count": self.sample_count,
            "alert_count": self.alert_count,
            "desk_samples": self.desk_samples,
            "desk_sample_count": self.desk_sample_count,
        }


def samples_digests(path: Path) -> tuple[tuple[str, int], tuple[str, int]]:
    """SHA-256 over the samples of ``samples.parquet`` in a canonical order, and their count:
    those of every job but the trading desks', then the desks'.

    Values are hashed by their IEEE-754 bits, so a stale marker (a NaN with a payload) differs
    from an ordinary NaN, and -0.0 from 0.0.
    """
    table = pq.read_table(path, columns=["timestamp_ms", "metric", "labels", "value"]).to_pydict()
    rows = sorted(
        zip(table["metric"], table["labels"], table["timestamp_ms"], table["value"], strict=True),
        key=lambda r: (r[0], r[1], r[2]),
    )
    world, desks = hashlib.sha256(), hashlib.sha256()
    counts = [0, 0]
    for metric, labels, ts, value in rows:
        desk = DESK_JOB_LABEL in labels
        h = desks if desk else world
        counts[desk] += 1
        h.update(f"{metric}\x00{labels}\x00{ts}\x00".encode())
        h.update(struct.pack("<d", value))
    return (world.hexdigest(), counts[0]), (desks.hexdigest(), counts[1])


def timeline_digest(folder: Path) -> tuple[str, int]:
    """SHA-256 over the alert instances of ``verdict.json`` and the rows of ``states.csv``
    (values rounded, see ``_value``)."""
    verdict = json.loads((folder / "verdict.json").read_text(encoding="utf-8"))
    alerts = sorted(
        (
            a["alertname"],
            json.dumps(a["labels"], sort_keys=True),
            a["active_at"],
            a["fired_at"],
            a["resolved_at"],
        )
        for a in verdict["alerts"]
    )
    with (folder / "states.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    states = [(*row[:-1], _value(row[-1])) for row in rows[1:]]
    h = hashlib.sha256()
    h.update(json.dumps(alerts).encode())
    h.update(json.dumps(states).encode())
    return h.hexdigest(), len(alerts)


def _value(text: str) -> str:
    """An alert expression's value to 12 significant digits: Prometheus adds the series of an
    aggregation in map order, so the same samples can give values an ulp apart from one
    evaluation to the next (seen: 0.07883389717724025 and ...026 for the same run)."""
    try:
        return f"{float(text):.12g}"
    except ValueError:
        return text


def run_digest(folder: Path) -> RunDigest:
    (samples, count), (desk, desk_count) = samples_digests(folder / "samples.parquet")
    timeline, alerts = timeline_digest(folder)
    return RunDigest(samples, timeline, count, alerts, desk, desk_count)
