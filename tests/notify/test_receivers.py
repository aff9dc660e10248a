"""alertdrill's stand-ins for PagerDuty, Slack, webhooks and SMTP: real servers, real HTTP and SMTP.

The samples are what the real Alertmanager 0.25 sends (``notify/pagerduty``, ``notify/slack``,
``notify/webhook``, ``notify/email`` with the default templates), as captured by the last test,
which runs the real binary against the receivers.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import json
import quopri
import smtplib
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml

from harness.engine import free_port, wait_until_ready
from harness.errors import ReceiverError
from harness.notify.receivers import Attempt, Receivers

ALERTMANAGER = Path("/usr/bin/prometheus-alertmanager")
EXTERNAL = "http://alertmanager:9093"
CLIENT_URL = f"{EXTERNAL}/#/alerts?receiver=team-pager"
DEDUP_KEY = "cbc7a356b874c7d0332c73753d5082204bea3c18a5cb2a9a50e75f6687ffb86b"  # sha256 of the group key
ROUTING_KEY = "alertdrill0123456789abcdef012345"  # 32 characters, as PagerDuty's
FIRING_LIST = "Labels:\n - alertname = HighErrorRate\n - severity = page\nAnnotations:\n - summary = errors\nSource: \n"

PAGERDUTY_TRIGGER: dict[str, Any] = {
    "routing_key": ROUTING_KEY,
    "dedup_key": DEDUP_KEY,
    "event_action": "trigger",
    "payload": {
        "summary": "[FIRING:1] HighErrorRate (page)",
        "source": "Alertmanager",
        "severity": "error",
        "custom_details": {"firing": FIRING_LIST, "num_firing": "1", "num_resolved": "0", "resolved": ""},
    },
    "client": "Alertmanager",
    "client_url": CLIENT_URL,
}
PAGERDUTY_RESOLVE: dict[str, Any] = {
    **PAGERDUTY_TRIGGER,
    "event_action": "resolve",
    "payload": {
        "summary": "[RESOLVED] HighErrorRate (page)",
        "source": "Alertmanager",
        "severity": "error",
        "custom_details": {"firing": "", "num_firing": "0", "num_resolved": "1", "resolved": FIRING_LIST},
    },
}
SLACK: dict[str, Any] = {
    "channel": "#x",
    "username": "Alertmanager",
    "attachments": [
        {
            "title": "[FIRING:1] HighErrorRate (page)",
            "title_link": CLIENT_URL,
            "text": "",
            "fallback": f"[FIRING:1] HighErrorRate (page) | {CLIENT_URL}",
            "callback_id": "",
            "footer": "",
            "color": "danger",
            "mrkdwn_in": ["fallback", "pretext", "text"],
        }
    ],
}
WEBHOOK: dict[str, Any] = {
    "receiver": "team-pager",
    "status": "firing",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "HighErrorRate", "severity": "page"},
            "annotations": {"summary": "errors"},
            "startsAt": "2026-01-05T14:30:00.07004Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "",
            "fingerprint": "3eacacedc5464f06",
        }
    ],
    "groupLabels": {"alertname": "HighErrorRate"},
    "commonLabels": {"alertname": "HighErrorRate", "severity": "page"},
    "commonAnnotations": {"summary": "errors"},
    "externalURL": EXTERNAL,
    "version": "4",
    "groupKey": '{}:{alertname="HighErrorRate"}',
    "truncatedAlerts": 0,
}
EMAIL_HTML = (
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN">\n<html><head><title>[FIRING:1] HighErrorRate'
    "</title><style>body { color: #000; }</style></head><body><table><tr><td>1 alert for alertname=HighErrorRate"
    "</td></tr><tr><td><a href='x'>View in Alertmanager</a></td></tr><tr><td><strong>[1] Firing</strong></td>"
    "</tr><tr><td>Labels<br />\nalertname = HighErrorRate<br />severity = page &amp; more<br /></td></tr></table>"
    "</body></html>"
)


def alertmanager_email(receiver_header: str | None = "=?utf-8?q?ops_team/on_call_=C3=BC?=", plain: str = "") -> bytes:
    """A message as Alertmanager 0.25 writes it (``notify/email/email.go``): the configured headers
    (RFC 2047 Q-encoded), Message-Id, Date, multipart/alternative of quoted-printable parts."""
    boundary = "9c1234eef7328aaa0495b9680315d51e3ee8b5aa92870008632260739dc0"
    headers = ["To: oncall@example.com", "From: alertmanager@example.com", "Subject: [FIRING:1] HighErrorRate (page)"]
    if receiver_header is not None:
        headers += [f"X-Alertdrill-Receiver: {receiver_header}", "X-Alertdrill-Index: 1"]
    headers += [
        "Message-Id: <1795796972153948847.4495820552248948686@vm>",
        "Date: Mon, 05 Jan 2026 14:30:00 +0000",
        f"Content-Type: multipart/alternative;  boundary={boundary}",
        "MIME-Version: 1.0",
    ]
    parts = [("text/plain", plain)] if plain else []
    parts.append(("text/html", EMAIL_HTML))
    body = "".join(
        f"--{boundary}\r\nContent-Transfer-Encoding: quoted-printable\r\nContent-Type: {kind}; charset=UTF-8\r\n\r\n"
        f"{quopri.encodestring(text.encode()).decode()}\r\n"
        for kind, text in parts
    )
    return ("\r\n".join(headers) + "\r\n\r\n" + body + f"--{boundary}--\r\n").encode()


@pytest.fixture
def receivers() -> Iterator[Receivers]:
    with Receivers() as started:
        yield started


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as http:
        yield http


def only(receivers: Receivers) -> Attempt:
    (attempt,) = receivers.attempts()
    return attempt


def send_mail(receivers: Receivers, message: bytes, hello: str | None = None) -> None:
    host, port = receivers.smtp_smarthost.split(":")
    with smtplib.SMTP(host, int(port), local_hostname=hello, timeout=5) as smtp:
        smtp.sendmail("alertmanager@example.com", ["oncall@example.com", "sre@example.com"], message)


# PagerDuty


def test_a_pagerduty_trigger_is_accepted_and_recorded(receivers: Receivers, client: httpx.Client) -> None:
    response = client.post(receivers.pagerduty_url("team-pager", 2), json=PAGERDUTY_TRIGGER)
    assert response.status_code == 202
    assert response.json() == {"status": "success", "message": "Event processed", "dedup_key": DEDUP_KEY}
    attempt = only(receivers)
    assert (attempt.receiver, attempt.kind, attempt.index, attempt.shadow) == ("team-pager", "pagerduty", 2, False)
    assert (attempt.status, attempt.accepted, attempt.error) == (202, True, None)
    assert attempt.body == PAGERDUTY_TRIGGER
    assert attempt.routing_key == ROUTING_KEY


def test_a_pagerduty_resolve_is_accepted(receivers: Receivers, client: httpx.Client) -> None:
    response = client.post(receivers.pagerduty_url("team-pager", 0), json=PAGERDUTY_RESOLVE)
    assert response.status_code == 202
    assert only(receivers).body["event_action"] == "resolve"


def test_a_trigger_without_dedup_key_is_given_one(receivers: Receivers, client: httpx.Client) -> None:
    event = {key: value for key, value in PAGERDUTY_TRIGGER.items() if key != "dedup_key"}
    response = client.post(receivers.pagerduty_url("team-pager", 0), json=event)
    assert response.status_code == 202
    assert len(response.json()["dedup_key"]) == 32


def test_the_limits_themselves_are_accepted(receivers: Receivers, client: httpx.Client) -> None:
    event = copy.deepcopy(PAGERDUTY_TRIGGER)
    event["dedup_key"] = "k" * 255
    event["payload"]["summary"] = "ü" * 1024  # characters, not bytes
    event["payload"].update(timestamp="2026-01-05T14:30:00.000+0000", component="db", group="prod", **{"class": "x"})
    event["images"] = [{"src": "https://example.com/a.png", "href": "https://example.com", "alt": "a"}]
    event["links"] = [{"href": "https://example.com", "text": "runbook"}]
    assert client.post(receivers.pagerduty_url("team-pager", 0), json=event).status_code == 202


def _without(path: str) -> Callable[[dict[str, Any]], None]:
    def change(event: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        target = event
        for parent in parents:
            target = target[parent]
        del target[leaf]

    return change


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(event: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        target = event
        for parent in parents:
            target = target[parent]
        target[leaf] = value

    return change


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (_without("routing_key"), "'routing_key' is missing or blank"),
        (_set("routing_key", " "), "'routing_key' is missing or blank"),
        (_without("event_action"), "'event_action' is missing or blank"),
        (_set("event_action", "escalate"), "'event_action' is invalid"),
        (_set("dedup_key", "k" * 256), "'dedup_key' is too long (256 characters; the maximum is 255)"),
        (_set("dedup_key", 7), "'dedup_key' must be a string"),
        (_without("payload"), "'payload' is missing or not an object"),
        (_without("payload.summary"), "'payload.summary' is missing or blank"),
        (_set("payload.summary", "s" * 1025), "'payload.summary' is too long (1025 characters; the maximum is 1024)"),
        (_set("payload.source", ""), "'payload.source' is missing or blank"),
        (_without("payload.severity"), "'payload.severity' is missing or blank"),
        (_set("payload.severity", "page"), "'payload.severity' is invalid"),
        (_set("payload.custom_details", "text"), "'payload.custom_details' must be an object"),
        (_set("payload.component", 3), "'payload.component' must be a string"),
        (_set("client", ["Alertmanager"]), "'client' must be a string"),
        (_set("images", [{"alt": "no src"}]), "'images[0].src' is missing or blank"),
        (_set("links", [{"text": "no href"}]), "'links[0].href' is missing or blank"),
    ],
)
def test_an_invalid_pagerduty_event_is_refused_with_the_reason(
    receivers: Receivers, client: httpx.Client, change: Callable[[dict[str, Any]], None], reason: str
) -> None:
    event = copy.deepcopy(PAGERDUTY_TRIGGER)
    change(event)
    response = client.post(receivers.pagerduty_url("team-pager", 0), json=event)
    assert response.status_code == 400
    reply = response.json()
    assert (reply["status"], reply["message"]) == ("invalid event", "Event object is invalid")
    assert any(reason in error for error in reply["errors"]), reply["errors"]
    attempt = only(receivers)
    assert (attempt.status, attempt.accepted) == (400, False)
    assert attempt.error is not None and reason in attempt.error
    assert attempt.body == event


@pytest.mark.parametrize("action", ["resolve", "acknowledge"])
def test_resolve_and_acknowledge_need_a_dedup_key(receivers: Receivers, client: httpx.Client, action: str) -> None:
    event = {"routing_key": ROUTING_KEY, "event_action": action}
    response = client.post(receivers.pagerduty_url("team-pager", 0), json=event)
    assert response.status_code == 400
    assert response.json()["errors"] == ["'dedup_key' is missing or blank (required to acknowledge or resolve)"]
    assert client.post(receivers.pagerduty_url("team-pager", 0), json={**event, "dedup_key": "k"}).status_code == 202


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]"])
def test_pagerduty_refuses_what_is_not_an_event_object(
    receivers: Receivers, client: httpx.Client, content: bytes
) -> None:
    response = client.post(receivers.pagerduty_url("team-pager", 0), content=content)
    assert response.status_code == 400
    assert response.json()["status"] == "invalid event"
    assert only(receivers).accepted is False


# Slack


def test_a_slack_attachments_message_is_accepted_and_recorded(receivers: Receivers, client: httpx.Client) -> None:
    response = client.post(receivers.slack_url("team-chat", 3), json=SLACK)
    assert (response.status_code, response.text) == (200, "ok")
    assert response.headers["content-type"].startswith("text/plain")
    attempt = only(receivers)
    assert (attempt.receiver, attempt.kind, attempt.index, attempt.status, attempt.accepted) == (
        "team-chat",
        "slack",
        3,
        200,
        True,
    )
    assert attempt.body == SLACK
    assert attempt.routing_key is None


@pytest.mark.parametrize("message", [{"text": "hello"}, {"blocks": [{"type": "section"}]}])
def test_slack_accepts_text_or_blocks(receivers: Receivers, client: httpx.Client, message: dict[str, Any]) -> None:
    assert client.post(receivers.slack_url("team-chat", 0), json=message).status_code == 200


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"{not json", "invalid_payload"),
        (b'"a string"', "invalid_payload"),
        (json.dumps({"text": 5}).encode(), "invalid_payload"),
        (json.dumps({"attachments": {"title": "x"}}).encode(), "invalid_payload"),
        (b"{}", "no_text"),
        (json.dumps({"channel": "#x", "text": "", "attachments": []}).encode(), "no_text"),
    ],
)
def test_slack_refuses_as_slack_does(receivers: Receivers, client: httpx.Client, content: bytes, reason: str) -> None:
    response = client.post(receivers.slack_url("team-chat", 0), content=content)
    assert (response.status_code, response.text) == (400, reason)
    attempt = only(receivers)
    assert (attempt.status, attempt.accepted) == (400, False)
    assert attempt.error


# Webhooks


def test_a_v4_webhook_is_accepted_and_recorded(receivers: Receivers, client: httpx.Client) -> None:
    response = client.post(receivers.webhook_url("team-pager", 0), json=WEBHOOK)
    assert response.status_code == 200
    attempt = only(receivers)
    assert (attempt.receiver, attempt.kind, attempt.index, attempt.shadow, attempt.accepted) == (
        "team-pager",
        "webhook",
        0,
        False,
        True,
    )
    assert attempt.body == WEBHOOK


def test_a_shadow_webhook_is_recorded_as_one(receivers: Receivers, client: httpx.Client) -> None:
    assert client.post(receivers.webhook_url("team-chat", 3, shadow=True), json=WEBHOOK).status_code == 200
    attempt = only(receivers)
    assert (attempt.receiver, attempt.kind, attempt.index, attempt.shadow) == ("team-chat", "webhook", 3, True)


@pytest.mark.parametrize("field", list(WEBHOOK))
def test_a_webhook_without_a_field_is_refused_naming_it(receivers: Receivers, client: httpx.Client, field: str) -> None:
    message = {key: value for key, value in WEBHOOK.items() if key != field}
    response = client.post(receivers.webhook_url("team-pager", 0), json=message)
    assert (response.status_code, response.text) == (400, f"missing field '{field}'")
    assert only(receivers).error == f"missing field '{field}'"


@pytest.mark.parametrize("field", list(WEBHOOK["alerts"][0]))
def test_an_alert_without_a_field_is_refused_naming_it(receivers: Receivers, client: httpx.Client, field: str) -> None:
    message = copy.deepcopy(WEBHOOK)
    del message["alerts"][0][field]
    response = client.post(receivers.webhook_url("team-pager", 0), json=message)
    assert (response.status_code, response.text) == (400, f"missing field 'alerts[0].{field}'")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (_set("version", "3"), "invalid field 'version': '3' (expected '4')"),
        (_set("status", "pending"), "invalid field 'status': 'pending'"),
        (_set("truncatedAlerts", -1), "invalid field 'truncatedAlerts'"),
        (_set("truncatedAlerts", "0"), "invalid field 'truncatedAlerts': expected integer, got str"),
        (_set("commonLabels", []), "invalid field 'commonLabels': expected object, got list"),
        (_set("alerts", [7]), "invalid field 'alerts[0]': expected an object"),
    ],
)
def test_a_webhook_of_another_shape_is_refused(
    receivers: Receivers, client: httpx.Client, change: Callable[[dict[str, Any]], None], reason: str
) -> None:
    message = copy.deepcopy(WEBHOOK)
    change(message)
    response = client.post(receivers.webhook_url("team-pager", 0), json=message)
    assert response.status_code == 400
    assert response.text.startswith(reason)


def test_a_webhook_that_is_not_json_is_refused(receivers: Receivers, client: httpx.Client) -> None:
    response = client.post(receivers.webhook_url("team-pager", 0), content=b"alerts!")
    assert response.status_code == 400
    assert response.text.startswith("body is not JSON")
    assert only(receivers).body is None


# Email


def test_an_alertmanager_email_is_accepted_and_recorded(receivers: Receivers) -> None:
    send_mail(receivers, alertmanager_email())
    attempt = only(receivers)
    assert (attempt.receiver, attempt.kind, attempt.index, attempt.shadow) == ("ops team/on call ü", "email", 1, False)
    assert (attempt.status, attempt.accepted, attempt.error, attempt.routing_key) == (250, True, None, None)
    assert attempt.body["from"] == "alertmanager@example.com"
    assert attempt.body["to"] == ["oncall@example.com", "sre@example.com"]
    assert attempt.body["subject"] == "[FIRING:1] HighErrorRate (page)"
    assert attempt.body["headers"]["X-Alertdrill-Receiver"] == "ops team/on call ü"
    assert attempt.body["headers"]["X-Alertdrill-Index"] == "1"
    assert attempt.body["text"] == (
        "1 alert for alertname=HighErrorRate\nView in Alertmanager\n[1] Firing\nLabels\n"
        "alertname = HighErrorRate\nseverity = page & more"
    )


def test_an_email_text_part_is_preferred_to_its_html(receivers: Receivers) -> None:
    send_mail(receivers, alertmanager_email(plain="Firing: HighErrorRate\n"))
    assert only(receivers).body["text"] == "Firing: HighErrorRate\n"


def test_an_email_that_names_no_integration_is_refused(receivers: Receivers) -> None:
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send_mail(receivers, alertmanager_email(receiver_header=None))
    assert refused.value.smtp_code == 550
    attempt = only(receivers)
    assert (attempt.receiver, attempt.index, attempt.status, attempt.accepted) == ("", -1, 550, False)
    assert attempt.error and "X-Alertdrill-Receiver" in attempt.error


# Outages, odd requests, names


def test_failing_answers_its_status_and_records_the_attempt(client: httpx.Client) -> None:
    asked: list[tuple[str, str]] = []

    def failing(receiver: str, kind: str) -> int | None:
        asked.append((receiver, kind))
        return 500 if receiver == "down" else None

    with Receivers(failing=failing) as receivers:
        assert client.post(receivers.pagerduty_url("down", 0), json=PAGERDUTY_TRIGGER).status_code == 500
        assert client.post(receivers.slack_url("down", 1), json=SLACK).status_code == 500
        assert client.post(receivers.webhook_url("down", 2), json=WEBHOOK).status_code == 500
        assert client.post(receivers.webhook_url("down", 3, shadow=True), json=WEBHOOK).status_code == 200
        assert client.post(receivers.webhook_url("up", 0), json=WEBHOOK).status_code == 200
        attempts = receivers.attempts()
    assert asked == [("down", "pagerduty"), ("down", "slack"), ("down", "webhook"), ("up", "webhook")]
    assert [(a.kind, a.status, a.accepted) for a in attempts] == [
        ("pagerduty", 500, False),
        ("slack", 500, False),
        ("webhook", 500, False),
        ("webhook", 200, True),
        ("webhook", 200, True),
    ]
    assert attempts[0].error == "injected failure: pagerduty answers 500"
    assert attempts[0].body == PAGERDUTY_TRIGGER
    assert attempts[0].routing_key == ROUTING_KEY


def test_failing_refuses_an_email_with_451() -> None:
    with Receivers(failing=lambda receiver, kind: 503) as receivers:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            send_mail(receivers, alertmanager_email())
        attempt = only(receivers)
    assert refused.value.smtp_code == 451
    assert (attempt.kind, attempt.receiver, attempt.status, attempt.accepted) == (
        "email",
        "ops team/on call ü",
        451,
        False,
    )
    assert attempt.body["subject"] == "[FIRING:1] HighErrorRate (page)"


def test_with_a_hello_name_an_email_outage_is_refused_at_mail_from() -> None:
    """Where Alertmanager 0.25 sees it: it ignores the reply to the end of DATA."""
    asked: list[tuple[str, str]] = []

    def failing(receiver: str, kind: str) -> int | None:
        asked.append((receiver, kind))
        return 500

    with Receivers(failing=failing) as receivers:
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            send_mail(receivers, alertmanager_email(), hello=receivers.smtp_hello("ops team/on call ü", 1))
        attempt = only(receivers)
    assert refused.value.smtp_code == 451
    assert asked == [("ops team/on call ü", "email")]  # once per message
    assert (attempt.receiver, attempt.index, attempt.status, attempt.accepted) == ("ops team/on call ü", 1, 451, False)


def test_a_hello_name_without_an_outage_changes_nothing(receivers: Receivers) -> None:
    send_mail(receivers, alertmanager_email(), hello=receivers.smtp_hello("ops team/on call ü", 1))
    assert only(receivers).accepted is True


def test_a_failing_that_raises_is_a_refusal_not_a_500(client: httpx.Client) -> None:
    def failing(receiver: str, kind: str) -> int | None:
        raise KeyError(receiver)

    with Receivers(failing=failing) as receivers:
        response = client.post(receivers.webhook_url("x", 0), json=WEBHOOK)
        attempt = only(receivers)
    assert response.status_code == 400
    assert attempt.error == "alertdrill receiver failed: KeyError('x')"


@pytest.mark.parametrize("hello", [False, True])
def test_a_failing_that_raises_refuses_an_email_without_a_crash(hello: bool) -> None:
    def failing(receiver: str, kind: str) -> int | None:
        raise KeyError(receiver)

    with Receivers(failing=failing) as receivers:
        name = receivers.smtp_hello("ops team/on call ü", 1) if hello else None
        with pytest.raises((smtplib.SMTPSenderRefused, smtplib.SMTPDataError)) as refused:
            send_mail(receivers, alertmanager_email(), hello=name)
        attempt = only(receivers)
    assert refused.value.smtp_code == 554
    assert (attempt.status, attempt.accepted) == (554, False)
    assert attempt.error == "alertdrill receiver failed: KeyError('ops team/on call ü')"


@pytest.mark.parametrize(
    "path", ["/", "/pagerduty/x/0", "/pagerduty/x/0/v1/enqueue", "/slack/x", "/slack/x/one", "/teams/x/0"]
)
def test_an_unknown_path_is_a_404_recorded(receivers: Receivers, client: httpx.Client, path: str) -> None:
    response = client.post(receivers.http_url + path, json=WEBHOOK)
    assert response.status_code == 404
    attempt = only(receivers)
    assert (attempt.kind, attempt.receiver, attempt.index, attempt.status, attempt.accepted) == (
        "unknown",
        "",
        -1,
        404,
        False,
    )
    assert attempt.error == f"no alertdrill receiver at {path!r}"


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "HEAD"])
def test_a_wrong_method_is_a_405_recorded(receivers: Receivers, client: httpx.Client, method: str) -> None:
    response = client.request(method, receivers.slack_url("team-chat", 0))
    assert response.status_code == 405
    attempt = only(receivers)
    assert (attempt.kind, attempt.receiver, attempt.status, attempt.accepted) == ("slack", "team-chat", 405, False)


@pytest.mark.parametrize(
    ("request_head", "status"),
    [
        (b"POST /webhook/x/0 HTTP/1.0\r\n\r\n", 411),  # no Content-Length
        (b"POST /webhook/x/0 HTTP/1.0\r\nContent-Length: \xb2\r\n\r\n", 411),  # "²".isdigit()
        (b"POST /webhook/x/\xb2 HTTP/1.0\r\nContent-Length: 2\r\n\r\n{}", 404),
    ],
)
def test_raw_requests_get_an_answer(receivers: Receivers, request_head: bytes, status: int) -> None:
    host, port = urlsplit(receivers.http_url).netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(request_head)
        assert sock.recv(100).startswith(b"HTTP/1.0 %d" % status)
    assert only(receivers).status == status


@pytest.mark.parametrize("name", ["ops team/on call", "a/b/c", "100% ü?#&=", " ", "../etc"])
def test_receiver_names_round_trip(receivers: Receivers, client: httpx.Client, name: str) -> None:
    client.post(receivers.pagerduty_url(name, 7), json=PAGERDUTY_TRIGGER)
    client.post(receivers.slack_url(name, 8), json=SLACK)
    client.post(receivers.webhook_url(name, 9), json=WEBHOOK)
    client.post(receivers.webhook_url(name, 10, shadow=True), json=WEBHOOK)
    seen = [(a.receiver, a.kind, a.index, a.shadow, a.accepted) for a in receivers.attempts()]
    assert seen == [
        (name, "pagerduty", 7, False, True),
        (name, "slack", 8, False, True),
        (name, "webhook", 9, False, True),
        (name, "webhook", 10, True, True),
    ]


# Lifecycle and concurrency


def _can_listen(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as any server binds (a closed
        sock.bind(("127.0.0.1", port))  # connection may linger in TIME_WAIT on the port)
        sock.listen()
    return True


def test_leaving_the_block_releases_both_ports_and_joins_the_threads(client: httpx.Client) -> None:
    before = set(threading.enumerate())
    with Receivers() as receivers:
        http_port = int(urlsplit(receivers.http_url).port or 0)
        smtp_port = int(receivers.smtp_smarthost.split(":")[1])
        client.post(receivers.webhook_url("x", 0), json=WEBHOOK)
        send_mail(receivers, alertmanager_email())
        assert len(set(threading.enumerate()) - before) >= 2
    assert set(threading.enumerate()) <= before
    assert _can_listen(http_port) and _can_listen(smtp_port)
    assert len(receivers.attempts()) == 2  # the record outlives the servers
    with pytest.raises(ReceiverError):
        receivers.smtp_smarthost  # noqa: B018


def test_an_exception_in_the_block_stops_the_servers() -> None:
    before = set(threading.enumerate())
    with pytest.raises(RuntimeError), Receivers() as receivers:
        http_port = int(urlsplit(receivers.http_url).port or 0)
        raise RuntimeError("boom")
    assert set(threading.enumerate()) <= before
    assert _can_listen(http_port)


def test_posts_from_eight_threads_are_all_recorded(receivers: Receivers) -> None:
    def post(thread: int) -> None:
        with httpx.Client(timeout=5.0) as http:
            for i in range(10):
                assert http.post(receivers.webhook_url(f"r{thread}", i), json=WEBHOOK).status_code == 200

    threads = [threading.Thread(target=post, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seen = {(a.receiver, a.index) for a in receivers.attempts()}
    assert len(receivers.attempts()) == 80
    assert seen == {(f"r{n}", i) for n in range(8) for i in range(10)}


# The real Alertmanager 0.25


def alertmanager_config(receivers: Receivers, name: str) -> dict[str, Any]:
    """One receiver with one integration of each kind, every notification at once (group_wait 50ms)."""
    email = {
        "to": "oncall@example.com",
        "from": "alertmanager@example.com",
        "smarthost": receivers.smtp_smarthost,
        "require_tls": False,
        "headers": {"X-Alertdrill-Receiver": name, "X-Alertdrill-Index": "3"},
    }
    receiver: dict[str, Any] = {
        "name": name,
        "pagerduty_configs": [{"url": receivers.pagerduty_url(name, 0), "routing_key": ROUTING_KEY}],
        "slack_configs": [{"api_url": receivers.slack_url(name, 1), "channel": "#x"}],
        "webhook_configs": [{"url": receivers.webhook_url(name, 2)}],
        "email_configs": [email],
    }
    for kind in ("pagerduty_configs", "slack_configs", "webhook_configs", "email_configs"):
        receiver[kind][0]["send_resolved"] = True
    route = {"receiver": name, "group_by": ["alertname"], "group_wait": "50ms", "group_interval": "200ms"}
    return {"route": {**route, "repeat_interval": "1h"}, "receivers": [receiver]}


@contextlib.contextmanager
def alertmanager(tmp_path: Path, config: dict[str, Any]) -> Iterator[str]:
    """The real Alertmanager on a free port, without clustering; killed on the way out."""
    (tmp_path / "alertmanager.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    command = [
        str(ALERTMANAGER),
        f"--config.file={tmp_path / 'alertmanager.yml'}",
        f"--storage.path={tmp_path / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        f"--web.external-url={EXTERNAL}",
        "--cluster.listen-address=",
    ]
    log = tmp_path / "alertmanager.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        assert wait_until_ready(url, process, timeout=10.0) == "ready", log.read_text()
        yield url
    finally:
        process.kill()
        process.wait()


def wait_for_accepted(receivers: Receivers, count: int, seconds: float) -> list[Attempt]:
    deadline = time.monotonic() + seconds
    while sum(a.accepted for a in receivers.attempts()) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return receivers.attempts()


def check_pagerduty(page: dict[str, Any], client_url: str) -> None:
    """Alertmanager 0.25's Events API v2 trigger, default templates: no timestamp, images nor links."""
    assert set(page) == {"routing_key", "dedup_key", "event_action", "payload", "client", "client_url"}
    assert (page["routing_key"], page["event_action"]) == (ROUTING_KEY, "trigger")
    assert len(page["dedup_key"]) == 64  # sha256 of the group key, in hex
    assert (page["client"], page["client_url"]) == ("Alertmanager", client_url)
    payload = page["payload"]
    assert set(payload) == {"summary", "source", "severity", "custom_details"}
    assert payload["summary"] == "[FIRING:1] HighErrorRate (page)"
    assert (payload["source"], payload["severity"]) == ("Alertmanager", "error")  # source defaults to client
    details = payload["custom_details"]
    assert (details["num_firing"], details["num_resolved"], details["resolved"]) == ("1", "0", "")
    assert details["firing"].startswith("Labels:\n - alertname = HighErrorRate\n - severity = page\n")


