"""Rule files: checked by the real ``promtool``, then read into typed rule groups.

We read rule files ourselves only to know *what* to evaluate and *when* (group order,
intervals, ``for``, labels); every expression is evaluated by Prometheus.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.engine.binaries import find_binary
from harness.engine.durations import parse_duration
from harness.engine.processes import bound, stop
from harness.engine.templates import TemplateData, TemplateUnsupported, expand
from harness.engine.yaml_lines import read_text
from harness.errors import RuleFileError

DEFAULT_EVALUATION_INTERVAL = 15.0
CHECK_TIMEOUT = 15.0  # promtool checks the shipped rules in ~60 ms: one that hangs is broken
# libyaml's safe loader where PyYAML was built with it (four times faster on the shipped rules).
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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


class RuleCheck:
    """``promtool check rules`` running in the background: a run starts it, simulates the world
    meanwhile on the other core, and asks for the verdict before it evaluates (``verdict``), or
    between simulated steps to stop early (``verdict_if_done``)."""

    def __init__(self, paths: list[Path]) -> None:
        for path in paths:
            if not path.is_file():
                raise RuleFileError(f"{path}: rule file not found")
        self.paths = paths
        command = [str(find_binary("promtool")), "check", "rules", *map(str, paths)]
        self._process = subprocess.Popen(
            bound(command), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self._passed = False

    def verdict(self) -> None:
        """Wait for promtool; its rejection is a RuleFileError carrying promtool's words."""
        if self._passed:
            return
        try:
            out, err = self._process.communicate(timeout=CHECK_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise RuleFileError(
                f"promtool check rules took over {CHECK_TIMEOUT:g} s on {', '.join(map(str, self.paths))}"
            ) from None
        if self._process.returncode != 0:
            detail = err.strip() or out.strip()
            raise RuleFileError(f"promtool check rules rejected {', '.join(map(str, self.paths))}:\n{detail}")
        self._passed = True

    def verdict_if_done(self) -> None:
        """``verdict`` if promtool has finished, else nothing (never waits)."""
        if self._process.poll() is not None:
            self.verdict()

    def close(self) -> None:
        stop(self._process)


@contextmanager
def checking_rules(paths: list[Path]) -> Iterator[RuleCheck]:
    """A ``RuleCheck`` whose promtool is stopped on the way out, whatever happened."""
    check = RuleCheck(paths)
    try:
        yield check
    finally:
        check.close()


def check_rules(paths: list[Path]) -> None:
    """Run ``promtool check rules``; a rejection is a RuleFileError carrying promtool's words."""
    with checking_rules(paths) as check:
        check.verdict()


def read_rule_groups(
    paths: list[Path], default_interval: float = DEFAULT_EVALUATION_INTERVAL, force_interval: float | None = None
) -> list[RuleGroup]:
    """Groups in file order, read without promtool (see ``load_rule_groups``); ``force_interval``
    evaluates every group at one interval, as promtool does."""
    groups: list[RuleGroup] = []
    for path in paths:
        groups.extend(_parse_file(path, default_interval))
    if force_interval is not None:
        groups = [RuleGroup(g.name, force_interval, g.source, g.rules) for g in groups]
    return groups


def load_rule_groups(
    paths: list[Path],
    default_interval: float = DEFAULT_EVALUATION_INTERVAL,
    check: bool = True,
    force_interval: float | None = None,
) -> list[RuleGroup]:
    """Groups in file order, after promtool has accepted the files (``check``)."""
    if check:
        check_rules(paths)
    return read_rule_groups(paths, default_interval, force_interval)


def rule_document(path: Path) -> dict[str, Any]:
    """A rule file's YAML as a mapping: the one place alertdrill reads rule YAML, for the run's
    groups as for the stack checks and promtool test files. Text as Prometheus reads it (UTF-8,
    or UTF-16 with a byte-order mark); over 10 MB is a mistake."""
    text = read_text(path, "rule file", RuleFileError, limit=10_000_000, utf16=True)
    try:
        doc = yaml.load(text, Loader=_SAFE_LOADER) or {}
    except yaml.YAMLError as exc:
        raise RuleFileError(f"{path}: cannot read rule file: {exc}") from exc
    if not isinstance(doc, dict):
        raise RuleFileError(f"{path}: a rule file is a mapping with 'groups', not {type(doc).__name__}")
    return doc


def raw_rules(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(group name, rule as written) for every rule of a rule file, in file order."""
    for group in rule_document(path).get("groups") or []:
        for rule in group.get("rules") or []:
            yield str(group.get("name", "?")), rule


def _parse_file(path: Path, default_interval: float) -> list[RuleGroup]:
    doc = rule_document(path)
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
