"""What a drill's watcher makes of two looks at Prometheus and Alertmanager: pure functions."""

from __future__ import annotations

from harness.drill import changes
from harness.drill.watch import alertmanager_states, alerts_series_states

A = (("alertname", "HighErrorRate"), ("job", "api"))
B = (("alertname", "ServiceDown"), ("job", "api"))


def test_prometheus_alerts_become_states_by_labels() -> None:
    metric = {"__name__": "ALERTS", "job": "api", "alertname": "HighErrorRate", "alertstate": "pending"}
    body = {"data": {"result": [{"metric": metric, "value": [1.0, "1"]}]}}
    assert alerts_series_states(body) == {A: "pending"}


def test_changes_name_each_move_once() -> None:
    assert [(c.alertname, c.state, c.was) for c in changes({}, {A: "pending"})] == [("HighErrorRate", "pending", None)]
    assert [(c.state, c.was) for c in changes({A: "pending"}, {A: "firing"})] == [("firing", "pending")]
    assert changes({A: "firing"}, {A: "firing"}) == []
    # gone: resolved if it had fired, inactive if it was only pending
    gone = changes({A: "firing", B: "pending"}, {})
    assert [(c.alertname, c.state) for c in gone] == [("HighErrorRate", "resolved"), ("ServiceDown", "inactive")]


def test_alertmanager_states_say_what_suppresses_an_alert() -> None:
    body = [
        {"labels": dict(A), "status": {"state": "active", "inhibitedBy": [], "silencedBy": []}},
        {"labels": dict(B), "status": {"state": "suppressed", "inhibitedBy": ["abc"], "silencedBy": []}},
    ]
    states = alertmanager_states(body)
    assert states == {A: "active", B: "suppressed: inhibited by abc"}
    (moved,) = changes({B: "active"}, states, gone="gone")[1:]
    assert (moved.state, moved.by, moved.was) == ("suppressed", "inhibited by abc", "active")
    assert [c.state for c in changes(states, {}, gone="gone")] == ["gone", "gone"]
