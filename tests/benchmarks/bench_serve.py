"""Benchmark: client-side latency of ``POST /predict`` on the live service, under open-loop load.

    .venv/bin/python tests/benchmarks/bench_serve.py [--rates 250,500,1000,2000,4000] [--seconds 10]

Starts ``alertdrill serve`` as a user deploys it (uvicorn, 1 worker, wall clock, no --sim-clock),
publishes features for a few symbols (and again once a second during the load), then offers
``POST /predict`` at fixed rates over loopback and prints, per rate, the achieved rate, errors and
client-side P50/P95/P99/max latency, the CPU the client and the server used (% of one core), and
the server's RSS before and after.

Open loop: request i is due at t0 + i/rate whether or not earlier ones have answered, and its
latency runs from that due time, so a request queued in the client behind a slow one counts (no
coordinated omission). A request not answered within --timeout of its due time is an error.
Lean client: raw asyncio sockets (uvloop if importable), keep-alive connections, one request at a
time each; an httpx client would add about 1 ms and half a core at 500 req/s, measuring itself.
Not a test: these machines are noisy (2 cores, shared with the server), so quote the figures as
a rough capacity, not a threshold.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

from harness.engine import free_port, stop
from service.model import FEATURES

REPO = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
SYMBOLS = ("AAPL", "MSFT", "NVDA", "AMZN", "GOOG")
SLO_P95_MS = 5.0
COLUMNS = "  offered   achieved    count  errors   p50 ms   p95 ms   p99 ms   max ms client-cpu server-cpu"
STARTUP_TIMEOUT = 20.0
T = TypeVar("T")
# Every time here is perf_counter: uvloop's loop.time() has 1 ms steps, cached per loop iteration.
clock = time.perf_counter


class ProtocolError(Exception):
    """The server's answer is not HTTP/1.1 this client can read."""


def request_bytes(method: str, path: str, port: int, body: bytes = b"") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


def json_request(path: str, port: int, payload: Any) -> bytes:
    return request_bytes("POST", path, port, json.dumps(payload, separators=(",", ":")).encode())


def parse_head(head: bytes) -> tuple[int, int, bool]:
    """Status, Content-Length and whether the server closes the connection after this answer."""
    lines = head.split(b"\r\n")
    if not lines[0].startswith(b"HTTP/1."):
        raise ProtocolError(f"bad status line {lines[0][:60]!r}")
    status, length, close = int(lines[0][9:12]), -1, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection":
            close = value.strip().lower() == b"close"
        elif name == b"transfer-encoding":
            raise ProtocolError("chunked answers are not supported by this client")
    if length < 0:
        raise ProtocolError("answer without Content-Length")
    return status, length, close


class Connection:
    """One keep-alive HTTP/1.1 connection, one request at a time; reconnects when the server closed it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(HOST, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def send(self, raw: bytes) -> tuple[int, bytes]:
        """Status and body of the answer to one pre-built request."""
        if self.reader is None or self.writer is None or self.reader.at_eof():
            self.close()
            await self.connect()
        assert self.reader is not None and self.writer is not None
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status, length, close = parse_head(head[:-4])
        body = await self.reader.readexactly(length) if length else b""
        if close:
            self.close()
        return status, body


@dataclass
class Stage:
    """What one rate produced."""

    rate: float
    count: int
    latencies: list[float] = field(default_factory=list)  # seconds from due time, answered with 200
    errors: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0  # from t0 to the last answer or failure
    client_cpu: float = 0.0  # CPU seconds, this process (the client and the feature publisher)
    server_cpu: float = 0.0  # CPU seconds, the uvicorn process

    def percentile_ms(self, q: float) -> float:
        """Nearest-rank percentile of the 200 answers, in ms (NaN if none)."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]

    def cpu_percent(self, seconds: float) -> float:
        return 100 * seconds / self.elapsed if self.elapsed > 0 else float("nan")

    @property
    def achieved(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed > 0 else 0.0


Item = tuple[int, float] | None  # (request index, due time or earlier enqueue time) or the end of the stage


async def schedule(queue: asyncio.Queue[Item], stage: Stage, t0: float, workers: int) -> None:
    """Open loop: enqueue request i at t0 + i/rate, never waiting for answers."""
    for i in range(stage.count):
        due = t0 + i / stage.rate
        delay = due - clock()
        if delay > 0:
            await asyncio.sleep(delay)
        # uvloop's timers step in whole ms and may wake early: an early request is timed from when it left.
        queue.put_nowait((i, min(due, clock())))
    for _ in range(workers):
        queue.put_nowait(None)


async def one(conn: Connection, raw: bytes, due: float, timeout: float, stage: Stage) -> None:
    left = due + timeout - clock()
    if left <= 0:  # waited for a connection past its deadline: never sent
        stage.errors["timeout"] += 1
        return
    try:
        async with asyncio.timeout(left):
            status, _ = await conn.send(raw)
    except TimeoutError:
        conn.close()  # its answer may still come: the connection is out of step
        stage.errors["timeout"] += 1
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ProtocolError, ValueError) as exc:
        conn.close()
        stage.errors[f"connection: {type(exc).__name__}"] += 1
    else:
        if status == 200:
            stage.latencies.append(clock() - due)
        else:
            stage.errors[f"HTTP {status}"] += 1


