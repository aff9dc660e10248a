"""Notifications: a run's alerts, as Prometheus' notifier would send them, through the real
Alertmanager on a compressed clock, to alertdrill's stand-ins for PagerDuty, Slack, webhooks and
email. It builds on the engine's alert timelines and imports nothing of ``sim``, ``service`` or
the run layer (``tests/harness/test_layers.py``). Use it through this module."""

from harness.notify.alertmanager import AlertmanagerServer, alertmanager_server, post_alerts
from harness.notify.config_copy import DrillConfig, Integration, drill_config, read_alertmanager_config
from harness.notify.notifications import Notification, NotifiedAlert, notifications
from harness.notify.notifier import NotifierSettings, Push, SentAlert, parse_pushes, pushes
from harness.notify.receivers import Attempt, Receivers
from harness.notify.replay import DEFAULT_SPEED, Outage, Replay, ReplaySettings, check_config, replay

__all__ = [
    "DEFAULT_SPEED",
    "AlertmanagerServer",
    "Attempt",
    "DrillConfig",
    "Integration",
    "Notification",
    "NotifiedAlert",
    "NotifierSettings",
    "Outage",
    "Push",
    "Receivers",
    "Replay",
    "ReplaySettings",
    "SentAlert",
    "alertmanager_server",
    "check_config",
    "drill_config",
    "notifications",
    "parse_pushes",
    "post_alerts",
    "pushes",
    "read_alertmanager_config",
    "replay",
]
