"""Where the service under test runs: in-process (default), a uvicorn process alertdrill
starts and stops itself, or a URL somebody else serves.

Each target hands the simulator a transport, and, where it can, a way to restart the
service (a crash fault needs one). Over loopback the service must run on a simulated clock
(``alertdrill serve --sim-clock``) with the run's chaos seed and core count, or its
verdicts cannot match the in-process ones.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from harness.engine import bound, free_port, stop, wait_until_ready
from harness.errors import ConfigurationError, EngineError
from service import Settings, SimulatedClock, create_app
from sim.specs import Build
from sim.transport import AsgiTransport, Headers, HttpTransport, Reply, ServiceGone, Transport

READY_TIMEOUT = 30.0


@dataclass
class Target:
    base_url: str
    admin_token: str | None
    start: Callable[[], Transport]
    restart: Callable[[], Transport] | None
    last_words: Callable[[], str] = lambda: ""  # what a service that died said last, for errors
    launch: Callable[[Build], Transport] | None = None  # another replica, serving the build's model


def _loopback_transport(url: str, retries: int = 2) -> Transport:
    # uvicorn closes idle keep-alive connections after 5 s: retry the connect.
    return HttpTransport(httpx.AsyncHTTPTransport(retries=retries), url)


@contextlib.contextmanager
def in_process(
    seed: int,
    workers: int,
    start_unix: float,
    model: Path | None = None,
    scale_out_rps: float | None = None,
    symbols: tuple[str, ...] | None = None,
) -> Iterator[Target]:
    """The service's app in this process; ``symbols``, the world's, are the service's universe."""
    token = secrets.token_urlsafe(16)
    settings = Settings(
        sim_clock=True,
        admin_token=token,
        chaos_seed=seed,
        cpu_cores=workers,
        model_path=str(model) if model else None,
        scale_out_rps=Settings.model_fields["scale_out_rps"].default if scale_out_rps is None else scale_out_rps,
        symbols=symbols or Settings.model_fields["symbols"].default,
    )

    def start() -> Transport:
        return AsgiTransport(create_app(settings, SimulatedClock(start_unix)))

    def launch(build: Build) -> Transport:
        own = settings.model_copy(update={"model_path": build.model or settings.model_path})
        return AsgiTransport(create_app(own, SimulatedClock(start_unix)))

    yield Target("http://service", token, start, start, launch=launch)


@contextlib.contextmanager
def remote(url: str, admin_token: str | None) -> Iterator[Target]:
    """A service somebody else started: it must answer ``/health`` now, and take ``admin_token``
    (asked through the probe, which changes no metric), before a simulated second is spent."""
    headers = {"Authorization": f"Bearer {admin_token}"} if admin_token else {}
    try:
        reply = httpx.get(f"{url.rstrip('/')}/health", headers=headers, timeout=5)
        reply.raise_for_status()
    except httpx.HTTPError as exc:
        raise ConfigurationError(f"--service-url {url}: the service does not answer /health ({exc})") from exc
    admin = reply.json().get("admin") if admin_token else None
    if admin == "refused":
        raise ConfigurationError(
            f"--service-url {url}: the admin token given ($ALERTDRILL_ADMIN_TOKEN or --admin-token-file) "
            "is not this service's admin token"
        )
    if admin == "disabled":
        raise ConfigurationError(
            f"--service-url {url}: the service has no admin API; start it with ALERTDRILL_ADMIN_TOKEN set"
        )
    base = url.rstrip("/")
    yield Target(base, admin_token, lambda: _loopback_transport(base), None)


ADMIN_TOKEN_ENV = "ALERTDRILL_ADMIN_TOKEN"


def serve_environment(token: str) -> dict[str, str]:
    """The child's environment with the admin token in it: never on its command line, which
    every user of the machine can read in ``ps``."""
    return {**os.environ, ADMIN_TOKEN_ENV: token}


def serve_command(
    port: int,
    seed: int,
    workers: int | None,
    model: Path | None = None,
    scale_out_rps: float | None = None,
    symbols: tuple[str, ...] | None = None,
    *,
    sim_clock: bool = True,
) -> list[str]:
    """``alertdrill serve`` as the run (``sim_clock``) or a drill needs it; the admin token goes
    in ``serve_environment``. ``workers`` None: the cores this machine has."""
    return [
        sys.executable,
        "-m",
        "harness.cli",
        "serve",
        *(["--sim-clock"] if sim_clock else []),
        "--port",
        str(port),
        "--chaos-seed",
        str(seed),
        *(["--cpu-cores", str(workers)] if workers is not None else []),
        "--log-level",
        "warning",
        *(["--model", str(model)] if model else []),
        *(["--scale-out-rps", repr(scale_out_rps)] if scale_out_rps is not None else []),
        *(["--symbols", ",".join(symbols)] if symbols else []),
    ]


def wait_ready(url: str, process: subprocess.Popen[bytes], last_words: Callable[[], str] = lambda: "") -> None:
    """``alertdrill serve`` answering its liveness probe, or an error with what it said."""
    state = wait_until_ready(url, process, READY_TIMEOUT, path="/health")
    if state == "exited":
        raise EngineError(f"alertdrill serve exited with {process.returncode} before answering on {url}{last_words()}")
    if state == "timeout":
        raise EngineError(f"alertdrill serve did not answer on {url} within {READY_TIMEOUT:g}s{last_words()}")


