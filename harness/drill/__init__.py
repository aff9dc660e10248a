"""Game-day drills (issue 14): a scenario live, in wall-clock time, against a real scrape loop,
real rule evaluation and the real Alertmanager. This first part holds what a drill reads and
writes: the live Prometheus config (``live_config``), the alert timeline as Prometheus itself
recorded it (``observe``) and the drill's journal (``journal``). Use it through this module."""

from harness.drill.journal import Journal, read_journal
from harness.drill.live_config import live_prometheus_config
from harness.drill.observe import alerts_from_prometheus, scraped_samples, timelines_from_prometheus
from harness.drill.prometheus import LivePrometheus, live_prometheus
from harness.drill.watch import Change, Key, changes, poll_alertmanager, poll_prometheus

__all__ = [
    "Change",
    "Journal",
    "Key",
    "LivePrometheus",
    "alerts_from_prometheus",
    "changes",
    "live_prometheus",
    "live_prometheus_config",
    "poll_alertmanager",
    "poll_prometheus",
    "read_journal",
    "scraped_samples",
    "timelines_from_prometheus",
]
