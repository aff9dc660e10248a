"""What the real notification services answer to a delivery: pure functions from a request's bytes
to the status, the reply and the reason, so that alertdrill's stand-ins (``harness.notify.receivers``)
accept exactly what the real ones accept and refuse the rest the way they would.

Sources, one per kind (the real Alertmanager 0.25 is the other half of the contract: the test
``tests/notify/test_receivers.py::test_real_alertmanager_payloads_are_accepted`` sends its payloads):

- PagerDuty Events API v2, ``POST /v2/enqueue``: PagerDuty/developer-docs,
  ``docs/events-API-v2/02-Trigger-Events.md`` (fields, limits) and ``01-Overview.md`` (202 and 400),
  with the reply bodies of https://v2.developer.pagerduty.com/docs/send-an-event-events-api-v2
  (``{"status": "success", "message": "Event processed", "dedup_key": ...}`` and
  ``{"status": "invalid event", "message": "Event object is invalid", "errors": [...]}``).
- Slack incoming webhooks: 200 ``ok``; 400 ``invalid_payload`` and ``no_text`` in plain text
  (https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks).
- Alertmanager's webhook, payload version "4": https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
  and Alertmanager's ``notify/webhook/webhook.go`` and ``template/template.go`` (``Data``, ``Alert``).
- Email: RFC 5322 messages as Alertmanager's ``notify/email/email.go`` writes them (multipart/alternative,
  quoted-printable parts, RFC 2047 encoded headers), read with the stdlib ``email`` package.
"""

from __future__ import annotations

import email
import email.policy
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Any, Literal
from urllib.parse import quote, unquote

Kind = Literal["pagerduty", "slack", "webhook", "email", "unknown"]

SEVERITIES = ("critical", "error", "warning", "info")
EVENT_ACTIONS = ("trigger", "acknowledge", "resolve")
MAX_SUMMARY = 1024  # characters (Alertmanager truncates in runes: the same count)
MAX_DEDUP_KEY = 255
_PREFIX: dict[str, tuple[Kind, bool]] = {
    "pagerduty": ("pagerduty", False),
    "slack": ("slack", False),
    "webhook": ("webhook", False),
    "shadow": ("webhook", True),
}


@dataclass(frozen=True)
class Route:
    """Which integration a request path names: ``/<kind>/<receiver, percent-encoded>/<index>``
    (``/pagerduty/...`` ends in ``/v2/enqueue`` as PagerDuty's endpoint does)."""

    kind: Kind
    receiver: str
    index: int
    shadow: bool = False


@dataclass(frozen=True)
class Verdict:
    """The answer a service gives a delivery, and what alertdrill learns from it."""

    status: int
    reply: bytes
    content_type: str
    error: str | None = None
    body: Any = None  # the parsed JSON, when it parsed

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300


def path(kind: str, receiver: str, index: int) -> str:
    """The request path for one integration: receiver names may hold any character, ``/`` too."""
    tail = "/v2/enqueue" if kind == "pagerduty" else ""
    return f"/{kind}/{quote(receiver, safe='')}/{index}{tail}"


def route(raw_path: str) -> Route | None:
    """The integration ``raw_path`` (still percent-encoded, query allowed) names, else None."""
    parts = raw_path.split("?", 1)[0].split("/")
    if len(parts) < 4 or parts[0] != "" or parts[1] not in _PREFIX or not is_index(parts[3]):
        return None
    kind, shadow = _PREFIX[parts[1]]
    if parts[4:] != (["v2", "enqueue"] if kind == "pagerduty" else []):
        return None
    return Route(kind, unquote(parts[2]), int(parts[3]), shadow)


def is_index(text: str) -> bool:
    """``text`` is an index or a length: ASCII digits (``"²".isdigit()`` is true, ``int`` refuses it)."""
    return text.isascii() and text.isdigit()


def hello(receiver: str, index: int) -> str:
    """The EHLO name that tells alertdrill's mail server, before the message, whose mail it is
    (``email_configs[].hello``); the ``X-Alertdrill-*`` headers tell it again in the message."""
    return f"alertdrill/{quote(receiver, safe='')}/{index}"


def hello_route(name: str | None) -> Route | None:
    """The email integration an EHLO name from ``hello`` names, else None."""
    parts = (name or "").split("/")
    if len(parts) != 3 or parts[0] != "alertdrill" or not is_index(parts[2]):
        return None
    return Route("email", unquote(parts[1]), int(parts[2]))


def text_reply(status: int, text: str, error: str | None = None, body: Any = None) -> Verdict:
    return Verdict(status, text.encode(), "text/plain; charset=utf-8", error, body)


def json_reply(status: int, reply: Mapping[str, Any], error: str | None = None, body: Any = None) -> Verdict:
    return Verdict(status, json.dumps(reply).encode(), "application/json", error, body)


