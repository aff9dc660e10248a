"""Rule files: checked by the real ``promtool``, then read into typed rule groups.

We read rule files ourselves only to know *what* to evaluate and *when* (group order,
intervals, ``for``, labels); every expression is evaluated by Prometheus.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from harness.binaries import find_binary
from harness.durations import parse_duration
from harness.errors import RuleFileError
from harness.templates import TemplateData, TemplateUnsupported, expand

DEFAULT_EVALUATION_INTERVAL = 15.0


@dataclass(frozen=True)
class AlertingRule:
    name: str
    expr: str
    hold: float = 0.0  # `for`
    keep_firing_for: float = 0.0
    labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()
    raw_annotations: tuple[str, ...] = ()  # annotations whose templates are kept unrendered


@dataclass(frozen=True)
class RecordingRule:
    record: str
    expr: str
    labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RuleGroup:
    name: str
    interval: float
    source: str
    rules: tuple[AlertingRule | RecordingRule, ...] = field(default=())

    @property
    def alerting_rules(self) -> tuple[AlertingRule, ...]:
        return tuple(r for r in self.rules if isinstance(r, AlertingRule))


def check_rules(paths: list[Path]) -> None:
    """Run ``promtool check rules``; a rejection is a RuleFileError carrying promtool's words."""
    for path in paths:
        if not path.is_file():
            raise RuleFileError(f"{path}: rule file not found")
    promtool = find_binary("promtool")
    proc = subprocess.run(
        [str(promtool), "check", "rules", *map(str, paths)], capture_output=True, text=True, timeout=60, check=False
    )
    if proc.returncode != 0:
        detail = proc.stderr.strip() or proc.stdout.strip()
        raise RuleFileError(f"promtool check rules rejected {', '.join(map(str, paths))}:\n{detail}")


def load_rule_groups(
    paths: list[Path],
    default_interval: float = DEFAULT_EVALUATION_INTERVAL,
    check: bool = True,
    force_interval: float | None = None,
) -> list[RuleGroup]:
    """Groups in file order; ``force_interval`` evaluates every group at one interval, as promtool does."""
    if check:
        check_rules(paths)
    groups: list[RuleGroup] = []
    for path in paths:
        groups.extend(_parse_file(path, default_interval))
    if force_interval is not None:
        groups = [RuleGroup(g.name, force_interval, g.source, g.rules) for g in groups]
    return groups


def _parse_file(path: Path, default_interval: float) -> list[RuleGroup]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise RuleFileError(f"{path}: cannot read rule file: {exc}") from exc
    groups = []
    for g in doc.get("groups") or []:
        interval = parse_duration(g["interval"]) if "interval" in g else default_interval
        rules = tuple(_parse_rule(r, path, g["name"]) for r in g.get("rules") or [])
        groups.append(RuleGroup(g["name"], interval, str(path), rules))
    return groups


def _items(mapping: dict[str, object] | None) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((str(k), str(v)) for k, v in (mapping or {}).items()))


def _parse_rule(raw: dict[str, object], path: Path, group: str) -> AlertingRule | RecordingRule:
    labels = _items(raw.get("labels"))  # type: ignore[arg-type]
    if "record" in raw:
        return RecordingRule(str(raw["record"]), str(raw["expr"]), labels)
    name = str(raw["alert"])
    annotations = _items(raw.get("annotations"))  # type: ignore[arg-type]
    probe = TemplateData({"__name__": "probe", "instance": "probe:0"}, 1.0)
    for key, value in labels:
        try:
            expand(value, probe)
        except TemplateUnsupported as exc:
            raise RuleFileError(
                f"{path}: group {group!r}, alert {name!r}: label {key}: {exc}; an alert's labels are its "
                "identity, so alertdrill refuses a label template it cannot expand exactly"
            ) from exc
    raw_annotations = []
    for key, value in annotations:
        try:
            expand(value, probe)
        except TemplateUnsupported:
            raw_annotations.append(key)
    return AlertingRule(
        name=name,
        expr=str(raw["expr"]),
        hold=parse_duration(raw.get("for", 0)),  # type: ignore[arg-type]
        keep_firing_for=parse_duration(raw.get("keep_firing_for", 0)),  # type: ignore[arg-type]
        labels=labels,
        annotations=annotations,
        raw_annotations=tuple(raw_annotations),
    )
