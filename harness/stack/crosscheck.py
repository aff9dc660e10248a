"""Proof against Prometheus: a run folder turned into a ``promtool test rules`` file.

The input series are the run's scraped samples on the scrape grid (stale markers as
``stale``, absent samples as ``_``); the expected alerts are our own timeline's firing
alerts, labels and annotations, at chosen evaluation times. promtool evaluates every group
at the test file's single ``evaluation_interval`` and checks only firing alerts, so our side
is re-evaluated with every group at that interval first; if it passes, our rule manager and
Prometheus' agree on that input step for step. promtool's clock starts at Unix 0, so the
run is moved there: sample times shift by the run's start, and so do the values of series
that are timestamps (named ``*_timestamp_seconds``, as Prometheus' conventions ask), so a
rule comparing ``time()`` with them sees the same ages. Rules that call a calendar function
(``hour()``, ``day_of_week()``, ..., found by ``harness.promql``'s parser) cannot be moved so
and are left out, by name; so are those the parser cannot read, with its reason.
"""

from __future__ import annotations

import json
import math
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from harness.backtest import backtest
from harness.engine import (
    AlertState,
    RuleGroup,
    RuleTimeline,
    SampleSet,
    find_binary,
    format_duration,
    is_stale,
    load_rule_groups,
    rule_document,
)
from harness.errors import ConfigurationError, PromQLError
from harness.promql import reads_calendar
from harness.record import read_samples_parquet

TIMESTAMP_SUFFIX = "_timestamp_seconds"
EVERY_NTH = 10  # quiet evaluations checked besides every transition


@dataclass(frozen=True)
class CrossCheck:
    passed: bool
    checks: int  # (evaluation time, alertname) pairs promtool compared
    output: str
    test_file: str
    skipped: tuple[str, ...] = ()  # alerts that read the calendar: promtool's clock is 1970's
    unread: tuple[tuple[str, str], ...] = ()  # (alert, why): the PromQL parser cannot read them


def _calendar_or_unread(timeline: RuleTimeline) -> bool | str:
    """Whether the rule reads the calendar, or why that cannot be told."""
    try:
        return reads_calendar(timeline.rule.expr)
    except PromQLError as exc:
        return str(exc)


def _value_text(v: float) -> str:
    if is_stale(v):
        return "stale"
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return repr(v)


def _series_text(labels: tuple[tuple[str, str], ...]) -> str:
    d = dict(labels)
    name = d.pop("__name__")
    inner = ",".join(f'{k}="{json.dumps(v)[1:-1]}"' for k, v in sorted(d.items()))
    return f"{name}{{{inner}}}" if inner else name


def input_series(
    samples: SampleSet, start_unix: float, scrape_interval: float, duration: float
) -> list[dict[str, str]]:
    steps = round(duration / scrape_interval) + 1
    out = []
    for labels, points in sorted(samples.series.items()):
        shift = start_unix if dict(labels)["__name__"].endswith(TIMESTAMP_SUFFIX) else 0.0
        values = ["_"] * steps
        for ts, v in points:
            offset = ts / 1000 - start_unix
            index = round(offset / scrape_interval)
            if abs(index * scrape_interval - offset) > 1e-3 or not 0 <= index < steps:
                raise ConfigurationError(f"sample of {_series_text(labels)} at {offset:g}s is off the scrape grid")
            values[index] = _value_text(v if is_stale(v) or not math.isfinite(v) else v - shift)
        while values and values[-1] == "_":
            values.pop()
        out.append({"series": _series_text(labels), "values": " ".join(values)})
    return out


def _check_times(timeline: RuleTimeline, times: list[float]) -> list[float]:
    firing_at = {r.time for r in timeline.rows if r.state is AlertState.FIRING}
    chosen = set(times[::EVERY_NTH])
    for i, t in enumerate(times):
        before = times[i - 1] in firing_at if i else False
        if (t in firing_at) != before:  # a transition: check it and the evaluation before
            chosen.update({t, times[i - 1] if i else t})
    return sorted(chosen)


