"""A drill's own Prometheus: the stack's config (``live_config``), scraping and evaluating on its
own clock, as deployed. Free port, temporary TSDB, bound to alertdrill's life and removed on
every exit path, like the run's Prometheus; its log is kept in the drill's folder."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.engine import find_binary, owned_temp_dir, start_listening, stop
from harness.errors import PrometheusStartError

READY_TIMEOUT = 15.0
ATTEMPTS = 3  # a port taken between choosing and binding it: start again on another
NEVER = "3650d"  # blocks as long as retention: the head is never compacted under a query


@dataclass(frozen=True)
class LivePrometheus:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path


@contextlib.contextmanager
def live_prometheus(config: Mapping[str, Any], keep_log_in: Path | None = None) -> Iterator[LivePrometheus]:
    """A ready Prometheus running ``config`` (a ``live_prometheus_config``) on 127.0.0.1."""
    binary = find_binary("prometheus")
    workdir = owned_temp_dir("drillprom")
    process: subprocess.Popen[bytes] | None = None
    log_path = workdir / "prometheus.log"
    try:
        (workdir / "prometheus.yml").write_text(yaml.safe_dump(dict(config), sort_keys=False))
        url, process = start_listening(
            lambda url: [
                str(binary),
                f"--config.file={workdir / 'prometheus.yml'}",
                f"--storage.tsdb.path={workdir / 'data'}",
                f"--web.listen-address={url.removeprefix('http://')}",
                f"--storage.tsdb.min-block-duration={NEVER}",
                f"--storage.tsdb.max-block-duration={NEVER}",
                "--log.level=warn",
            ],
            log_path,
            "the drill's prometheus",
            PrometheusStartError,
            READY_TIMEOUT,
            ATTEMPTS,
        )
        yield LivePrometheus(url, process, log_path)
    finally:
        if process is not None:
            stop(process)
        if keep_log_in is not None and log_path.exists() and log_path.stat().st_size:
            with contextlib.suppress(OSError):
                keep_log_in.mkdir(parents=True, exist_ok=True)
                shutil.copy(log_path, keep_log_in / "prometheus.log")
        shutil.rmtree(workdir, ignore_errors=True)
