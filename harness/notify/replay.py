"""A run's alerts through the real Alertmanager, on a clock compressed by a replay speed *k*.

Alertmanager has no simulated clock: its group waits, group intervals and repeat intervals are
wall-clock timers. So the replay compresses time instead: every duration in the config copy is
divided by *k* (``config_copy``), and the notifier's sends (``notifier``) are pushed at wall time
``t0 + (t - t_first) / k``, with ``startsAt``/``endsAt`` mapped the same way. Alertmanager then
groups, waits, inhibits, repeats and retries exactly as it would over the run, only *k* times
faster; each delivery's wall time maps back to run seconds. Nothing happens in Alertmanager
before the first alert fires, so the replay starts there (``t_first``), and it ends with the run:
a notification Alertmanager would send after the last simulated second is not the run's.

*k* is bounded by how precisely a push lands on its time (a few milliseconds of scheduling
jitter, times *k*, must stay well under an evaluation interval) and by Alertmanager's own fixed
delays (HTTP, its retry back-off, which are not divided). ``DEFAULT_SPEED`` was chosen by
measurement (``tests/benchmarks/bench_notify.py``); a test replays a run at two speeds a factor
of ten apart and gets the same notifications.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from harness.engine import Labels
from harness.notify.alertmanager import alertmanager_server, post_alerts, rfc3339
from harness.notify.config_copy import Integration, drill_config
from harness.notify.notifications import Notification, notifications
from harness.notify.notifier import Push
from harness.notify.receivers import Receivers

DEFAULT_SPEED = 1000.0
MIN_SPEED = 10.0
LEAD = 0.02  # wall seconds between entering a span and its first push
# Alertmanager's retry back-off after a refused delivery (0.5 s, then x1.5) is wall-clock time that
# is not divided: at speed k a retry lands k times later in run time than it would for real. With a
# receiver outage the replay therefore runs at most this fast (the first retry 25 s of run time on).
OUTAGE_SPEED = 50.0
# A re-send that changes nothing only has to arrive before the alert's endsAt (4 x the resend
# delay after the previous send, which was 75 s before): well inside that, it changes nothing.
RESEND_LAG = 60.0
POLL = 0.003  # wall seconds between two looks at the receivers while waiting for Alertmanager to settle


@dataclass(frozen=True)
class Outage:
    """A receiver that answers ``status`` from ``start`` to ``end`` (run seconds): ``*`` is every one."""

    receiver: str
    start: float
    end: float
    status: int = 500

    def record(self) -> dict[str, object]:
        return {"receiver": self.receiver, "start": self.start, "end": self.end, "status": self.status}

    def covers(self, receiver: str, now: float) -> bool:
        return (self.receiver in ("*", receiver)) and self.start <= now < self.end


@dataclass(frozen=True)
class ReplaySettings:
    speed: float = DEFAULT_SPEED
    outages: tuple[Outage, ...] = ()
    max_lag: float = 7.5  # run seconds a push that changes an alert's state may land late: half an evaluation interval


@dataclass
class Replay:
    notifications: list[Notification] = field(default_factory=list)
    integrations: list[Integration] = field(default_factory=list)
    speed: float = DEFAULT_SPEED
    pushes: int = 0
    max_lag: float = 0.0  # run seconds the latest push that changed an alert's state was late (once taken)
    resend_lag: float = 0.0  # the same for pushes that only re-sent an alert as it was
    jitter: float = 0.0  # run seconds of the worst oversleep: how late the machine let timers run
    wall_seconds: float = 0.0
    replayed: float = 0.0  # run seconds replayed (the busy spans); the rest was skipped
    sent: tuple[Push, ...] = ()  # what the notifier sent (a run folder's alerts_sent.jsonl)
    outages: tuple[Outage, ...] = ()


class _Clock:
    """Run seconds <-> wall time for one replay, over its busy spans: each span runs *k* times
    faster than the run; the idle time between two spans is skipped (the next span starts
    ``LEAD`` after the previous one ended), so a span's start maps to when it was reached."""

    def __init__(self, speed: float) -> None:
        self.speed = speed
        self.spans: list[tuple[float, float]] = []  # (wall start, run start) of each span entered

    def enter(self, run_start: float) -> None:
        self.spans.append((time.time() + LEAD, run_start))

    def wall(self, run_seconds: float) -> float:
        wall_start, run_start = self.spans[-1]
        return wall_start + (run_seconds - run_start) / self.speed

    def run_time(self, wall: float) -> float:
        """The run second of a wall time: in the latest span entered before it (a delivery in the
        gap before a span is the previous span's, late)."""
        wall_start, run_start = next(((w, r) for w, r in reversed(self.spans) if w <= wall), self.spans[0])
        return run_start + (wall - wall_start) * self.speed

    def now(self) -> float:
        return self.run_time(time.time())


