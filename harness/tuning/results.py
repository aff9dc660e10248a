"""Scores per variant, the Pareto front and the recommendation: what ``alertdrill tune`` reports."""

from __future__ import annotations

import math
from dataclasses import dataclass

from harness.tuning.grid import Constraints
from harness.tuning.sweep import CorpusRun, RunFirings, firings
from harness.tuning.truth import Score, score_run
from harness.tuning.variants import Variant


@dataclass
class Scored:
    variant: Variant
    score: Score
    pareto: bool = False
    recommended: bool = False

    def row(self) -> dict[str, object]:
        v = self.variant
        return {
            "alert": v.alert,
            "key": v.key,
            "variant": v.describe(),
            "expression": v.expression,
            "expr": v.expr,
            "for": v.hold,
            "threshold": v.threshold,
            "windows": dict(v.windows),
            "current": v.current,
            "pareto": self.pareto,
            "recommended": self.recommended,
            **self.score.summary(),
        }


def score_all(variants: list[Variant], corpus: list[CorpusRun], found: list[RunFirings], grace: float) -> list[Scored]:
    out = []
    for v in variants:
        score = Score()
        for run, fired in zip(corpus, found, strict=True):
            score_run(score, v.alert, run.truth, firings(fired, v.key), grace)
        out.append(Scored(v, score))
    return out


def _objectives(s: Scored) -> tuple[float, float, float]:
    """Smaller is better in each: missed incidents, false alerts a day, median detection."""
    score = s.score
    detection = score.detection_median
    return (1.0 - (score.recall or 0.0), score.false_per_day or 0.0, math.inf if detection is None else detection)


def by_alert(scored: list[Scored]) -> dict[str, list[Scored]]:
    """The variants of each alert, in the tuning file's order."""
    out: dict[str, list[Scored]] = {}
    for s in scored:
        out.setdefault(s.variant.alert, []).append(s)
    return out


def mark(scored: list[Scored], constraints: Constraints) -> None:
    """Per alert: its Pareto front over (recall, false alerts a day, median detection), and the
    recommended variant: among those meeting the constraints, the fewest false alerts, then the
    fastest detection, then the current one."""
    for items in by_alert(scored).values():
        objectives = [_objectives(s) for s in items]
        for s, mine in zip(items, objectives, strict=True):
            s.pareto = not any(
                all(o <= m for o, m in zip(other, mine, strict=True)) and other != mine for other in objectives
            )
        eligible = [
            s
            for s in items
            if (s.score.recall or 0.0) >= constraints.min_recall
            and (s.score.false_per_day or 0.0) <= constraints.max_false_per_day
        ]
        if eligible:
            best = min(eligible, key=lambda s: (*_objectives(s)[1:], not s.variant.current, s.variant.key))
            best.recommended = True
