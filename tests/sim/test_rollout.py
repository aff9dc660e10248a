"""The rollout controller (sim.rollout): how gates are judged, and canary and blue-green releases
stepped through a SimPy world with a scripted oracle standing in for Prometheus."""

from __future__ import annotations

import asyncio
import dataclasses
import math
import random
from collections.abc import Sequence

import pytest
import simpy

from sim.driver import drive
from sim.fleet import Fleet
from sim.records import GateResult, RolloutRecord, SimResult
from sim.rollout import (
    FAIL,
    INCONCLUSIVE,
    PASS,
    RolloutController,
    RolloutError,
    fill,
    judge_gate,
    overall,
)
from sim.specs import Build, FleetSpec, GateSpec, RolloutSpec
from sim.transport import Headers, Reply

NAN = float("nan")
OLD = Build("v1", "v1.json")
NEW = Build("v2", "v2.json")

# -- judge_gate, overall, fill -------------------------------------------------------------------

MAX = GateSpec("err", "q", max=0.01)
MIN = GateSpec("acc", "q", min=-0.03)
BOTH = GateSpec("ratio", "q", min=0.5, max=2.0)
COUNTED = GateSpec("acc", "q", min=-0.03, samples="n", min_samples=1000)


@pytest.mark.parametrize(
    ("gate", "value", "verdict"),
    [
        (MAX, 0.0, PASS),
        (MAX, 0.01, PASS),  # at most max: the bound itself passes
        (MAX, 0.0101, FAIL),
        (MAX, math.inf, FAIL),
        (MAX, -5.0, PASS),
        (MIN, -0.03, PASS),
        (MIN, -0.0301, FAIL),
        (MIN, 10.0, PASS),
        (BOTH, 0.49, FAIL),
        (BOTH, 0.5, PASS),
        (BOTH, 1.0, PASS),
        (BOTH, 2.0, PASS),
        (BOTH, 2.01, FAIL),
    ],
)
def test_a_gate_compares_the_value_with_its_bounds(gate: GateSpec, value: float, verdict: str) -> None:
    assert judge_gate(gate, value, None) == verdict


@pytest.mark.parametrize("value", [None, NAN])
def test_no_data_is_inconclusive_not_a_failure(value: float | None) -> None:
    """An empty vector (or NaN, e.g. 0/0 before any request) says nothing about the new version."""
    assert judge_gate(MAX, value, None) == INCONCLUSIVE
    assert judge_gate(BOTH, value, None) == INCONCLUSIVE


@pytest.mark.parametrize(
    ("samples", "value", "verdict"),
    [
        (999.0, -0.5, INCONCLUSIVE),  # too few outcomes: even a terrible value is no verdict
        (999.0, 0.0, INCONCLUSIVE),
        (1000.0, -0.5, FAIL),  # at least min_samples: judged
        (1000.0, 0.0, PASS),
        (None, 0.0, INCONCLUSIVE),  # the count query gave nothing
        (NAN, 0.0, INCONCLUSIVE),
        (5000.0, None, INCONCLUSIVE),
        (5000.0, NAN, INCONCLUSIVE),
    ],
)
def test_a_counted_gate_waits_for_its_samples(samples: float | None, value: float | None, verdict: str) -> None:
    assert judge_gate(COUNTED, value, samples) == verdict


def test_a_gate_without_a_samples_query_ignores_the_samples_argument() -> None:
    assert judge_gate(MAX, 0.0, None) == PASS
    assert judge_gate(MAX, 0.0, NAN) == PASS
    assert judge_gate(MAX, 0.0, 0.0) == PASS


