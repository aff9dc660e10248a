"""Writes a run folder (design.md, decision 8): verdict.json, samples, states.csv."""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import shutil
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from harness.engine import STALE_NAN_BITS, AlertInstance, Labels, SampleSet, StateRow, is_stale
from harness.errors import RunFolderError
from harness.signals import SignalSeries

FloatArray = npt.NDArray[np.float64]


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


def writable_folder(folder: Path) -> None:
    """Fail now, before any work, if ``folder`` cannot be created and written: a run found out
    only after simulating for minutes, and then exited 1 as if its expectations had failed."""
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        probe = folder.parent / f".alertdrill-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
        if folder.exists() and not folder.is_dir():
            raise NotADirectoryError(0, "exists and is not a folder")
    except OSError as exc:
        raise RunFolderError(f"{folder}: cannot write the run folder there: {exc.strerror or exc}") from exc


@contextlib.contextmanager
def replaced_atomically(folder: Path) -> Iterator[Path]:
    """A staging folder beside ``folder`` that takes its place only once everything in the block
    was written: a run folder is complete (``verdict.json`` and all) or absent, never half
    written by a full disk or an interrupt. What ``folder`` held before is replaced whole."""
    staging = folder.parent / f".{folder.name}.partial-{os.getpid()}"
    old = folder.parent / f".{folder.name}.old-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        staging.mkdir(parents=True)
        yield staging
        if folder.exists():
            shutil.rmtree(old, ignore_errors=True)
            folder.rename(old)
        staging.rename(folder)
    except OSError as exc:
        raise RunFolderError(f"{folder}: cannot write the run folder: {exc.strerror or exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n", encoding="utf-8")


def write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> None:
    """One JSON object per line: appendable and readable a line at a time (pandas, jq)."""
    with path.open("w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, sort_keys=False, allow_nan=False, separators=(",", ":")) + "\n")


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


def _series_columns(samples: SampleSet) -> Iterable[tuple[str, Labels, npt.NDArray[np.int64], FloatArray]]:
    """Per series in label order: metric name, other labels, timestamps (ms) and values (bits kept)."""
    for labels, points in sorted(samples.series.items()):
        name = dict(labels).get("__name__", "")
        rest = tuple(kv for kv in labels if kv[0] != "__name__")
        ts = np.fromiter((p[0] for p in points), dtype=np.int64, count=len(points))
        values = np.fromiter((p[1] for p in points), dtype=np.float64, count=len(points))
        yield name, rest, ts, values


def write_samples_parquet(path: Path, samples: SampleSet) -> None:
    """Every stored sample; stale markers keep their NaN bits and are flagged in ``stale``.

    Built a series at a time with numpy (a day of scrapes is a million samples: per-sample
    Python lists took seconds and most of a run's memory); the table is the one the
    per-sample construction gave, its dictionaries in order of first appearance.
    """
    names: dict[str, int] = {}
    label_texts: dict[str, int] = {}
    parts: dict[str, list[Any]] = {k: [] for k in ("ts", "value", "metric", "labels")}
    for name, rest, ts, values in _series_columns(samples):
        text = json.dumps(dict(rest), sort_keys=True)
        parts["ts"].append(ts)
        parts["value"].append(values)
        parts["metric"].append(np.full(len(ts), names.setdefault(name, len(names)), dtype=np.int32))
        parts["labels"].append(np.full(len(ts), label_texts.setdefault(text, len(label_texts)), dtype=np.int32))
    ts = np.concatenate(parts["ts"]) if parts["ts"] else np.zeros(0, np.int64)
    values = np.concatenate(parts["value"]) if parts["value"] else np.zeros(0, np.float64)

    def dictionary(indices: list[Any], words: dict[str, int]) -> pa.DictionaryArray:
        codes = np.concatenate(indices) if indices else np.zeros(0, np.int32)
        return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()), pa.array(list(words), pa.string()))

    table = pa.table(
        {
            "time": pa.array(ts / 1000 - samples.start_unix, pa.float64()),
            "timestamp_ms": pa.array(ts, pa.int64()),
            "metric": dictionary(parts["metric"], names),
            "labels": dictionary(parts["labels"], label_texts),
            "value": pa.array(values, pa.float64()),
            "stale": pa.array(values.view(np.uint64) == STALE_NAN_BITS, pa.bool_()),
        }
    )
    pq.write_table(table, path, compression="zstd")


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def write_openmetrics(path: Path, samples: SampleSet) -> None:
    """OpenMetrics text with timestamps; it cannot carry stale markers, so they are left out."""
    by_name: dict[str, list[tuple[str, Sequence[tuple[int, float]]]]] = {}
    for labels, points in sorted(samples.series.items()):
        name = dict(labels).get("__name__", "")
        label_text = ",".join(f'{k}="{_escape(v)}"' for k, v in labels if k != "__name__")
        by_name.setdefault(name, []).append((f"{{{label_text}}}" if label_text else "", points))
    with path.open("w", encoding="utf-8") as f:
        for name in sorted(by_name):
            f.write(f"# TYPE {name} unknown\n")
            for braces, series in by_name[name]:
                f.writelines(
                    f"{name}{braces} {_om_value(value)} {ts / 1000:.3f}\n"
                    for ts, value in series
                    if not is_stale(value)
                )
        f.write("# EOF\n")


def _om_value(value: float) -> str:
    return "NaN" if math.isnan(value) else repr(value).replace("inf", "Inf")


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