async def work(
    conn: Connection, queue: asyncio.Queue[Item], bodies: list[bytes], timeout: float, stage: Stage
) -> float:
    """Take due requests off the queue until the end of the stage; the time of the last one done."""
    last = clock()
    while (item := await queue.get()) is not None:
        i, due = item
        await one(conn, bodies[i % len(bodies)], due, timeout, stage)
        last = clock()
    return last


async def run_stage(port: int, rate: float, seconds: float, connections: int, timeout: float) -> Stage:
    stage = Stage(rate, round(rate * seconds))
    bodies = [json_request("/predict", port, {"symbol": s}) for s in SYMBOLS]
    pool = [Connection(port) for _ in range(connections)]
    await asyncio.gather(*(c.connect() for c in pool))  # warm: connecting is not part of any latency
    queue: asyncio.Queue[Item] = asyncio.Queue()
    try:
        t0 = clock() + 0.05
        workers = [asyncio.create_task(work(c, queue, bodies, timeout, stage)) for c in pool]
        await schedule(queue, stage, t0, len(pool))
        stage.elapsed = max(await asyncio.gather(*workers)) - t0
    finally:
        for c in pool:
            c.close()
    return stage


def feature_batch(port: int) -> bytes:
    now = time.time()
    updates = [{"symbol": s, "timestamp": now, "features": dict.fromkeys(FEATURES, 0.1)} for s in SYMBOLS]
    return json_request("/features", port, {"source": "market-feed", "updates": updates})


async def publish(conn: Connection, port: int) -> None:
    status, body = await conn.send(feature_batch(port))
    if status != 200 or json.loads(body).get("accepted") != len(SYMBOLS):
        raise RuntimeError(f"POST /features answered {status}: {body[:300]!r}")


async def keep_publishing(port: int, failures: Counter[str]) -> None:
    """Fresh rows once a second, as the feature pipeline would send them, for as long as the load runs."""
    conn = Connection(port)
    try:
        while True:
            await asyncio.sleep(1.0)
            try:
                await asyncio.wait_for(publish(conn, port), 2.0)
            except (OSError, TimeoutError, RuntimeError, ProtocolError, asyncio.IncompleteReadError) as exc:
                conn.close()
                failures[type(exc).__name__] += 1
    finally:
        conn.close()


async def wait_healthy(process: subprocess.Popen[bytes], port: int, stderr: IO[bytes]) -> bytes:
    """The body of the first 200 from GET /health; fails if the process exits or 20 s pass."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"alertdrill serve exited with {process.returncode}:\n{tail(stderr)}")
        conn = Connection(port)
        try:
            status, body = await asyncio.wait_for(conn.send(request_bytes("GET", "/health", port)), 1.0)
            if status == 200:
                return body
        except (OSError, TimeoutError, asyncio.IncompleteReadError):
            pass
        finally:
            conn.close()
        await asyncio.sleep(0.1)
    raise RuntimeError(f"GET /health did not answer 200 within {STARTUP_TIMEOUT:g} s:\n{tail(stderr)}")


def tail(stderr: IO[bytes], chars: int = 4000) -> str:
    stderr.flush()
    return Path(stderr.name).read_text(errors="replace")[-chars:] or "(nothing on stderr)"


def server_cpu(pid: int) -> float:
    """User plus system CPU seconds of a process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measured_stage(pid: int, port: int, rate: float, args: argparse.Namespace) -> Stage:
    """One stage, with the CPU the client and the server spent on it."""
    client, server = time.process_time(), server_cpu(pid)
    stage = await run_stage(port, rate, args.seconds, args.connections, args.timeout)
    stage.client_cpu, stage.server_cpu = time.process_time() - client, server_cpu(pid) - server
    return stage


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def prepare(process: subprocess.Popen[bytes], port: int, stderr: IO[bytes]) -> None:
    health = json.loads(await wait_healthy(process, port, stderr))
    conn = Connection(port)
    try:
        await publish(conn, port)
        status, body = await conn.send(json_request("/predict", port, {"symbol": "AAPL"}))
    finally:
        conn.close()
    if status != 200:
        raise RuntimeError(f"POST /predict answered {status} before the load: {body[:300]!r}")
    print(f"service up on {HOST}:{port} (model {health.get('model_version')}); one /predict: {body[:120]!r}")


