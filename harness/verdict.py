"""Expectations against observed alert instances: the verdict of a run. Pure: values in, values out.

Every instance that fired must be claimed by an expectation, or the run fails with an
"unexpected alert" (unless the scenario says ``unexpected_alerts: ignore``): a suite proves
that nothing else fires, not only that the right thing does.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.engine import AlertInstance
from harness.scenario import Expectation, Scenario
from sim.records import FaultRecord


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


def judge(scenario: Scenario, faults: list[FaultRecord], instances: list[AlertInstance]) -> Verdict:
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
    return Verdict(all(r.passed for r in results), tuple(results))