def check_slack(chat: dict[str, Any], client_url: str) -> None:
    """One attachment and no top-level text; empty text, callback_id and footer are sent all the same."""
    assert set(chat) == {"channel", "username", "attachments"}
    assert (chat["channel"], chat["username"]) == ("#x", "Alertmanager")
    (attachment,) = chat["attachments"]
    assert attachment["title"] == "[FIRING:1] HighErrorRate (page)"
    assert attachment["title_link"] == client_url
    assert attachment["fallback"] == f"[FIRING:1] HighErrorRate (page) | {client_url}"
    assert (attachment["text"], attachment["callback_id"], attachment["footer"]) == ("", "", "")
    assert (attachment["color"], attachment["mrkdwn_in"]) == ("danger", ["fallback", "pretext", "text"])


def check_webhook(hook: dict[str, Any], name: str) -> None:
    """Version 4; a firing alert's endsAt is Go's zero time, whatever endsAt it was posted with."""
    assert (hook["version"], hook["status"], hook["receiver"], hook["truncatedAlerts"]) == ("4", "firing", name, 0)
    assert hook["groupKey"] == '{}:{alertname="HighErrorRate"}'
    assert hook["groupLabels"] == {"alertname": "HighErrorRate"}
    assert hook["commonLabels"] == {"alertname": "HighErrorRate", "severity": "page"}
    assert (hook["commonAnnotations"], hook["externalURL"]) == ({"summary": "errors"}, EXTERNAL)
    (sent,) = hook["alerts"]
    assert (sent["status"], sent["endsAt"], sent["generatorURL"]) == ("firing", "0001-01-01T00:00:00Z", "")
    assert len(sent["fingerprint"]) == 16


