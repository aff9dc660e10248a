"""The suite's record of who was paged: ``paged`` from a run's replay, the table's column, suite.json.

Nothing here starts Prometheus or Alertmanager: replays are built from notifications by hand.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

import harness.suite
from harness.notify import Notification, NotifiedAlert, Replay
from harness.suite import Delay, SuiteEntry, SuiteRun, paged, run_one, suite_json, suite_table


def _sent(receiver: str, kind: str = "pagerduty", status: str = "firing", delivered: bool = True) -> Notification:
    alert = NotifiedAlert("HighErrorRate", (("alertname", "HighErrorRate"),), status)
    attempts = ((600.0, 202 if delivered else 500, delivered),)
    return Notification(600.0, receiver, kind, 0, status, (alert,), delivered, attempts)


def test_paged_names_the_pagerduty_services_a_delivered_firing_notification_reached() -> None:
    replay = Replay(
        notifications=[
            _sent("pagerduty-ml-engineering"),
            _sent("pagerduty-devops"),
            _sent("pagerduty-devops"),  # a repeat: named once
            _sent("pagerduty-data-engineering", delivered=False),  # refused: nobody was paged
            _sent("pagerduty-data-engineering", status="resolved"),  # a resolve pages nobody
            _sent("chat-data-engineering", kind="webhook"),  # a chat message is not a page
            _sent("oncall", kind="pagerduty"),  # no prefix to strip
        ]
    )
    assert paged(replay) == ("devops", "ml-engineering", "oncall")
    assert paged(Replay()) == ()  # replayed, nobody paged
    assert paged(None) is None  # not replayed (--no-notify)


def _entry(name: str, pages: tuple[str, ...] | None, delays: tuple[Delay, ...] = ()) -> SuiteEntry:
    return SuiteEntry(Path(f"s/{name}.yaml"), passed=True, wall_seconds=2.0, delays=delays, paged=pages)


def test_table_has_a_paged_column_and_a_dash_without_pages() -> None:
    entries = [
        _entry("error_burst", ("devops",), (Delay("HighErrorRate", 90, 45),)),
        _entry("steady_state", ()),
        _entry("no_notify", None),
    ]
    lines = suite_table(entries).splitlines()
    paged_at = lines[0].index("paged")
    assert lines[0].split()[-2:] == ["paged", "wall"]
    assert lines[1][paged_at:].split() == ["devops", "2.0s"]
    assert lines[2][paged_at:].split() == ["-", "2.0s"]  # replayed, nobody paged
    assert lines[3][paged_at:].split() == ["-", "2.0s"]  # not replayed
    assert lines[-1] == "3 passed, 0 failed"


@pytest.mark.parametrize("by_seed", [False, True])
def test_long_cells_wrap_under_their_column_and_the_table_fits_120_columns(by_seed: bool) -> None:
    delays = tuple(Delay(a, 1905.0, None) for a in ("ModelAccuracyDrop", "FeatureDrift", "CalibrationError"))
    entries = [
        _entry("regime_change", ("data-engineering", "devops", "ml-engineering"), delays),
        _entry("error_burst", ("devops",), (Delay("HighErrorRate", 90, 45),)),
    ]
    lines = suite_table(entries, by_seed=by_seed).splitlines()
    assert max(len(line) for line in lines) <= 120
    paged_at, delays_at = lines[0].index("paged"), lines[0].index("detection delays")
    first, second, third, after = lines[1:5]
    assert first.startswith("regime_change") and first.endswith("2.0s")
    assert first[paged_at:].split() == ["data-engineering,", "2.0s"]
    # the continuation lines leave the other columns blank, and cut no name
    assert second[:delays_at].strip() == "" and third[:delays_at].strip() == ""
    assert second[paged_at:].strip() == "devops," and third[paged_at:].strip() == "ml-engineering"
    assert "CalibrationError +1905s" in second[delays_at:paged_at]
    assert after.startswith("error_burst")
    assert lines[-1] == "2 passed, 0 failed"


def test_suite_json_records_who_was_paged() -> None:
    entries = [replace(_entry("error_burst", ("devops",)), notifications=2), _entry("no_notify", None)]
    runs = suite_json(entries)["scenarios"]
    assert isinstance(runs, list)
    assert [(r["paged"], r["notifications_delivered"]) for r in runs] == [(["devops"], 2), (None, None)]


def test_run_one_takes_the_pages_from_the_runs_replay(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    replays = iter([Replay(notifications=[_sent("pagerduty-devops"), _sent("chat-devops", kind="webhook")]), None])

    def run(*args: object, **kwargs: object) -> SimpleNamespace:
        verdict = SimpleNamespace(expectations=())
        return SimpleNamespace(passed=True, alerts=[], verdict=verdict, timings={"total": 1.0}, replay=next(replays))

    monkeypatch.setattr(harness.suite, "load_scenario", lambda path: (None, tmp_path))
    monkeypatch.setattr(harness.suite, "run_scenario", run)
    replayed = run_one(SuiteRun(Path("a.yaml"), None, "a"), tmp_path, reports=False)
    assert (replayed.paged, replayed.notifications) == (("devops",), 2)
    not_replayed = run_one(SuiteRun(Path("a.yaml"), None, "a"), tmp_path, reports=False, replay_speed=None)
    assert (not_replayed.paged, not_replayed.notifications) == (None, None)
