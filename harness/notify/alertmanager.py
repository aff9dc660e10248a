"""The real Alertmanager (Debian's ``prometheus-alertmanager``), one private instance per replay.

Free port, temporary storage, no clustering (``--cluster.listen-address=`` empty: no gossip, no
peer wait before a notification), stopped and removed on every path as Prometheus is; its config
file is written owner-only, as it may hold the user's template texts. Alerts are pushed through
its API v2, as Prometheus' notifier does.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from harness.engine import find_binary, owned_temp_dir, start_listening, stop
from harness.errors import AlertmanagerError

READY_TIMEOUT = 15.0
ATTEMPTS = 3  # a port taken between choosing and binding it: start again on another


@dataclass(frozen=True)
class AlertmanagerServer:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path


@contextlib.contextmanager
def alertmanager_server(config: dict[str, Any] | Path, keep_log_in: Path | None = None) -> Iterator[AlertmanagerServer]:
    """A ready Alertmanager running ``config`` on 127.0.0.1; stopped and its folder removed on exit.
    ``config`` is a mapping (written to a private file) or the user's own file, run as it is (a
    drill's ``--live-receivers``: its relative paths resolve from its own folder, as deployed)."""
    binary = find_binary("alertmanager")
    workdir = owned_temp_dir("alertmanager")
    process: subprocess.Popen[bytes] | None = None
    try:
        if isinstance(config, Path):
            config_path = config.resolve()
        else:
            config_path = workdir / "alertmanager.yml"
            fd = os.open(config_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                yaml.safe_dump(config, f, sort_keys=False)
        log_path = workdir / "alertmanager.log"
        url, process = start_listening(
            lambda url: _command(binary, config_path, workdir / "data", url),
            log_path,
            "alertmanager",
            AlertmanagerError,
            READY_TIMEOUT,
            ATTEMPTS,
        )
        yield AlertmanagerServer(url, process, log_path)
    except AlertmanagerError:  # its own failure (not an interrupt): its log says why
        if keep_log_in is not None and (workdir / "alertmanager.log").exists():
            keep_log_in.mkdir(parents=True, exist_ok=True)
            shutil.copy(workdir / "alertmanager.log", keep_log_in / "alertmanager.log")
        raise
    finally:
        if process is not None:
            stop(process)
        shutil.rmtree(workdir, ignore_errors=True)


def _command(binary: Path, config: Path, storage: Path, url: str) -> list[str]:
    return [
        str(binary),
        f"--config.file={config}",
        f"--storage.path={storage}",
        f"--web.listen-address={url.removeprefix('http://')}",
        "--cluster.listen-address=",
        "--log.level=warn",
    ]


def rfc3339(unix: float) -> str:
    """A wall time as Alertmanager's API takes it (UTC, milliseconds)."""
    return dt.datetime.fromtimestamp(unix, tz=dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def post_alerts(client: httpx.Client, url: str, alerts: Sequence[dict[str, Any]]) -> None:
    """``POST /api/v2/alerts``, as Prometheus' notifier sends a batch; a refusal is an error."""
    try:
        response = client.post(f"{url}/api/v2/alerts", json=list(alerts), timeout=10.0)
    except httpx.HTTPError as exc:
        raise AlertmanagerError(f"alertmanager at {url} did not take alerts: {exc}") from exc
    if response.status_code != 200:
        raise AlertmanagerError(f"alertmanager at {url} refused alerts ({response.status_code}): {response.text[:300]}")
