"""``service.serving.serve``: uvicorn that does not wait out injected delays on SIGTERM, and says
which address it could not take."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from harness.engine import free_port
from service.model import FEATURES

SERVE = """
import sys
from service import Settings, WallClock, create_app
from service.serving import ServeError, serve
app = create_app(Settings(admin_token="t", chaos_delay_seconds=float(sys.argv[2])), WallClock())
try:
    serve(app, "127.0.0.1", int(sys.argv[1]), log_level="warning")
except ServeError as exc:
    print(exc, file=sys.stderr)
    sys.exit(2)
"""


def _start(port: int, delay: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", SERVE, str(port), str(delay)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def delayed() -> Iterator[tuple[subprocess.Popen[str], str]]:
    """A live service whose every /predict waits 30 s (injected), listening."""
    port = free_port()
    proc = _start(port, 30.0)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{url}/health", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else "exited"
                time.sleep(0.05)
        yield proc, url
    finally:
        proc.kill()
        proc.communicate()


def test_sigterm_cuts_injected_delays_short(delayed: tuple[subprocess.Popen[str], str]) -> None:
    proc, url = delayed
    answers: list[int] = []
    body = {"symbol": "AAPL", "features": dict.fromkeys(FEATURES, 0.0)}
    waiting = threading.Thread(
        target=lambda: answers.append(httpx.post(f"{url}/predict", json=body, timeout=60).status_code)
    )
    waiting.start()
    time.sleep(0.5)  # the request is in its delay
    started = time.monotonic()
    proc.terminate()
    proc.wait(timeout=20)
    waiting.join(timeout=20)
    assert time.monotonic() - started < 5  # not the 30 s the delay would have taken
    assert answers == [200]  # the request in flight was answered, not dropped


def test_a_port_in_use_is_a_serve_error_naming_it() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = _start(port, 0.0)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert f"127.0.0.1:{port}" in err
