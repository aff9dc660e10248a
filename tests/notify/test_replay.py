"""Replays through the real Alertmanager: the answer does not depend on the replay speed, an
outage is retried and recorded, and nothing is left behind."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from harness.engine import AlertingRule, Labels, RuleTimeline, run_state_machine
from harness.notify import Outage, Replay, ReplaySettings, pushes, read_alertmanager_config, replay

pytestmark = pytest.mark.prometheus
REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "config" / "alertmanager.yml"
DURATION = 600.0


def _timeline(
    name: str, labels: dict[str, str], series: list[Labels], on: float, off: float, hold: float
) -> RuleTimeline:
    """A rule whose query returns ``series`` from ``on`` to ``off`` (15 s evaluations)."""
    rule = AlertingRule(name, "vector(1)", hold=hold, labels=tuple(sorted(labels.items())))
    evaluations = [(t, [(s, 1.0) for s in series] if on <= t < off else []) for t in range(0, int(DURATION) + 1, 15)]
    return run_state_machine(rule, [(float(t), v) for t, v in evaluations])


JOB = (("job", "prediction-api"),)
INCIDENT = [
    # a page to devops (fires at 90, resolves at 300), and a devops warning the page mutes (inhibit rule 1)
    (_timeline("HighLatency", {"severity": "critical", "team": "devops"}, [JOB], 30, 300, 60), 15.0),
    (_timeline("HighCPU", {"severity": "warning", "team": "devops"}, [JOB], 120, 300, 30), 15.0),
    # three stale symbols (fire at 90, resolve at 330): one chat message to data engineering
    (
        _timeline(
            "DataStaleness",
            {"severity": "warning", "team": "data-engineering"},
            [(*JOB, ("symbol", s)) for s in ("AAPL", "MSFT", "NVDA")],
            60,
            330,
            30,
        ),
        15.0,
    ),
]
# When each notification is due by Alertmanager's timers (run seconds): the page after group_wait
# 10 s; the chat message after 30 s; the page's resolve at its group's next 1 m tick after 300;
# the chat's at its next 5 m tick after 330.
DUE = [100.0, 120.0, 340.0, 420.0]


def _replay(speed: float, outages: tuple[Outage, ...] = (), duration: float = DURATION) -> Replay:
    sends = pushes(INCIDENT, duration)
    return replay(sends, duration, read_alertmanager_config(CONFIG), CONFIG, ReplaySettings(speed, outages))


def _what(result: Replay) -> list[tuple[str, str, tuple[str, ...]]]:
    return [
        (n.receiver, n.status, tuple(sorted(f"{a.alertname}:{a.status}" for a in n.alerts)))
        for n in result.notifications
        if n.delivered
    ]


def test_the_same_notifications_at_two_speeds_ten_times_apart() -> None:
    slow, fast = _replay(30.0), _replay(300.0)
    # A replay that fell behind on a busy machine is run again at a quarter of its speed: allowed once.
    assert slow.speed == 30.0 and fast.speed >= 75.0
    assert _what(slow) == _what(fast)
    assert _what(fast) == [
        ("pagerduty-devops", "firing", ("HighLatency:firing",)),
        ("chat-data-engineering", "firing", ("DataStaleness:firing",) * 3),
        ("pagerduty-devops", "resolved", ("HighLatency:resolved",)),
        ("chat-data-engineering", "resolved", ("DataStaleness:resolved",) * 3),
    ]  # HighCPU never reached chat-devops: the page muted it
    for a, b in zip(slow.notifications, fast.notifications, strict=True):
        assert abs(a.time - b.time) <= 15.0, (a, b)  # within one evaluation interval
    for result in (slow, fast):  # and both on Alertmanager's timers, within one evaluation interval
        assert all(0 <= n.time - due <= 15.0 for n, due in zip(result.notifications, DUE, strict=True))


def test_a_refused_page_is_retried_and_both_attempts_are_recorded() -> None:
    result = _replay(1000.0, (Outage("pagerduty-devops", 0.0, 150.0),), duration=300.0)
    assert result.speed <= 50.0  # an outage replays slowly enough for Alertmanager's undivided back-off
    page = next(n for n in result.notifications if n.receiver == "pagerduty-devops")
    refused = [t for t, status, ok in page.attempts if not ok]
    assert refused and all(t < 150.0 for t in refused)
    assert page.delivered and page.delivered_at is not None and page.delivered_at >= 150.0
    assert [s for _, s, _ in page.attempts][-1] == 202


def test_nothing_is_left_after_a_replay(tmp_path: Path) -> None:
    before = _alertmanagers()
    _replay(1000.0)
    assert _alertmanagers() == before
    assert not list(Path(os.environ.get("TMPDIR", "/tmp")).glob(f"alertdrill-alertmanager-{os.getpid()}-*"))


def test_an_interrupted_replay_stops_alertmanager() -> None:
    previous = signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    signal.setitimer(signal.ITIMER_REAL, 0.5)
    try:
        with pytest.raises(KeyboardInterrupt):
            _replay(20.0)  # takes about a minute: interrupted half a second in
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert _alertmanagers() == set()
    assert not list(Path(os.environ.get("TMPDIR", "/tmp")).glob(f"alertdrill-alertmanager-{os.getpid()}-*"))


def _alertmanagers() -> set[int]:
    """Alertmanager processes that are children of this one (setpriv execs it in place)."""
    out = subprocess.run(["ps", "-o", "pid=,ppid=,comm=", "-A"], capture_output=True, text=True, check=True).stdout
    return {
        int(pid) for pid, ppid, comm in (line.split(None, 2) for line in out.splitlines())
        if "alertmanager" in comm and int(ppid) == os.getpid()
    }  # fmt: skip


def test_settled_waits_for_every_integration_to_catch_up_with_its_twin() -> None:
    """The twin and the integration are sent side by side: the twin's "resolved" may arrive first,
    and a replay that stopped then would lose the page's resolve (seen on feed_outage, seed 12)."""
    from harness.notify import Attempt
    from harness.notify.replay import settled

    def attempt(shadow: bool, status: str, receiver: str = "pagerduty-x", accepted: bool = True) -> Attempt:
        body = {"groupKey": "{}:{team=x}", "status": status, "alerts": []} if shadow else {"dedup_key": "k"}
        kind = "webhook" if shadow else "pagerduty"
        return Attempt(0.0, receiver, kind, 0, shadow, 202 if accepted else 500, accepted, None, body)

    resolving = {("pagerduty-x", 0)}
    fired = [attempt(True, "firing"), attempt(False, "")]
    assert not settled(fired, resolving)
    assert not settled([*fired, attempt(True, "resolved")], resolving)  # the page's resolve is still on its way
    assert settled([*fired, attempt(True, "resolved"), attempt(False, "")], resolving)
    assert settled([attempt(True, "firing", "chat-y")], resolving)  # chat-y sends no resolved: not waited for
    assert settled([], resolving)
    # refused attempts of the page (an outage) are not notifications: its resolve is still to come
    refused = [attempt(False, "", accepted=False)] * 3
    assert not settled([*fired, *refused, attempt(True, "resolved")], resolving)
