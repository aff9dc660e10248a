"""A drill's Prometheus: the stack's config pointed at the drill's targets, and the alert timeline
read back from what the real rule manager recorded."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import yaml
from prometheus_client import CollectorRegistry, Gauge, start_http_server

from harness.drill import alerts_from_prometheus, live_prometheus_config
from harness.engine import find_binary, free_port, start_logged, stop, wait_until_ready
from harness.errors import ConfigurationError

REPO = Path(__file__).resolve().parents[2]
STACK = REPO / "config" / "prometheus.yml"
RULES = REPO / "config" / "prometheus-alerts.yml"


def stack() -> dict[str, object]:
    return yaml.safe_load(STACK.read_text())


def test_only_addresses_change() -> None:
    original = stack()
    live = live_prometheus_config(original, STACK, {"prediction-api": ["127.0.0.1:8123"]}, [RULES], ["127.0.0.1:9999"])
    (job,) = live["scrape_configs"]
    assert job["job_name"] == "prediction-api" and job["static_configs"] == [{"targets": ["127.0.0.1:8123"]}]
    assert live["rule_files"] == [str(RULES)]
    assert live["alerting"] == {"alertmanagers": [{"static_configs": [{"targets": ["127.0.0.1:9999"]}]}]}
    assert live["global"] == original["global"]  # intervals and external labels are the stack's
    assert original == stack()  # not modified
    assert "alerting" not in live_prometheus_config(original, STACK, {"prediction-api": ["h:1"]}, [RULES])


def test_a_job_the_stack_does_not_have_names_the_jobs_it_has() -> None:
    jobs = r"\(jobs: prediction-api, rollout-controller, trading-desk\)"
    with pytest.raises(ConfigurationError, match=rf"no scrape job named nope {jobs}"):
        live_prometheus_config(stack(), STACK, {"nope": ["h:1"]}, [RULES])


@pytest.mark.prometheus
def test_promtool_accepts_the_live_config(tmp_path: Path) -> None:
    live = live_prometheus_config(stack(), STACK, {"prediction-api": ["127.0.0.1:8123"]}, [RULES], ["127.0.0.1:9"])
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(live))
    proc = subprocess.run(
        [str(find_binary("promtool")), "check", "config", str(tmp_path / "prometheus.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.prometheus
def test_the_timeline_is_what_the_rule_manager_recorded(tmp_path: Path) -> None:
    """A toy target whose gauge is 1 for six seconds, scraped and evaluated every second by a real
    Prometheus with a rule ``toy == 1`` held 2 s: one instance, pending then firing then resolved,
    at the rule manager's own evaluation times."""
    registry = CollectorRegistry()
    toy = Gauge("toy", "drill test", registry=registry)
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    (tmp_path / "rules.yml").write_text(
        "groups:\n- name: toy\n  interval: 1s\n  rules:\n  - alert: Toy\n    expr: toy == 1\n    for: 2s\n"
    )
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [{"job_name": "toy", "static_configs": [{"targets": ["nowhere:1"]}]}],
    }
    live = live_prometheus_config(config, tmp_path / "p.yml", {"toy": [f"127.0.0.1:{port}"]}, [tmp_path / "rules.yml"])
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(live))
    url = f"http://127.0.0.1:{free_port()}"
    command = [
        str(find_binary("prometheus")),
        f"--config.file={tmp_path / 'prometheus.yml'}",
        f"--storage.tsdb.path={tmp_path / 'data'}",
        f"--web.listen-address={url.removeprefix('http://')}",
    ]
    process = start_logged(command, tmp_path / "prometheus.log")
    try:
        assert wait_until_ready(url, process, 15.0) == "ready"
        _until_scraped(url)  # the scrape manager takes up new targets every 5 s
        start = time.time()
        time.sleep(2.0)
        toy.set(1)
        on = time.time()
        time.sleep(6.0)
        toy.set(0)
        off = time.time()
        time.sleep(4.0)
        end = time.time()
        with httpx.Client(timeout=10.0) as client:
            alerts = alerts_from_prometheus(client, url, start, end, {"Toy": 1.0})
    finally:
        stop(process)
        server.shutdown()
        server.server_close()
        thread.join()
        shutil.rmtree(tmp_path / "data", ignore_errors=True)
    (alert,) = alerts
    assert alert.alertname == "Toy" and dict(alert.labels)["job"] == "toy"
    assert alert.fired_at is not None and alert.resolved_at is not None
    # scraped within a second of the change, evaluated within another, held 2 s
    assert on - start <= alert.active_at <= on - start + 2.5
    assert alert.fired_at - alert.active_at == pytest.approx(2.0, abs=1.01)
    assert off - start <= alert.resolved_at <= off - start + 3.0


def _until_scraped(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=5.0) as client:
        while time.monotonic() < deadline:
            result = client.get(f"{url}/api/v1/query", params={"query": 'up{job="toy"}'}).json()["data"]["result"]
            if result and result[0]["value"][1] == "1":
                return
            time.sleep(0.2)
    pytest.fail("Prometheus never scraped the toy target")


def test_a_gap_of_more_than_an_evaluation_ends_an_instance() -> None:
    from harness.drill.observe import _timeline

    labels = (("alertname", "A"),)
    seen = [(100.0, "pending"), (115.0, "firing"), (130.0, "firing"), (175.0, "pending"), (190.0, "pending")]
    (first, second), rows = _timeline({labels: seen}, {}, 15.0, 100.0, 300.0)
    assert (first.active_at, first.fired_at, first.resolved_at, first.ended_at) == (0.0, 15.0, 45.0, 45.0)
    assert (second.active_at, second.fired_at, second.resolved_at, second.ended_at) == (75.0, None, None, 105.0)
    assert [(r.time, r.active_at) for r in rows] == [(0.0, 0.0), (15.0, 0.0), (30.0, 0.0), (75.0, 75.0), (90.0, 75.0)]
    (open_,), _ = _timeline({labels: [(100.0, "firing"), (115.0, "firing")]}, {}, 15.0, 100.0, 120.0)
    assert open_.resolved_at is None and open_.ended_at is None  # still firing when the drill ended