def settled(attempts: Sequence[Any], resolving: set[tuple[str, int]]) -> bool:
    """Whether every notification group that told a receiver something firing has since told it
    resolved (read from the webhook twins of the integrations that send resolved notifications),
    and every such integration has delivered as many notifications as its twin (the two are sent
    side by side, and the twin may arrive first; refused attempts do not count): then, with no
    alert firing, nothing in Alertmanager is left to happen."""
    last: dict[tuple[str, int, str], str] = {}
    sent: dict[tuple[str, int], int] = {}
    for a in attempts:
        key = (a.receiver, a.index)
        if key not in resolving:
            continue
        if not a.shadow:
            sent[key] = sent.get(key, 0) + a.accepted  # a refused attempt is not a notification yet
        elif a.accepted and isinstance(a.body, dict):
            last[(a.receiver, a.index, str(a.body.get("groupKey")))] = str(a.body.get("status"))
            sent[key] = sent.get(key, 0) - 1
    return all(status == "resolved" for status in last.values()) and all(n >= 0 for n in sent.values())


def check_config(config: dict[str, Any], source: Path, speed: float = DEFAULT_SPEED) -> None:
    """What ``replay`` would refuse in ``config``, found before a run simulates for minutes."""
    drill_config(config, source, speed, _Nowhere())


def replay(
    pushes: Sequence[Push],
    duration: float,
    config: dict[str, Any],
    source: Path,
    settings: ReplaySettings | None = None,
    keep_log_in: Path | None = None,
) -> Replay:
    """What reached each receiver when ``pushes`` went to an Alertmanager running ``config``.

    A replay whose pushes fell behind their times by more than ``settings.max_lag`` run seconds
    (a loaded machine) is run again at a quarter of the speed, down to ``MIN_SPEED``."""
    settings = settings or ReplaySettings()
    started = time.monotonic()
    if not pushes:  # the config is checked all the same: whether it is usable does not depend on luck
        check_config(config, source, settings.speed)
        return Replay(speed=settings.speed, outages=settings.outages)
    speed = settings.speed if not settings.outages else min(settings.speed, OUTAGE_SPEED)
    while True:
        try:
            result = _replay_once(pushes, duration, config, source, settings, speed, keep_log_in)
        except _Behind:  # given up the moment it fell behind, not at the end of a replay for nothing
            speed = max(MIN_SPEED, speed / 4)
            continue
        result.wall_seconds = time.monotonic() - started
        result.sent, result.outages = tuple(pushes), settings.outages
        return result


