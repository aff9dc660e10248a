"""``alertdrill serve``: the deployed artifact under uvicorn, on a free port, stopped cleanly."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.engine import free_port
from service.model import FEATURES


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    token = tmp_path / "token"
    token.write_text("t\n")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "serve",
            "--port",
            str(port),
            "--sim-clock",
            "--admin-token-file",
            str(token),
            "--log-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{url}/health", headers={"X-Sim-Time": "1"}, timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, "alertdrill serve exited early"
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal, which alertdrill's
        # handler turns into its interrupted exit (128 + 15)
        assert proc.wait(timeout=10) in (0, -15, 143)


def test_serve_answers_over_loopback_on_the_simulated_clock(served: str) -> None:
    sim = {"X-Sim-Time": "1000", "X-Sim-Service-Time": "0.003"}
    r = httpx.post(f"{served}/predict", json={"symbol": "AAPL", "features": dict.fromkeys(FEATURES, 0.0)}, headers=sim)
    assert r.status_code == 200 and r.json()["probability"] == pytest.approx(0.5)
    metrics = httpx.get(f"{served}/metrics", headers=sim).text
    assert 'prediction_api_http_request_duration_seconds_sum{route="/predict"} 0.003' in metrics
    assert httpx.put(f"{served}/admin/chaos/x", json={"error_rate": 1}, headers=sim).status_code == 401
