"""The Alertmanager config a replay runs: the user's, with its receivers and its clock changed.

Two things change, and only these (issue 13, ``docs/architecture.md``):

1. **Every integration points at alertdrill's receivers**: PagerDuty ``url`` and a literal
   ``routing_key`` that stands for the original key (the same original key, the same stand-in, so
   a page sent with another team's key is seen as such), Slack ``api_url``, webhook ``url``,
   email ``smarthost`` (plain SMTP, no auth) with two ``X-Alertdrill-*`` headers naming the
   receiver; transport settings that only make sense for the real service (``http_config``,
   ``*_file`` secrets, TLS) go. Each integration also gets a webhook twin with the same
   ``send_resolved``: Alertmanager sends it the same notification in its v4 JSON, so the alerts
   of a Slack message or an email are known exactly, whatever the templates.
2. **Every duration is divided by the replay speed** *k*: ``group_wait``, ``group_interval``,
   ``repeat_interval`` on every route (the defaults written on the root when absent, so the
   children inherit divided ones) and ``global.resolve_timeout``.

Routes, matchers, grouping, inhibitions, templates (paths made absolute) and message texts are
the user's, untouched. What cannot be replayed on a compressed clock (time intervals: they name
wall-clock hours) or reached (integrations alertdrill has no stand-in for) is an error naming
the receiver or field, never silently dropped.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from harness.engine import format_duration, parse_duration, read_mapping
from harness.errors import ConfigurationError

MAX_CONFIG_BYTES = 10 * 1024 * 1024

# Alertmanager's route defaults (config/config.go: DefaultRouteOpts) and global resolve_timeout.
ROUTE_DEFAULTS = {"group_wait": 30.0, "group_interval": 300.0, "repeat_interval": 4 * 3600.0}
RESOLVE_TIMEOUT = 300.0
MIN_DURATION = 0.001  # Alertmanager's durations are whole milliseconds

# The kinds alertdrill stands in for, with send_resolved's default for each (Alertmanager 0.25).
SEND_RESOLVED_DEFAULT = {
    "pagerduty_configs": True,
    "slack_configs": False,
    "webhook_configs": True,
    "email_configs": False,
}
KIND = {
    "pagerduty_configs": "pagerduty",
    "slack_configs": "slack",
    "webhook_configs": "webhook",
    "email_configs": "email",
}
OTHER_KINDS = (
    "opsgenie_configs", "wechat_configs", "victorops_configs", "pushover_configs", "sns_configs",
    "telegram_configs", "webex_configs", "discord_configs", "msteams_configs",
)  # fmt: skip
_GLOBAL_TRANSPORT = (
    "smtp_smarthost", "smtp_auth_username", "smtp_auth_password", "smtp_auth_password_file",
    "smtp_auth_secret", "smtp_auth_identity", "smtp_require_tls", "slack_api_url", "slack_api_url_file",
    "http_config", "pagerduty_url",
)  # fmt: skip
_PAGERDUTY_KEYS = ("routing_key", "routing_key_file", "service_key", "service_key_file")


class ReceiverUrls(Protocol):
    """Where the copy points each integration: alertdrill's receivers (``harness.notify.receivers``)."""

    @property
    def smtp_smarthost(self) -> str: ...

    def pagerduty_url(self, receiver: str, index: int) -> str: ...

    def slack_url(self, receiver: str, index: int) -> str: ...

    def webhook_url(self, receiver: str, index: int, shadow: bool = False) -> str: ...

    def smtp_hello(self, receiver: str, index: int) -> str: ...


@dataclass(frozen=True)
class Integration:
    """One integration of one receiver in the copy: ``index`` numbers a receiver's integrations."""

    receiver: str
    index: int
    kind: str  # pagerduty | slack | webhook | email
    send_resolved: bool
    service: str | None = None  # PagerDuty: whose key it sends with (the key's file stem, or its first receiver)


@dataclass
class DrillConfig:
    config: dict[str, Any]
    integrations: list[Integration] = field(default_factory=list)
    routing_keys: dict[str, str] = field(default_factory=dict)  # stand-in key -> service it stands for


def read_alertmanager_config(path: Path) -> dict[str, Any]:
    """An Alertmanager config file as a mapping; a file that is not one names the file and line."""
    config = read_mapping(path, "Alertmanager config", ConfigurationError, limit=MAX_CONFIG_BYTES)
    if not isinstance(config.get("route"), dict):
        raise ConfigurationError(f"{path}: an Alertmanager config is a mapping with a route")
    return config


def drill_config(original: dict[str, Any], source: Path, speed: float, urls: ReceiverUrls) -> DrillConfig:
    """The copy of ``original`` (read from ``source``) for a replay at ``speed`` times real time."""
    if speed <= 0:
        raise ConfigurationError(f"replay speed must be positive, not {speed}")
    config = copy.deepcopy(original)
    out = DrillConfig(config)
    _globals(config, speed, urls)
    _route(config.get("route") or {}, source, speed, root=True)
    for name in ("time_intervals", "mute_time_intervals"):
        if config.get(name) and speed != 1:  # a live drill (speed 1) keeps the wall clock's hours
            raise ConfigurationError(
                f"{source}: {name} name wall-clock times, which a replay on a compressed clock cannot keep; "
                "remove them from the scenario's Alertmanager config to replay it"
            )
    base = source.absolute().parent  # as Alertmanager resolves them: from the path as given
    config["templates"] = [t if Path(t).is_absolute() else str(base / t) for t in config.get("templates") or []]
    keys: dict[str, str] = {}
    for receiver in config.get("receivers") or []:
        _receiver(receiver, source, urls, out, keys)
    return out