def alert_tests(timelines: list[RuleTimeline], times: list[float]) -> list[dict[str, object]]:
    tests: list[dict[str, object]] = []
    for timeline in timelines:
        firing: dict[float, list[dict[str, object]]] = {}
        for r in timeline.rows:
            if r.state is AlertState.FIRING:
                exp: dict[str, object] = {"exp_labels": {k: v for k, v in r.labels if k != "alertname"}}
                if r.annotations:
                    exp["exp_annotations"] = dict(r.annotations)
                firing.setdefault(r.time, []).append(exp)
        for t in _check_times(timeline, times):
            tests.append(
                {"eval_time": format_duration(t), "alertname": timeline.rule.name, "exp_alerts": firing.get(t, [])}
            )
    return tests


def _rules_without_raw_annotations(rule_files: list[Path], groups: list[RuleGroup], folder: Path) -> list[Path]:
    """Copies of the rule files minus annotations we keep unrendered (we cannot predict them)."""
    raw = {(g.source, r.name): set(r.raw_annotations) for g in groups for r in g.alerting_rules if r.raw_annotations}
    if not raw:
        return rule_files
    out = []
    for i, path in enumerate(rule_files):
        doc = rule_document(path)
        for g in doc.get("groups") or []:
            for r in g.get("rules") or []:
                for key in raw.get((str(path), r.get("alert")), ()):
                    r["annotations"].pop(key, None)
        copy = folder / f"rules-{i}-{path.name}"
        copy.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        out.append(copy)
    return out


def crosscheck_samples(
    rule_files: list[Path],
    samples: SampleSet,
    start_unix: float,
    duration: float,
    scrape_interval: float,
    interval: float | None = None,
    keep_test_file: Path | None = None,
) -> CrossCheck:
    groups = load_rule_groups(rule_files)
    interval = interval or min((g.interval for g in groups), default=scrape_interval)
    ours = backtest(rule_files, samples, start_unix, start_unix + duration, interval, force_interval=interval)
    times = [k * interval for k in range(math.floor(duration / interval + 1e-9) + 1)]
    with tempfile.TemporaryDirectory(prefix="alertdrill-crosscheck-") as tmp:
        folder = Path(tmp)
        files = _rules_without_raw_annotations(rule_files, groups, folder)
        verdicts = [(t, _calendar_or_unread(t)) for t in ours.evaluation.timelines]
        comparable = [t for t, calendar in verdicts if calendar is False]
        skipped = tuple(t.rule.name for t, calendar in verdicts if calendar is True)
        unread = tuple((t.rule.name, calendar) for t, calendar in verdicts if isinstance(calendar, str))
        tests = alert_tests(comparable, times)
        doc = {
            "rule_files": [str(p.resolve()) for p in files],
            "evaluation_interval": format_duration(interval),
            # Without it promtool evaluates groups in map order, a different one each run: an
            # alert reading a recording rule would then see this evaluation's output or the last.
            "group_eval_order": [g.name for g in groups],
            "tests": [
                {
                    "interval": format_duration(scrape_interval),
                    "input_series": input_series(samples, start_unix, scrape_interval, duration),
                    "alert_rule_test": tests,
                }
            ],
        }
        text = yaml.safe_dump(doc, sort_keys=False, width=1 << 30)
        test_file = folder / "crosscheck_test.yml"
        test_file.write_text(text, encoding="utf-8")
        if keep_test_file is not None:
            keep_test_file.write_text(text, encoding="utf-8")
        proc = subprocess.run(
            [str(find_binary("promtool")), "test", "rules", str(test_file)],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    return CrossCheck(proc.returncode == 0, len(tests), (proc.stdout + proc.stderr).strip(), text, skipped, unread)


def crosscheck_run_folder(folder: Path, keep_test_file: Path | None = None) -> CrossCheck:
    try:
        verdict = json.loads((folder / "verdict.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"{folder}: not a run folder (verdict.json unreadable: {exc})") from exc
    samples = read_samples_parquet(folder / "samples.parquet", verdict["start_unix"])
    return crosscheck_samples(
        [Path(p) for p in verdict["rule_files"]],
        samples,
        verdict["start_unix"],
        verdict["simulated_seconds"],
        verdict.get("scrape_interval", 15.0),
        keep_test_file=keep_test_file,
    )
