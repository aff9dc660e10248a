"""Game-day drills (issue 14): a scenario live, in wall-clock time, against a real scrape loop,
real rule evaluation and the real Alertmanager. This package holds the parts that touch the live
stack and know nothing of the world or the run: the Prometheus config a drill runs
(``live_config``) and its process (``prometheus``), the alert timeline and samples as that
Prometheus recorded them (``observe``), the watcher's looks at Prometheus and Alertmanager
(``watch``) and the journal (``journal``). The drill itself is ``harness.drill_run``. Use it
through this module."""

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
