"""Interrupted, killed or left without its service, a run stops at once and leaves nothing behind.

Each test starts ``alertdrill`` with its own TMPDIR and a marker in its environment, which
every process it starts inherits: afterwards no process may carry the marker, and TMPDIR must
be empty. The signal is sent when the run reports the phase it should hit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from harness.engine import free_port
from harness.targets import wait_ready

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.prometheus


def scenario(tmp_path: Path, duration: str) -> Path:
    """``steady_state`` for ``duration``: long enough to be interrupted in the middle."""
    path = tmp_path / f"steady_{duration}.yaml"
    text = (REPO / "scenarios" / "steady_state.yaml").read_text()
    lines = [
        line
        for line in text.splitlines()
        if not line.startswith(("duration:", "rules:", "model:", "name:", "alertmanager:"))
    ]
    path.write_text(
        "\n".join(
            [
                f"name: steady_{duration}",
                f"duration: {duration}",
                f"rules: [{REPO / 'config' / 'prometheus-alerts.yml'}]",
                f"model: {REPO / 'config' / 'model.json'}",
                f"alertmanager: {REPO / 'config' / 'alertmanager.yml'}",
                *lines,
            ]
        )
        + "\n"
    )
    return path


class Alertdrill:
    """One ``alertdrill`` process, its stderr read line by line."""

    def __init__(self, tmp_path: Path, *args: str, env: dict[str, str] | None = None, session: bool = False) -> None:
        self.tmp = tmp_path / "tmp"
        self.tmp.mkdir(exist_ok=True)
        self.marker = f"alertdrill-test-{uuid.uuid4().hex}"
        env = {**os.environ, "TMPDIR": str(self.tmp), "ALERTDRILL_TEST_MARKER": self.marker, **(env or {})}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "harness.cli", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=REPO,
            start_new_session=session,  # a process group of its own, as a terminal's job
        )
        self.said: list[str] = []

    def wait_for(self, text: str, timeout: float = 120.0) -> None:
        assert self.process.stderr is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line:
                break
            self.said.append(line)
            if text in line:
                return
        pytest.fail(f"alertdrill never said {text!r}; it said: {''.join(self.said)[-2000:]}")

    def finish(self, timeout: float) -> tuple[int, str]:
        """Exit code and the rest of stderr, within ``timeout`` seconds."""
        try:
            _, err = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()
            pytest.fail(f"alertdrill did not exit within {timeout:g}s")
        return self.process.returncode, "".join(self.said) + err

    def leftovers(self, settle: float = 10.0) -> list[str]:
        """Processes still carrying the marker, after giving the kernel ``settle`` seconds."""
        deadline = time.monotonic() + settle
        while True:
            found = []
            for environ in Path("/proc").glob("[0-9]*/environ"):
                try:
                    if self.marker.encode() in environ.read_bytes():
                        found.append((environ.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode())
                except OSError:
                    continue
            if not found or time.monotonic() > deadline:
                return found
            time.sleep(0.2)


MODES = [pytest.param((), id="in-process"), pytest.param(("--spawn",), id="spawn")]


@pytest.mark.parametrize("mode", MODES)
def test_sigkill_during_evaluation_leaves_no_process(tmp_path: Path, mode: tuple[str, ...]) -> None:
    run = Alertdrill(
        tmp_path, "run", str(scenario(tmp_path, "2h" if not mode else "30m")), "--out", str(tmp_path / "out"), *mode
    )
    run.wait_for("  evaluate ...")
    run.process.send_signal(signal.SIGKILL)
    code, said = run.finish(timeout=30)
    assert code == -signal.SIGKILL, said  # killed while it ran, not after it finished
    assert run.leftovers() == []
    assert not (tmp_path / "out" / "verdict.json").exists()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_simulation_stops_at_once_and_cleans_up(
    tmp_path: Path, mode: tuple[str, ...], signum: signal.Signals
) -> None:
    """Six simulated hours take ~20 s in-process (minutes with --spawn): an interrupt soon after
    the start must end the run within seconds, with nothing left and no run folder."""
    run = Alertdrill(tmp_path, "run", str(scenario(tmp_path, "6h")), "--out", str(tmp_path / "out"), *mode)
    run.wait_for("  simulate ...")
    time.sleep(1.0)
    run.process.send_signal(signum)
    code, said = run.finish(timeout=15)
    assert code == 128 + signum, said
    assert "interrupted" in said
    assert run.leftovers() == []
    assert list(run.tmp.iterdir()) == []
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("group", [False, True], ids=["SIGTERM-to-alertdrill", "SIGINT-to-its-group"])
def test_an_interrupted_suite_waits_for_its_workers_to_clean_up(tmp_path: Path, group: bool) -> None:
    """A SIGTERM reaches the suite alone, a terminal's Ctrl-C its workers too. Either way each
    worker's run stops its Prometheus and removes its folders before alertdrill exits (once, a
    SIGTERM after the group's SIGINT broke off that cleanup), and no worker takes another run
    (once, one did, and printed a ConnectionRefusedError traceback)."""
    folder = tmp_path / "suite"
    folder.mkdir()
    text = scenario(tmp_path, "6h").read_text()
    for k in range(3):
        (folder / f"steady_{k}.yaml").write_text(text)
    out = tmp_path / "out"
    run = Alertdrill(tmp_path, "suite", str(folder), "--no-reports", "--no-notify", "--out", str(out), session=group)
    run.wait_for("2 running")
    time.sleep(3.0)  # both workers simulating
    signum = signal.SIGINT if group else signal.SIGTERM
    if group:
        os.killpg(run.process.pid, signum)
    else:
        run.process.send_signal(signum)
    code, said = run.finish(timeout=90)
    assert code == 128 + signum, said
    assert "interrupted" in said and "Traceback" not in said, said
    assert run.leftovers() == []
    assert list(run.tmp.iterdir()) == []
    assert not out.exists() or all((f / "verdict.json").exists() for f in out.iterdir() if f.is_dir())


def test_a_service_url_that_dies_mid_run_ends_it_with_exit_2(tmp_path: Path) -> None:
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    serve = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "serve", "--sim-clock", "--port", str(port), "--log-level", "warning"],
        env={**os.environ, "ALERTDRILL_ADMIN_TOKEN": "t0ken"},
        stdout=subprocess.DEVNULL,
        stderr=log,
        cwd=REPO,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(url, serve)
        token = tmp_path / "token"
        token.write_text("t0ken\n")
        run = Alertdrill(
            tmp_path, "run", str(scenario(tmp_path, "2h")), "--service-url", url, "--admin-token-file", str(token)
        )
        run.wait_for("    simulated ")  # a tenth of the run is done
        serve.kill()
        code, said = run.finish(timeout=30)
    finally:
        serve.kill()
        serve.wait()
        log.close()
    assert code == 2, said + (tmp_path / "serve.log").read_text()
    assert "the service is gone" in said and "refused the connection" in said
    assert run.leftovers() == []


def test_a_spawned_service_that_cannot_start_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    from harness import targets
    from harness.errors import EngineError

    def broken(*args: object, **kwargs: object) -> list[str]:
        return [sys.executable, "-c", "import sys; sys.stderr.write('boom: no such model'); sys.exit(3)"]

    monkeypatch.setattr(targets, "serve_command", broken)
    with (
        pytest.raises(EngineError, match=r"exited with 3 .*it said: boom: no such model"),
        targets.spawned(seed=0, workers=2) as target,
    ):
        target.start()


def test_an_unwritable_out_folder_is_refused_before_simulating(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    run = Alertdrill(tmp_path, "run", str(scenario(tmp_path, "6h")), "--out", str(blocker / "run"))
    code, said = run.finish(timeout=30)
    assert code == 2, said
    assert "cannot write the run folder" in said and "simulate ..." not in said


def test_a_prometheus_that_exits_fails_the_run_early(tmp_path: Path) -> None:
    broken = tmp_path / "prometheus"
    broken.write_text("#!/bin/sh\necho 'err: not a real prometheus' >&2\nexit 1\n")
    broken.chmod(0o755)
    run = Alertdrill(tmp_path, "run", str(scenario(tmp_path, "6h")), env={"ALERTDRILL_PROMETHEUS": str(broken)})
    code, said = run.finish(timeout=60)
    assert code == 2, said
    assert "prometheus exited" in said and "not a real prometheus" in said
    assert "simulated 360 of 360 min" not in said  # stopped at a progress tick, not after the run


def test_folders_of_killed_runs_are_swept_and_live_ones_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.engine import owned_temp_dir

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.Popen(["true"])
    dead.wait()
    orphan = tmp_path / f"alertdrill-prom-{dead.pid}-abc"
    live = tmp_path / f"alertdrill-prom-{os.getppid()}-abc"
    other = tmp_path / f"alertdrill-crosscheck-{dead.pid}-abc"
    for folder in (orphan, live, other):
        folder.mkdir()
    mine = owned_temp_dir("prom")
    assert not orphan.exists() and live.exists() and other.exists()
    assert mine.name.startswith(f"alertdrill-prom-{os.getpid()}-")


@pytest.mark.parametrize(
    "signum", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["SIGINT", "SIGTERM", "SIGKILL"]
)
def test_an_interrupted_notification_replay_leaves_no_alertmanager(tmp_path: Path, signum: signal.Signals) -> None:
    """The replay runs the real Alertmanager and the receivers' servers: a signal while it runs
    (slowed to 20x here, so it lasts a while) stops them all, and no folder is left behind (a
    SIGKILLed run's Alertmanager folder is removed by the next run, as Prometheus' is)."""
    spike = tmp_path / "spike.yaml"
    text = (REPO / "scenarios" / "latency_spike.yaml").read_text()
    spike.write_text(
        text
        + f"rules: [{REPO / 'config' / 'prometheus-alerts.yml'}]\n"
        + f"model: {REPO / 'config' / 'model.json'}\n"
        + f"alertmanager: {REPO / 'config' / 'alertmanager.yml'}\n"
    )
    run = Alertdrill(tmp_path, "run", str(spike), "--out", str(tmp_path / "out"), "--replay-speed", "20")
    run.wait_for("  notify ...")
    time.sleep(1.0)
    run.process.send_signal(signum)
    code, said = run.finish(timeout=30)
    assert code == (-signal.SIGKILL if signum == signal.SIGKILL else 128 + signum), said
    assert run.leftovers() == []
    assert not (tmp_path / "out").exists()
    if signum == signal.SIGKILL:
        again = Alertdrill(tmp_path, "run", str(spike), "--out", str(tmp_path / "again"))
        code, said = again.finish(timeout=120)
        assert code == 0, said
    assert list(run.tmp.iterdir()) == []
