"""The shipped scenarios, through the real service and the real Prometheus engine.

Each test checks the observed fire and resolve times against the fault's record itself, not
only the verdict, so a bug in the verdict code cannot make these pass.
"""

from __future__ import annotations

import json

import pytest

from tests.scenarios.conftest import REPO, on_run, shipped

pytestmark = pytest.mark.prometheus


@on_run("latency_spike")
def test_latency_spike_fires_high_latency_in_its_window_and_resolves(shipped_run) -> None:  # type: ignore[no-untyped-def]
    result = shipped_run("latency_spike")
    (fault,) = result.sim.faults
    fired = [a for a in result.alerts if a.fired_at is not None]
    assert [a.alertname for a in fired] == ["HighLatency"]
    (alert,) = fired
    assert 120 <= alert.fired_at - fault.start <= 240
    assert alert.resolved_at is not None and 0 <= alert.resolved_at - fault.end <= 180
    assert result.passed, result.verdict


@on_run("error_burst")
def test_error_burst_fires_high_error_rate_only(shipped_run) -> None:  # type: ignore[no-untyped-def]
    result = shipped_run("error_burst")
    (fault,) = result.sim.faults
    (alert,) = [a for a in result.alerts if a.fired_at is not None]
    assert alert.alertname == "HighErrorRate"
    assert 60 <= alert.fired_at - fault.start <= 150
    assert alert.resolved_at is not None and 0 <= alert.resolved_at - fault.end <= 120
    assert result.sim.responses["503"] > 0
    assert result.passed, result.verdict


@on_run("steady_state")
def test_steady_state_fires_nothing(shipped_run) -> None:  # type: ignore[no-untyped-def]
    result = shipped_run("steady_state")
    assert [a for a in result.alerts if a.fired_at is not None] == []
    assert sum(result.sim.responses.values()) > 30_000  # an hour of traffic really flowed
    assert result.passed


@on_run("latency_spike")
def test_run_folder_holds_the_record(shipped_run) -> None:  # type: ignore[no-untyped-def]
    result = shipped_run("latency_spike")
    folder = result.out_dir
    verdict = json.loads((folder / "verdict.json").read_text())
    assert {
        "scenario",
        "seed",
        "passed",
        "faults",
        "alerts",
        "expectations",
        "simulated_seconds",
        "wall_seconds",
    } <= verdict.keys()
    assert verdict["faults"] == [
        {"name": "slow-dependency", "kind": "latency_spike", "start": 600.0, "end": 900.0, "magnitude": 0.04}
    ]
    (alert,) = [a for a in verdict["alerts"] if a["alertname"] == "HighLatency"]
    (instance,) = [a for a in result.alerts if a.alertname == "HighLatency"]
    assert alert["fired_at"] == instance.fired_at
    states = (folder / "states.csv").read_text().splitlines()
    assert states[0] == "time,alertname,labels,state,value"
    assert any(",pending," in row for row in states) and any(",firing," in row for row in states)
    assert (folder / "samples.parquet").stat().st_size > 0
    assert (folder / "samples.om").read_text().endswith("# EOF\n")


@pytest.mark.parametrize("name", shipped())
def test_every_shipped_scenario_holds(shipped_run, name: str) -> None:  # type: ignore[no-untyped-def]
    result = shipped_run(name)
    failed = [e for e in result.verdict.expectations if not e.passed]
    assert result.passed, failed
    for e in result.verdict.expectations:  # re-check the windows from the raw instances
        if e.instance is not None and e.fault is not None:
            fault = next(f for f in result.sim.faults if f.name == e.fault)
            expected = result.scenario.expectations
            spec = next(x for x in expected if x.alert == e.alert and x.fault == e.fault)
            assert spec.fires_within is not None and e.instance.fired_at is not None
            assert spec.fires_within[0] <= e.instance.fired_at - fault.start <= spec.fires_within[1]


@pytest.mark.parametrize("name", shipped())
def test_promtool_agrees_with_the_run(shipped_run, name: str) -> None:  # type: ignore[no-untyped-def]
    from harness.stack.crosscheck import crosscheck_run_folder

    check = crosscheck_run_folder(shipped_run(name).out_dir)
    assert check.passed, check.output