def _globals(config: dict[str, Any], speed: float, urls: ReceiverUrls) -> None:
    glob = config.setdefault("global", {}) or {}
    config["global"] = glob
    for key in _GLOBAL_TRANSPORT:
        glob.pop(key, None)
    glob["resolve_timeout"] = _divided(glob.get("resolve_timeout", RESOLVE_TIMEOUT), speed, "global.resolve_timeout")
    glob["smtp_smarthost"] = urls.smtp_smarthost
    glob["smtp_require_tls"] = False
    glob.setdefault("smtp_from", "alertmanager@alertdrill.invalid")


def _route(route: dict[str, Any], source: Path, speed: float, root: bool) -> None:
    for key, default in ROUTE_DEFAULTS.items():
        if key in route:
            route[key] = _divided(route[key], speed, f"route {key}")
        elif root:
            route[key] = _divided(default, speed, f"route {key}")
    for child in route.get("routes") or []:
        _route(child, source, speed, root=False)


def _divided(value: object, speed: float, where: str) -> str:
    try:
        seconds = parse_duration(value)  # type: ignore[arg-type]
    except ValueError as exc:
        raise ConfigurationError(f"Alertmanager config {where}: {exc}") from None
    return format_duration(max(MIN_DURATION, seconds / speed))


def _receiver(
    receiver: dict[str, Any], source: Path, urls: ReceiverUrls, out: DrillConfig, keys: dict[str, str]
) -> None:
    name = str(receiver.get("name"))
    for kind in OTHER_KINDS:
        if receiver.get(kind):
            raise ConfigurationError(
                f"{source}: receiver {name!r} uses {kind}, which alertdrill has no stand-in for "
                f"(it replays {', '.join(KIND.values())}); point it at a webhook to replay it"
            )
    index = 0
    shadows = []
    for kind in ("webhook_configs", "email_configs", "pagerduty_configs", "slack_configs"):  # Alertmanager's order
        for integration in receiver.get(kind) or []:
            integration.pop("http_config", None)
            resolved = bool(integration.get("send_resolved", SEND_RESOLVED_DEFAULT[kind]))
            service = None
            if kind == "pagerduty_configs":
                service = _pagerduty(integration, name, index, urls, out, keys, source)
            elif kind == "slack_configs":
                integration.pop("api_url_file", None)
                integration["api_url"] = urls.slack_url(name, index)
            elif kind == "webhook_configs":
                integration.pop("url_file", None)
                integration["url"] = urls.webhook_url(name, index)
            else:
                for key in ("auth_username", "auth_password", "auth_password_file", "auth_secret", "auth_identity"):
                    integration.pop(key, None)
                integration.pop("tls_config", None)
                integration["smarthost"] = urls.smtp_smarthost
                integration["require_tls"] = False
                # Named at EHLO, so an outage can refuse at MAIL FROM: Alertmanager 0.25 ignores a
                # refusal at the end of DATA (prometheus/alertmanager#4006) and would not retry.
                integration["hello"] = urls.smtp_hello(name, index)
                headers = integration.setdefault("headers", {}) or {}
                headers.update({"X-Alertdrill-Receiver": name, "X-Alertdrill-Index": str(index)})
                integration["headers"] = headers
            out.integrations.append(Integration(name, index, KIND[kind], resolved, service))
            shadows.append({"url": urls.webhook_url(name, index, shadow=True), "send_resolved": resolved})
            index += 1
    receiver["webhook_configs"] = (receiver.get("webhook_configs") or []) + shadows


def _pagerduty(
    integration: dict[str, Any],
    name: str,
    index: int,
    urls: ReceiverUrls,
    out: DrillConfig,
    keys: dict[str, str],
    source: Path,
) -> str:
    if integration.get("service_key") or integration.get("service_key_file"):
        raise ConfigurationError(
            f"{source}: receiver {name!r} pages with service_key (PagerDuty's Events API v1); alertdrill "
            "stands in for Events API v2 (routing_key)"
        )
    if integration.get("routing_key_file"):
        original = f"file:{integration['routing_key_file']}"
        service = Path(str(integration["routing_key_file"])).stem
    elif integration.get("routing_key"):
        original = f"key:{integration['routing_key']}"
        service = name  # a literal key stands for the first receiver that uses it
    else:
        raise ConfigurationError(
            f"{source}: receiver {name!r}: a pagerduty_config needs routing_key or routing_key_file"
        )
    stand_in = keys.get(original)
    if stand_in is None:
        # Derived from the original, never equal to it: the copy holds no secret.
        stand_in = "alertdrill" + hashlib.sha256(original.encode()).hexdigest()[:22]
        keys[original] = stand_in
        out.routing_keys[stand_in] = service
    for key in _PAGERDUTY_KEYS:
        integration.pop(key, None)
    integration["routing_key"] = stand_in
    integration["url"] = urls.pagerduty_url(name, index)
    return out.routing_keys[stand_in]
