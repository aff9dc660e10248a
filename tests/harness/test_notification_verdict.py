"""Notification expectations: what each receiver heard, judged against the scenario (pure)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from harness.engine import AlertInstance, AlertState
from harness.errors import ScenarioError
from harness.notify import Notification, NotifiedAlert
from harness.scenario import NotificationExpectation, Scenario, check_alert_names, parse_scenario
from harness.verdict import judge, judge_notifications
from sim.records import FaultRecord
from sim.specs import FaultKind

PAGER = "pagerduty-devops"
CHAT = "chat-devops"
BURST = FaultRecord("burst", FaultKind.ERROR_BURST, 600.0, 1200.0, 0.5)  # 10m to 20m


def scenario(*expected: dict[str, Any] | None, unexpected: str = "fail", **extra: Any) -> Scenario:
    """A scenario with an error burst from 10m to 20m; ``expected`` None: no ``notifications:``."""
    data: dict[str, Any] = {
        "name": "notify",
        "duration": "1h",
        "faults": [{"name": "burst", "kind": "error_burst", "start": "10m", "duration": "10m", "error_rate": 0.5}],
        "unexpected_alerts": unexpected,
        **extra,
    }
    if expected != (None,):
        data["notifications"] = list(expected)
    return Scenario.model_validate(data)


def heard(
    t: float,
    *alerts: str,
    receiver: str = PAGER,
    status: str = "firing",
    delivered: bool = True,
    accepted_at: float | None = None,
) -> Notification:
    """A notification first attempted at ``t``; accepted then (or at ``accepted_at``) when delivered."""
    if not delivered:
        attempts: tuple[tuple[float, int, bool], ...] = ((t, 500, False), (t + 10, 500, False))
    elif accepted_at is not None:
        attempts = ((t, 500, False), (accepted_at, 202, True))
    else:
        attempts = ((t, 202, True),)
    return Notification(
        time=t,
        receiver=receiver,
        kind="pagerduty" if receiver == PAGER else "webhook",
        index=0,
        status=status,
        alerts=tuple(NotifiedAlert(a, (("alertname", a),), status) for a in alerts or ("HighErrorRate",)),
        delivered=delivered,
        attempts=attempts,
    )


def results(s: Scenario, sent: list[Notification], faults: list[FaultRecord] | None = None) -> list[tuple[bool, str]]:
    return [(r.passed, r.observed) for r in judge_notifications(s, [BURST] if faults is None else faults, sent)]


PAGE = {"receiver": PAGER, "alert": "HighErrorRate", "fault": "burst"}


@pytest.mark.parametrize(
    ("window", "passed"),
    [
        (["0s", "2m"], True),
        (["1m", "1m"], True),  # both ends are in the window
        (["0s", "59s"], False),
        (["61s", "5m"], False),  # negative control: the window excludes the observed 60 s
    ],
)
def test_heard_within_the_window(window: list[str], passed: bool) -> None:
    assert results(scenario({**PAGE, "within": window}), [heard(660)]) == [(passed, "heard 60s after start")]


def test_heard_when_delivered_not_when_first_refused() -> None:
    sent = [heard(630, accepted_at=700)]  # refused at 30 s, delivered at 100 s after the fault started
    assert results(scenario({**PAGE, "within": ["0s", "90s"]}), sent) == [(False, "heard 100s after start")]
    assert results(scenario({**PAGE, "within": ["90s", "2m"]}), sent) == [(True, "heard 100s after start")]


def test_not_heard() -> None:
    assert results(scenario({**PAGE, "within": ["0s", "5m"]}), []) == [(False, "not heard after burst")]


def test_a_notification_before_the_fault_is_not_its_own() -> None:
    got = results(scenario({**PAGE, "within": ["0s", "5m"]}), [heard(300)])
    assert got[0] == (False, "not heard after burst")
    assert got[1][0] is False and got[1][1] == "unexpected: firing notification at 300s"


@pytest.mark.parametrize(
    ("window", "sent", "expected"),
    [
        (["0s", "2m"], [heard(1290, status="resolved")], (True, "heard 60s after start, resolved heard 90s after end")),
        (
            ["0s", "1m"],
            [heard(1290, status="resolved")],
            (False, "heard 60s after start, resolved heard 90s after end"),
        ),
        (["0s", "2m"], [], (False, "heard 60s after start, no resolved notification")),
        # a resolved one refused every time reached nobody
        (
            ["0s", "2m"],
            [heard(1290, status="resolved", delivered=False)],
            (False, "heard 60s after start, no resolved notification"),
        ),
    ],
)
def test_resolved_within(window: list[str], sent: list[Notification], expected: tuple[bool, str]) -> None:
    s = scenario({**PAGE, "within": ["0s", "2m"], "resolved_within": window})
    assert results(s, [heard(660), *sent]) == [expected]


def test_resolved_within_a_late_firing_still_fails() -> None:
    s = scenario({**PAGE, "within": ["0s", "30s"], "resolved_within": ["0s", "5m"]})
    assert results(s, [heard(660), heard(1290, status="resolved")]) == [
        (False, "heard 60s after start, resolved heard 90s after end")
    ]


@pytest.mark.parametrize(
    ("count", "passed"),
    [(2, True), (1, False), (3, False)],
)
def test_count_of_firing_notifications(count: int, passed: bool) -> None:
    sent = [heard(660), heard(960), heard(1290, status="resolved")]  # a repeat, then the resolved one
    assert results(scenario({**PAGE, "count": count}), sent) == [(passed, "2 firing notifications")]


def test_count_zero_without_a_window() -> None:
    s = scenario({**PAGE, "count": 0})
    assert results(s, []) == [(True, "0 firing notifications")]
    assert results(s, [heard(660)]) == [(False, "1 firing notification")]


def test_refused_notifications_are_not_counted() -> None:
    sent = [heard(660, delivered=False), heard(960)]
    assert results(scenario({**PAGE, "within": ["0s", "10m"], "count": 1}), sent) == [
        (True, "heard 360s after start, 1 firing notification")
    ]


def test_silent_receiver() -> None:
    s = scenario({"receiver": CHAT, "silent": True})
    assert results(s, []) == [(True, "heard nothing")]
    assert results(s, [heard(660, receiver=PAGER)])[0] == (True, "heard nothing")  # another receiver
    # it heard something: the silent expectation fails, and once only (not also as unexpected)
    assert results(s, [heard(660, "A", "B", receiver=CHAT), heard(900, "C", receiver=CHAT)]) == [
        (False, "heard ['A', 'B'] at 660s")
    ]
    # refused every time: it heard nothing
    assert results(s, [heard(660, receiver=CHAT, delivered=False)]) == [(True, "heard nothing")]


def test_silent_about_one_alert() -> None:
    s = scenario(
        {"receiver": CHAT, "alert": "HighCPU", "silent": True}, {**PAGE, "receiver": CHAT, "within": ["0s", "5m"]}
    )
    assert [p for p, _ in results(s, [heard(660, receiver=CHAT)])] == [True, True]
    got = results(s, [heard(660, receiver=CHAT), heard(700, "HighCPU", receiver=CHAT)])
    assert got == [
        (False, "heard ['HighCPU'] at 700s"),
        (True, "heard 60s after start"),
    ]  # HighCPU not again as unexpected
    # another alert, expected by nothing, is unexpected
    stray = results(s, [heard(660, receiver=CHAT), heard(700, "HighMemory", receiver=CHAT)])
    assert stray[2] == (False, "unexpected: firing notification at 700s")


def test_unexpected_notifications_fail_unless_ignored() -> None:
    sent = [heard(660), heard(700, "HighCPU", receiver=CHAT)]
    failing = judge_notifications(scenario({**PAGE, "within": ["0s", "5m"]}), [BURST], sent)
    assert [(r.passed, r.alert, r.description) for r in failing] == [
        (True, "HighErrorRate", "pagerduty-devops hears HighErrorRate [0s, 300s] after burst starts"),
        (False, "HighCPU", "no other notification (chat-devops: HighCPU)"),
    ]
    ignoring = judge_notifications(scenario({**PAGE, "within": ["0s", "5m"]}, unexpected="ignore"), [BURST], sent)
    assert [r.passed for r in ignoring] == [True]


def test_an_undelivered_stray_is_not_unexpected() -> None:
    assert results(scenario(), [heard(700, "HighCPU", delivered=False)]) == []


def test_two_alerts_in_one_notification_where_only_one_is_expected() -> None:
    got = judge_notifications(
        scenario({**PAGE, "within": ["0s", "5m"]}), [BURST], [heard(660, "HighErrorRate", "HighLatency")]
    )
    assert [(r.passed, r.description) for r in got] == [
        (True, "pagerduty-devops hears HighErrorRate [0s, 300s] after burst starts"),
        (False, "no other notification (pagerduty-devops: HighLatency)"),
    ]


def test_two_expectations_share_a_notification_listing_both_alerts() -> None:
    s = scenario({**PAGE, "within": ["0s", "5m"]}, {**PAGE, "alert": "HighLatency", "within": ["0s", "5m"]})
    assert [p for p, _ in results(s, [heard(660, "HighErrorRate", "HighLatency")])] == [True, True]


def test_without_notifications_nothing_is_judged() -> None:
    s = scenario(None)
    assert s.notifications is None
    assert judge_notifications(s, [BURST], [heard(660), heard(700, "X", receiver=CHAT)]) == ()


def test_an_empty_notifications_list_expects_silence_everywhere() -> None:
    assert [p for p, _ in results(scenario(), [heard(660)])] == [False]
    assert results(scenario(), []) == []


def test_a_fault_that_never_started() -> None:
    got = judge_notifications(scenario({**PAGE, "within": ["0s", "5m"]}), [], [])
    assert [(r.passed, r.observed, r.alert) for r in got] == [(False, "fault burst never started", "HighErrorRate")]


def test_without_a_fault_windows_count_from_the_run_start() -> None:
    s = scenario({"receiver": PAGER, "alert": "ModelStale", "within": ["50m", "55m"], "resolved_within": ["55m", "1h"]})
    sent = [heard(3100, "ModelStale"), heard(3400, "ModelStale", status="resolved")]
    assert results(s, sent, faults=[]) == [(True, "heard 3100s after start, resolved heard 3400s after end")]
    assert results(s, sent[:1], faults=[])[0][0] is False


def test_two_faults_each_claim_their_own_notifications() -> None:
    s = Scenario.model_validate(
        {
            "name": "twice",
            "duration": "2h",
            "faults": [
                {"name": "first", "kind": "error_burst", "start": "10m", "duration": "5m", "error_rate": 0.2},
                {"name": "second", "kind": "error_burst", "start": "1h", "duration": "5m", "error_rate": 0.2},
            ],
            "notifications": [
                {"receiver": PAGER, "alert": "HighErrorRate", "fault": "first", "within": ["0s", "2m"], "count": 1},
                {"receiver": PAGER, "alert": "HighErrorRate", "fault": "second", "within": ["0s", "2m"], "count": 1},
            ],
        }
    )
    faults = [
        FaultRecord("first", FaultKind.ERROR_BURST, 600, 900, 0.2),
        FaultRecord("second", FaultKind.ERROR_BURST, 3600, 3900, 0.2),
    ]
    sent = [heard(660), heard(960, status="resolved"), heard(3660), heard(3960, status="resolved")]
    assert [(r.passed, r.observed) for r in judge_notifications(s, faults, sent)] == [
        (True, "heard 60s after start, 1 firing notification"),
        (True, "heard 60s after start, 1 firing notification"),
    ]


# --- judge(), with and without what was sent --------------------------------------------------


def fired(name: str, at: float, resolved: float) -> AlertInstance:
    return AlertInstance(name, (("alertname", name),), at - 30, at, resolved, resolved, AlertState.INACTIVE)


def test_judge_adds_the_notification_results_when_given_what_was_sent() -> None:
    s = scenario(
        {**PAGE, "within": ["0s", "2m"]},
        expectations=[{"alert": "HighErrorRate", "fault": "burst", "fires_within": ["0s", "2m"]}],
    )
    instances = [fired("HighErrorRate", 650, 1250)]
    alone = judge(s, [BURST], instances)
    assert alone.passed and len(alone.expectations) == 1
    good = judge(s, [BURST], instances, [heard(660)])
    assert good.passed and len(good.expectations) == 2
    late = judge(s, [BURST], instances, [heard(900)])
    assert not late.passed
    assert [(e.passed, e.observed) for e in late.expectations] == [
        (True, "fired 50s after start"),
        (False, "heard 300s after start"),
    ]
    assert not judge(s, [BURST], instances, []).passed  # nothing reached the pager


# --- the scenario model ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"alert": "A", "silent": True, "within": ["0s", "1m"]}, "a silent notification expectation takes no"),
        ({"silent": True, "count": 0}, "a silent notification expectation takes no"),
        ({"silent": True, "fault": "burst"}, "a silent notification expectation takes no"),
        ({"alert": "A"}, "give within: [min, max]"),
        ({"within": ["0s", "1m"]}, "name the alert"),
        ({"alert": "A", "within": ["2m", "1m"]}, "min 120s is after max 60s"),
        ({"alert": "A", "count": -1}, "greater than or equal to 0"),
        ({"alert": "A", "count": 1, "wihtin": ["0s", "1m"]}, "Extra inputs are not permitted"),
    ],
)
def test_notification_expectation_validation(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        NotificationExpectation.model_validate({"receiver": PAGER, **fields})


@pytest.mark.parametrize(
    "fields",
    [
        {"silent": True},
        {"alert": "A", "silent": True},
        {"alert": "A", "count": 2},
        {"alert": "A", "fault": "burst", "within": ["0s", "1m"], "resolved_within": ["0s", "5m"]},
    ],
)
def test_valid_notification_expectations(fields: dict[str, Any]) -> None:
    assert NotificationExpectation.model_validate({"receiver": PAGER, **fields}).receiver == PAGER


SCENARIO = """\
name: notify
duration: 1h
faults:
  - name: burst
    kind: error_burst
    start: 10m
    duration: 10m
    error_rate: 0.5
