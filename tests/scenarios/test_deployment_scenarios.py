"""Deployments: releases whose gates the real Prometheus judges during the run, and the autoscaler.

The shipped deployment scenarios pass as plugin items; the tests here read the same runs for
what the verdict does not say (the numbers a gate saw, which replicas served, what the job-wide
alerts saw meanwhile), and show that a gate decides on exactly what was scraped before it.
"""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

import httpx
import pytest

from harness.engine import SampleSet, instant_query, starting_prometheus
from harness.errors import ConfigurationError
from harness.gates import GateOracle, LiveSamples
from harness.run import run_scenario, simulate_scenario
from harness.scenario import parse_scenario
from sim.records import SimResult
from tests.scenarios.conftest import SCENARIOS, on_run

pytestmark = pytest.mark.prometheus


def _rollout(result, name):  # type: ignore[no-untyped-def]
    (record,) = [r for r in result.sim.rollouts if r.name == name]
    return record


def _gate(decision, name):  # type: ignore[no-untyped-def]
    (gate,) = [g for g in decision.gates if g.gate == name]
    return gate


@on_run("canary_promoted")
def test_a_good_canary_passes_every_gate_and_is_promoted(shipped_run) -> None:  # type: ignore[no-untyped-def]
    result = shipped_run("canary_promoted")
    record = _rollout(result, "canary-v2")
    analyses = [d for d in record.decisions if d.action == "analysis"]
    assert [d.step for d in analyses] == [0.05, 0.25, 0.5]
    assert all(g.verdict == "pass" for d in analyses for g in d.gates)
    assert all(_gate(d, "accuracy-vs-old").samples >= 1000 for d in analyses)
    assert record.outcome == "promoted"
    old = [t for t in result.sim.targets if t.version == record.old_version]
    assert old and all(t.ended is not None and t.ended >= record.ended for t in old)  # blue is gone after
    assert [a for a in result.alerts if a.fired_at is not None] == []
    assert result.passed, result.verdict


@on_run("canary_regime_fragile")
def test_a_model_worse_in_one_regime_is_stopped_at_five_percent(shipped_run) -> None:  # type: ignore[no-untyped-def]
    result = shipped_run("canary_regime_fragile")
    record = _rollout(result, "canary-fragile")
    assert (record.outcome, record.at_step) == ("rolled_back", 0.05)
    accuracy = _gate(record.decisions[-2], "accuracy-vs-old")
    assert accuracy.verdict == "fail" and accuracy.value is not None and accuracy.value < -0.03
    # What the job-wide alert watched meanwhile: the accuracy over all versions, never near 60 %.
    (signal,) = [s for s in result.signals if s.alert == "ModelAccuracyDrop"]
    during = [v for t, _, v in signal.points if record.started <= t <= record.ended and not math.isnan(v)]
    assert during and min(during) > 0.8
    assert not any(a.alertname == "ModelAccuracyDrop" for a in result.alerts)
    assert result.passed, result.verdict


@on_run("canary_misconfigured_gate")
def test_a_gate_comparing_the_new_version_with_itself_lets_a_broken_model_through(shipped_run) -> None:  # type: ignore[no-untyped-def]
    result = shipped_run("canary_misconfigured_gate")
    record = _rollout(result, "canary-bad-gate")
    assert record.outcome == "promoted"
    assert {_gate(d, "accuracy-vs-old").value for d in record.decisions if d.action == "analysis"} == {0.0}
    (page,) = [a for a in result.alerts if a.alertname == "ModelAccuracyDrop"]
    assert record.ended is not None and page.fired_at is not None and page.fired_at > record.ended
    assert result.passed, result.verdict


@on_run("canary_latency_regression")
def test_a_latency_regression_is_rolled_back_before_any_alert(shipped_run) -> None:  # type: ignore[no-untyped-def]
    result = shipped_run("canary_latency_regression")
    record = _rollout(result, "canary-heavy")
    assert (record.outcome, record.at_step) == ("rolled_back", 0.05)
    latency = _gate(record.decisions[-2], "p95-latency-ratio")
    assert latency.verdict == "fail" and latency.value is not None and latency.value > 1.5
    (new,) = [t for t in result.sim.targets if t.version == record.version]
    assert new.ended is not None and new.ended >= record.ended  # its replica is gone
    assert [a for a in result.alerts if a.fired_at is not None] == []
    assert result.passed, result.verdict


@on_run("blue_green_under_load")
def test_a_blue_green_switch_under_load_fails_no_request(shipped_run) -> None:  # type: ignore[no-untyped-def]
    result = shipped_run("blue_green_under_load")
    record = _rollout(result, "green-v2")
    assert record.outcome == "promoted"
    assert set(result.sim.responses) == {"200"} and sum(result.sim.responses.values()) > 50_000
    switch = next(d for d in record.decisions if d.action == "switch")
    blue = [t for t in result.sim.targets if t.version == record.old_version]
    green = [t for t in result.sim.targets if t.version == record.version]
    assert len(blue) == len(green) == 2
    assert all(t.ended is not None and t.ended >= record.ended for t in blue)
    assert all(t.scrapes and t.scrapes[0].time <= switch.time for t in green)  # ready before the switch
    assert result.passed, result.verdict


