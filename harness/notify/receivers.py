"""alertdrill's stand-ins for PagerDuty, Slack, webhooks and the mail server: local servers that
answer Alertmanager as the real services would and record every attempt, so that a replay proves
which notifications reached whom, and when.

The config copy a replay runs (``harness.notify.config_copy``) points every integration here: one
HTTP server (PagerDuty, Slack, webhooks, and the webhook "shadow" twin of each integration, which
gets the same notification in the webhook format) and one SMTP server (no AUTH, no STARTTLS). The
path of each URL, and the ``X-Alertdrill-*`` headers of each email, name the receiver and the
integration. What each service accepts is ``harness.notify.deliveries``; this module is the edge:
sockets, threads and the journal of attempts.

An outage is injected with ``failing(receiver, kind)``: a status answers instead of the service.
Alertmanager 0.25 ignores the reply to the end of an email's DATA (``notify/email/email.go``
defers ``message.Close()`` and drops its error; fixed later, prometheus/alertmanager#4006), so a
mail outage it notices needs the refusal earlier: with ``hello: <smtp_hello(receiver, index)>``
in the email config, the mail server knows whose mail it is at EHLO and refuses ``MAIL FROM``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller

from harness.engine import free_port
from harness.errors import ReceiverError
from harness.notify import deliveries
from harness.notify.deliveries import Kind, Route, Verdict

Failing = Callable[[str, str], int | None]
"""``(receiver, kind) -> None`` to behave normally, or the status to answer instead."""

MAX_BODY = 16 * 1024 * 1024
POLL_INTERVAL = 0.02  # seconds
SMTP_ACCEPTED = "250 OK: queued by alertdrill"
SMTP_OUTAGE = "451 4.3.0 Mail server temporarily unavailable (alertdrill: injected outage)"
_SERVICES: dict[str, Callable[[bytes], Verdict]] = {
    "pagerduty": deliveries.pagerduty,
    "slack": deliveries.slack,
    "webhook": deliveries.webhook,
}


@dataclass(frozen=True)
class Attempt:
    """One delivery attempt, as the receiver saw it. ``status`` is the HTTP status answered (the
    SMTP reply code for email); ``body`` the parsed JSON (None when it was not JSON), or for email
    ``{"from", "to", "subject", "headers", "text"}``. ``receiver`` is "" and ``index`` -1 when the
    request named no integration (``kind`` "unknown")."""

    wall: float
    receiver: str
    kind: Kind
    index: int
    shadow: bool
    status: int
    accepted: bool
    error: str | None
    body: Any
    routing_key: str | None = None


class _Journal:
    """The attempts, in the order they were answered; written from many threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._attempts: list[Attempt] = []

    def add(self, attempt: Attempt) -> None:
        with self._lock:
            self._attempts.append(attempt)

    def copy(self) -> list[Attempt]:
        with self._lock:
            return list(self._attempts)


def _attempt(wall: float, where: Route | None, verdict: Verdict, injected: bool = False) -> Attempt:
    body = verdict.body
    key = body.get("routing_key") if where and where.kind == "pagerduty" and isinstance(body, dict) else None
    return Attempt(
        wall=wall,
        receiver=where.receiver if where else "",
        kind=where.kind if where else "unknown",
        index=where.index if where else -1,
        shadow=where.shadow if where else False,
        status=verdict.status,
        accepted=verdict.accepted and not injected,
        error=verdict.error,
        body=body,
        routing_key=key if isinstance(key, str) else None,
    )


class _Desk:
    """Answers one HTTP request as the service its path names would, and records the attempt."""

    def __init__(self, journal: _Journal, failing: Failing | None, clock: Callable[[], float]) -> None:
        self.journal, self.failing, self.clock = journal, failing, clock

    def answer(self, method: str, raw_path: str, raw: bytes | None) -> Verdict:
        wall = self.clock()
        where = deliveries.route(raw_path)
        injected = False
        try:
            verdict, injected = self._verdict(method, raw_path, where, raw)
        except Exception as exc:  # a bug here, or in `failing`: refused and recorded, never a 500
            verdict = deliveries.text_reply(400, "alertdrill receiver failed", f"alertdrill receiver failed: {exc!r}")
        self.journal.add(_attempt(wall, where, verdict, injected))
        return verdict

    def _verdict(self, method: str, raw_path: str, where: Route | None, raw: bytes | None) -> tuple[Verdict, bool]:
        if where is None:
            return deliveries.text_reply(404, "no_service", f"no alertdrill receiver at {raw_path!r}"), False
        if method != "POST":
            return deliveries.text_reply(405, "method_not_allowed", f"{method} is not allowed (only POST)"), False
        if raw is None:
            return deliveries.text_reply(411, "length_required", "no Content-Length (or too large a body)"), False
        status = None if where.shadow or self.failing is None else self.failing(where.receiver, where.kind)
        if status is not None:
            body, _ = deliveries.parse_json(raw)
            reason = f"injected failure: {where.kind} answers {status}"
            return deliveries.text_reply(status, f"alertdrill: {reason}", reason, body), True
        return _SERVICES[where.kind](raw), False