def _results(*verdicts: str) -> tuple[GateResult, ...]:
    return tuple(GateResult(f"g{i}", 0.0, None, v) for i, v in enumerate(verdicts))


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        ((PASS, PASS), PASS),
        ((PASS, INCONCLUSIVE), INCONCLUSIVE),
        ((INCONCLUSIVE, FAIL, PASS), FAIL),
        ((FAIL, INCONCLUSIVE), FAIL),
        ((PASS, PASS, FAIL), FAIL),
        ((), PASS),  # a rollout without gates is judged on nothing and passes
    ],
)
def test_overall_fail_beats_inconclusive_beats_pass(verdicts: tuple[str, ...], expected: str) -> None:
    assert overall(_results(*verdicts)) == expected


def test_fill_replaces_the_version_placeholders_and_no_other_braces() -> None:
    query = (
        'sum(rate(x_total{route="/predict", status=~"5..", version="{new}"}[10m]))'
        ' / sum(rate(x_total{version="{old}"}[10m])) + on() group_left count({__name__="y"})'
        ' + sum(z{version="{new}"})'
    )
    assert fill(query, "v2", "v1") == (
        'sum(rate(x_total{route="/predict", status=~"5..", version="v2"}[10m]))'
        ' / sum(rate(x_total{version="v1"}[10m])) + on() group_left count({__name__="y"})'
        ' + sum(z{version="v2"})'
    )
    assert fill('m{version="{ new }"}', "v2", "v1") == 'm{version="{ new }"}'


# -- the controller in a SimPy world -------------------------------------------------------------