def _replay_once(
    pushes: Sequence[Push],
    duration: float,
    config: dict[str, Any],
    source: Path,
    settings: ReplaySettings,
    speed: float,
    keep_log_in: Path | None,
) -> Replay:
    """One replay at ``speed``. When no alert is firing and Alertmanager has told every receiver
    that sends resolved notifications so (``settled``), the time to the next firing is skipped:
    nothing can happen in it. Not before the last receiver outage is over: retries run on
    Alertmanager's own undivided clock."""
    clock = _Clock(speed)
    slowest = speed <= MIN_SPEED  # nothing slower to fall back on: report the lag instead
    sleeper = _Sleeper(None if slowest else settings.max_lag / speed)

    def failing(receiver: str, kind: str) -> int | None:
        now = clock.now() if clock.spans else float("-inf")
        return next((o.status for o in settings.outages if o.covers(receiver, now)), None)

    # Skipping waits until the last outage is over: its retries run on Alertmanager's own clock.
    calm_from = max((o.end for o in settings.outages), default=float("-inf"))
    queue = [p for p in pushes if p.time <= duration]
    with Receivers(failing=failing) as receivers:
        drill = drill_config(config, source, speed, receivers)
        resolving = {(i.receiver, i.index) for i in drill.integrations if i.send_resolved}
        with alertmanager_server(drill.config, keep_log_in) as am, httpx.Client() as client:
            lag, resend_lag, sent, replayed = 0.0, 0.0, 0, 0.0
            firing: set[Labels] = set()
            clock.enter(queue[0].time)
            span_start = queue[0].time
            for i, push in enumerate(queue):
                skip = push.time >= calm_from
                if skip and not firing and i and _wait_settled(receivers, resolving, clock.wall(push.time), sleeper):
                    if all(push.resolved(a) for a in push.alerts):
                        continue  # a resolved alert re-sent once Alertmanager has settled: it changes nothing
                    if push.time > clock.now():  # the time to the next firing: skipped
                        replayed += clock.now() - span_start
                        clock.enter(push.time)
                        span_start = push.time
                sleeper.until(clock.wall(push.time))
                post_alerts(client, am.url, [_alert(a, clock) for a in push.alerts])
                late = clock.now() - push.time
                changes = any(push.resolved(a) == (a.labels in firing) for a in push.alerts)
                lag, resend_lag = (max(lag, late), resend_lag) if changes else (lag, max(resend_lag, late))
                if not slowest and (lag > settings.max_lag or resend_lag > RESEND_LAG):
                    raise _Behind
                sent += 1
                for a in push.alerts:
                    (firing.discard if push.resolved(a) else firing.add)(a.labels)
            skip = clock.now() >= calm_from
            if not (skip and not firing and _wait_settled(receivers, resolving, clock.wall(duration), sleeper)):
                sleeper.until(clock.wall(duration))
            replayed += min(clock.now(), duration) - span_start
        attempts = receivers.attempts()
    found = [n for n in notifications(attempts, clock.run_time, drill.routing_keys) if n.time <= duration]
    jitter = sleeper.worst * speed
    return Replay(found, drill.integrations, speed, sent, lag, replayed=replayed, resend_lag=resend_lag, jitter=jitter)


def _wait_settled(receivers: Receivers, resolving: set[tuple[str, int]], deadline: float, sleeper: _Sleeper) -> bool:
    """Poll the receivers until Alertmanager has settled (True) or ``deadline`` (wall) passes."""
    while time.time() < deadline:
        if settled(receivers.attempts(), resolving):
            return True
        sleeper.until(min(deadline, time.time() + POLL))
    return False


def _alert(alert: Any, clock: _Clock) -> dict[str, Any]:
    return {
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
        "startsAt": rfc3339(clock.wall(alert.starts_at)),
        "endsAt": rfc3339(clock.wall(alert.ends_at)),
        "generatorURL": alert.generator_url,
    }


class _Behind(Exception):
    """The replay fell behind its clock by more than its precision allows: run it again slower."""


class _Sleeper:
    """Sleeps in short steps and keeps the worst oversleep: how late this process got a core back.
    Alertmanager runs on the same cores, so its timers are late by about as much, and a
    notification's run time by that times *k*: past ``limit`` (wall seconds; None: no limit) the
    replay is given up at once (``_Behind``) and run again slower."""

    STEP = 0.005

    def __init__(self, limit: float | None) -> None:
        self.worst, self.limit = 0.0, limit

    def until(self, wall: float) -> None:
        while (delay := wall - time.time()) > 0:
            step = min(delay, self.STEP)
            before = time.perf_counter()
            time.sleep(step)
            self.worst = max(self.worst, time.perf_counter() - before - step)
            self.check(self.worst)

    def check(self, late: float) -> None:
        if self.limit is not None and late > self.limit:
            raise _Behind


class _Nowhere:
    """Receiver URLs for checking a config that no alert will reach."""

    smtp_smarthost = "127.0.0.1:25"

    def pagerduty_url(self, receiver: str, index: int) -> str:
        return "http://127.0.0.1/pagerduty"

    def slack_url(self, receiver: str, index: int) -> str:
        return "http://127.0.0.1/slack"

    def webhook_url(self, receiver: str, index: int, shadow: bool = False) -> str:
        return "http://127.0.0.1/webhook"

    def smtp_hello(self, receiver: str, index: int) -> str:
        return "localhost"
