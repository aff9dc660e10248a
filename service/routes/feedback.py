"""``POST /feedback``: the trading desk reports each prediction's realised direction.

Each outcome is matched to the prediction ``/predict`` answered under its ``prediction_id``
and counted for accuracy and calibration (``service/outcomes.py``); an id unknown, already
reported or older than the TTL is unmatched.
"""

from __future__ import annotations

from collections import Counter

from fastapi import APIRouter, Request, Response

from service.outcomes import confidence_bin
from service.schemas import FeedbackBatch, FeedbackResult, errors
from service.state import request_clock, service

router = APIRouter()


@router.post("/feedback", response_model=FeedbackResult, responses=errors(400, 413, 422))
async def feedback(batch: FeedbackBatch, request: Request) -> Response:
    svc = service(request)
    now = request_clock(request).now()
    m = svc.metrics
    counts: Counter[tuple[str, str]] = Counter()
    matched = expired = 0
    for report in batch.outcomes:
        pending, dropped = svc.pending.take(report.prediction_id, now)
        expired += dropped
        if pending is None:
            continue
        matched += 1
        correct = pending.direction == report.outcome
        b = confidence_bin(pending.confidence)
        counts["outcome", "correct" if correct else "incorrect"] += 1
        counts["bin", b] += 1
        if correct:
            counts["correct", b] += 1
        # A float sum: added one by one, in order, as the counter always has been.
        m.child(m.calibration_confidence, b).inc(pending.confidence)
    # Whole counts, summed per batch first (exact in a float counter).
    families = {"outcome": m.outcomes, "bin": m.calibration_predictions, "correct": m.calibration_correct}
    for (family, label), n in counts.items():
        m.child(families[family], label).inc(n)
    unmatched = len(batch.outcomes) - matched
    m.child(m.feedback, "matched").inc(matched)
    m.child(m.feedback, "unmatched").inc(unmatched)
    if expired:
        m.feedback_expired.inc(expired)
    answer = FeedbackResult(matched=matched, unmatched=unmatched)
    return Response(answer.model_dump_json(), media_type="application/json")
