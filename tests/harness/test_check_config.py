"""``alertdrill check-config`` on the repository (clean) and on broken copies of it (each
break reported, naming the file and the rule or panel)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.engine import CONTROLLER_JOB, raw_rules
from harness.errors import PromQLError
from harness.stack.check_config import alert_jobs, alerting_rules, check_project, exposed_by_job

pytestmark = pytest.mark.prometheus
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "config", tmp_path / "config")
    shutil.copytree(REPO / "docs" / "runbooks", tmp_path / "docs" / "runbooks")
    return tmp_path


def test_the_repository_is_clean() -> None:
    assert [str(f) for f in check_project(REPO)] == []


def test_a_rule_without_its_runbook_is_reported(project: Path) -> None:
    (project / "docs" / "runbooks" / "FeatureDrift.md").unlink()
    findings = check_project(project)
    assert [(Path(f.file).name, f.where) for f in findings] == [("prometheus-alerts.yml", "rule FeatureDrift")]
    assert "docs/runbooks/FeatureDrift.md does not exist" in findings[0].message


def test_a_critical_alert_routed_to_chat_is_reported(project: Path) -> None:
    path = project / "config" / "alertmanager.yml"
    text = path.read_text()
    # send data-engineering's pages to its chat channel instead of PagerDuty
    text = text.replace("receiver: pagerduty-data-engineering", "receiver: chat-data-engineering")
    path.write_text(text)
    findings = check_project(project)
    routed = sorted(f.where for f in findings)
    assert routed == ["route of DataPipelineFailure (critical, data-engineering)"], findings
    assert "expected 'pagerduty-data-engineering'" in findings[0].message


DESK_ALERTS = {  # the trading desk's alerts: (severity, the job their series carry)
    "PnLCorrelationLow": ("warning", "trading-desk"),
    "FalsePositiveRateHigh": ("warning", "trading-desk"),
    "AdoptionLow": ("warning", "trading-desk"),
    "CostPerPredictionHigh": ("info", "prediction-api"),
    "DailyBusinessReview": ("info", "trading-desk"),
}


def test_each_desk_alert_is_route_tested_with_its_job() -> None:
    """The job an alert carries comes from the series it reads (through recording rules), or
    a selector's own job="..."; amtool is asked with it."""
    rules = REPO / "config" / "prometheus-alerts.yml"
    recorded = {str(r["record"]): str(r["expr"]) for _, r in raw_rules(rules) if "record" in r}
    exposed = exposed_by_job(REPO)
    desk = {str(r["alert"]): r for _, r in alerting_rules(rules) if r["labels"]["team"] == "trading-desk"}
    assert {
        a: (r["labels"]["severity"], *alert_jobs(r["expr"], recorded, exposed)) for a, r in desk.items()
    } == DESK_ALERTS


def test_a_desk_warning_sent_elsewhere_is_reported(project: Path) -> None:
    path = project / "config" / "alertmanager.yml"
    text = path.read_text()
    path.write_text(text.replace("receiver: chat-trading-desk\n", "receiver: chat-devops\n", 1))
    findings = check_project(project)
    assert sorted(f.where for f in findings) == sorted(
        f"route of {a} (warning, trading-desk)" for a, (severity, _) in DESK_ALERTS.items() if severity == "warning"
    )
    assert all(
        f.message == "with job=trading-desk reaches 'chat-devops', expected 'chat-trading-desk'" for f in findings
    )


def test_a_route_on_the_wrong_job_is_reported(project: Path) -> None:
    """A route matching on `job` is tested as Alertmanager will see the alert: with its job."""
    path = project / "config" / "alertmanager.yml"
    text = path.read_text()
    text = text.replace(
        """- matchers: ['team="trading-desk"']""", """- matchers: ['team="trading-desk"', 'job="prediction-api"']"""
    )
    path.write_text(text)
    findings = check_project(project)
    assert len(findings) == 3, findings
    assert {f.where.split(" (")[0] for f in findings} == {
        "route of PnLCorrelationLow",
        "route of FalsePositiveRateHigh",
        "route of AdoptionLow",
    }


def test_desk_metrics_are_known_from_the_desks_scrape(project: Path) -> None:
    """Queries may name the trading desks' series (their exporter is scraped too), not others."""
    _set_first_query(project, 'sum(rate(desk_trades_total{decision="used"}[5m]))')
    assert check_project(project) == []
    title = _set_first_query(project, "rate(desk_made_up_total[5m])")
    findings = check_project(project)
    assert [(f.where, f.message) for f in findings] == [
        (f"panel {title!r}", "names metrics nothing scraped exposes: desk_made_up_total")
    ]


ROLLOUT_METRICS = {"rollout_replicas", "rollout_traffic_weight", "rollout_phase"}


