"""The processes alertdrill starts, and their ports: bound to its life, stopped politely, then
firmly; ports are free loopback ports chosen by the kernel, never fixed.

A child started with ``bound`` gets SIGKILL from the kernel when alertdrill dies, however it
dies: ``setpriv --pdeathsig KILL`` (util-linux, on every Debian and Ubuntu system) sets the
parent-death signal and then executes the command, which keeps it. Without that, a SIGKILL of
alertdrill (or of a CI job) left a Prometheus listening, owned by init, with its TSDB in /tmp.
The signal is tied to the *thread* that started the child: alertdrill starts children from
its main thread (the suite's workers from theirs).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx

from harness.errors import AlertdrillError

_PR_SET_PDEATHSIG = 1


def bound(command: Sequence[str]) -> list[str]:
    """``command``, run so that it dies with this process (as it is, where setpriv is missing)."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return list(command)
    return [setpriv, "--pdeathsig", "KILL", "--", *command]


def die_with_parent(signum: int = signal.SIGTERM) -> None:
    """Ask the kernel to send ``signum`` to this process when its parent dies (Linux; elsewhere
    nothing): for worker processes, which run Python and can clean up on SIGTERM."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0)


def start_logged(command: Sequence[str], log_path: Path) -> subprocess.Popen[bytes]:
    """A server child (``bound``), its output appended to ``log_path``, in a session of its own:
    Ctrl-C reaches alertdrill, not it; alertdrill stops it itself (``stop``)."""
    with log_path.open("ab") as log:
        return subprocess.Popen(
            bound(command),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def log_tail(log_path: Path, lines: int = 5) -> str:
    """The last lines of a child's log on one line, for an error message."""
    try:
        return " | ".join(log_path.read_text(errors="replace").strip().splitlines()[-lines:]) or "(empty log)"
    except OSError:
        return "(no log)"


def stop(process: subprocess.Popen[Any], grace: float = 10.0) -> None:
    """SIGTERM, wait up to ``grace`` seconds, then SIGKILL; always reaps the process."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for pipe in (process.stdin, process.stdout, process.stderr):
        if pipe is not None:
            pipe.close()


def owned_temp_dir(kind: str) -> Path:
    """A fresh temporary folder named after this process (``alertdrill-<kind>-<pid>-…``), after
    removing those of the same kind whose process is gone: a SIGKILL gives no chance to clean
    up, so the next run does it."""
    sweep_orphaned_temp_dirs(kind)
    return Path(tempfile.mkdtemp(prefix=f"alertdrill-{kind}-{os.getpid()}-"))


def sweep_orphaned_temp_dirs(kind: str) -> list[Path]:
    """Remove ``alertdrill-<kind>-<pid>-…`` folders of processes that no longer exist."""
    pattern = re.compile(rf"alertdrill-{re.escape(kind)}-(\d+)-")
    removed = []
    for path in Path(tempfile.gettempdir()).glob(f"alertdrill-{kind}-*"):
        match = pattern.match(path.name)
        if match is None or _alive(int(match.group(1))):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def check_bindable(host: str, port: int) -> None:
    """Raise ``OSError`` now if ``host:port`` cannot be listened on (taken, or not an address
    of this machine): uvicorn would log it and exit 1, or 3, as if the service had failed."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        sock.bind((host, port))


def wait_until_ready(url: str, process: subprocess.Popen[Any], timeout: float, path: str = "/-/ready") -> str:
    """Poll ``url + path`` until it answers 200 (``"ready"``), the process exits (``"exited"``)
    or ``timeout`` seconds pass (``"timeout"``): the one readiness wait for every child alertdrill
    starts, Prometheus and the served service alike. A connection refused means not yet."""
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=1.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return "exited"
            with contextlib.suppress(httpx.HTTPError):
                if client.get(f"{url}{path}").status_code == 200:
                    return "ready"
            time.sleep(0.02)
    return "exited" if process.poll() is not None else "timeout"


def start_listening(
    command: Callable[[str], Sequence[str]],
    log_path: Path,
    what: str,
    error: type[AlertdrillError],
    timeout: float,
    attempts: int = 3,
) -> tuple[str, subprocess.Popen[bytes]]:
    """A server child (``start_logged``) listening on a free loopback port and ready
    (``/-/ready``): ``command(url)`` is its command line. A port taken between choosing it and
    binding it is tried again on another; a child that exits or hangs is an ``error`` naming
    ``what`` and quoting the end of its log."""
    for attempt in range(attempts):
        url = f"http://127.0.0.1:{free_port()}"
        process = start_logged(command(url), log_path)
        state = wait_until_ready(url, process, timeout)
        if state == "ready":
            return url, process
        stop(process)
        said = log_tail(log_path)
        if state == "exited" and "address already in use" in said.lower() and attempt + 1 < attempts:
            continue
        why = "exited" if state == "exited" else f"did not answer within {timeout:g}s"
        raise error(f"{what} {why} on {url}: {said}")
    raise error(f"{what}: no attempt to start it was made")  # attempts < 1