class StubTransport:
    """A replica's service: answers every exchange with ``status``, counting what it was sent."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.sent: list[tuple[str, str]] = []

    async def exchange(self, method: str, path: str, headers: Headers, body: bytes | None) -> Reply:
        self.sent.append((method, path))
        return Reply(self.status, b"{}")

    async def aclose(self) -> None:
        return None


class ScriptedOracle:
    """Prometheus stand-in: the answers of successive asks, in order; records when it was asked."""

    def __init__(self, answers: Sequence[list[float | None]]) -> None:
        self.answers = list(answers)
        self.asked: list[tuple[float, tuple[str, ...]]] = []

    async def __call__(self, at: float, queries: tuple[str, ...]) -> list[float | None]:
        self.asked.append((at, queries))
        return self.answers.pop(0)


class World:
    """Two stable replicas of v1 (ready at 0), a controller, and a rollout of v2 at ``at`` = 60 s."""

    def __init__(self, oracle: ScriptedOracle | None, new_status: int = 200) -> None:
        self.env = simpy.Environment()
        self.result = SimResult(duration=10_000.0)
        self.spec = FleetSpec(replicas=2, labelled=True, startup_delay=30.0)
        self.transports: list[StubTransport] = []
        self.new_status = new_status

        def launch(build: Build) -> StubTransport:
            t = StubTransport(self.new_status if build.version == NEW.version else 200)
            self.transports.append(t)
            return t

        self.fleet = Fleet(
            self.env, self.spec, 1_767_623_400.0, None, launch, random.Random(1), random.Random(2), self.result
        )
        first = StubTransport()
        self.transports.append(first)
        self.fleet.start(OLD, first)
        self.fleet.start(OLD)
        self.fleet.set_weights({OLD.version: 1.0})
        self.controller = RolloutController(self.env, self.fleet, OLD, self.spec, oracle, self.result)

    def run(self, rollout: RolloutSpec, until: float = 9_000.0) -> RolloutRecord:
        self.env.process(self.controller.run(rollout))
        asyncio.run(drive(self.env, self.fleet.primary, until))
        (record,) = self.result.rollouts
        return record

    def versions(self) -> list[str]:
        return [r.version for r in self.fleet.live()]


ERR = GateSpec("err", 'sum(rate(e{version="{new}"}[5m])) / sum(rate(e{version="{old}"}[5m]))', max=0.01)
ACC = GateSpec("acc", 'a{version="{new}"}', min=-0.03, samples='sum(n{version="{new}"})', min_samples=100)


def canary(*gates: GateSpec, inconclusive_limit: int = 3) -> RolloutSpec:
    return RolloutSpec(
        "canary-v2",
        "canary",
        60.0,
        NEW,
        steps=(0.05, 0.5, 1.0),
        step_every=600.0,
        gates=gates or (ERR,),
        inconclusive_limit=inconclusive_limit,
    )


def test_a_canary_whose_gate_passes_is_promoted() -> None:
    """60 s start, 30 s to ready, 600 s per step (0.05, 0.5), 30 s for the second replica: ended at 1320 s."""
    oracle = ScriptedOracle([[0.0], [0.005]])
    world = World(oracle)
    record = world.run(canary())
    assert (record.outcome, record.at_step, record.started, record.ended) == ("promoted", 1.0, 60.0, 1320.0)
    assert (record.version, record.old_version) == ("v2", "v1")
    # asked at the end of each step before the last, with the versions filled in
    assert [at for at, _ in oracle.asked] == [690.0, 1290.0]
    assert oracle.asked[0][1] == ('sum(rate(e{version="v2"}[5m])) / sum(rate(e{version="v1"}[5m]))',)
    # the old version's replicas are gone, as many new ones as the stable version had
    assert world.versions() == ["v2", "v2"]
    assert world.fleet.of_version("v1") == []
    assert world.fleet.weights == {"v2": 1.0}
    assert world.controller.stable == NEW
    actions = [(d.time, d.action, d.step) for d in record.decisions]
    assert actions == [
        (60.0, "scale", 0.05),
        (90.0, "step", 0.05),
        (690.0, "analysis", 0.05),
        (90.0 + 600.0, "step", 0.5),
        (1290.0, "analysis", 0.5),
        (1290.0, "scale", 1.0),
        (1320.0, "promote", 1.0),
    ]
    # a canary sends the service nothing itself (no smoke requests)
    assert all(t.sent == [] for t in world.transports)


def test_a_canary_whose_gate_fails_at_the_second_step_is_rolled_back_there() -> None:
    oracle = ScriptedOracle([[0.0], [0.2]])
    world = World(oracle)
    record = world.run(canary())
    assert (record.outcome, record.at_step, record.ended) == ("rolled_back", 0.5, 1290.0)
    assert world.versions() == ["v1", "v1"]
    assert world.fleet.of_version("v2") == []
    assert [r.removed_at for r in world.fleet.replicas if r.version == "v2"] == [1290.0]
    assert world.fleet.weights == {"v1": 1.0}
    assert world.controller.stable == OLD
    (failed,) = [d for d in record.decisions if d.action == "analysis" and d.step == 0.5]
    assert failed.gates == (GateResult("err", 0.2, None, FAIL),)
    assert record.decisions[-1].action == "rollback"


def test_weights_follow_the_steps_while_the_canary_runs() -> None:
    """At each step the new version has exactly the step's share and the old one the rest."""
    oracle = ScriptedOracle([[0.0], [0.0]])
    world = World(oracle)
    world.env.process(world.controller.run(canary()))
    seen: dict[float, dict[str, float]] = {}
    for t in (80.0, 100.0, 700.0, 1300.0, 1330.0):
        asyncio.run(drive(world.env, world.fleet.primary, t))
        seen[t] = dict(world.fleet.weights)
    assert seen == {
        80.0: {"v1": 1.0},  # the canary replica is still starting: no weight yet
        100.0: {"v1": 0.95, "v2": 0.05},
        700.0: {"v1": 0.5, "v2": 0.5},
        1300.0: {"v1": 0.5, "v2": 0.5},  # the second new replica is starting
        1330.0: {"v2": 1.0},
    }


