"""Writes a run folder (design.md, decision 8): verdict.json, samples, states.csv."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from harness.alert_state import AlertInstance, StateRow
from harness.evaluate import SignalSeries
from harness.samples import SampleSet


def instance_json(a: AlertInstance, offset: float = 0.0) -> dict[str, Any]:
    """One alert instance; ``offset`` turns run-relative seconds into Unix seconds."""

    def at(t: float | None) -> float | None:
        return None if t is None else t + offset

    return {
        "alertname": a.alertname,
        "labels": dict(a.labels),
        "annotations": dict(a.annotations),
        **(
            {"note": f"annotations kept raw, their templates are not supported: {', '.join(a.unrendered)}"}
            if a.unrendered
            else {}
        ),
        "active_at": at(a.active_at),
        "fired_at": at(a.fired_at),
        "resolved_at": at(a.resolved_at),
        "ended_at": at(a.ended_at),
    }


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n", encoding="utf-8")


def write_states(path: Path, rows: Iterable[StateRow], offset: float = 0.0) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["time", "alertname", "labels", "state", "value"])
        for r in sorted(rows, key=lambda r: (r.time, r.alertname, r.labels)):
            out.writerow(
                [
                    f"{r.time + offset:.3f}".rstrip("0").rstrip("."),
                    r.alertname,
                    json.dumps(dict(r.labels), sort_keys=True),
                    r.state.value,
                    repr(r.value),
                ]
            )


def write_signals(path: Path, signals: Iterable[SignalSeries]) -> None:
    """What each alert watched, as Prometheus evaluated it: alert, labels (JSON), time, value."""
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["alert", "labels", "time", "value"])
        for s in signals:
            for t, labels, value in s.points:
                out.writerow([s.alert, json.dumps(dict(labels), sort_keys=True), f"{t:g}", repr(value)])


def write_samples_parquet(path: Path, samples: SampleSet) -> None:
    """Every stored sample; stale markers keep their NaN bits and are flagged in ``stale``."""
    cols: dict[str, list[Any]] = {k: [] for k in ("time", "timestamp_ms", "metric", "labels", "value", "stale")}
    for time, ts, name, labels, value, stale in samples.rows():
        cols["time"].append(time)
        cols["timestamp_ms"].append(ts)
        cols["metric"].append(name)
        cols["labels"].append(json.dumps(dict(labels), sort_keys=True))
        cols["value"].append(value)
        cols["stale"].append(stale)
    table = pa.table(
        {
            "time": pa.array(cols["time"], pa.float64()),
            "timestamp_ms": pa.array(cols["timestamp_ms"], pa.int64()),
            "metric": pa.array(cols["metric"], pa.string()).dictionary_encode(),
            "labels": pa.array(cols["labels"], pa.string()).dictionary_encode(),
            "value": pa.array(cols["value"], pa.float64()),
            "stale": pa.array(cols["stale"], pa.bool_()),
        }
    )
    pq.write_table(table, path, compression="zstd")


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def write_openmetrics(path: Path, samples: SampleSet) -> None:
    """OpenMetrics text with timestamps; it cannot carry stale markers, so they are left out."""
    by_name: dict[str, list[tuple[str, int, float]]] = {}
    for _time, ts, name, labels, value, stale in samples.rows():
        if stale:
            continue
        label_text = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
        by_name.setdefault(name, []).append((label_text, ts, value))
    with path.open("w", encoding="utf-8") as f:
        for name in sorted(by_name):
            f.write(f"# TYPE {name} unknown\n")
            for label_text, ts, value in by_name[name]:
                v = "NaN" if math.isnan(value) else repr(value).replace("inf", "Inf")
                braces = f"{{{label_text}}}" if label_text else ""
                f.write(f"{name}{braces} {v} {ts / 1000:.3f}\n")
        f.write("# EOF\n")


def read_samples_parquet(path: Path, start_unix: float) -> SampleSet:
    """The samples of a run folder, stale markers included (their NaN bits survive Parquet)."""
    table = pq.read_table(path, columns=["timestamp_ms", "metric", "labels", "value"]).to_pydict()
    out = SampleSet(start_unix)
    known: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {}
    for ts, name, labels_json, value in zip(
        table["timestamp_ms"], table["metric"], table["labels"], table["value"], strict=True
    ):
        key = (name, labels_json)
        labels = known.get(key)
        if labels is None:
            labels = known[key] = tuple(sorted({**json.loads(labels_json), "__name__": name}.items()))
        out.add(labels, ts, value)
    return out