def parse_json(raw: bytes) -> tuple[Any, str | None]:
    """``(value, None)``, or ``(None, why)`` when ``raw`` is not JSON."""
    try:
        return json.loads(raw), None
    except (UnicodeDecodeError, ValueError) as exc:
        return None, f"body is not JSON: {exc}"


def pagerduty(raw: bytes, new_key: Callable[[], str] = lambda: uuid.uuid4().hex) -> Verdict:
    """PagerDuty's answer to ``POST /v2/enqueue``: 202 with the event's dedup key (generated for a
    trigger without one), or 400 listing every rule the event breaks."""
    event, why = parse_json(raw)
    errors = [why] if why else pagerduty_errors(event)
    if errors:
        reply = {"status": "invalid event", "message": "Event object is invalid", "errors": errors}
        return json_reply(400, reply, "; ".join(errors), event)
    key = event.get("dedup_key") or new_key()
    return json_reply(202, {"status": "success", "message": "Event processed", "dedup_key": key}, body=event)


def pagerduty_errors(event: Any) -> list[str]:
    """Every rule of the Events API v2 that ``event`` breaks (none: it is valid)."""
    if not isinstance(event, dict):
        return ["Event object must be a JSON object"]
    errors = _missing_or_blank(event, ("routing_key", "event_action"), "")
    action = event.get("event_action")
    if isinstance(action, str) and action and action not in EVENT_ACTIONS:
        errors.append(f"'event_action' is invalid (must be one of {', '.join(EVENT_ACTIONS)}; got {action!r})")
    errors += _dedup_key_errors(event.get("dedup_key"), required=action in ("acknowledge", "resolve"))
    errors += _optional_types(event, {"client": str, "client_url": str, "images": list, "links": list}, "")
    errors += _context_errors(event.get("images"), "images", "src")
    errors += _context_errors(event.get("links"), "links", "href")
    if action == "trigger":
        errors += _payload_errors(event.get("payload"))
    return errors


def _dedup_key_errors(key: Any, required: bool) -> list[str]:
    if key is None or key == "":
        return ["'dedup_key' is missing or blank (required to acknowledge or resolve)"] if required else []
    if not isinstance(key, str):
        return ["'dedup_key' must be a string"]
    if len(key) > MAX_DEDUP_KEY:
        return [f"'dedup_key' is too long ({len(key)} characters; the maximum is {MAX_DEDUP_KEY})"]
    return []


def _payload_errors(payload: Any) -> list[str]:
    if not isinstance(payload, dict):
        return ["'payload' is missing or not an object (required to trigger)"]
    errors = _missing_or_blank(payload, ("summary", "source", "severity"), "payload.")
    summary, severity = payload.get("summary"), payload.get("severity")
    if isinstance(summary, str) and len(summary) > MAX_SUMMARY:
        errors.append(f"'payload.summary' is too long ({len(summary)} characters; the maximum is {MAX_SUMMARY})")
    if isinstance(severity, str) and severity and severity not in SEVERITIES:
        errors.append(f"'payload.severity' is invalid (must be one of {', '.join(SEVERITIES)}; got {severity!r})")
    types = {"timestamp": str, "component": str, "group": str, "class": str, "custom_details": dict}
    return errors + _optional_types(payload, types, "payload.")


def _missing_or_blank(obj: Mapping[str, Any], fields: Sequence[str], prefix: str) -> list[str]:
    errors = []
    for field in fields:
        value = obj.get(field)
        if not isinstance(value, str) or not value.strip():
            errors.append(f"'{prefix}{field}' is missing or blank")
    return errors


def _optional_types(obj: Mapping[str, Any], types: Mapping[str, type], prefix: str) -> list[str]:
    return [
        f"'{prefix}{field}' must be {'an' if kind in (list, dict) else 'a'} {_TYPE_NAMES[kind]}"
        for field, kind in types.items()
        if obj.get(field) is not None and not isinstance(obj[field], kind)
    ]


def _context_errors(items: Any, field: str, required: str) -> list[str]:
    if not isinstance(items, list):
        return []
    return [
        f"'{field}[{i}].{required}' is missing or blank"
        for i, item in enumerate(items)
        if not isinstance(item, dict) or not isinstance(item.get(required), str) or not item[required]
    ]


def slack(raw: bytes) -> Verdict:
    """Slack's answer to an incoming-webhook post: 200 ``ok``; 400 ``invalid_payload`` (not a JSON
    object, or a field of the wrong type) or ``no_text`` (no text, blocks nor attachments)."""
    message, why = parse_json(raw)
    if why or not isinstance(message, dict):
        return text_reply(400, "invalid_payload", why or "body is not a JSON object", message)
    types = {"text": str, "blocks": list, "attachments": list}
    wrong = _optional_types(message, types, "")
    if wrong:
        return text_reply(400, "invalid_payload", wrong[0], message)
    if not any(message.get(field) for field in types):
        return text_reply(400, "no_text", "no text, blocks or attachments", message)
    return text_reply(200, "ok", body=message)


