"""Notification windows from a seed sweep: what each receiver heard about each alert, and when.

    .venv/bin/alertdrill suite scenarios --seeds 0-19 --no-reports --out runs/sweep
    .venv/bin/python tests/benchmarks/notification_windows.py runs/sweep

For every scenario of the sweep and every (receiver, alert) pair heard in any seed: in how many
seeds it was heard, the delay of the first delivered firing notification after the alert's fault
starts (the fault its expectation names; the run's start without one), of the first resolved one
after the fault ends, and the number of firing notifications, as min..max over the seeds; then a
``notifications:`` block with windows widened by a margin, for the scenario file (checked by hand
before it goes in).
"""

from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict
from pathlib import Path

import yaml

MARGIN_BEFORE, MARGIN_AFTER = 30.0, 60.0


def _anchor(scenario: dict, alert: str) -> str | None:
    for e in scenario.get("expectations", []):
        if e.get("alert") == alert and e.get("fault"):
            return str(e["fault"])
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep", type=Path)
    parser.add_argument("--scenarios", type=Path, default=Path("scenarios"))
    args = parser.parse_args()
    by_scenario: dict[str, list[Path]] = defaultdict(list)
    for folder in sorted(args.sweep.iterdir()):
        if (folder / "verdict.json").exists():
            by_scenario[json.loads((folder / "verdict.json").read_text())["scenario"]].append(folder)
    for name, folders in sorted(by_scenario.items()):
        scenario = yaml.safe_load((args.scenarios / f"{name}.yaml").read_text())
        stats: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        for folder in folders:
            verdict = json.loads((folder / "verdict.json").read_text())
            faults = {f["name"]: f for f in verdict["faults"]}
            lines = (folder / "notifications.jsonl").read_text().splitlines()
            heard = [json.loads(x) for x in lines if json.loads(x)["delivered"]]
            pairs = {(n["receiver"], a["alertname"]) for n in heard for a in n["alerts"]}
            for receiver, alert in pairs:
                fault = faults.get(_anchor(scenario, alert) or "")
                start, end = (fault["start"], fault["end"]) if fault else (0.0, 0.0)
                mine = [n for n in heard if n["receiver"] == receiver]
                firing = [
                    n for n in mine if any(a["alertname"] == alert and a["status"] == "firing" for a in n["alerts"])
                ]
                resolved = [
                    n for n in mine if any(a["alertname"] == alert and a["status"] == "resolved" for a in n["alerts"])
                ]
                s = stats[(receiver, alert)]
                s["seeds"].append(1)
                s["count"].append(len(firing))
                if firing:
                    s["within"].append(firing[0]["delivered_at"] - start)
                if resolved:
                    s["resolved"].append(resolved[0]["delivered_at"] - end)
        print(f"# {name}: {len(folders)} seeds")
        block = []
        for (receiver, alert), s in sorted(stats.items()):
            seen = len(s["seeds"])
            fault = _anchor(scenario, alert)
            text = {k: f"{min(v):.0f}..{max(v):.0f}" for k, v in s.items() if k != "seeds" and v}
            print(f"#   {receiver:28} {alert:26} heard in {seen}/{len(folders)}  {text}")
            entry: dict[str, object] = {"receiver": receiver, "alert": alert}
            if fault:
                entry["fault"] = fault
            if s["within"] and seen == len(folders):
                entry["within"] = [_down(min(s["within"]) - MARGIN_BEFORE), _up(max(s["within"]) + MARGIN_AFTER)]
            if s["resolved"] and len(s["resolved"]) == len(folders):
                lo, hi = min(s["resolved"]) - MARGIN_BEFORE, max(s["resolved"]) + MARGIN_AFTER
                entry["resolved_within"] = [_down(max(0.0, lo)), _up(hi)]
            if len(set(s["count"])) == 1 and seen == len(folders):
                entry["count"] = s["count"][0]
            block.append(entry)
        print(yaml.safe_dump({"notifications": block}, sort_keys=False, width=200))


def _down(x: float) -> str:
    return f"{max(0, math.floor(x / 5) * 5)}s"


def _up(x: float) -> str:
    return f"{math.ceil(x / 5) * 5}s"


if __name__ == "__main__":
    main()
