"""``alertdrill drill``, end to end and live: a real service, Prometheus and Alertmanager (its
own, or ones started by hand as a team's staging stack would be), a world on the wall clock, and
the verdict read back from what that stack recorded. The scenario (``quick/``) scrapes and
evaluates every 2 s, so a drill takes under a minute."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from harness.drill import live_prometheus, live_prometheus_config, read_journal
from harness.drill_safety import journal_open_faults
from harness.engine import free_port
from harness.notify import alertmanager_server
from harness.targets import live_service

HERE = Path(__file__).resolve().parent
QUICK = HERE / "quick"
REPO = HERE.parents[1]
TOKEN = "drill-test-token"

pytestmark = [pytest.mark.prometheus, pytest.mark.drill]


def drill(*args: str, token: str | None = None, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **({"ALERTDRILL_ADMIN_TOKEN": token} if token else {})}
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", "drill", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=REPO,
        check=False,
    )


def start_drill(*args: str, token: str | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, **({"ALERTDRILL_ADMIN_TOKEN": token} if token else {})}
    return subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "drill", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )


def scenario(tmp_path: Path, **changes: object) -> Path:
    """The quick scenario with ``changes``, written beside copies of its config files."""
    folder = tmp_path / "scenario"
    shutil.copytree(QUICK, folder)
    data = yaml.safe_load((QUICK / "quick.yaml").read_text())
    data["model"] = str(REPO / "config" / "model.json")
    data.update(changes)
    (folder / "quick.yaml").write_text(yaml.safe_dump(data))
    return folder / "quick.yaml"


def events(folder: Path) -> list[dict[str, object]]:
    return list(read_journal(folder / "journal.jsonl"))


def wait_for(journal: Path, event: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if journal.exists() and any(e["event"] == event for e in read_journal(journal)):
            return
        time.sleep(0.2)
    raise AssertionError(f"no {event} in {journal} within {timeout}s")


def answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=1)
    except httpx.HTTPError:
        return False
    return True


def stack_urls(folder: Path) -> list[str]:
    (up,) = [e for e in events(folder) if e["event"] == "stack_up"]
    return [str(up[k]) for k in ("service", "prometheus", "alertmanager") if up.get(k)]


def leftovers(pid: int) -> list[Path]:
    return [
        p for kind in ("drillprom", "alertmanager", "prom") for p in Path("/tmp").glob(f"alertdrill-{kind}-{pid}-*")
    ]


def test_a_drill_on_its_own_stack_passes_and_the_simulation_predicts_it(tmp_path: Path) -> None:
    out = tmp_path / "run"
    done = drill(str(QUICK / "quick.yaml"), "--out", str(out), "--compare")
    assert done.returncode == 0, done.stdout + done.stderr
    verdict = json.loads((out / "verdict.json").read_text())
    assert verdict["passed"]
    names = [e["expected"] for e in verdict["expectations"]]
    assert any("simulated run predicts the drill" in n for n in names)
    assert any("keeps to the wall clock" in n for n in names)
    (fired,) = [a for a in verdict["alerts"] if a["alertname"] == "QuickErrors"]
    assert fired["fired_at"] is not None and fired["resolved_at"] is not None
    rows = verdict["drill"]["compare"]
    bounded = [r for r in rows if r["bound"] is not None]
    assert {r["what"] for r in bounded} == {"fired", "resolved"} and all(r["within"] for r in bounded)
    assert verdict["drill"]["steady_state"] == [
        "before the world starts: steady",
        "before the first fault (at 8s): steady",
    ]
    assert verdict["drill"]["world_lag"]["max"] < 2.0
    for name in ("journal.jsonl", "states.csv", "samples.parquet", "notifications.jsonl", "rules.json"):
        assert (out / name).exists(), name
    kinds = [e["event"] for e in events(out)]
    # the journal in the order things happened: the fault, the alert as Prometheus saw it, the page
    order = [kinds.index(k) for k in ("first_scrape", "fault_on", "alert_pending", "alert_firing", "notification")]
    assert order == sorted(order)
    assert kinds[-2:] == ["rollback", "verdict"]
    assert "simulated vs live" in done.stdout
    assert not any(answers(url) for url in stack_urls(out))  # everything it started is stopped


def test_a_stack_that_is_not_steady_gets_no_fault(tmp_path: Path) -> None:
    """Negative control of the safety check: an alert firing before the first fault (a rule that
    always fires) stops the drill before anything is injected, and it fails (exit 1)."""
    rules = yaml.safe_load((QUICK / "rules.yml").read_text())
    rules["groups"][0]["rules"].append({"alert": "AlwaysOn", "expr": "vector(1)", "labels": {"severity": "warning"}})
    path = scenario(tmp_path)
    (path.parent / "rules.yml").write_text(yaml.safe_dump(rules))
    out = tmp_path / "run"
    done = drill(str(path), "--out", str(out))
    assert done.returncode == 1, done.stdout + done.stderr
    kinds = [e["event"] for e in events(out)]
    assert "fault_on" not in kinds and "rollback" in kinds
    steady = [e for e in events(out) if e["event"] == "steady_state"]
    assert steady[-1]["ok"] is False and "AlwaysOn (firing)" in steady[-1]["unexpected"]
    assert "steady state not met" in done.stderr + done.stdout


def test_abort_on_switches_every_fault_off_at_once(tmp_path: Path) -> None:
    """With ``--abort-on QuickErrors``, the page ends the drill: the fault is switched off long
    before its planned end, the journal says so, and the verdict fails."""
    path = scenario(tmp_path, faults=[{"name": "errors", "kind": "error_burst", "start": "8s", "duration": "30s",
                                       "error_rate": 0.2}], duration="50s")  # fmt: skip
    out = tmp_path / "run"
    started = time.monotonic()
    done = drill("--abort-on", "NotThisOne,QuickErrors", str(path), "--out", str(out))  # before the file, too
    assert done.returncode == 1, done.stdout + done.stderr
    assert time.monotonic() - started < 50  # it did not run its 50 s
    journal = events(out)
    kinds = [e["event"] for e in journal]
    assert kinds.index("alert_firing") < kinds.index("abort") < kinds.index("rollback")
    (rollback,) = [e for e in journal if e["event"] == "rollback"]
    assert rollback["switched_off"] == ["errors"]
    verdict = json.loads((out / "verdict.json").read_text())
    assert "--abort-on: QuickErrors firing" in verdict["drill"]["aborted"]
    assert not verdict["passed"]
    # what happened before the abort is kept: the fault, ended when the abort switched it off
    (fault,) = verdict["faults"]
    assert fault["start"] == 8.0 and fault["end"] < 38.0
    assert verdict["drill"]["ran_seconds"] < 50


def test_a_receiver_outage_refuses_the_page_live_until_it_ends(tmp_path: Path) -> None:
    """A receiver outage runs on the drill's clock: DevOps' webhook refuses from second 10 to 30,
    Alertmanager retries on its own back-off, and the page lands once the outage is over."""
    path = scenario(
        tmp_path,
        faults=[
            {"name": "errors", "kind": "error_burst", "start": "8s", "duration": "15s", "error_rate": 0.2},
            {"name": "hook-down", "kind": "receiver_outage", "receiver": "devops", "start": "10s", "duration": "20s"},
        ],
        notifications=None,
    )
    out = tmp_path / "run"
    done = drill(str(path), "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    heard = [json.loads(line) for line in (out / "notifications.jsonl").read_text().splitlines()]
    firing = [n for n in heard if n["status"] == "firing"]
    assert firing and firing[0]["delivered"]
    attempts = firing[0]["attempts"]
    assert len(attempts) > 1 and not attempts[0]["accepted"]  # refused during the outage, then retried
    assert attempts[0]["time"] < 30 <= next(a["time"] for a in attempts if a["accepted"])  # once it was over


@contextmanager
def hook_server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A webhook receiver of a team's own (its URL, and the notifications it got)."""
    heard: list[dict[str, Any]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            heard.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    hook = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{hook.server_port}/hook", heard
    finally:
        hook.shutdown()
        hook.server_close()


def alerts_heard(heard: list[dict[str, Any]]) -> set[str]:
    return {a["labels"]["alertname"] for n in heard for a in n["alerts"]}


@contextmanager
def staging_stack() -> Iterator[tuple[str, str, str, list[dict[str, Any]]]]:
    """A team's staging stack, started by hand: the service (wall clock, its own admin token), a
    Prometheus scraping it with the rules and sending to an Alertmanager that pages a webhook."""
    with hook_server() as (hook, heard):
        am_config = yaml.safe_load((QUICK / "alertmanager.yml").read_text())
        am_config["receivers"][0]["webhook_configs"][0]["url"] = hook
        with (
            live_service(TOKEN, model=REPO / "config" / "model.json") as service,
            alertmanager_server(am_config) as am,
        ):
            prom_config = live_prometheus_config(
                yaml.safe_load((QUICK / "prometheus.yml").read_text()),
                QUICK / "prometheus.yml",
                {"prediction-api": [service.url.removeprefix("http://")]},
                [QUICK / "rules.yml"],
                [am.url.removeprefix("http://")],
            )
            with live_prometheus(prom_config) as prom:
                yield service.url, prom.url, am.url, heard


def test_live_receivers_page_the_configs_own_receiver(tmp_path: Path) -> None:
    """``--live-receivers``: alertdrill's Alertmanager runs the config file as it is, so the page
    goes to the team's own receiver (here a webhook of the test's); not judged, and said so."""
    path = scenario(tmp_path)
    with hook_server() as (hook, heard):
        am = yaml.safe_load((path.parent / "alertmanager.yml").read_text())
        am["receivers"][0]["webhook_configs"][0]["url"] = hook
        (path.parent / "alertmanager.yml").write_text(yaml.safe_dump(am))
        out = tmp_path / "run"
        done = drill(str(path), "--out", str(out), "--live-receivers")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "QuickErrors" in alerts_heard(heard)
    verdict = json.loads((out / "verdict.json").read_text())
    assert verdict["notifications"] is None and any("not judged" in n for n in verdict["drill"]["notes"])


def test_a_drill_against_a_stack_started_by_hand(tmp_path: Path) -> None:
    """alertdrill only drives traffic and faults and observes: the verdict from the team's
    Prometheus, Alertmanager's view of the alerts in the journal; nothing of theirs is stopped."""
    path = scenario(tmp_path, notifications=None)
    out = tmp_path / "run"
    with staging_stack() as (service, prometheus, alertmanager, heard):
        done = drill(
            str(path), "--out", str(out),
            "--service-url", service, "--prometheus-url", prometheus, "--alertmanager-url", alertmanager,
            "--alerts-match", '{job="prediction-api"}', token=TOKEN,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert all(answers(url) for url in (service, prometheus, alertmanager))  # theirs: left running
        assert "QuickErrors" in alerts_heard(heard)
    verdict = json.loads((out / "verdict.json").read_text())
    assert verdict["drill"]["stack"] == {"service": service, "prometheus": prometheus, "alertmanager": alertmanager}
    kinds = [e["event"] for e in events(out)]
    assert "alertmanager_active" in kinds and "alertmanager_gone" in kinds


def slow_for_minutes(tmp_path: Path) -> Path:
    """A drill whose latency fault is on from its third second for five minutes: one to kill."""
    return scenario(
        tmp_path,
        faults=[{"name": "slow", "kind": "latency_spike", "start": "3s", "duration": "5m", "delay": "30ms"}],
        expectations=[],
        notifications=None,
        duration="6m",
    )


def test_sigint_mid_fault_switches_the_fault_off_at_the_service(tmp_path: Path) -> None:
    """Ctrl-C while a latency fault is on, against a service alertdrill did not start: the
    service's own admin state shows no fault afterwards, the journal says why, and the drill's
    Prometheus and Alertmanager are gone with their folders."""
    out = tmp_path / "run"
    with live_service(TOKEN, model=REPO / "config" / "model.json") as service:
        process = start_drill(
            str(slow_for_minutes(tmp_path)), "--out", str(out), "--service-url", service.url, token=TOKEN
        )
        admin = {"Authorization": f"Bearer {TOKEN}"}
        try:
            wait_for(out / "journal.jsonl", "fault_on")
            httpx.put(f"{service.url}/admin/chaos/someone-else", json={"delay_seconds": 0.001}, headers=admin)
            chaos = httpx.get(f"{service.url}/admin/chaos", headers=admin).json()
            assert "slow" in chaos  # on, as planned
            urls = stack_urls(out)
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=60)
        finally:
            process.kill()
        assert process.returncode == 128 + signal.SIGINT, stderr
        chaos = httpx.get(f"{service.url}/admin/chaos", headers=admin).json()
        assert list(chaos) == ["someone-else"]  # the drill's fault is off; another's experiment is left alone
        assert answers(service.url)  # the team's service is left running
    journal = events(out)
    kinds = [e["event"] for e in journal]
    assert kinds[-2:] == ["interrupted", "rollback"]
    assert journal[-1]["switched_off"] == ["slow"] and journal[-1]["left_alone"] == ["someone-else"]
    assert journal_open_faults(out / "journal.jsonl") == []
    assert not any(answers(u) for u in urls if u != service.url)
    assert leftovers(process.pid) == []


def test_sigkill_leaves_a_readable_journal_and_cleanup_mends_the_rest(tmp_path: Path) -> None:
    """SIGKILL mid-fault: the journal reads up to the kill and names the fault left on; the
    processes alertdrill started die with it (bound to its life); ``--cleanup`` removes its temp
    folders and switches the fault off at a service given by URL."""
    out = tmp_path / "run"
    with live_service(TOKEN, model=REPO / "config" / "model.json") as service:
        process = start_drill(
            str(slow_for_minutes(tmp_path)), "--out", str(out), "--service-url", service.url, token=TOKEN
        )
        try:
            wait_for(out / "journal.jsonl", "fault_on")
            urls = [u for u in stack_urls(out) if u != service.url]
            process.kill()
            process.wait(timeout=10)
        finally:
            process.kill()
            process.communicate()
        assert journal_open_faults(out / "journal.jsonl") == ["slow"]
        deadline = time.monotonic() + 10
        while any(answers(u) for u in urls) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(answers(u) for u in urls)  # its Prometheus and Alertmanager died with it
        assert leftovers(process.pid) != []  # no chance to remove them
        cleaned = drill("--cleanup", "--service-url", service.url, "--out", str(out), token=TOKEN)
        assert cleaned.returncode == 0, cleaned.stderr
        assert "switched off at" in cleaned.stdout and "slow" in cleaned.stdout
        assert httpx.get(f"{service.url}/admin/chaos", headers={"Authorization": f"Bearer {TOKEN}"}).json() == {}
    assert leftovers(process.pid) == []


def test_bad_drill_input_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    boom = [{"name": "boom", "kind": "service_crash", "start": "5s", "duration": "5s"}]
    crash = scenario(tmp_path, faults=boom, expectations=[], notifications=None)
    done = drill(str(crash), "--service-url", f"http://127.0.0.1:{free_port()}", token=TOKEN)
    assert done.returncode == 2 and "boom crashes the service" in done.stderr
    done = drill(str(QUICK / "quick.yaml"), "--job", "nope", "--out", str(tmp_path / "x"))
    assert done.returncode == 2 and "no scrape job 'nope'" in done.stderr
    done = drill()
    assert done.returncode == 2 and "name a scenario file" in done.stderr