def test_the_rollout_controllers_metrics_are_known_and_no_alert_carries_its_job() -> None:
    """The controller's scrape (mid-canary) exposes its gauges; no alert reads them, so none is
    route-tested with job=rollout-controller."""
    exposed = exposed_by_job(REPO)
    assert exposed[CONTROLLER_JOB] >= ROLLOUT_METRICS
    assert not exposed[CONTROLLER_JOB] & (exposed["prediction-api"] | exposed["trading-desk"])
    rules = REPO / "config" / "prometheus-alerts.yml"
    recorded = {str(r["record"]): str(r["expr"]) for _, r in raw_rules(rules) if "record" in r}
    carrying = [
        r["alert"] for _, r in alerting_rules(rules) if CONTROLLER_JOB in alert_jobs(r["expr"], recorded, exposed)
    ]
    assert carrying == []


def test_the_deployments_panels_are_checked_against_the_controllers_scrape(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the controller's scrape, the dashboard's rollout panels name metrics nothing exposes."""
    import harness.stack.check_config as cc

    exposed = cc.exposed_by_job

    def without_controller(root: Path) -> dict[str, set[str]]:
        return {job: names for job, names in exposed(root).items() if job != CONTROLLER_JOB}

    monkeypatch.setattr(cc, "exposed_by_job", without_controller)
    findings = check_project(project)
    assert sorted(f.where for f in findings) == [
        "panel 'Replicas by version and readiness'",
        "panel 'Rollout phase'",
        "panel 'Traffic weight per version'",
    ]
    assert all(Path(f.file).name == "grafana-dashboard.json" for f in findings)
    assert {m for f in findings for m in ROLLOUT_METRICS if m in f.message} == ROLLOUT_METRICS


def _set_first_query(project: Path, expr: str) -> str:
    """Replace the dashboard's first panel query; returns the panel's title."""
    path = project / "config" / "grafana-dashboard.json"
    doc = json.loads(path.read_text())
    panel = next(p for row in doc["panels"] for p in [row, *row.get("panels", [])] if p.get("targets"))
    panel["targets"][0]["expr"] = expr
    path.write_text(json.dumps(doc))
    return str(panel["title"])


def test_a_panel_naming_a_missing_metric_is_reported(project: Path) -> None:
    title = _set_first_query(project, "rate(prediction_api_made_up_total[5m])")
    findings = check_project(project)
    assert [(Path(f.file).name, f.where) for f in findings] == [("grafana-dashboard.json", f"panel {title!r}")]
    assert "prediction_api_made_up_total" in findings[0].message


def test_an_unparsable_query_is_promtools_finding(project: Path) -> None:
    title = _set_first_query(project, "sum(rate(up[5m])")
    findings = check_project(project)
    assert any("does not parse" in f.message and f.where == f"panel {title!r}" for f in findings), findings


def test_exit_codes(project: Path, tmp_path: Path) -> None:
    def run(*args: str) -> int:
        command = [sys.executable, "-m", "harness.cli", "check-config", *args]
        return subprocess.run(command, capture_output=True, check=False).returncode

    assert run(str(REPO)) == 0
    (project / "docs" / "runbooks" / "HighCPU.md").unlink()
    assert run(str(project)) == 1
    assert run(str(tmp_path / "nowhere")) == 2


def test_a_query_the_parser_cannot_read_is_a_warning_that_passes(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """promtool accepts it, so only its metric names go unchecked: said, naming the panel, and
    check-config still passes."""
    import harness.stack.check_config as cc
    from harness.cli import main

    title = _set_first_query(project, "rate(prediction_api_made_up_total[5m])")
    names = cc.metric_names

    def lagging(expr: str) -> set[str]:  # a parser behind Prometheus' grammar
        if "made_up" in expr:
            raise PromQLError("alertdrill's PromQL parser cannot read it: unknown function")
        return names(expr)

    monkeypatch.setattr(cc, "metric_names", lagging)
    findings = check_project(project)
    assert [(Path(f.file).name, f.where, f.warning) for f in findings] == [
        ("grafana-dashboard.json", f"panel {title!r}", True)
    ]
    assert str(findings[0]).endswith(
        "warning: metric names not checked: alertdrill's PromQL parser cannot read it: unknown function"
    )
    assert main(["check-config", str(project)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith("queries and metric names, 1 warning(s)")


def test_a_query_promtool_rejects_is_reported_once(project: Path) -> None:
    title = _set_first_query(project, "rate(prediction_api_made_up_total[5m]")
    findings = check_project(project)
    assert [(f.where, f.message.split(":")[0]) for f in findings] == [(f"panel {title!r}", "query does not parse")]
