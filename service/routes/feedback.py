"""``POST /feedback``: the trading desk reports each prediction's realised direction.

Each outcome is matched to the prediction ``/predict`` answered under its ``prediction_id``
and counted for accuracy and calibration (``service/outcomes.py``); an id unknown, already
reported or older than the TTL is unmatched.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from service.outcomes import confidence_bin
from service.schemas import FeedbackBatch, FeedbackResult
from service.state import request_clock, service

router = APIRouter()


@router.post("/feedback", response_model=FeedbackResult)
async def feedback(batch: FeedbackBatch, request: Request) -> FeedbackResult:
    svc = service(request)
    now = request_clock(request).now()
    m = svc.metrics
    matched = expired = 0
    for report in batch.outcomes:
        pending, dropped = svc.pending.take(report.prediction_id, now)
        expired += dropped
        if pending is None:
            continue
        matched += 1
        correct = pending.direction == report.outcome
        m.outcomes.labels("correct" if correct else "incorrect").inc()
        b = confidence_bin(pending.confidence)
        m.calibration_predictions.labels(b).inc()
        m.calibration_confidence.labels(b).inc(pending.confidence)
        if correct:
            m.calibration_correct.labels(b).inc()
    unmatched = len(batch.outcomes) - matched
    m.feedback.labels("matched").inc(matched)
    m.feedback.labels("unmatched").inc(unmatched)
    if expired:
        m.feedback_expired.inc(expired)
    return FeedbackResult(matched=matched, unmatched=unmatched)
