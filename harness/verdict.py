"""Expectations against observed alert instances: the verdict of a run. Pure: values in, values out.

Every instance that fired must be claimed by an expectation, or the run fails with an
"unexpected alert" (unless the scenario says ``unexpected_alerts: ignore``): a suite proves
that nothing else fires, not only that the right thing does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from harness.deployments import describe_rollout, judge_rollout
from harness.engine import AlertInstance
from harness.notify import Notification
from harness.scenario import Expectation, NotificationExpectation, Scenario
from sim.records import FaultRecord, RolloutRecord


@dataclass(frozen=True)
class ExpectationResult:
    description: str
    alert: str
    passed: bool
    observed: str
    fault: str | None = None
    fired_after: float | None = None  # seconds from the fault's start to firing
    resolved_after: float | None = None  # seconds from the fault's end to resolution
    instance: AlertInstance | None = None  # the first instance checked
    claimed: tuple[AlertInstance, ...] = ()  # every instance this expectation accounts for


@dataclass(frozen=True)
class Anchor:
    """What an expectation's windows are measured from: a fault (start and end), or the run's start."""

    name: str
    start: float
    end: float


@dataclass(frozen=True)
class Verdict:
    passed: bool
    expectations: tuple[ExpectationResult, ...]


def _window(w: tuple[float, float]) -> str:
    return f"[{w[0]:g}s, {w[1]:g}s]"


def describe(e: Expectation) -> str:
    if e.silent:
        return f"{e.alert} never fires"
    assert e.fires_within is not None
    if e.fault is None:
        text = f"{e.alert} fires {_window(e.fires_within)} into the run"
        if e.resolves_within is not None:
            text += f", resolves {_window(e.resolves_within)} into the run"
        return text
    text = f"{e.alert} fires {_window(e.fires_within)} after {e.fault} starts"
    if e.resolves_within is not None:
        text += f", resolves {_window(e.resolves_within)} after it ends"
    return text


def _check_silent(e: Expectation, fired: list[AlertInstance]) -> ExpectationResult:
    mine = [a for a in fired if _matches(e, a)]
    if not mine:
        return ExpectationResult(describe(e), e.alert, True, "never fired")
    return ExpectationResult(describe(e), e.alert, False, f"fired at {mine[0].fired_at:g}s", instance=mine[0])


def _matches(e: Expectation, a: AlertInstance) -> bool:
    labels = dict(a.labels)
    return a.alertname == e.alert and all(labels.get(k) == v for k, v in e.labels.items())


def _check_one(e: Expectation, fault: Anchor, alert: AlertInstance) -> tuple[bool, str, float, float | None]:
    assert e.fires_within is not None and alert.fired_at is not None
    delay = alert.fired_at - fault.start
    lo, hi = e.fires_within
    passed = lo <= delay <= hi
    observed = f"fired {delay:g}s after start"
    resolved_after = None
    if e.resolves_within is not None:
        if alert.resolved_at is None:
            passed, observed = False, observed + ", never resolved"
        else:
            resolved_after = alert.resolved_at - fault.end
            observed += f", resolved {resolved_after:g}s after end"
            passed = passed and e.resolves_within[0] <= resolved_after <= e.resolves_within[1]
    return passed, observed, delay, resolved_after


def _check_fires(
    e: Expectation, fault: Anchor, fired: list[AlertInstance], taken: set[int] | None = None
) -> ExpectationResult:
    """Every instance of the alert (with the expectation's labels) that fired while the fault
    could have caused it — from its start to its end or the latest firing the window allows,
    whichever is later — must fire and resolve in the windows: a feed outage makes each symbol
    stale. Instances an earlier expectation took are not this one's (two bursts, two alerts);
    one firing later still is unexpected."""
    assert e.fires_within is not None
    taken = set() if taken is None else taken
    last = max(fault.end, fault.start + e.fires_within[1])
    candidates = [
        a
        for a in fired
        if _matches(e, a) and a.fired_at is not None and fault.start <= a.fired_at <= last and id(a) not in taken
    ]
    taken.update(id(a) for a in candidates)
    if not candidates:
        return ExpectationResult(describe(e), e.alert, False, f"did not fire after {fault.name} started", e.fault)
    checks = [_check_one(e, fault, a) for a in candidates]
    passed, observed, delay, resolved_after = checks[0]
    if len(checks) > 1:
        failing = [c for c in checks if not c[0]]
        observed = f"{len(checks)} instances; first {observed}"
        if failing:
            passed = False
            observed += f"; {len(failing)} out of their windows, e.g. {failing[0][1]}"
    return ExpectationResult(
        describe(e), e.alert, passed, observed, e.fault, delay, resolved_after, candidates[0], tuple(candidates)
    )


def judge(
    scenario: Scenario,
    faults: list[FaultRecord],
    instances: list[AlertInstance],
    sent: list[Notification] | None = None,
    rollouts: list[RolloutRecord] | None = None,
    failed_at: Sequence[float] = (),
) -> Verdict:
    """The run's verdict: its alert expectations, then (with ``sent``) its notification ones,
    then what its releases came to (``rollouts``, the simulation's records)."""
    fired = sorted((a for a in instances if a.fired_at is not None), key=lambda a: (a.fired_at, a.alertname))
    by_name = {f.name: f for f in faults}
    results = []
    taken: set[int] = set()
    for e in scenario.expectations:
        if e.silent:
            results.append(_check_silent(e, fired))
        elif e.fault is None:
            results.append(_check_fires(e, Anchor("the run's start", 0.0, 0.0), fired, taken))
        elif e.fault not in by_name:
            results.append(ExpectationResult(describe(e), e.alert, False, f"fault {e.fault} never started", e.fault))
        else:
            fault = by_name[e.fault]
            results.append(_check_fires(e, Anchor(fault.name, fault.start, fault.end), fired, taken))
    if scenario.unexpected_alerts == "fail":
        claimed = {id(a) for r in results for a in (r.claimed or ((r.instance,) if r.instance else ()))}
        for alert in fired:
            if id(alert) not in claimed:
                results.append(
                    ExpectationResult(
                        f"no other alert fires ({alert.alertname} {dict(alert.labels)})",
                        alert.alertname,
                        False,
                        f"unexpected: fired at {alert.fired_at:g}s",
                        instance=alert,
                    )
                )
    if sent is not None:
        results.extend(judge_notifications(scenario, faults, sent))
    for r in scenario.rollout_expectations:
        passed, observed = judge_rollout(r, rollouts or [], failed_at)
        results.append(ExpectationResult(describe_rollout(r), r.deployment, passed, observed))
    return Verdict(all(r.passed for r in results), tuple(results))


def describe_notification(e: NotificationExpectation) -> str:
    if e.silent:
        return f"{e.receiver} hears nothing" + (f" about {e.alert}" if e.alert else "")
    since = f"after {e.fault} starts" if e.fault else "into the run"
    text = f"{e.receiver} hears {e.alert}"
    if e.within is not None:
        text += f" {_window(e.within)} {since}"
    if e.resolved_within is not None:
        text += f", resolved {_window(e.resolved_within)} after {'it ends' if e.fault else 'the run starts'}"
    if e.count is not None:
        text += f", {e.count} firing notification{'s' if e.count != 1 else ''}"
    return text


def _listing(n: Notification, alert: str, status: str | None = None) -> bool:
    return any(a.alertname == alert and (status is None or a.status == status) for a in n.alerts)


def _judge_notification(
    e: NotificationExpectation,
    anchor: Anchor,
    heard: list[Notification],
    claimed: set[tuple[int, str]],
    until: float = math.inf,
) -> ExpectationResult:
    """``until``: where the next fault expected to make the same receiver hear the same alert
    starts; what is heard from then on is that fault's."""
    mine = [n for n in heard if n.receiver == e.receiver]
    if e.silent:
        about = [n for n in mine if e.alert is None or _listing(n, e.alert)]
        if not about:
            return ExpectationResult(describe_notification(e), e.alert or "", True, "heard nothing")
        first = about[0]
        return ExpectationResult(
            describe_notification(e), e.alert or "", False, f"heard {sorted(first.names())} at {first.time:g}s"
        )
    assert e.alert is not None
    ours = [
        n for n in mine if _listing(n, e.alert) and anchor.start <= n.time < until and (id(n), e.alert) not in claimed
    ]
    claimed.update((id(n), e.alert) for n in ours)
    firing = [n for n in ours if _listing(n, e.alert, "firing")]
    passed, observed = True, []
    if e.within is not None:
        if not firing:
            return ExpectationResult(
                describe_notification(e), e.alert, False, f"not heard after {anchor.name}", e.fault
            )
        delay = (firing[0].delivered_at or firing[0].time) - anchor.start
        observed.append(f"heard {delay:g}s after start")
        passed = e.within[0] <= delay <= e.within[1]
    if e.resolved_within is not None:
        resolved = [n for n in ours if _listing(n, e.alert, "resolved")]
        if not resolved:
            passed = False
            observed.append("no resolved notification")
        else:
            after = (resolved[0].delivered_at or resolved[0].time) - anchor.end
            observed.append(f"resolved heard {after:g}s after end")
            passed = passed and e.resolved_within[0] <= after <= e.resolved_within[1]
    if e.count is not None:
        observed.append(f"{len(firing)} firing notification{'s' if len(firing) != 1 else ''}")
        passed = passed and len(firing) == e.count
    return ExpectationResult(describe_notification(e), e.alert, passed, ", ".join(observed), e.fault)


def judge_notifications(
    scenario: Scenario, faults: list[FaultRecord], sent: list[Notification]
) -> tuple[ExpectationResult, ...]:
    """The scenario's ``notifications:`` against what reached each receiver (delivered only: a
    message every attempt of which was refused reached nobody). Without ``notifications:``,
    nothing is judged; with it, every delivered notification must be expected (``unexpected_alerts``)."""
    if scenario.notifications is None:
        return ()
    heard = sorted((n for n in sent if n.delivered), key=lambda n: n.time)
    by_name = {f.name: f for f in faults}
    claimed: set[tuple[int, str]] = set()
    results = []
    starts = [
        (e.receiver, e.alert, by_name[e.fault].start)
        for e in scenario.notifications
        if not e.silent and e.fault is not None and e.fault in by_name
    ]
    for e in scenario.notifications:
        if e.fault is not None and e.fault not in by_name:
            results.append(
                ExpectationResult(describe_notification(e), e.alert or "", False, f"fault {e.fault} never started")
            )
            continue
        fault = by_name.get(e.fault) if e.fault else None
        anchor = Anchor(fault.name, fault.start, fault.end) if fault else Anchor("the run's start", 0.0, 0.0)
        later = (s for r, a, s in starts if r == e.receiver and a == e.alert and s > anchor.start)
        results.append(_judge_notification(e, anchor, heard, claimed, min(later, default=math.inf)))
    if scenario.unexpected_alerts == "fail":
        for n in heard:
            silenced = {e.alert for e in scenario.notifications if e.silent and e.receiver == n.receiver}
            if None in silenced:
                continue  # the receiver's silent expectation has failed for it already
            stray = sorted(name for name in n.names() if (id(n), name) not in claimed and name not in silenced)
            if stray:
                results.append(
                    ExpectationResult(
                        f"no other notification ({n.receiver}: {', '.join(stray)})",
                        stray[0],
                        False,
                        f"unexpected: {n.status} notification at {n.time:g}s",
                    )
                )
    return tuple(results)
