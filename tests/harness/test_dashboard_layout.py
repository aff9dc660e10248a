"""The Grafana dashboard's structure: unique panel ids, a layout whose panels never overlap
(each collapsed row's panels laid out where they open), and each collapsed row's panels at the
minimum step its title promises."""

from __future__ import annotations

import json
import re
from itertools import combinations
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DASHBOARD = json.loads((REPO / "config" / "grafana-dashboard.json").read_text(encoding="utf-8"))


def _all_panels() -> list[dict[str, Any]]:
    return [q for p in DASHBOARD["panels"] for q in [p, *(p.get("panels") or [])]]


def test_panel_ids_are_unique() -> None:
    ids = [p["id"] for p in _all_panels()]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_panels_do_not_overlap() -> None:
    def box(p: dict[str, Any]) -> tuple[int, int, int, int]:
        g = p["gridPos"]
        return g["x"], g["y"], g["x"] + g["w"], g["y"] + g["h"]

    overlapping = []
    for a, b in combinations(_all_panels(), 2):
        (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = box(a), box(b)
        if ax0 < bx1 and bx0 < ax1 and ay0 < by1 and by0 < ay1:
            overlapping.append((a["title"], b["title"]))
    assert overlapping == []
    assert [p["title"] for p in _all_panels() if box(p)[0] < 0 or box(p)[2] > 24] == []  # 24 columns


def test_a_collapsed_rows_panels_query_at_its_refresh() -> None:
    """Grafana has one refresh per dashboard: a row's "(5m refresh)" is its panels' minimum step."""
    rows = [p for p in DASHBOARD["panels"] if p["type"] == "row" and p.get("collapsed")]
    assert rows
    for row in rows:
        match = re.search(r"\((\w+) refresh\)", row["title"])
        assert match, row["title"]
        off_step = {p["title"]: p.get("interval") for p in row["panels"] if p.get("interval") != match.group(1)}
        assert off_step == {}, row["title"]


def test_the_deployments_row_shows_the_controllers_state_and_each_version() -> None:
    """Replicas, traffic weights and rollout phases (the rollout-controller job), and the
    service's rate, latency and accuracy split by the replicas' `version` label."""
    row = next(p for p in DASHBOARD["panels"] if p["type"] == "row" and p["title"].startswith("Deployments"))
    assert row["collapsed"]
    exprs = {p["title"]: " ".join(t["expr"] for t in p["targets"]) for p in row["panels"]}
    for metric in ("rollout_replicas", "rollout_traffic_weight", "rollout_phase"):
        assert [t for t, e in exprs.items() if metric in e], metric
    for metric in (
        "prediction_api_http_requests_total",
        "prediction_api_http_request_duration_seconds_bucket",
        'prediction_api_prediction_outcomes_total{job=~"$job", result="correct"}',
    ):
        using = [e for e in exprs.values() if metric in e]
        assert using and all(re.search(r"by \(version\b", e) for e in using), metric
    assert all(p["datasource"] == row["datasource"] for p in row["panels"])
    others = [q["id"] for p in DASHBOARD["panels"] if p is not row for q in [p, *(p.get("panels") or [])]]
    assert min(p["id"] for p in [row, *row["panels"]]) > max(others)  # the newest panels