WEBHOOK_FIELDS: dict[str, type] = {
    "version": str,
    "groupKey": str,
    "truncatedAlerts": int,
    "status": str,
    "receiver": str,
    "groupLabels": dict,
    "commonLabels": dict,
    "commonAnnotations": dict,
    "externalURL": str,
    "alerts": list,
}
ALERT_FIELDS: dict[str, type] = {
    "status": str,
    "labels": dict,
    "annotations": dict,
    "startsAt": str,
    "endsAt": str,
    "generatorURL": str,
    "fingerprint": str,
}
STATUSES = ("firing", "resolved")


def webhook(raw: bytes) -> Verdict:
    """A webhook receiver's answer to Alertmanager's message (version "4"): 200, or 400 naming the
    first field that is missing or wrong."""
    message, why = parse_json(raw)
    problem = why or webhook_error(message)
    if problem:
        return text_reply(400, problem, problem, message)
    return text_reply(200, "ok", body=message)


def webhook_error(message: Any) -> str | None:
    """Why ``message`` is not Alertmanager's webhook payload version "4" (None: it is)."""
    if not isinstance(message, dict):
        return "body is not a JSON object"
    problem = _shape_error(message, WEBHOOK_FIELDS, "")
    if problem:
        return problem
    if message["version"] != "4":
        return f"invalid field 'version': {message['version']!r} (expected '4')"
    if message["status"] not in STATUSES:
        return f"invalid field 'status': {message['status']!r} (expected firing or resolved)"
    if message["truncatedAlerts"] < 0:
        return f"invalid field 'truncatedAlerts': {message['truncatedAlerts']} (expected a count, >= 0)"
    for i, alert in enumerate(message["alerts"]):
        if not isinstance(alert, dict):
            return f"invalid field 'alerts[{i}]': expected an object"
        problem = _shape_error(alert, ALERT_FIELDS, f"alerts[{i}].")
        if problem is None and alert["status"] not in STATUSES:
            problem = f"invalid field 'alerts[{i}].status': {alert['status']!r} (expected firing or resolved)"
        if problem:
            return problem
    return None


def _shape_error(obj: Mapping[str, Any], fields: Mapping[str, type], prefix: str) -> str | None:
    for field, kind in fields.items():
        if field not in obj:
            return f"missing field '{prefix}{field}'"
        value = obj[field]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            return f"invalid field '{prefix}{field}': expected {_TYPE_NAMES[kind]}, got {type(value).__name__}"
    return None


_TYPE_NAMES = {str: "string", int: "integer", dict: "object", list: "array"}


def email_record(content: bytes, mail_from: str | None, rcpt_tos: Sequence[str]) -> dict[str, Any]:
    """What alertdrill keeps of one message: the envelope (``from``, ``to``: the RCPT TO list),
    the subject, every header (decoded, the first of repeated ones) and a text rendering."""
    message = email.message_from_bytes(content, policy=email.policy.default)
    headers: dict[str, str] = {}
    for name, value in message.items():
        headers.setdefault(name, str(value))
    subject = message.get("Subject")
    return {
        "from": mail_from,
        "to": list(rcpt_tos),
        "subject": None if subject is None else str(subject),
        "headers": headers,
        "text": email_text(message) if isinstance(message, EmailMessage) else "",
    }


def email_text(message: EmailMessage) -> str:
    """The text/plain part if there is one, else the text/html part with its tags stripped."""
    part = message.get_body(preferencelist=("plain", "html"))
    if not isinstance(part, EmailMessage):
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # an unknown charset, a broken encoding
        content = part.get_payload(decode=True)
        content = content.decode("utf-8", "replace") if isinstance(content, bytes) else ""
    if not isinstance(content, str):
        return ""
    return html_text(content) if part.get_content_subtype() == "html" else content


class _TextOf(HTMLParser):
    """Collects an HTML document's text, leaving out what a mail reader does not show."""

    HIDDEN = frozenset({"head", "style", "script", "title"})
    BREAKS = frozenset({"br", "p", "div", "tr", "li", "table", "h1", "h2", "h3", "h4", "h5", "h6"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hidden += tag in self.HIDDEN
        if tag in self.BREAKS:
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN and self.hidden:
            self.hidden -= 1
        if tag in self.BREAKS:
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.chunks.append(data)


def html_text(html: str) -> str:
    """``html`` as text: tags, styles and scripts dropped, entities decoded, one line per block,
    runs of blanks collapsed."""
    parser = _TextOf()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.chunks).splitlines())
    return "\n".join(line for line in lines if line)
