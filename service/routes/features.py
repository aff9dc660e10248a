"""``POST /features``: the feature pipeline publishes the latest factor values per symbol."""

from __future__ import annotations

from fastapi import APIRouter, Request

from service.feature_schema import ValidRow, validate_row
from service.feature_store import FeatureRow
from service.schemas import FeatureBatch, FeatureBatchResult, RejectedRow
from service.state import request_clock, service

router = APIRouter()


@router.post("/features", response_model=FeatureBatchResult)
async def publish(batch: FeatureBatch, request: Request) -> FeatureBatchResult:
    svc = service(request)
    now = request_clock(request).now()
    m = svc.metrics
    accepted, rejected = 0, []
    for index, raw in enumerate(batch.updates):
        row = validate_row(raw, now, svc.settings.feature_abs_max)
        if not isinstance(row, ValidRow):
            m.feature_rows.labels("rejected").inc()
            m.schema_violations.labels(row.reason, row.field).inc()
            symbol = raw.get("symbol") if isinstance(raw, dict) else None
            rejected.append(
                RejectedRow(
                    index=index,
                    symbol=symbol if isinstance(symbol, str) else None,
                    field=row.field,
                    reason=row.reason,  # type: ignore[arg-type]
                    detail=row.detail,
                )
            )
            continue
        accepted += 1
        svc.store.put(row.symbol, FeatureRow(row.timestamp, row.features))
        newest = svc.store.get(row.symbol)
        assert newest is not None
        m.feature_rows.labels("accepted").inc()
        m.feature_updates.labels(row.symbol).inc()
        m.feature_last_update.labels(row.symbol).set(newest.timestamp)
        for name, value in row.features.items():
            m.feature_values.labels(name).inc()
            if value is None:
                m.feature_nulls.labels(name).inc()
        svc.monitors.drift.add(now, row.features)
    if accepted:
        svc.monitors.batch_arrived(batch.source, now)
    return FeatureBatchResult(accepted=accepted, rejected=rejected)
