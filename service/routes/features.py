"""``POST /features``: the feature pipeline publishes the latest factor values per symbol."""

from __future__ import annotations

from fastapi import APIRouter, Request

from service.feature_store import FeatureRow
from service.schemas import FeatureBatch, FeatureBatchResult
from service.state import service

router = APIRouter()


@router.post("/features", response_model=FeatureBatchResult)
async def publish(batch: FeatureBatch, request: Request) -> FeatureBatchResult:
    svc = service(request)
    for update in batch.updates:
        svc.store.put(update.symbol, FeatureRow(update.timestamp, dict(update.features)))
        svc.metrics.feature_updates.labels(update.symbol).inc()
    return FeatureBatchResult(accepted=len(batch.updates))