@on_run("service_crash")
def test_crash_restarts_the_service_with_fresh_counters(shipped_run) -> None:  # type: ignore[no-untyped-def]
    result = shipped_run("service_crash")
    (fault,) = result.sim.faults
    failed = [s.time for s in result.sim.scrapes if not s.ok]
    assert failed and min(failed) >= fault.start and max(failed) < fault.end
    assert result.sim.responses["error"] > 0  # clients saw refused connections meanwhile
    before = [s for s in result.sim.scrapes if s.time < fault.start][-1]
    after = next(s for s in result.sim.scrapes if s.time >= fault.end)

    def predictions(body: str | None) -> float:
        assert body is not None
        lines = [
            x
            for x in body.splitlines()
            if x.startswith("prediction_api_http_requests_total") and 'route="/predict"' in x and 'status="200"' in x
        ]
        return float(lines[0].split()[-1]) if lines else 0.0  # no child yet: nothing counted

    assert predictions(before.body) > 5000  # ten minutes at 10 requests per second
    assert predictions(after.body) < 50  # the restarted process counts from zero


@on_run("latency_flap")
def test_flapping_fault_goes_pending_but_never_fires(shipped_run) -> None:  # type: ignore[no-untyped-def]
    result = shipped_run("latency_flap")
    pending = [a for a in result.alerts if a.alertname == "HighLatency"]
    assert len(pending) >= 5  # each slow stretch really moved P95 above the threshold
    assert all(a.fired_at is None for a in pending)


@on_run("feed_outage")
def test_a_longer_warning_group_wait_would_let_the_page_mute_the_staleness_chat(shipped_run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The what-if of a routing change, through the real Alertmanager: data engineering's channel
    hears DataStaleness minutes before DataPipelineFailure pages (the inhibition mutes only what
    has not been sent); with the warning route's group_wait at 5m, the page comes first and the
    chat message is never sent."""
    from harness.whatif import what_if

    result = shipped_run("feed_outage")
    assert result.replay is not None
    heard = [(n.receiver, n.status, sorted(n.names())) for n in result.replay.notifications if n.delivered]
    assert heard[:2] == [
        ("chat-data-engineering", "firing", ["DataStaleness"]),
        ("pagerduty-data-engineering", "firing", ["DataPipelineFailure"]),
    ]
    text = (REPO / "config" / "alertmanager.yml").read_text()
    warning = text.index("- matchers: ['severity=\"warning\"']")
    slower = text[:warning] + text[warning:].replace("group_wait: 30s", "group_wait: 5m", 1)
    (tmp_path / "alertmanager.yml").write_text(slower)
    assert result.out_dir is not None
    rows = {(r.receiver, r.status): r.change for r in what_if(result.out_dir, tmp_path / "alertmanager.yml")}
    assert rows[("chat-data-engineering", "firing")] == "gone"
    assert rows[("pagerduty-data-engineering", "firing")] == "same"


@on_run("slo_availability_fast_burn")
def test_one_incident_pages_devops_once_whatever_joins_it(shipped_run) -> None:  # type: ignore[no-untyped-def]
    """config/alertmanager.yml groups critical alerts by team and job: HighErrorRate pages, and
    AvailabilitySLOFastBurn, firing 20 minutes later, joins the same PagerDuty incident (one
    dedup key) instead of paging again. Grouped by alert name, they were two incidents."""
    result = shipped_run("slo_availability_fast_burn")
    assert result.replay is not None
    pages = [n for n in result.replay.notifications if n.delivered and n.kind == "pagerduty"]
    assert {n.receiver for n in pages} == {"pagerduty-devops"}
    assert len(pages) >= 3  # the page, the update when the burn alert joins, the resolve
    assert len({n.incident for n in pages}) == 1
    assert {n.payload["event_action"] for n in pages} == {"trigger", "resolve"}
    assert "AvailabilitySLOFastBurn" in pages[1].names() and "AvailabilitySLOFastBurn" not in pages[0].names()


@on_run("traffic_surge_overload")
def test_a_page_mutes_its_teams_warning_about_the_same_job(shipped_run) -> None:  # type: ignore[no-untyped-def]
    """HighCPU (a DevOps warning) fires while HighLatency pages DevOps: inhibit rule 1 keeps it out
    of the DevOps channel. The alert fired; only its notification was muted."""
    result = shipped_run("traffic_surge_overload")
    assert result.replay is not None
    assert any(a.alertname == "HighCPU" and a.fired_at is not None for a in result.alerts)
    heard = {(n.receiver, name) for n in result.replay.notifications if n.delivered for name in n.names()}
    assert heard == {("pagerduty-devops", "HighLatency")}
