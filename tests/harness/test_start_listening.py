"""The one way alertdrill starts a server child on a free port (Prometheus for a drill,
Alertmanager): a port taken between choosing and binding it is tried again; a child that fails
otherwise is an error quoting its log."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.engine import start_listening, stop
from harness.errors import AlertmanagerError

# A stand-in server: the first start finds its port taken (as Go servers say it), the next serves /-/ready.
SERVER = """
import sys, pathlib, http.server
tries = pathlib.Path(sys.argv[2])
n = int(tries.read_text()) if tries.exists() else 0
tries.write_text(str(n + 1))
if n < int(sys.argv[3]):
    print("listen tcp 127.0.0.1: bind: address already in use", flush=True)
    sys.exit(1)
class Ready(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
port = int(sys.argv[1].rsplit(":", 1)[1])
http.server.HTTPServer(("127.0.0.1", port), Ready).serve_forever()
"""


def command(tmp_path: Path, taken: int) -> Callable[[str], list[str]]:
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    return lambda url: [sys.executable, str(script), url, str(tmp_path / "tries"), str(taken)]


def test_a_taken_port_is_tried_again_on_another(tmp_path: Path) -> None:
    url, process = start_listening(command(tmp_path, taken=1), tmp_path / "log", "toy", AlertmanagerError, 10.0)
    try:
        assert url.startswith("http://127.0.0.1:") and process.poll() is None
        assert (tmp_path / "tries").read_text() == "2"
    finally:
        stop(process)


def test_running_out_of_attempts_is_an_error_quoting_the_log(tmp_path: Path) -> None:
    with pytest.raises(AlertmanagerError, match=r"toy exited on http://127\.0\.0\.1:.*address already in use"):
        start_listening(command(tmp_path, taken=5), tmp_path / "log", "toy", AlertmanagerError, 10.0, attempts=2)
    assert (tmp_path / "tries").read_text() == "2"
