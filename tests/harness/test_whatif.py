"""The what-if of a routing change: notifications matched side by side, and a run folder that
cannot answer says why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.whatif import Row, compare, what_if_table


def note(time: float, receiver: str, status: str, *alerts: str, delivered: bool = True) -> dict[str, object]:
    return {
        "time": time,
        "receiver": receiver,
        "status": status,
        "delivered": delivered,
        "alerts": [{"alertname": a, "labels": {}, "status": status} for a in alerts],
    }


def test_notifications_are_matched_by_receiver_status_and_alerts_in_time_order() -> None:
    before = [
        note(600, "chat-data-engineering", "firing", "DataStaleness"),
        note(800, "pagerduty-data-engineering", "firing", "DataPipelineFailure"),
        note(900, "chat-data-engineering", "resolved", "DataStaleness"),
        note(950, "chat-devops", "firing", "HighCPU", delivered=False),  # refused: heard by nobody
    ]
    after = [
        note(790, "pagerduty-data-engineering", "firing", "DataPipelineFailure"),
        note(1200, "pagerduty-data-engineering", "firing", "DataPipelineFailure"),
        note(1300, "chat-ml-engineering", "firing", "LowConfidence"),
    ]
    rows = compare(before, after)
    assert [(r.receiver, r.before, r.after, r.change) for r in rows] == [
        ("chat-data-engineering", 600, None, "gone"),
        ("pagerduty-data-engineering", 800, 790, "same"),
        ("chat-data-engineering", 900, None, "gone"),
        ("pagerduty-data-engineering", None, 1200, "new"),
        ("chat-ml-engineering", None, 1300, "new"),
    ]


@pytest.mark.parametrize(
    ("before", "after", "change"),
    [(100.0, 115.0, "same"), (100.0, 116.0, "later 16s"), (100.0, 60.0, "earlier 40s"), (None, 5.0, "new")],
)
def test_a_change_is_named_beyond_one_evaluation_interval(before: float | None, after: float, change: str) -> None:
    assert Row("r", "firing", ("A",), before, after).change == change


def test_the_table_counts_what_changed() -> None:
    rows = [Row("r", "firing", ("A",), 1.0, 2.0), Row("r", "resolved", ("A",), 50.0, None)]
    text = what_if_table(rows, Path("new.yml"))
    assert "with new.yml" in text and "gone" in text and text.endswith("1 the same, 1 changed")
    assert what_if_table([], Path("x.yml")).endswith("no notification either way")


def test_a_run_folder_without_notifications_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "verdict.json").write_text(json.dumps({"notifications": None, "simulated_seconds": 60}))
    config = Path(__file__).resolve().parents[2] / "config" / "alertmanager.yml"
    assert main(["notify", str(tmp_path), "--alertmanager-config", str(config)]) == 2
    assert "recorded no notifications" in capsys.readouterr().err
    (tmp_path / "verdict.json").write_text(json.dumps({"notifications": {"outages": []}, "simulated_seconds": 60}))
    assert main(["notify", str(tmp_path), "--alertmanager-config", str(config)]) == 2
    assert "alerts_sent.jsonl: no alerts_sent.jsonl" in capsys.readouterr().err