def _tail(log: IO[bytes], limit: int = 2000) -> str:
    """The end of what a child wrote to ``log``, as a clause for an error message."""
    log.flush()
    log.seek(0, os.SEEK_END)
    size = log.tell()
    log.seek(max(0, size - limit))
    text = log.read().decode("utf-8", errors="replace").strip()
    return f"; it said: {text}" if text else ""


@contextlib.contextmanager
def spawned(
    seed: int,
    workers: int,
    model: Path | None = None,
    scale_out_rps: float | None = None,
    symbols: tuple[str, ...] | None = None,
) -> Iterator[Target]:
    """``alertdrill serve --sim-clock`` under uvicorn on a free port; a restart is a new process.

    The child dies with alertdrill (``bound``); what it writes to stderr goes to an unnamed
    temporary file (nothing left behind, even after SIGKILL), whose end is quoted when it fails.
    """
    token = secrets.token_urlsafe(16)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as stderr:
        served = ServedProcess(serve_command(port, seed, workers, model, scale_out_rps, symbols), url, token, stderr)
        replicas: list[ServedProcess] = []

        def launch(build: Build) -> Transport:
            """Another replica: a process of its own, on a port of its own, ready before it returns."""
            at = free_port()
            own = Path(build.model) if build.model else model
            command = serve_command(at, seed, workers, own, scale_out_rps, symbols)
            replica = ServedProcess(command, f"http://127.0.0.1:{at}", token, stderr)
            replicas.append(replica)
            return replica.start()

        try:
            yield Target(url, token, served.start, served.start, served.last_words, launch)
        finally:
            for replica in replicas:
                replica.stop()
            served.stop()


class _Restarting:
    """A restarted service's transport while its process boots: a refused connection is a failed
    request, as a client of a restarting service sees one, until it first answers or
    ``READY_TIMEOUT`` passes; after that a refusal means the service is gone, as usual. While
    booting, connects are not retried (httpx backs off for a second and more between retries,
    which would stall the world); from the first answer on, ``steady`` (retrying) carries on."""

    def __init__(self, booting: Transport, steady: Transport, deadline: float) -> None:
        self.booting, self.steady, self.deadline, self.answered = booting, steady, deadline, False

    async def exchange(self, method: str, path: str, headers: Headers, body: bytes | None) -> Reply:
        if self.answered:
            return await self.steady.exchange(method, path, headers, body)
        try:
            reply = await self.booting.exchange(method, path, headers, body)
        except ServiceGone as exc:
            if time.monotonic() > self.deadline:
                raise
            return Reply(None, error=f"ConnectError: {exc} (restarting)")
        self.answered = True
        return reply

    async def aclose(self) -> None:
        await self.booting.aclose()
        await self.steady.aclose()


class ServedProcess:
    """``alertdrill serve`` as a child of alertdrill, on one port for its whole life (``--spawn``'s,
    or a drill's, which Prometheus scrapes): ``bound`` to alertdrill, the admin token in its
    environment, its stderr in an unnamed file quoted when it fails. A crash fault of a drill
    kills it for real (``kill``: Prometheus' scrapes then fail, as they would), and ``start``
    brings a fresh one up on the same port."""

    def __init__(self, command: list[str], url: str, token: str, stderr: IO[bytes]) -> None:
        self.command, self.url, self.token, self._stderr = command, url, token, stderr
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, wait: bool = True) -> Transport:
        """A fresh process on the drill's port. ``wait`` False (a restart mid-drill): return at
        once, as a restarting process is not there yet either; the world's requests meanwhile
        fail to connect, and the world does not stall for the seconds an import takes."""
        self.stop()
        self.process = subprocess.Popen(
            bound(self.command),
            env=serve_environment(self.token),
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C is alertdrill's to handle: the rollback still needs it
        )
        if wait:
            wait_ready(self.url, self.process, self.last_words)
            return _loopback_transport(self.url)
        booting = _loopback_transport(self.url, retries=0)
        return _Restarting(booting, _loopback_transport(self.url), time.monotonic() + READY_TIMEOUT)

    def kill(self) -> None:
        """As a crash: SIGKILL, no graceful shutdown."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None

    def last_words(self) -> str:
        return _tail(self._stderr)


@contextlib.contextmanager
def live_service(
    admin_token: str,
    *,
    seed: int = 0,
    workers: int | None = None,
    model: Path | None = None,
    scale_out_rps: float | None = None,
    symbols: tuple[str, ...] | None = None,
) -> Iterator[ServedProcess]:
    """``alertdrill serve`` on its wall clock on a free port, started and ready; stopped on exit
    (and, being ``bound``, with alertdrill even after a SIGKILL). The token travels in the
    environment, never on a command line."""
    port = free_port()
    command = serve_command(port, seed, workers, model, scale_out_rps, symbols, sim_clock=False)
    with tempfile.TemporaryFile() as stderr:
        service = ServedProcess(command, f"http://127.0.0.1:{port}", admin_token, stderr)
        try:
            service.start()
            yield service
        finally:
            service.stop()
