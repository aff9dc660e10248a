"""``alertdrill check-config``: the monitoring stack as code, checked by the real tools.

promtool checks the rules, the Prometheus config and the rules' unit tests; amtool checks
the Alertmanager config and where each alert would be routed; we check what the tools
cannot know: every rule is owned (severity, team), explained (summary) and has a runbook
that exists, routing follows the seed's ownership, and every query of every rule and
dashboard panel names only metrics that are really exposed: by the service, by the trading
desks' system or by the rollout controller (each read from a real scrape).
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from promql_parser import VectorSelector

from harness.engine import CONTROLLER_JOB, DEFAULT_JOB, DESK_JOB, check_rules, find_binary, raw_rules
from harness.errors import ConfigurationError, PromQLError, RuleFileError
from harness.promql import matched_values, metric_names, nodes, parse

SEVERITIES = ("critical", "warning", "info")
TEAMS = ("devops", "data-engineering", "ml-engineering", "trading-desk")
# The seed's ownership: critical pages the owning team, warnings go to its chat, info to tickets.
RECEIVER = {"critical": "pagerduty-{team}", "warning": "chat-{team}", "info": "tickets"}
ALWAYS_PRESENT = frozenset({"up", "ALERTS", "ALERTS_FOR_STATE", "scrape_duration_seconds", "scrape_samples_scraped"})
_GRAFANA_VARS = (
    (re.compile(r"\$__rate_interval|\$\{__rate_interval\}"), "5m"),
    (re.compile(r"\$__interval|\$\{__interval\}"), "1m"),
    (re.compile(r"\$__range|\$\{__range\}"), "1h"),
    (re.compile(r"\$\{?\w+\}?"), ".*"),  # any template variable: a regex matching anything
)


@dataclass(frozen=True)
class Finding:
    file: str
    where: str  # the rule, panel or check
    message: str
    warning: bool = False  # a check that could not be made, not a fault found: check-config still passes

    def __str__(self) -> str:
        return f"{self.file}: {self.where}: {'warning: ' if self.warning else ''}{self.message}"


@dataclass(frozen=True)
class Query:
    file: str
    where: str
    expr: str


def _run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def alerting_rules(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(group name, rule) for every alerting rule of a rule file."""
    return ((group, rule) for group, rule in raw_rules(path) if "alert" in rule)


def rule_queries(path: Path) -> list[Query]:
    out = []
    for _, rule in raw_rules(path):
        name = rule.get("alert") or rule.get("record") or "?"
        out.append(Query(str(path), f"rule {name}", str(rule.get("expr", ""))))
    return out


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels") or [])


def dashboard_queries(path: Path) -> list[Query]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"{path}: cannot read dashboard JSON: {exc}") from exc
    out = []
    for panel in _panels(doc.get("panels") or []):
        for target in panel.get("targets") or []:
            expr = target.get("expr")
            if expr:
                out.append(Query(str(path), f"panel {panel.get('title', panel.get('id'))!r}", expr))
    for annotation in (doc.get("annotations") or {}).get("list") or []:
        expr = annotation.get("expr") or (annotation.get("target") or {}).get("expr")
        if expr:
            out.append(Query(str(path), f"annotation {annotation.get('name')!r}", expr))
    return out


def grafana_to_promql(expr: str) -> str:
    for pattern, value in _GRAFANA_VARS:
        expr = pattern.sub(value, expr)
    return expr


def check_promtool_rules(paths: list[Path]) -> list[Finding]:
    try:
        check_rules(paths)
    except RuleFileError as exc:
        return [Finding(", ".join(map(str, paths)), "promtool check rules", str(exc))]
    return []


def check_prometheus_config(path: Path) -> list[Finding]:
    proc = _run([str(find_binary("promtool")), "check", "config", str(path)])
    return (
        []
        if proc.returncode == 0
        else [Finding(str(path), "promtool check config", (proc.stdout + proc.stderr).strip())]
    )


def check_rule_tests(folder: Path) -> list[Finding]:
    tests = sorted(folder.glob("*.yml")) + sorted(folder.glob("*.yaml"))
    if not tests:
        return [Finding(str(folder), "promtool test rules", "no rule unit tests (*.yml) found")]
    proc = _run([str(find_binary("promtool")), "test", "rules", *map(str, tests)])
    if proc.returncode == 0:
        return []
    return [Finding(str(folder), "promtool test rules", (proc.stdout + proc.stderr).strip())]


