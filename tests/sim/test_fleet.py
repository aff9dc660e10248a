"""The fleet's router (sim.fleet): weights by version, readiness, removal, and instance names."""

from __future__ import annotations

import random
from collections import Counter

import pytest
import simpy

from sim.fleet import SINGLE_INSTANCE, Fleet, FleetError, Replica
from sim.records import SimResult
from sim.specs import Build, FleetSpec
from sim.transport import Headers, Reply

A = Build("A", "a.json")
B = Build("B", "b.json")


class StubTransport:
    """A service that answers 200 to everything: these tests check routing, not the service."""

    def __init__(self) -> None:
        self.exchanges = 0

    async def exchange(self, method: str, path: str, headers: Headers, body: bytes | None) -> Reply:
        self.exchanges += 1
        return Reply(200, b"{}")

    async def aclose(self) -> None:
        return None


class NoDraws(random.Random):
    """A router stream that must not be drawn from."""

    def random(self) -> float:
        raise AssertionError("the router drew from its stream")


def make_fleet(
    labelled: bool = True, router_rng: random.Random | None = None, launch: bool = True
) -> tuple[simpy.Environment, Fleet, SimResult]:
    env = simpy.Environment()
    result = SimResult(duration=3600.0)
    fleet = Fleet(
        env,
        FleetSpec(replicas=1, labelled=labelled, startup_delay=30.0),
        1_767_623_400.0,
        None,
        (lambda build: StubTransport()) if launch else None,
        random.Random(1),
        router_rng if router_rng is not None else random.Random(2),
        result,
    )
    return env, fleet, result


def shares(fleet: Fleet, n: int) -> Counter[Replica]:
    return Counter(fleet.route() for _ in range(n))


def test_a_fleet_of_one_replica_never_draws_from_the_router_stream() -> None:
    """A world without a deployment must stay bit for bit the world of before replicas existed."""
    _env, fleet, _ = make_fleet(labelled=False, router_rng=NoDraws(0))
    only = fleet.start(A, StubTransport())
    fleet.set_weights({"A": 1.0})
    assert all(fleet.route() is only for _ in range(10_000))
    fleet.set_weights({"B": 1.0})  # weight on a version nobody serves: the fallback, still no draw
    assert fleet.route() is only


def test_two_replicas_one_removed_draw_nothing_either() -> None:
    """One routable replica is a table of one: the stream's state is untouched however often it routes."""
    rng = random.Random(5)
    _env, fleet, _ = make_fleet(router_rng=rng)
    first = fleet.start(A, StubTransport())
    second = fleet.start(A)
    fleet.set_weights({"A": 1.0})
    fleet.remove(first)
    before = rng.getstate()
    assert all(fleet.route() is second for _ in range(5_000))
    assert rng.getstate() == before


def test_weights_are_by_version_and_split_evenly_within_a_version() -> None:
    """A 0.9 / B 0.1 with two A replicas: B gets ~10 % although it has a third of the replicas."""
    _env, fleet, _ = make_fleet(router_rng=random.Random(7))
    a0 = fleet.start(A, StubTransport())
    a1 = fleet.start(A)
    b0 = fleet.start(B)
    fleet.set_weights({"A": 0.9, "B": 0.1})
    n = 20_000
    got = shares(fleet, n)
    assert set(got) == {a0, a1, b0}
    assert 0.09 <= got[b0] / n <= 0.11
    assert 0.435 <= got[a0] / n <= 0.465 and 0.435 <= got[a1] / n <= 0.465
    assert abs(got[a0] - got[a1]) / n < 0.02


def test_a_version_without_weight_gets_nothing() -> None:
    _env, fleet, _ = make_fleet()
    a0 = fleet.start(A, StubTransport())
    fleet.start(B)
    fleet.set_weights({"A": 1.0, "B": 0.0})
    assert set(shares(fleet, 2_000)) == {a0}


def test_a_replica_that_is_not_ready_gets_nothing_until_its_ready_at() -> None:
    """A request is never routed to a pod that is still starting; once ready it takes its share."""
    env, fleet, _ = make_fleet(router_rng=random.Random(3))
    old = fleet.start(A, StubTransport())
    fleet.set_weights({"A": 1.0})
    env.run(until=10)
    new = fleet.start(A, delay=30.0)
    assert new.ready_at == 40.0 and new.live and not new.ready(39.9)
    assert set(shares(fleet, 2_000)) == {old}
    env.run(until=39.9)
    assert set(shares(fleet, 2_000)) == {old}
    env.run(until=40.1)
    got = shares(fleet, 10_000)
    assert set(got) == {old, new}
    assert 0.47 <= got[new] / 10_000 <= 0.53