notifications:
  - receiver: chat-devops
    silent: true
  - receiver: pagerduty-devops
    alert: HighErrorRate
    fault: burst
    within: [0s, 2m]
"""


def test_a_good_scenario_with_notifications() -> None:
    s = parse_scenario(SCENARIO, "scn.yaml")
    assert s.notifications == (
        NotificationExpectation(receiver=CHAT, silent=True),
        NotificationExpectation(receiver=PAGER, alert="HighErrorRate", fault="burst", within=(0.0, 120.0)),
    )
    check_alert_names(s, {"HighErrorRate"})  # raises nothing: every alert is defined


def test_a_notification_naming_no_fault_is_an_error_naming_the_field_and_line() -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(SCENARIO.replace("fault: burst", "fault: brust"), "scn.yaml")
    assert str(info.value) == "scn.yaml:14: field notifications[1].fault: 'brust' names no fault (faults: ['burst'])"
    with pytest.raises(ValidationError, match=r"notifications\.0\.fault: 'brust' names no fault"):
        scenario({**PAGE, "fault": "brust", "within": ["0s", "1m"]})


def test_a_silent_notification_with_a_window_names_the_line() -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(SCENARIO.replace("    silent: true\n", "    silent: true\n    within: [0s, 1m]\n"), "scn.yaml")
    assert str(info.value).startswith("scn.yaml:10: field notifications[0]: a silent notification expectation")


def test_a_notification_naming_no_rule_fails_check_alert_names_with_its_line() -> None:
    s = parse_scenario(SCENARIO.replace("alert: HighErrorRate", "alert: HighErorRate"), "scn.yaml")
    with pytest.raises(ScenarioError) as info:
        check_alert_names(s, {"HighErrorRate", "HighLatency"})
    assert str(info.value) == (
        "scn.yaml:13: field notifications[1].alert: 'HighErorRate' is defined by no rule "
        "(did you mean 'HighErrorRate'?); the scenario's rule files define: HighErrorRate, HighLatency"
    )