def check_alertmanager(path: Path) -> list[Finding]:
    proc = _run([str(find_binary("amtool")), "check-config", str(path)])
    return (
        [] if proc.returncode == 0 else [Finding(str(path), "amtool check-config", (proc.stdout + proc.stderr).strip())]
    )


def alert_jobs(expr: str, recorded: Mapping[str, str], exposed: Mapping[str, set[str]]) -> set[str]:
    """The `job` labels an expression's result can carry: a selector's own ``job="..."``, else
    the jobs whose scrape exposes the series it names, through recording rules (``recorded``:
    name -> expression) down to the scraped series. Empty when nothing says (``vector(1)``, or
    an expression alertdrill's PromQL parser cannot read)."""
    jobs: set[str] = set()
    todo, seen = [expr], set()
    while todo:
        try:
            tree = parse(todo.pop())
        except PromQLError:
            continue
        for node in nodes(tree):
            if not isinstance(node, VectorSelector):
                continue
            pinned = matched_values(node, "job")
            if pinned:
                jobs |= pinned
                continue
            for name in matched_values(node, "__name__"):
                if name in recorded:
                    if name not in seen:
                        seen.add(name)
                        todo.append(recorded[name])
                else:
                    jobs |= {job for job, series in exposed.items() if name in series}
    return jobs


def check_routes(
    rule_files: list[Path], alertmanager: Path, exposed: Mapping[str, set[str]] | None = None
) -> list[Finding]:
    """Each alert's labels, through amtool's router, must reach the receiver its owner implies:
    its alertname, its rule's labels and (given what each job ``exposed``) each `job` it can
    carry (alert_jobs), so a route that matches on the job is tested as Alertmanager will see it."""
    amtool = str(find_binary("amtool"))
    recorded = {str(r["record"]): str(r.get("expr", "")) for p in rule_files for _, r in raw_rules(p) if "record" in r}
    findings = []
    for path in rule_files:
        for _, rule in alerting_rules(path):
            labels = {str(k): str(v) for k, v in (rule.get("labels") or {}).items()}
            severity, team = labels.get("severity"), labels.get("team")
            if severity not in SEVERITIES or team not in TEAMS:
                continue  # reported by check_rule_metadata
            expected = RECEIVER[severity].format(team=team)
            jobs: list[str | None] = [*sorted(alert_jobs(str(rule.get("expr", "")), recorded, exposed or {}))]
            for job in jobs or [None]:
                tested = labels if job is None or "job" in labels else {**labels, "job": job}
                args = [f"alertname={rule['alert']}", *(f"{k}={v}" for k, v in sorted(tested.items()))]
                proc = _run([amtool, "config", "routes", "test", f"--config.file={alertmanager}", *args])
                got = proc.stdout.strip()
                if proc.returncode not in (0, 1) or got != expected:
                    on = "" if job is None else f"with job={job} "
                    findings.append(
                        Finding(
                            str(alertmanager),
                            f"route of {rule['alert']} ({severity}, {team})",
                            f"{on}reaches {got or proc.stderr.strip()!r}, expected {expected!r}",
                        )
                    )
    return findings


def check_rule_metadata(rule_files: list[Path], root: Path) -> list[Finding]:
    findings = []
    for path in rule_files:
        for _, rule in alerting_rules(path):
            where = f"rule {rule['alert']}"
            labels = rule.get("labels") or {}
            annotations = rule.get("annotations") or {}
            if labels.get("severity") not in SEVERITIES:
                findings.append(Finding(str(path), where, f"label severity must be one of {', '.join(SEVERITIES)}"))
            if labels.get("team") not in TEAMS:
                findings.append(Finding(str(path), where, f"label team must be one of {', '.join(TEAMS)}"))
            if not str(annotations.get("summary", "")).strip():
                findings.append(Finding(str(path), where, "annotation summary is missing"))
            url = str(annotations.get("runbook_url", ""))
            if not url:
                findings.append(Finding(str(path), where, "annotation runbook_url is missing"))
                continue
            match = re.search(r"(docs/runbooks/[^#?]+\.md)", url)
            if match is None:
                findings.append(Finding(str(path), where, f"runbook_url {url!r} does not point into docs/runbooks/"))
            elif not (root / match.group(1)).is_file():
                findings.append(Finding(str(path), where, f"runbook {match.group(1)} does not exist"))
    return findings