class _Server(ThreadingHTTPServer):
    """Joins its request threads on close (``block_on_close``), which are daemons all the same."""

    daemon_threads = True
    block_on_close = True
    request_queue_size = 128  # socketserver's 5 drops the SYNs of a burst: a 1 s retransmit each

    def __init__(self, address: tuple[str, int], desk: _Desk) -> None:
        super().__init__(address, _Handler)
        self.desk = desk

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up mid-answer: nothing to say (the attempt is recorded already)."""


class _Handler(BaseHTTPRequestHandler):
    """Reads a request, lets the desk answer it, writes the answer; logs nothing."""

    server: _Server
    timeout = 10.0  # a client that stops mid-request does not hold a thread (nor the close) for ever
    disable_nagle_algorithm = True  # the body is a second write: without it, a delayed ACK per answer

    def do_POST(self) -> None:
        self._answer(self._body())

    def _refuse(self) -> None:
        self._answer(None)

    do_GET = do_HEAD = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _refuse

    def _body(self) -> bytes | None:
        length = self.headers.get("Content-Length", "")
        if not deliveries.is_index(length) or int(length) > MAX_BODY:
            return None
        return self.rfile.read(int(length))

    def _answer(self, raw: bytes | None) -> None:
        verdict = self.server.desk.answer(self.command, self.path, raw)
        self.send_response(verdict.status)
        self.send_header("Content-Type", verdict.content_type)
        self.send_header("Content-Length", str(len(verdict.reply)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(verdict.reply)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the journal is the record."""


class _Mailroom:
    """aiosmtpd's handler: records each message, refuses it when ``failing`` says so."""

    def __init__(self, journal: _Journal, failing: Failing | None, clock: Callable[[], float]) -> None:
        self.journal, self.failing, self.clock = journal, failing, clock

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        where = deliveries.hello_route(session.host_name)
        try:
            refused = where is not None and self._outage(where)
        except Exception as exc:  # a bug in `failing`: refused and recorded, never into aiosmtpd
            self._record(where, 554, f"alertdrill receiver failed: {exc!r}", None)
            return "554 5.3.0 alertdrill receiver failed"
        if refused and where is not None:
            body: dict[str, Any] = {"from": address, "to": [], "subject": None, "headers": {}, "text": ""}
            self._record(where, 451, "injected failure: email refused at MAIL FROM", body)
            return SMTP_OUTAGE
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        wall = self.clock()
        try:
            return self._data(wall, session.host_name, envelope)
        except Exception as exc:  # never an exception into aiosmtpd (it would answer 500)
            self._record(None, 554, f"alertdrill receiver failed: {exc!r}", None, wall)
            return "554 5.3.0 alertdrill receiver failed"

    def _data(self, wall: float, host_name: str | None, envelope: Any) -> str:
        body = deliveries.email_record(envelope.content, envelope.mail_from, envelope.rcpt_tos)
        hello = deliveries.hello_route(host_name)
        where = _header_route(body["headers"]) or hello
        if where is None:
            self._record(None, 550, "no X-Alertdrill-Receiver and X-Alertdrill-Index headers", body, wall)
            return "550 5.7.1 alertdrill: no X-Alertdrill-Receiver and X-Alertdrill-Index headers"
        if hello is None and self._outage(where):  # with a hello name, MAIL FROM decided
            self._record(where, 451, "injected failure: email refused at end of DATA", body, wall)
            return SMTP_OUTAGE
        self._record(where, 250, None, body, wall)
        return SMTP_ACCEPTED

    def _outage(self, where: Route) -> bool:
        return self.failing is not None and self.failing(where.receiver, "email") is not None

    def _record(self, where: Route | None, code: int, error: str | None, body: Any, wall: float | None = None) -> None:
        verdict = Verdict(code, b"", "", error, body)
        self.journal.add(_attempt(self.clock() if wall is None else wall, where or _NOBODY, verdict, code != 250))