@pytest.mark.prometheus
@pytest.mark.skipif(
    not ALERTMANAGER.exists(), reason=f"{ALERTMANAGER} missing (apt-get install prometheus-alertmanager)"
)
def test_real_alertmanager_payloads_are_accepted(tmp_path: Path, client: httpx.Client) -> None:
    name = "ops team/on call"  # a space and a slash, through Alertmanager's own URL handling
    now = dt.datetime.now(dt.UTC)
    alert = {
        "labels": {"alertname": "HighErrorRate", "severity": "page"},
        "annotations": {"summary": "errors"},
        "startsAt": now.isoformat(),
        "endsAt": (now + dt.timedelta(seconds=10)).isoformat(),
    }
    with Receivers() as receivers, alertmanager(tmp_path, alertmanager_config(receivers, name)) as url:
        assert client.post(f"{url}/api/v2/alerts", json=[alert]).status_code == 200
        attempts = {a.kind: a for a in wait_for_accepted(receivers, 4, seconds=10.0)}

    assert sorted(attempts) == ["email", "pagerduty", "slack", "webhook"]
    assert all(a.accepted and a.receiver == name for a in attempts.values()), attempts
    assert [attempts[k].index for k in ("pagerduty", "slack", "webhook", "email")] == [0, 1, 2, 3]
    assert attempts["pagerduty"].routing_key == ROUTING_KEY
    client_url = f"{EXTERNAL}/#/alerts?receiver=ops+team%2Fon+call"
    check_pagerduty(attempts["pagerduty"].body, client_url)
    check_slack(attempts["slack"].body, client_url)
    check_webhook(attempts["webhook"].body, name)
    mail = attempts["email"].body
    assert (mail["from"], mail["to"]) == ("alertmanager@example.com", ["oncall@example.com"])
    assert mail["subject"] == "[FIRING:1] HighErrorRate (page)"
    assert mail["headers"]["X-Alertdrill-Receiver"] == name
    assert mail["text"].startswith("1 alert for\nalertname=HighErrorRate\nView in Alertmanager\n[1] Firing\n")
