"""Backtesting: whole alerting rules, ``for`` included, evaluated over recorded series.

The series come from an OpenMetrics file, a run folder's ``samples.parquet`` or a running
Prometheus; they are written into a Prometheus of our own, and the rule groups are evaluated
there as in a run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.parquet as pq

from harness.engine import (
    Evaluation,
    EvaluationWindow,
    SampleSet,
    SeriesFileError,
    TemplateContext,
    evaluate_groups,
    load_openmetrics,
    load_rule_groups,
    prometheus_server,
    write,
)
from harness.errors import ConfigurationError, QueryError
from harness.record import instance_json, read_samples_parquet, write_json, write_states

PARQUET_MAGIC = b"PAR1"
# The columns of a run folder's samples.parquet that a backtest reads (harness/record.py writes them).
_TEXT = ("string", "large_string")
PARQUET_COLUMNS = {"timestamp_ms": ("int64",), "metric": _TEXT, "labels": _TEXT, "value": ("double",)}


@dataclass(frozen=True)
class Backtest:
    window: EvaluationWindow
    evaluation: Evaluation


def data_range(samples: SampleSet) -> tuple[float, float]:
    stamps = [ts for series in samples.series.values() for ts, _ in (series[0], series[-1])]
    if not stamps:
        raise ConfigurationError("the series hold no samples: nothing to evaluate")
    return min(stamps) / 1000, max(stamps) / 1000


def backtest(
    rule_files: list[Path],
    samples: SampleSet,
    start: float | None = None,
    end: float | None = None,
    interval: float = 60.0,
    log_dir: Path | None = None,
    force_interval: float | None = None,
) -> Backtest:
    """Evaluate ``rule_files`` (groups without an interval use ``interval``) from start to end, Unix seconds."""
    groups = load_rule_groups(rule_files, default_interval=interval, force_interval=force_interval)
    first, last = data_range(samples)
    start = first if start is None else start
    end = last if end is None else end
    if end <= start:
        raise ConfigurationError(f"--end ({end:g}) must be after --start ({start:g})")
    window = EvaluationWindow(start, end - start)
    with prometheus_server(keep_log_in=log_dir) as prom, httpx.Client(timeout=120.0) as client:
        write(client, prom.url, list(samples.series.items()))
        evaluation = evaluate_groups(client, prom.url, groups, window, TemplateContext())
    return Backtest(window, evaluation)


def write_backtest(result: Backtest, out_dir: Path) -> None:
    """``alerts.json`` and ``states.csv``, times in Unix seconds."""
    out_dir.mkdir(parents=True, exist_ok=True)
    offset = result.window.start_unix
    alerts = sorted(
        (a for t in result.evaluation.timelines for a in t.instances), key=lambda a: (a.active_at, a.alertname)
    )
    write_json(
        out_dir / "alerts.json",
        {
            "start": offset,
            "end": offset + result.window.duration,
            "alerts": [instance_json(a, offset) for a in alerts],
        },
    )
    write_states(out_dir / "states.csv", (r for t in result.evaluation.timelines for r in t.rows), offset)


def load_series(path: Path) -> SampleSet:
    """A series file: a run folder's ``samples.parquet`` (told by its magic bytes) or OpenMetrics text."""
    try:
        with path.open("rb") as f:
            magic = f.read(len(PARQUET_MAGIC))
    except OSError as exc:
        raise SeriesFileError(f"{path}: cannot read series file: {exc.strerror}") from exc
    return load_samples_parquet(path) if magic == PARQUET_MAGIC else load_openmetrics(path)


def load_samples_parquet(path: Path) -> SampleSet:
    """The samples of a run folder's ``samples.parquet``, stale markers included; a Parquet file of
    another shape, or a damaged one, is a SeriesFileError that says what is wrong."""
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError) as exc:
        raise SeriesFileError(f"{path}: cannot read the Parquet file: {exc}") from exc
    wrong = [
        name
        for name, kinds in PARQUET_COLUMNS.items()
        if name not in schema.names or _value_type(schema.field(name).type) not in kinds
    ]
    if wrong:
        wanted = ", ".join(f"{name} ({kinds[0]})" for name, kinds in PARQUET_COLUMNS.items())
        raise SeriesFileError(
            f"{path}: not a run folder's samples.parquet: it needs the columns {wanted}; "
            f"missing or of another type: {', '.join(wrong)}"
        )
    try:
        samples = read_samples_parquet(path, 0.0)
    except (pa.ArrowException, OSError) as exc:
        raise SeriesFileError(f"{path}: cannot read the Parquet file: {exc}") from exc
    except (ValueError, TypeError, AttributeError) as exc:  # a labels cell that is not a JSON object, a null
        raise SeriesFileError(f"{path}: a sample cannot be read ({exc}); column labels holds JSON objects") from exc
    for series in samples.series.values():
        series.sort()
    return samples


def _value_type(kind: pa.DataType) -> str:
    """A column's type, dictionary encoding aside (record.py writes metric and labels as dictionaries)."""
    return str(kind.value_type if isinstance(kind, pa.DictionaryType) else kind)


def fetch_series(url: str, matchers: list[str], start: float, end: float, chunk: float = 3600.0) -> SampleSet:
    """Raw samples of every series matching ``matchers`` in (start, end], read with range selectors."""
    samples = SampleSet(start)
    with httpx.Client(timeout=120.0) as client:
        for matcher in matchers:
            t = start
            while t < end:
                stop = min(end, t + chunk)
                query = f"{matcher}[{round((stop - t) * 1000)}ms]"
                try:
                    response = client.get(f"{url}/api/v1/query", params={"query": query, "time": f"{stop:.3f}"})
                    body = response.json()
                except (httpx.HTTPError, ValueError) as exc:
                    raise QueryError(f"reading {matcher} from {url} failed: {exc}") from exc
                if body.get("status") != "success":
                    raise ConfigurationError(f"{url} refused {query!r}: {body.get('error')}")
                for series in body["data"]["result"]:
                    labels = tuple(sorted(series["metric"].items()))
                    for ts, value in series["values"]:
                        samples.add(labels, round(float(ts) * 1000), float(value))
                t = stop
    for series in samples.series.values():
        series.sort()
    return samples
