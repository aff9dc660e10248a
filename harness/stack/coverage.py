"""``alertdrill coverage``: which scenarios prove each alert rule fires, and which hold it silent.

A rule no scenario makes fire is a rule nobody has seen work: the check fails on it. A
scenario holds a rule silent by saying so (``silent: true``) or by failing on unexpected
alerts (the default) without expecting that one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.scenario import check_alert_names, load_scenario
from harness.stack.check_config import alerting_rules
from harness.suite import scenario_files


@dataclass
class RuleCoverage:
    alert: str
    source: str
    firing: list[str] = field(default_factory=list)
    silent: list[str] = field(default_factory=list)


def coverage(rule_files: list[Path], folders: list[Path]) -> list[RuleCoverage]:
    rules = {
        rule["alert"]: RuleCoverage(str(rule["alert"]), str(path))
        for path in rule_files
        for _, rule in alerting_rules(path)
    }
    wanted = {p.resolve() for p in rule_files}
    for path in sorted(p for folder in folders for p in scenario_files(folder, recursive=True)):
        scenario, base = load_scenario(path)
        own = [(base / r).resolve() for r in scenario.rules]
        if not wanted & set(own):
            continue  # this scenario evaluates other rules
        # A misspelt alert would count for nothing, silently: the scenario's own rules decide.
        check_alert_names(scenario, {rule["alert"] for file in own for _, rule in alerting_rules(file)})
        name = path.stem if path.parent.name == "scenarios" else f"{path.parent.name}/{path.stem}"
        fires = {e.alert for e in scenario.expectations if not e.silent}
        silent = {e.alert for e in scenario.expectations if e.silent}
        for alert, cov in rules.items():
            if alert in fires:
                cov.firing.append(name)
            elif alert in silent or scenario.unexpected_alerts == "fail":
                cov.silent.append(name)
    return list(rules.values())