def print_stage(s: Stage) -> None:
    pcts = "".join(f"{s.percentile_ms(q):9.2f}" for q in (50, 95, 99, 100))
    cpu = f"{s.cpu_percent(s.client_cpu):10.0f}%{s.cpu_percent(s.server_cpu):10.0f}%"
    print(f"{s.rate:7.0f}/s {s.achieved:8.1f}/s {s.count:8d} {sum(s.errors.values()):7d}{pcts}{cpu}", flush=True)
    if s.errors:
        print("          errors: " + ", ".join(f"{k} x{n}" for k, n in s.errors.most_common()), flush=True)


def print_summary(stages: list[Stage]) -> None:
    ok = [s.rate for s in stages if s.percentile_ms(95) < SLO_P95_MS and not s.errors]
    print(
        f"highest rate with P95 < {SLO_P95_MS:g} ms: {max(ok):.0f} req/s"
        if ok
        else f"no rate had P95 < {SLO_P95_MS:g} ms"
    )
    print("  (a rate with any error does not count; latencies are of the 200 answers, from their due time)")
    at500 = [s for s in stages if s.rate == 500]
    print(f"P95 at 500 req/s: {at500[0].percentile_ms(95):.2f} ms" if at500 else "P95 at 500 req/s: not offered")


async def bench(process: subprocess.Popen[bytes], port: int, stderr: IO[bytes], args: argparse.Namespace) -> None:
    await prepare(process, port, stderr)
    before = rss_mib(process.pid)
    failures: Counter[str] = Counter()
    publisher = asyncio.create_task(keep_publishing(port, failures))
    stages: list[Stage] = []
    print(COLUMNS)
    try:
        for rate in args.rates:
            stages.append(await measured_stage(process.pid, port, rate, args))
            print_stage(stages[-1])
            await asyncio.sleep(0.5)  # let the server drain before the next rate
    finally:
        publisher.cancel()
    print_summary(stages)
    print(f"server RSS: {before:.1f} MiB before the load, {rss_mib(process.pid):.1f} MiB after")
    if failures:
        print(f"WARNING: background POST /features failed: {dict(failures)}")
    if Path(stderr.name).stat().st_size:
        print(f"server stderr (last lines):\n{tail(stderr, 2000)}")


def run_loop(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run on uvloop if it is importable, else on asyncio's default loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main())
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main())


def loop_name() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio's default loop (uvloop not importable)"
    return f"uvloop {importlib.metadata.version('uvloop')}"


def start_server(port: int, stderr: IO[bytes]) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "harness.cli", "serve", "--port", str(port), "--log-level", "warning"]
    command += ["--model", str(REPO / "config" / "model.json")]
    # stdout carries the ECS access log (one line per request, on as deployed): discarded, never a full pipe.
    return subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=stderr)


def rates(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: rates are comma-separated numbers") from None
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"{text!r}: give one or more rates above 0")
    return values


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=(__doc__ or "").splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("--rates", type=rates, default="250,500,1000,2000,4000", help="offered req/s, one stage each")
    p.add_argument("--seconds", type=float, default=10.0, help="length of each stage")
    p.add_argument("--connections", type=int, default=64, help="keep-alive connections in the client's pool")
    p.add_argument("--timeout", type=float, default=2.0, help="seconds from a request's due time to an error")
    return p.parse_args()


def main() -> None:
    args = parse_args()
    port = free_port()
    print(
        f"client: raw-socket asyncio HTTP/1.1, {args.connections} keep-alive connections, {loop_name()}, open loop\n"
        f"server: `alertdrill serve` under uvicorn, 1 worker, wall clock, access log on (to /dev/null)\n"
        f"stages: {', '.join(f'{r:g}' for r in args.rates)} req/s, {args.seconds:g} s each, timeout {args.timeout:g} s"
    )
    with tempfile.NamedTemporaryFile(prefix="bench_serve-", suffix=".stderr") as stderr:
        process = start_server(port, stderr)
        try:
            run_loop(lambda: bench(process, port, stderr, args))
        except RuntimeError as exc:
            sys.exit(f"bench_serve: {exc}")
        finally:
            stop(process, grace=5.0)


if __name__ == "__main__":
    main()