_NOBODY = Route("email", "", -1)


def _header_route(headers: dict[str, str]) -> Route | None:
    lowered = {name.lower(): value.strip() for name, value in headers.items()}
    receiver, index = lowered.get("x-alertdrill-receiver"), lowered.get("x-alertdrill-index", "")
    if receiver is None or not deliveries.is_index(index):
        return None
    return Route("email", receiver, int(index))


class Receivers:
    """The receivers of one replay: ``with Receivers() as receivers:`` starts the HTTP and SMTP
    servers on free loopback ports; leaving the block stops both and joins their threads."""

    def __init__(self, *, failing: Failing | None = None, clock: Callable[[], float] = time.time) -> None:
        self._journal = _Journal()
        self._failing, self._clock = failing, clock
        self._http: _Server | None = None
        self._http_thread: threading.Thread | None = None
        self._smtp: Controller | None = None

    def __enter__(self) -> Receivers:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> None:
        """Start both servers; ``ReceiverError`` (and nothing left running) if one cannot start."""
        if self._http is not None:
            raise ReceiverError("the receivers are running already")
        try:
            self._http = _Server(("127.0.0.1", 0), _Desk(self._journal, self._failing, self._clock))
            self._http_thread = threading.Thread(
                target=self._http.serve_forever,
                kwargs={"poll_interval": POLL_INTERVAL},  # how long stop() waits for the loop to notice
                name="alertdrill-receivers-http",
                daemon=True,
            )
            self._http_thread.start()
            self._smtp = _start_smtp(_Mailroom(self._journal, self._failing, self._clock))
        except (OSError, RuntimeError, TimeoutError) as exc:
            self.stop()
            raise ReceiverError(f"alertdrill's notification receivers could not start: {exc}") from exc

    def stop(self) -> None:
        """Stop both servers (those that started); safe to call twice."""
        if self._http is not None:
            if self._http_thread is not None:
                self._http.shutdown()
                self._http_thread.join()
            self._http.server_close()
            self._http, self._http_thread = None, None
        if self._smtp is not None:
            self._smtp.stop()
            self._smtp = None

    def attempts(self) -> list[Attempt]:
        """Every attempt so far, in the order answered (a copy)."""
        return self._journal.copy()

    @property
    def http_url(self) -> str:
        """``http://127.0.0.1:PORT`` of the HTTP receivers."""
        if self._http is None:
            raise ReceiverError("the receivers are not running (use `with Receivers() as receivers:`)")
        return f"http://127.0.0.1:{self._http.server_address[1]}"

    def pagerduty_url(self, receiver: str, index: int) -> str:
        """PagerDuty's Events API v2 endpoint for integration ``index`` of ``receiver``."""
        return self.http_url + deliveries.path("pagerduty", receiver, index)

    def slack_url(self, receiver: str, index: int) -> str:
        """A Slack incoming webhook for integration ``index`` of ``receiver``."""
        return self.http_url + deliveries.path("slack", receiver, index)

    def webhook_url(self, receiver: str, index: int, shadow: bool = False) -> str:
        """A webhook for integration ``index`` of ``receiver``; ``shadow``: its twin that sees the
        notification of any integration in the webhook format (never failed by ``failing``)."""
        return self.http_url + deliveries.path("shadow" if shadow else "webhook", receiver, index)

    @property
    def smtp_smarthost(self) -> str:
        """``127.0.0.1:PORT`` of the mail server (plain SMTP: ``require_tls: false``, no auth)."""
        if self._smtp is None:
            raise ReceiverError("the receivers are not running (use `with Receivers() as receivers:`)")
        return f"127.0.0.1:{self._smtp.port}"

    @staticmethod
    def smtp_hello(receiver: str, index: int) -> str:
        """The ``hello`` for integration ``index`` of ``receiver``: lets an email outage refuse the
        mail before DATA, where Alertmanager 0.25 notices it (see the module docstring)."""
        return deliveries.hello(receiver, index)


def _start_smtp(handler: _Mailroom, tries: int = 3) -> Controller:
    """aiosmtpd on a free port (it needs the number before it binds): another try if the port
    was taken in between."""
    for _ in range(tries - 1):
        with contextlib.suppress(OSError):
            return _smtp_on_free_port(handler)
    return _smtp_on_free_port(handler)


def _smtp_on_free_port(handler: _Mailroom) -> Controller:
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), server_hostname="alertdrill")
    try:
        controller.start()
    except BaseException:
        if not controller.loop.is_running():
            controller.loop.close()
        raise
    return controller