@on_run("autoscaler_absorbs_ramp")
def test_the_autoscaler_absorbs_growth(shipped_run) -> None:  # type: ignore[no-untyped-def]
    result = shipped_run("autoscaler_absorbs_ramp")
    assert len(result.sim.targets) >= 4  # replicas started as the load grew
    ups = [d for d in result.sim.scaling if "->" in d.detail]
    assert ups and all(d.time >= 300 for d in ups)  # nothing before the growth began
    assert not any(a.alertname in ("HighCPU", "HighLatency") for a in result.alerts if a.fired_at is not None)
    assert result.passed, result.verdict


@on_run("autoscaler_max_replicas")
def test_the_same_growth_overloads_a_capped_autoscaler(shipped_run) -> None:  # type: ignore[no-untyped-def]
    result = shipped_run("autoscaler_max_replicas")
    assert len(result.sim.targets) == 2  # max_replicas: 2
    fired = {a.alertname for a in result.alerts if a.fired_at is not None}
    assert {"HighCPU", "HighLatency"} <= fired
    assert result.passed, result.verdict


def test_without_its_gate_the_fragile_model_is_promoted_and_the_expectation_fails() -> None:
    """Negative control: the same release with no accuracy gate walks to 100 %, and the shipped
    expectation (rolled back at 5 %) then fails."""
    text = (SCENARIOS / "canary_regime_fragile.yaml").read_text()
    start = text.index("      - name: accuracy-vs-old")
    end = text.index("rollout_expectations:")
    text = text[:start] + text[end:]
    scenario = parse_scenario(text, str(SCENARIOS / "canary_regime_fragile.yaml"))
    result = run_scenario(scenario, SCENARIOS, replay_speed=None)
    assert _rollout(result, "canary-fragile").outcome != "rolled_back"  # on its way to 100 %
    failed = [e for e in result.verdict.expectations if not e.passed]
    assert [e.alert for e in failed] == ["canary-fragile"]
    assert not result.passed


GATE_TIMING = """
name: gate_timing
duration: 9m
seed: 3
traffic: {rate: 4}
deployment: {replicas: 2, startup_delay: 15s}
deployments:
  - name: probe
    kind: canary
    at: 1m
    model: models/v2_good.json
    steps: [50, 100]
    step_every: STEP
    inconclusive_limit: 4
    gates:
      - name: scrapes
        query: sum(count_over_time(up{instance="prediction-api-0:8000"}[1h]))
        min: 0
        samples: vector(0)
        min_samples: 1
      - name: newest
        query: max(timestamp(up{instance="prediction-api-0:8000"}))
        min: 0
"""


@pytest.mark.parametrize("step", ["90s", "97s"])  # decisions on the scrape grid, and off it
def test_a_gate_sees_exactly_what_was_scraped_up_to_its_instant(step: str) -> None:
    """At each decision the gate's Prometheus holds every scrape taken until then (its count and
    newest timestamp are exactly the world's), and nothing after: asked a minute later, the
    newest sample of any target is still the decision's last scrape."""
    scenario = parse_scenario(GATE_TIMING.replace("STEP", step), str(SCENARIOS / "gate_timing.yaml"))
    start = scenario.start_unix()
    sim = SimResult(duration=scenario.duration)
    live = LiveSamples(sim, SampleSet(start))
    seen: list[tuple[float, list[float], list[float | None], list[float | None]]] = []

    async def run() -> None:
        with starting_prometheus() as starting, httpx.Client(timeout=30.0) as client:
            gates = GateOracle(live, lambda: starting.ready().url, client)

            async def oracle(at: float, queries: tuple[str, ...]) -> list[float | None]:
                scraped = [s.time for s in sim.targets[0].scrapes if s.time <= at]
                answers = await gates(at, queries)
                later = instant_query(client, starting.ready().url, "max(timestamp(up))", start + at + 60)
                seen.append((at, scraped, answers, [v for _, v in later]))
                return answers

            await simulate_scenario(scenario, scenario.seed, base_dir=SCENARIOS, oracle=oracle, result=sim)

    asyncio.run(run())
    assert len(seen) == 4  # four inconclusive holds, then the rollback
    for at, scraped, answers, later in seen:
        count, _, newest = answers  # scrapes, its (always short) sample count, newest
        assert count == len(scraped), (at, count, len(scraped))
        assert newest == start + scraped[-1], at
        assert later == [start + scraped[-1]], at  # nothing newer was written
    grid = [at for at, *_ in seen if at % 15 == 0]
    assert (step == "90s") == (len(grid) == len(seen))


def test_a_gate_that_answers_many_series_is_a_configuration_error(tmp_path: Path) -> None:
    text = GATE_TIMING.replace("STEP", "60s").replace(
        'sum(count_over_time(up{instance="prediction-api-0:8000"}[1h]))', "up"
    )
    scenario = parse_scenario(text, str(SCENARIOS / "gate_timing.yaml"))
    with pytest.raises(ConfigurationError, match=r"returned \d+ series .* aggregate it"):
        run_scenario(scenario, SCENARIOS, replay_speed=None)
