"""Receiver attempts paired into notifications: retries, repeats, and the alerts read from the twin."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.notify import Attempt, Notification, NotifiedAlert, notifications

START = 1_000.0  # wall seconds of run second 0
SPEED = 60.0
KEYS = {"alertdrillKEYdevops": "pagerduty-devops", "alertdrillKEYml": "pagerduty-ml-engineering"}


def run_time(wall: float) -> float:
    return (wall - START) * SPEED


def webhook_body(status: str, *alerts: tuple[str, str]) -> dict[str, Any]:
    """Alertmanager's v4 webhook JSON for (alertname, status) pairs."""
    return {
        "version": "4",
        "status": status,
        "groupKey": "{}:{alertname}",
        "alerts": [{"status": s, "labels": {"alertname": name, "job": "api"}} for name, s in alerts],
    }


def attempt(
    wall: float,
    *,
    receiver: str = "pagerduty-devops",
    kind: str = "pagerduty",
    index: int = 0,
    shadow: bool = False,
    status: int = 202,
    body: Any = None,
    key: str | None = None,
) -> Attempt:
    accepted = status < 300 if kind != "email" else status == 250
    return Attempt(wall, receiver, kind, index, shadow, status, accepted, None, body, key)  # type: ignore[arg-type]


def shadow(
    wall: float, status: str, *alerts: tuple[str, str], receiver: str = "pagerduty-devops", index: int = 0
) -> Attempt:
    return attempt(
        wall,
        receiver=receiver,
        kind="webhook",
        index=index,
        shadow=True,
        status=200,
        body=webhook_body(status, *alerts),
    )


PAGE = {"routing_key": "alertdrillKEYdevops", "event_action": "trigger", "payload": {"summary": "[FIRING:1] X"}}
RESOLVE = {**PAGE, "event_action": "resolve"}
FIRING = (("HighErrorRate", "firing"),)


def test_one_accepted_attempt_is_one_notification_read_from_its_twin() -> None:
    found = notifications(
        [shadow(1000.99, "firing", *FIRING), attempt(1001.5, body=PAGE, key="alertdrillKEYdevops")], run_time, KEYS
    )
    assert found == [
        Notification(
            time=90.0,
            receiver="pagerduty-devops",
            kind="pagerduty",
            index=0,
            status="firing",
            alerts=(NotifiedAlert("HighErrorRate", (("alertname", "HighErrorRate"), ("job", "api")), "firing"),),
            delivered=True,
            attempts=((90.0, 202, True),),
            service="pagerduty-devops",
            payload=PAGE,
        )
    ]
    assert found[0].delivered_at == 90.0
    assert found[0].names() == {"HighErrorRate"}


def test_a_refused_attempt_retried_with_the_same_body_is_one_notification() -> None:
    found = notifications(
        [
            shadow(1001.0, "firing", *FIRING),
            attempt(1001.0, status=500, body=PAGE, key="alertdrillKEYdevops"),
            attempt(1002.0, status=202, body=PAGE, key="alertdrillKEYdevops"),
        ],
        run_time,
        KEYS,
    )
    (n,) = found
    assert n.attempts == ((60.0, 500, False), (120.0, 202, True))
    assert (n.time, n.delivered, n.delivered_at) == (60.0, True, 120.0)
    assert n.status == "firing" and n.names() == {"HighErrorRate"}


def test_refused_every_time_is_one_undelivered_notification() -> None:
    (n,) = notifications([attempt(1001.0 + i, status=503, body=PAGE) for i in range(3)], run_time)
    assert len(n.attempts) == 3
    assert (n.delivered, n.delivered_at) == (False, None)


def test_an_email_refused_at_mail_from_then_accepted_is_one_notification() -> None:
    refused_early: dict[str, Any] = {"from": "am@x", "to": [], "subject": None, "headers": {}, "text": ""}
    mail = {"from": "am@x", "to": ["t@x"], "subject": "[FIRING:1] HighErrorRate", "headers": {}, "text": "..."}
    found = notifications(
        [
            shadow(1001.0, "firing", *FIRING, receiver="tickets"),
            attempt(1001.0, receiver="tickets", kind="email", status=451, body=refused_early),
            attempt(1001.5, receiver="tickets", kind="email", status=250, body=mail),
        ],
        run_time,
    )
    (n,) = found
    assert n.attempts == ((60.0, 451, False), (90.0, 250, True))
    assert (n.delivered_at, n.payload, n.service) == (90.0, mail, None)
    assert n.names() == {"HighErrorRate"}


@pytest.mark.parametrize(
    ("first_status", "second_body", "expected"),
    [
        (202, PAGE, 2),  # a repeat after an accepted attempt: a new notification
        (500, RESOLVE, 2),  # a refusal then another message: the refused one was given up
        (500, PAGE, 1),  # a refusal then the same message: a retry
    ],
)
def test_what_follows_an_attempt(first_status: int, second_body: dict[str, Any], expected: int) -> None:
    found = notifications(
        [attempt(1001.0, status=first_status, body=PAGE), attempt(1005.0, body=second_body)], run_time
    )
    assert len(found) == expected
    assert found[-1].delivered


