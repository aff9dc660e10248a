"""The same scenarios against the deployed artifact: the service under uvicorn, over loopback.

A run is a pure function of scenario and seed, whichever way the service is reached: the
stored samples, and so the verdicts, must be identical to the in-process run's.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from harness.engine import free_port, stop
from harness.errors import ConfigurationError, FaultError
from harness.run import RunResult, run_scenario
from harness.scenario import load_scenario
from harness.targets import serve_command, serve_environment, wait_ready

pytestmark = pytest.mark.prometheus
DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[2]


def run(path: Path, out: Path, **kwargs: object) -> RunResult:
    scenario, base = load_scenario(path)
    return run_scenario(scenario, base, seed=3, out_dir=out, **kwargs)  # type: ignore[arg-type]


def same_record(a: RunResult, b: RunResult) -> None:
    assert a.out_dir is not None and b.out_dir is not None
    left, right = pq.read_table(a.out_dir / "samples.parquet"), pq.read_table(b.out_dir / "samples.parquet")
    assert left.column_names == right.column_names
    for name in left.column_names:  # values bit for bit: Arrow's equals calls NaN unequal to itself
        x, y = left[name].to_numpy(), right[name].to_numpy()
        assert (x.view(np.uint64) == y.view(np.uint64)).all() if x.dtype == np.float64 else (x == y).all(), name
    assert [(x.alertname, x.labels, x.active_at, x.fired_at, x.resolved_at) for x in a.alerts] == [
        (x.alertname, x.labels, x.active_at, x.fired_at, x.resolved_at) for x in b.alerts
    ]


# The tests that compare with the in-process run share it, on one xdist worker.
SHARES_IN_PROCESS_SPIKE = pytest.mark.xdist_group("out_of_process_short_spike")


@pytest.fixture(scope="module")
def in_process_spike(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    return run(DATA / "short_spike.yaml", tmp_path_factory.mktemp("inproc"))


@pytest.fixture
def served() -> Iterator[tuple[str, str]]:
    port, token = free_port(), "token-for-test"
    cmd = serve_command(port, seed=3, workers=2, model=REPO / "config" / "model.json")
    assert token not in cmd  # a secret is never on a command line
    process = subprocess.Popen(cmd, env=serve_environment(token), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process)
        yield url, token
    finally:
        stop(process)


@SHARES_IN_PROCESS_SPIKE
def test_service_url_gives_the_in_process_record(
    served: tuple[str, str], in_process_spike: RunResult, tmp_path: Path
) -> None:
    url, token = served
    result = run(DATA / "short_spike.yaml", tmp_path, service=url, admin_token=token)
    assert result.passed and in_process_spike.passed
    same_record(result, in_process_spike)


@SHARES_IN_PROCESS_SPIKE
def test_spawned_service_gives_the_in_process_record(in_process_spike: RunResult, tmp_path: Path) -> None:
    result = run(DATA / "short_spike.yaml", tmp_path, service="spawn")
    same_record(result, in_process_spike)


def _children() -> set[str]:
    return set(subprocess.run(["pgrep", "-P", str(os.getpid())], capture_output=True, text=True).stdout.split())


def test_spawned_replicas_give_the_in_process_record_and_release(tmp_path: Path) -> None:
    """Replicas as processes of their own (a canary's too) store what app instances in this
    process store, and the release decides the same; every process goes with the run. The
    latency spike, started before the canary, reaches only the replicas running then."""
    before = _children()
    inproc = run(DATA / "short_canary.yaml", tmp_path / "inproc")
    spawned = run(DATA / "short_canary.yaml", tmp_path / "spawn", service="spawn")
    same_record(inproc, spawned)
    decisions = [
        [(d.time, d.action, d.step, [g.value for g in d.gates]) for d in r.decisions] for r in inproc.sim.rollouts
    ]
    assert decisions == [
        [(d.time, d.action, d.step, [g.value for g in d.gates]) for d in r.decisions] for r in spawned.sim.rollouts
    ]
    assert [r.outcome for r in spawned.sim.rollouts] == ["promoted"] and spawned.passed, spawned.verdict
    assert len({t.instance for t in spawned.sim.targets}) == 4  # two of each version
    assert _children() - before == set()  # no replica outlives the run


def test_replicas_need_a_service_alertdrill_starts(served: tuple[str, str], tmp_path: Path) -> None:
    url, token = served
    with pytest.raises(ConfigurationError, match="replicas and releases need a service alertdrill starts"):
        run(DATA / "short_canary.yaml", tmp_path / "x", service=url, admin_token=token)


def test_crash_of_a_spawned_service_restarts_a_new_process(tmp_path: Path) -> None:
    result = run(REPO / "scenarios" / "service_crash.yaml", tmp_path, service="spawn")
    assert result.passed, result.verdict
    assert result.sim.responses["error"] > 0


def test_crash_of_a_service_we_cannot_restart_is_refused(served: tuple[str, str], tmp_path: Path) -> None:
    url, token = served
    with pytest.raises(FaultError, match="--spawn"):
        run(REPO / "scenarios" / "service_crash.yaml", tmp_path, service=url, admin_token=token)


def test_a_token_that_starts_with_a_dash_reaches_the_spawned_service_and_no_command_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``secrets.token_urlsafe`` starts with ``-`` about once in 64 draws: as ``--admin-token -x``
    the child's argument parser refused it (1.5 % of --spawn runs failed, silently)."""
    import httpx

    from harness import targets

    monkeypatch.setattr(secrets, "token_urlsafe", lambda n: "-starts-with-a-dash")
    with targets.spawned(seed=0, workers=2) as target:
        target.start()
        assert target.admin_token == "-starts-with-a-dash"
        reply = httpx.get(
            f"{target.base_url}/admin/chaos",
            headers={"Authorization": "Bearer -starts-with-a-dash", "X-Sim-Time": "1767225600"},
        )
        assert reply.status_code == 200, reply.text
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                assert b"starts-with-a-dash" not in cmdline.read_bytes()
            except OSError:
                continue


def test_a_wrong_admin_token_is_refused_before_simulating(served: tuple[str, str], tmp_path: Path) -> None:
    from harness.errors import ConfigurationError

    url, _ = served
    with pytest.raises(ConfigurationError, match="not this service's admin token"):
        run(DATA / "short_spike.yaml", tmp_path, service=url, admin_token="wrong")
