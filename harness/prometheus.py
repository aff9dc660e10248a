"""One real Prometheus server per run: free port, temporary TSDB, remote-write receiver on.

It is stopped, and its folder removed, on success, failure and Ctrl-C; if it fails, its log
is kept where the caller asks (the run folder).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from harness.binaries import find_binary
from harness.errors import PrometheusStartError
from harness.ports import free_port
from harness.processes import stop

# Samples are written after the fact, most of them "in the past" relative to the newest one
# (derived series are written back behind the scraped ones), so the window is wide.
OUT_OF_ORDER_WINDOW = "3650d"
READY_TIMEOUT = 30.0

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


@contextlib.contextmanager
def prometheus_server(keep_log_in: Path | None = None, attempts: int = 3) -> Iterator[PrometheusServer]:
    """A ready Prometheus on 127.0.0.1 that nothing else talks to; stopped and removed on exit."""
    binary = find_binary("prometheus")
    workdir = Path(tempfile.mkdtemp(prefix="alertdrill-prom-"))
    process: subprocess.Popen[bytes] | None = None
    log_path = workdir / "prometheus.log"
    try:
        (workdir / "prometheus.yml").write_text(_CONFIG)
        for attempt in range(attempts):
            port = free_port()
            process = _start(binary, workdir, port, log_path)
            url = f"http://127.0.0.1:{port}"
            if _wait_ready(url, process):
                break
            stop(process)
            if attempt == attempts - 1:
                raise PrometheusStartError(
                    f"prometheus did not become ready on {url}: {_tail(log_path)}"
                    + (f" (log kept in {keep_log_in / 'prometheus.log'})" if keep_log_in else "")
                )
        assert process is not None
        yield PrometheusServer(url, workdir / "data", process)
    except BaseException:
        if keep_log_in is not None and log_path.exists():
            keep_log_in.mkdir(parents=True, exist_ok=True)
            shutil.copy(log_path, keep_log_in / "prometheus.log")
        raise
    finally:
        if process is not None:
            stop(process)
        shutil.rmtree(workdir, ignore_errors=True)


def _start(binary: Path, workdir: Path, port: int, log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [
                str(binary),
                f"--config.file={workdir / 'prometheus.yml'}",
                f"--storage.tsdb.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--web.enable-remote-write-receiver",
                "--storage.tsdb.retention.time=3650d",
                "--log.level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches us, not it; we stop it ourselves
        )


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + READY_TIMEOUT
    with httpx.Client(timeout=1.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return False
            with contextlib.suppress(httpx.HTTPError):
                if client.get(f"{url}/-/ready").status_code == 200:
                    return True
            time.sleep(0.02)
    return False


def _tail(log_path: Path, lines: int = 5) -> str:
    try:
        return " | ".join(log_path.read_text(errors="replace").strip().splitlines()[-lines:]) or "(empty log)"
    except OSError:
        return "(no log)"