def check_queries_parse(queries: list[Query]) -> dict[int, Finding]:
    """promtool decides whether each query parses: one recording rule per query. The findings
    by the index of the query they are about."""
    promtool = str(find_binary("promtool"))
    findings = {}
    with tempfile.TemporaryDirectory(prefix="alertdrill-queries-") as tmp:
        for i, q in enumerate(queries):
            path = Path(tmp) / f"q{i}.yml"
            doc = {"groups": [{"name": "q", "rules": [{"record": "q", "expr": grafana_to_promql(q.expr)}]}]}
            path.write_text(yaml.safe_dump(doc), encoding="utf-8")
        proc = _run([promtool, "check", "rules", *(str(Path(tmp) / f"q{i}.yml") for i in range(len(queries)))])
        if proc.returncode == 0:
            return {}
        text = proc.stdout + proc.stderr
        for i, q in enumerate(queries):
            prefix = f"{Path(tmp) / f'q{i}.yml'}:"  # an error line; promtool also prints "Checking <file>"
            lines = [line for line in text.splitlines() if line.startswith(prefix)]
            if lines:
                detail = lines[-1].removeprefix(prefix).lstrip()
                findings[i] = Finding(q.file, q.where, f"query does not parse: {detail}")
    return findings


def _series_names(exposition: str) -> set[str]:
    from prometheus_client.parser import text_string_to_metric_families

    names: set[str] = set()
    for family in text_string_to_metric_families(exposition):
        if family.type == "counter":
            names.add(f"{family.name}_total")
        elif family.type == "histogram":
            names.update(f"{family.name}{s}" for s in ("_bucket", "_sum", "_count"))
        else:
            names.add(family.name)
        names.update(s.name for s in family.samples)
    return names


def exposed_by_job(root: Path) -> dict[str, set[str]]:
    """Every series name each scraped job exposes: the service, from a real scrape of an
    exercised instance, the desks' system, from its exporter's, and the rollout controller
    (replicas, traffic weights, phases), from its exposition in the middle of a canary."""
    from harness.exercise import scrape_exercised_controller, scrape_exercised_desks, scrape_exercised_service

    return {
        DEFAULT_JOB: _series_names(scrape_exercised_service(root / "config" / "model.json")),
        DESK_JOB: _series_names(scrape_exercised_desks()),
        CONTROLLER_JOB: _series_names(scrape_exercised_controller()),
    }


def check_query_metrics(queries: list[Query], known: set[str]) -> list[Finding]:
    """Queries promtool accepts name only metrics a scraped job exposes (or rules record); one
    that alertdrill's PromQL parser cannot read is a warning: its names go unchecked."""
    findings = []
    for q in queries:
        try:
            names = metric_names(grafana_to_promql(q.expr))
        except PromQLError as exc:
            findings.append(Finding(q.file, q.where, f"metric names not checked: {exc}", warning=True))
            continue
        missing = sorted(names - known)
        if missing:
            findings.append(Finding(q.file, q.where, f"names metrics nothing scraped exposes: {', '.join(missing)}"))
    return findings


def recorded_names(rule_files: list[Path]) -> set[str]:
    return {str(rule["record"]) for path in rule_files for _, rule in raw_rules(path) if "record" in rule}


def check_project(root: Path) -> list[Finding]:
    """Every check, in order (``warning`` ones are checks that could not be made, not faults);
    raises ConfigurationError when the project cannot be checked at all."""
    config = root / "config"
    if not config.is_dir():
        raise ConfigurationError(f"{root}: no config/ folder (give the project folder, e.g. alertdrill check-config .)")
    rule_files = sorted(p for p in config.glob("*.yml") if "groups:" in p.read_text(encoding="utf-8"))
    if not rule_files:
        raise ConfigurationError(f"{config}: no rule files (*.yml with groups:)")
    findings = check_promtool_rules(rule_files)
    for name, check in (("prometheus.yml", check_prometheus_config), ("alertmanager.yml", check_alertmanager)):
        path = config / name
        findings += check(path) if path.is_file() else [Finding(str(path), name, "missing")]
    findings += check_rule_tests(config / "tests")
    findings += check_rule_metadata(rule_files, root)
    exposed = exposed_by_job(root)
    if (config / "alertmanager.yml").is_file():
        findings += check_routes(rule_files, config / "alertmanager.yml", exposed)
    queries = [q for p in rule_files for q in rule_queries(p)]
    dashboard = config / "grafana-dashboard.json"
    if dashboard.is_file():
        queries += dashboard_queries(dashboard)
    else:
        findings.append(Finding(str(dashboard), "dashboard", "missing"))
    unparsed = check_queries_parse(queries)
    findings += unparsed.values()
    known = set().union(*exposed.values()) | recorded_names(rule_files) | ALWAYS_PRESENT
    findings += check_query_metrics([q for i, q in enumerate(queries) if i not in unparsed], known)
    return findings