def test_a_repeat_is_read_from_the_nearest_twin() -> None:
    found = notifications(
        [
            shadow(1000.99, "firing", *FIRING),
            attempt(1001.0, body=PAGE),
            shadow(1009.98, "resolved", ("HighErrorRate", "resolved")),
            attempt(1010.0, body=RESOLVE),
        ],
        run_time,
    )
    assert [(n.time, n.status, [a.status for a in n.alerts]) for n in found] == [
        (60.0, "firing", ["firing"]),
        (600.0, "resolved", ["resolved"]),
    ]


def test_twins_are_matched_by_receiver_and_index() -> None:
    found = notifications(
        [
            shadow(1001.0, "firing", ("A", "firing"), receiver="chat", index=0),
            shadow(1001.0, "firing", ("B", "firing"), receiver="chat", index=1),
            shadow(1001.0, "firing", ("C", "firing"), receiver="other", index=0),
            attempt(1001.0, receiver="chat", kind="slack", index=1, status=200, body={"text": "B"}),
            attempt(
                1001.0,
                receiver="chat",
                kind="webhook",
                index=0,
                status=200,
                body=webhook_body("firing", ("A", "firing")),
            ),
        ],
        run_time,
    )
    assert [(n.kind, n.index, n.names()) for n in found] == [("slack", 1, {"B"}), ("webhook", 0, {"A"})]


def test_a_webhook_is_read_from_its_own_body() -> None:
    own = webhook_body("resolved", ("Mine", "resolved"))
    found = notifications(
        [
            shadow(1001.0, "firing", ("Twin", "firing"), receiver="chat"),
            attempt(1001.0, receiver="chat", kind="webhook", status=200, body=own),
        ],
        run_time,
    )
    (n,) = found  # the twin is no notification of its own
    assert (n.status, n.names(), n.payload) == ("resolved", {"Mine"}, own)


def test_without_a_twin_the_alerts_are_unknown() -> None:
    (n,) = notifications([attempt(1001.0, receiver="chat", kind="slack", status=200, body={"text": "hi"})], run_time)
    assert (n.status, n.alerts) == ("unknown", ())


def test_retries_of_interleaved_integrations_stay_with_their_own() -> None:
    found = notifications(
        [
            attempt(1001.0, receiver="chat", kind="slack", index=0, status=500, body={"text": "a"}),
            attempt(1001.1, receiver="chat", kind="slack", index=1, status=200, body={"text": "a"}),
            attempt(1001.2, receiver="chat", kind="slack", index=0, status=200, body={"text": "a"}),
        ],
        run_time,
    )
    assert [(n.index, [ok for _, _, ok in n.attempts]) for n in found] == [(0, [False, True]), (1, [True])]


@pytest.mark.parametrize(
    ("kind", "key", "service"),
    [
        ("pagerduty", "alertdrillKEYdevops", "pagerduty-devops"),
        ("pagerduty", "alertdrillKEYml", "pagerduty-ml-engineering"),  # another team's key: that team
        ("pagerduty", "alertdrillUNKNOWN", None),
        ("pagerduty", None, None),
        ("slack", "alertdrillKEYdevops", None),
    ],
)
def test_the_service_a_page_went_to(kind: str, key: str | None, service: str | None) -> None:
    (n,) = notifications([attempt(1001.0, kind=kind, body=PAGE, key=key)], run_time, KEYS)
    assert n.service == service


def test_no_attempts_no_notifications() -> None:
    assert notifications([], run_time) == []
    assert notifications([shadow(1001.0, "firing", *FIRING)], run_time) == []


def test_record_is_json() -> None:
    found = notifications(
        [
            shadow(1001.0, "firing", *FIRING),
            attempt(1001.0, status=500, body=PAGE, key="alertdrillKEYdevops"),
            attempt(1002.0, status=202, body=PAGE, key="alertdrillKEYdevops"),
            attempt(1003.0, receiver="chat", kind="slack", status=500, body=None),
        ],
        run_time,
        KEYS,
    )
    records = [json.loads(json.dumps(n.record(), allow_nan=False)) for n in found]
    assert records[0] == {
        "time": 60.0,
        "receiver": "pagerduty-devops",
        "kind": "pagerduty",
        "integration": 0,
        "status": "firing",
        "delivered": True,
        "delivered_at": 120.0,
        "service": "pagerduty-devops",
        "incident": PAGE.get("dedup_key"),
        "alerts": [
            {"alertname": "HighErrorRate", "labels": {"alertname": "HighErrorRate", "job": "api"}, "status": "firing"}
        ],
        "attempts": [
            {"time": 60.0, "status": 500, "accepted": False},
            {"time": 120.0, "status": 202, "accepted": True},
        ],
        "payload": PAGE,
    }
    assert records[1]["delivered"] is False and records[1]["delivered_at"] is None and records[1]["payload"] is None


def test_a_pagerduty_notification_names_its_incident_by_dedup_key() -> None:
    found = notifications(
        [
            attempt(10.0, body={**PAGE, "dedup_key": "abc"}),
            attempt(20.0, receiver="chat-x", kind="slack", body={"text": "x"}),
        ],
        lambda wall: wall,
    )
    assert [n.incident for n in found] == ["abc", None]