def test_a_removed_replica_gets_no_traffic_and_leaves_live_and_of_version() -> None:
    env, fleet, _ = make_fleet()
    a0 = fleet.start(A, StubTransport())
    a1 = fleet.start(A)
    a2 = fleet.start(A)
    b0 = fleet.start(B)
    fleet.set_weights({"A": 1.0})
    assert a1 in set(shares(fleet, 1_000))  # it did get traffic before
    env.run(until=12.5)
    fleet.remove(a1)
    assert a1.removed_at == 12.5 and not a1.live and not a1.ready(100.0)
    assert set(shares(fleet, 3_000)) == {a0, a2}
    assert fleet.live() == [a0, a2, b0]
    assert fleet.of_version("A") == [a0, a2]
    assert fleet.of_version("B") == [b0]
    env.run(until=20)
    fleet.remove(a1)  # removing twice keeps the first time
    assert a1.removed_at == 12.5
    assert fleet.replicas == [a0, a1, a2, b0]  # kept for the record; its target stays in the result


def test_nothing_routable_falls_back_to_the_oldest_live_replica() -> None:
    """All weight on a version whose replicas are still starting: the oldest live replica gets (and fails) them."""
    _env, fleet, _ = make_fleet(router_rng=NoDraws(0))
    a0 = fleet.start(A, StubTransport())
    a1 = fleet.start(A)
    fleet.start(B, delay=30.0)
    fleet.set_weights({"B": 1.0})
    assert all(fleet.route() is a0 for _ in range(100))
    fleet.remove(a0)
    assert fleet.route() is a1
    fleet.remove(a1)
    # only the starting B is live: it is the oldest live one, ready or not
    assert fleet.route().version == "B"


def test_every_replica_removed_still_routes_somewhere() -> None:
    _env, fleet, _ = make_fleet()
    a0 = fleet.start(A, StubTransport())
    a1 = fleet.start(A)
    fleet.set_weights({"A": 1.0})
    fleet.remove(a0)
    fleet.remove(a1)
    assert fleet.route() is a0


def test_labelled_replicas_are_numbered_instances_carrying_their_version() -> None:
    """Each replica is its own scrape target, numbered by start order; numbers are never reused."""
    _env, fleet, result = make_fleet(labelled=True)
    a0 = fleet.start(A, StubTransport())
    a1 = fleet.start(A)
    fleet.start(B)
    fleet.remove(a1)
    fleet.start(A)
    assert [r.instance for r in fleet.replicas] == [f"prediction-api-{k}:8000" for k in range(4)]
    assert [(t.instance, t.version) for t in result.targets] == [
        ("prediction-api-0:8000", "A"),
        ("prediction-api-1:8000", "A"),
        ("prediction-api-2:8000", "B"),
        ("prediction-api-3:8000", "A"),
    ]
    assert [r.target for r in fleet.replicas] == result.targets
    assert fleet.primary is a0.gateway
    assert all(r.gateway.outbox is fleet.outbox for r in fleet.replicas)  # one queue for the driver


def test_an_unlabelled_fleet_is_the_single_service_of_before() -> None:
    _env, fleet, result = make_fleet(labelled=False)
    only = fleet.start(Build("", "", A.server), StubTransport())
    assert only.instance == SINGLE_INSTANCE == "prediction-api:8000"
    assert [(t.instance, t.version) for t in result.targets] == [("prediction-api:8000", None)]


def test_the_first_replica_uses_the_transport_given_and_later_ones_the_launcher() -> None:
    env = simpy.Environment()
    launched: list[Build] = []
    first = StubTransport()

    def launch(build: Build) -> StubTransport:
        launched.append(build)
        return StubTransport()

    fleet = Fleet(env, FleetSpec(labelled=True), 0.0, None, launch, random.Random(1), random.Random(2), SimResult(60.0))
    r0 = fleet.start(A, first)
    fleet.start(B)
    assert r0.gateway.transport is first
    assert launched == [B]


def test_without_a_launcher_a_second_replica_is_refused() -> None:
    _env, fleet, _ = make_fleet(launch=False)
    fleet.start(A, StubTransport())
    with pytest.raises(FleetError, match="needs a launcher"):
        fleet.start(A)
