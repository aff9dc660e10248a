"""One real Prometheus server per run: free port, temporary TSDB, remote-write receiver on.

It is stopped, and its folder removed, on success, failure, Ctrl-C and SIGTERM; it dies with
alertdrill even on SIGKILL (``harness.engine.processes.bound``), and the folder of a killed run is
removed by the next one. If it fails, its log is kept where the caller asks (the run folder).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from harness.engine.binaries import find_binary
from harness.engine.processes import free_port, log_tail, owned_temp_dir, start_logged, stop, wait_until_ready
from harness.errors import PrometheusStartError

# Samples are written after the fact, most of them "in the past" relative to the newest one
# (derived series are written back behind the scraped ones), so the window is wide.
OUT_OF_ORDER_WINDOW = "3650d"
READY_TIMEOUT = 15.0  # it is ready in well under a second here; a hung binary must not cost minutes

_CONFIG = f"""\
global:
  scrape_interval: 1h
  evaluation_interval: 1h
storage:
  tsdb:
    out_of_order_time_window: {OUT_OF_ORDER_WINDOW}
"""


@dataclass(frozen=True)
class PrometheusServer:
    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]


class StartingPrometheus:
    """A Prometheus process launched but perhaps not ready yet: a run launches it before it
    simulates, so it boots on the other core meanwhile, and waits for it only when it needs it."""

    def __init__(self, binary: Path, workdir: Path, attempts: int, keep_log_in: Path | None) -> None:
        self.binary, self.workdir, self.attempts, self.keep_log_in = binary, workdir, attempts, keep_log_in
        self.log_path = workdir / "prometheus.log"
        self._server: PrometheusServer | None = None
        self._port = free_port()
        self.process = _start(binary, workdir, self._port, self.log_path)

    @property
    def used(self) -> bool:
        return self._server is not None

    def ready(self) -> PrometheusServer:
        """The server once it answers ``/-/ready``; if it exits because its port was taken
        meanwhile, started again on another. One that neither answers nor exits is given
        ``READY_TIMEOUT`` seconds, once."""
        if self._server is not None:
            return self._server
        while True:
            url = f"http://127.0.0.1:{self._port}"
            if wait_until_ready(url, self.process, READY_TIMEOUT) == "ready":
                self._server = PrometheusServer(url, self.workdir / "data", self.process)
                return self._server
            self._restart_or_fail(url)

    def check_alive(self) -> None:
        """Between simulated steps: a Prometheus that has already exited (a broken binary, a
        bad flag) fails the run now rather than after the simulation; a taken port is retried."""
        if self._server is None and self.process.poll() is not None:
            self._restart_or_fail(f"http://127.0.0.1:{self._port}")

    def _restart_or_fail(self, url: str) -> None:
        exited = self.process.poll() is not None
        stop(self.process)
        self.attempts -= 1
        said = log_tail(self.log_path)
        if not exited or self.attempts <= 0 or "address already in use" not in said.lower():
            why = "exited" if exited else f"did not answer within {READY_TIMEOUT:g}s"
            raise PrometheusStartError(
                f"prometheus {why} on {url}: {said}"
                + (f" (log kept in {self.keep_log_in / 'prometheus.log'})" if self.keep_log_in else "")
            )
        self._port = free_port()
        self.process = _start(self.binary, self.workdir, self._port, self.log_path)


@contextlib.contextmanager
def starting_prometheus(keep_log_in: Path | None = None, attempts: int = 3) -> Iterator[StartingPrometheus]:
    """Launch a Prometheus on 127.0.0.1 that nothing else talks to; stopped and removed on exit."""
    binary = find_binary("prometheus")
    workdir = owned_temp_dir("prom")
    starting: StartingPrometheus | None = None
    try:
        (workdir / "prometheus.yml").write_text(_CONFIG)
        starting = StartingPrometheus(binary, workdir, attempts, keep_log_in)
        yield starting
    except BaseException as exc:
        # Its log tells about a failure of Prometheus or of work done with it, not about one
        # that happened before it was used (a run that failed while simulating).
        used = starting is not None and starting.used
        log_path = workdir / "prometheus.log"
        if keep_log_in is not None and log_path.exists() and (used or isinstance(exc, PrometheusStartError)):
            keep_log_in.mkdir(parents=True, exist_ok=True)
            shutil.copy(log_path, keep_log_in / "prometheus.log")
        raise
    finally:
        if starting is not None:
            stop(starting.process)
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def prometheus_server(keep_log_in: Path | None = None, attempts: int = 3) -> Iterator[PrometheusServer]:
    """A ready Prometheus on 127.0.0.1 that nothing else talks to; stopped and removed on exit."""
    with starting_prometheus(keep_log_in, attempts) as starting:
        yield starting.ready()


def _start(binary: Path, workdir: Path, port: int, log_path: Path) -> subprocess.Popen[bytes]:
    return start_logged(
        [
            str(binary),
            f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--web.enable-remote-write-receiver",
            "--storage.tsdb.retention.time=3650d",
            # Blocks as long as the retention (hidden flags): the head is never compacted,
            # which it would be once it spans 1.5 blocks (3 h by default), concurrently with
            # our queries; a query reading the head then fails ("cannot populate chunk") or
            # misses samples. A run's samples stay in memory, as they are written in one go.
            f"--storage.tsdb.min-block-duration={OUT_OF_ORDER_WINDOW}",
            f"--storage.tsdb.max-block-duration={OUT_OF_ORDER_WINDOW}",
            "--log.level=warn",
        ],
        log_path,
    )