def test_inconclusive_answers_limit_times_in_a_row_roll_back() -> None:
    """Too few samples three times in a row (one every step_every): rolled back at the first step."""
    oracle = ScriptedOracle([[0.0, 5.0]] * 3)
    world = World(oracle)
    record = world.run(canary(ACC, inconclusive_limit=3))
    assert (record.outcome, record.at_step, record.ended) == ("rolled_back", 0.05, 1890.0)
    assert [at for at, _ in oracle.asked] == [690.0, 1290.0, 1890.0]
    assert oracle.asked[0][1] == ('a{version="v2"}', 'sum(n{version="v2"})')
    holds = [d for d in record.decisions if d.action == "hold"]
    assert [d.detail for d in holds] == ["inconclusive 1/3", "inconclusive 2/3", "inconclusive 3/3"]
    assert holds[0].gates == (GateResult("acc", 0.0, 5.0, INCONCLUSIVE),)
    assert world.versions() == ["v1", "v1"] and world.fleet.weights == {"v1": 1.0}


def test_inconclusive_answers_are_counted_per_step_and_reset_by_a_pass() -> None:
    """Two holds then a pass at each step never reach a limit of three: promoted."""
    held, passed = [None, 5.0], [0.0, 500.0]
    oracle = ScriptedOracle([held, held, passed, held, held, passed])
    world = World(oracle)
    record = world.run(canary(ACC, inconclusive_limit=3))
    assert (record.outcome, record.at_step) == ("promoted", 1.0)
    assert [at for at, _ in oracle.asked] == [690.0, 1290.0, 1890.0, 2490.0, 3090.0, 3690.0]
    assert record.ended == 3690.0 + 30.0


def test_a_gated_rollout_without_an_oracle_is_refused() -> None:
    world = World(None)
    with pytest.raises(RolloutError, match="its gates need a Prometheus"):
        world.run(canary())


def _blue_green(step_every: float = 250.0, keep_old: float = 600.0, smoke: int = 4) -> RolloutSpec:
    return RolloutSpec(
        "green-v2",
        "blue_green",
        60.0,
        NEW,
        step_every=step_every,
        keep_old=keep_old,
        smoke_requests=smoke,
        gates=(ERR,),
    )


def test_a_blue_green_smoke_checks_green_then_switches_and_watches_until_keep_old() -> None:
    """Green comes up (30 s), answers its smoke requests, takes all traffic at 90 s; the gates are
    asked every 250 s and once more at 90 + 600 s, then blue is removed."""
    oracle = ScriptedOracle([[0.0], [0.0], [0.0]])
    world = World(oracle)
    record = world.run(_blue_green())
    assert (record.outcome, record.at_step, record.ended) == ("promoted", 1.0, 690.0)
    assert [at for at, _ in oracle.asked] == [340.0, 590.0, 690.0]
    green = world.transports[2:]
    assert [len(t.sent) for t in green] == [2, 2]  # four smoke requests, round robin over two
    assert all(s == ("POST", "/predict") for t in green for s in t.sent)
    assert world.versions() == ["v2", "v2"] and world.fleet.weights == {"v2": 1.0}


def test_a_blue_green_whose_smoke_requests_fail_is_rolled_back_before_the_switch() -> None:
    oracle = ScriptedOracle([])
    world = World(oracle, new_status=503)
    record = world.run(_blue_green())
    assert (record.outcome, record.at_step, record.ended) == ("rolled_back", 0.0, 90.0)
    assert oracle.asked == []
    assert record.decisions[-2].detail == "0/4 smoke requests answered 200"
    assert world.versions() == ["v1", "v1"] and world.fleet.weights == {"v1": 1.0}


def test_a_blue_green_never_asks_twice_at_the_same_instant() -> None:
    """Keep_old equal to step_every: one check at 690 s, inconclusive. 'Judge every step_every
    seconds' must not turn into three identical asks at 690 s and a rollback there."""
    held = [0.0, 5.0]
    oracle = ScriptedOracle([held] * 3)
    world = World(oracle)
    spec = _blue_green(step_every=600.0, keep_old=600.0)
    record = world.run(dataclasses.replace(spec, gates=(ACC,)))
    times = [at for at, _ in oracle.asked]
    assert times == [690.0], f"asked at {times}"  # once, at the end of keep_old
    assert (record.outcome, world.fleet.weights) == ("rolled_back", {"v1": 1.0})  # unverified in time
