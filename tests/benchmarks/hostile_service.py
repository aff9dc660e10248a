"""The hostile run of issue 11 against ``alertdrill serve``, repeatable: prints counts, not a verdict.

    .venv/bin/pip install 'schemathesis>=4'        # once: not a dependency of the project
    .venv/bin/python tests/benchmarks/hostile_service.py [--examples 200]

1. schemathesis, every check, ``--examples`` per operation, against the live service without the
   admin token, with it, and against a simulated-clock service (``X-Sim-Time`` sent): failures
   per check, from its JUnit report (a 5xx is ``not_a_server_error``; a reply the schema does not
   describe is ``status_code_conformance`` / ``response_schema_conformance``).
2. The cardinality flood: five batches of 10,000 made-up symbols, each from a made-up source,
   then ``/metrics``: the series count before and after.

For load (500 req/s for 60 s, P99, RSS), run ``tests/benchmarks/bench_serve.py --rates 500
--seconds 60``. Not a test: it takes minutes and needs schemathesis.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from harness.engine import bound, free_port, stop
from harness.targets import wait_ready

TOKEN = "hostile-" + uuid.uuid4().hex
SIM_TIME = "1767225600"


@contextmanager
def serving(*flags: str) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "-m", "harness.cli", "serve", "--port", str(port), "--no-access-log", *flags]
    env = {**os.environ, "ALERTDRILL_ADMIN_TOKEN": TOKEN}
    process = subprocess.Popen(bound(command), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process)
        yield url
    finally:
        stop(process)


def schemathesis(url: str, examples: int, headers: dict[str, str], label: str) -> None:
    binary = shutil.which("schemathesis") or str(Path(sys.executable).parent / "schemathesis")
    if not Path(binary).exists():
        sys.exit("schemathesis is not installed: .venv/bin/pip install 'schemathesis>=4'")
    with tempfile.TemporaryDirectory(prefix="alertdrill-hostile-") as tmp:
        junit = Path(tmp) / "junit.xml"
        command = [binary, "run", f"{url}/openapi.json", "--checks", "all", "--max-examples", str(examples)]
        command += ["--report", "junit", "--report-junit-path", str(junit), "--no-color"]
        for name, value in headers.items():
            command += ["-H", f"{name}: {value}"]
        started = time.monotonic()
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
        seconds = time.monotonic() - started
        cases, failures = _junit(junit) if junit.exists() else (0, Counter())
    print(f"\n== schemathesis, {label}: exit {proc.returncode}, {seconds:.0f} s, {cases} operations")
    if failures:
        for check, n in failures.most_common():
            print(f"   {n:4d} x {check}")
    else:
        print("   no failed check")
    tail = [line for line in proc.stdout.splitlines() if line.strip()][-6:]
    print("   " + "\n   ".join(tail))


def _junit(path: Path) -> tuple[int, Counter[str]]:
    """Operations tested, and failures by the check that failed (first line of each message)."""
    root = ET.parse(path).getroot()
    cases = root.findall(".//testcase")
    failures: Counter[str] = Counter()
    for case in cases:
        for failure in case.findall("failure") + case.findall("error"):
            text = (failure.get("message") or failure.text or "").strip()
            failures[text.splitlines()[0][:100] if text else "(no message)"] += 1
    return len(cases), failures


def flood(url: str) -> None:
    def series() -> tuple[int, int]:
        text = httpx.get(f"{url}/metrics", timeout=30).text
        return sum(1 for line in text.splitlines() if line and not line.startswith("#")), len(text)

    before = series()
    answers: Counter[int] = Counter()
    with httpx.Client(timeout=60) as client:
        for batch in range(5):
            rows = [
                {"symbol": f"X{batch}{i:05d}", "timestamp": time.time(), "features": {"momentum": 0.1}}
                for i in range(10_000)
            ]
            made_up = {"source": f"made-up-{batch}", "updates": rows}
            answers[client.post(f"{url}/features", json=made_up).status_code] += 1
            rows = [{**row, "symbol": f"Y{batch}{i:05d}"} for i, row in enumerate(rows)]
            answers[client.post(f"{url}/features", json={"source": "market-feed", "updates": rows}).status_code] += 1
    after = series()
    print(f"\n== cardinality flood: answers {dict(answers)}")
    print(f"   series {before[0]} -> {after[0]}, /metrics {before[1]:,} -> {after[1]:,} bytes")


def main() -> None:
    p = argparse.ArgumentParser(formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--examples", type=int, default=200, help="schemathesis examples per operation")
    args = p.parse_args()
    with serving() as url:
        schemathesis(url, args.examples, {}, "live, no admin token")
        schemathesis(url, args.examples, {"Authorization": f"Bearer {TOKEN}"}, "live, admin token")
        flood(url)
    with serving("--sim-clock") as url:
        headers = {"Authorization": f"Bearer {TOKEN}", "X-Sim-Time": SIM_TIME}
        schemathesis(url, args.examples, headers, "simulated clock, admin token")


if __name__ == "__main__":
    main()
