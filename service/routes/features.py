"""``POST /features``: the feature pipeline publishes the latest factor values per symbol.

A batch that is not a batch (no ``updates`` list, too long, a bad ``source``) is a 422; its
rows are then checked one by one (``service/feature_schema.py``), so a bad row is rejected
with its reason and counted while the good ones are stored.

Symbols and sources become metric label values, so both come from a configured universe
(``Settings.symbols``, ``Settings.sources``) and nothing a client makes up is ever a series:

- a row for an unknown symbol is rejected like any bad row (reason ``unknown_symbol``, field
  ``symbol``, counted in the bounded violations metric) while the rest of its batch is kept:
  a feed that lists one symbol too many still delivers the others;
- a batch from an unknown source is refused whole, a 422 naming the known sources, before any
  row is read or counted: the source is the sender's configuration, not one row's data, so
  the sender is told at once, and counting its rows as violations would blame the data. The
  refusals still show, as 422s on ``/features`` in the request metrics.
"""

from __future__ import annotations

from collections import Counter

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError

from service.feature_schema import ValidRow, validate_row
from service.feature_store import FeatureRow
from service.model import FEATURES
from service.schemas import FeatureBatch, FeatureBatchResult, RejectedRow, errors
from service.state import ServiceState, request_clock, service

router = APIRouter()


@router.post(
    "/features",
    response_model=FeatureBatchResult,
    responses=errors(400, 413, 422, s422="Not a batch, or a batch from a source not in the service's sources."),
)
async def publish(batch: FeatureBatch, request: Request) -> Response:
    svc = service(request)
    if batch.source not in svc.sources:
        raise _unknown_source(batch.source, svc.settings.sources)
    now = request_clock(request).now()
    accepted: list[ValidRow] = []
    rejected: list[RejectedRow] = []
    for index, raw in enumerate(batch.updates):
        row = validate_row(raw, now, svc.settings.feature_abs_max, svc.symbols)
        if isinstance(row, ValidRow):
            accepted.append(row)
            continue
        symbol = raw.get("symbol") if isinstance(raw, dict) else None
        rejected.append(
            RejectedRow(
                index=index,
                symbol=symbol if isinstance(symbol, str) else None,
                field=row.field,
                reason=row.reason,
                detail=row.detail,
            )
        )
    _store(svc, accepted, now)
    _count(svc, accepted, rejected)
    if accepted:
        svc.monitors.batch_arrived(batch.source, now)
    answer = FeatureBatchResult(accepted=len(accepted), rejected=rejected)
    # Serialised here: returning the model would make FastAPI validate up to 10,000 rows again.
    return Response(answer.model_dump_json(), media_type="application/json")


def _unknown_source(source: str, known: tuple[str, ...]) -> RequestValidationError:
    msg = f"unknown source {source!r}: this service takes batches from {', '.join(known)} (settings.sources)"
    return RequestValidationError([{"type": "unknown_source", "loc": ("body", "source"), "msg": msg, "input": source}])


def _store(svc: ServiceState, rows: list[ValidRow], now: float) -> None:
    new: list[dict[str, float | None]] = []
    for row in rows:
        current = svc.store.get(row.symbol)
        if current is None or row.timestamp > current.timestamp:  # a resent row is not new data
            new.append(row.features)
        svc.store.put(row.symbol, FeatureRow(row.timestamp, row.features))
    svc.monitors.drift.add_rows(now, new)
    for symbol in {row.symbol for row in rows}:
        newest = svc.store.get(symbol)
        assert newest is not None  # just stored
        # The store keeps the newest row, so a late row never moves this back.
        svc.metrics.child(svc.metrics.feature_last_update, symbol).set(newest.timestamp)


def _count(svc: ServiceState, accepted: list[ValidRow], rejected: list[RejectedRow]) -> None:
    """Summed per batch first: a 10,000-row batch costs a few dozen metric updates, not 100,000."""
    m = svc.metrics
    m.child(m.feature_rows, "accepted").inc(len(accepted))
    m.child(m.feature_rows, "rejected").inc(len(rejected))
    if rejected:
        for (reason, field), n in Counter((r.reason, r.field) for r in rejected).items():
            m.child(m.schema_violations, reason, field).inc(n)
    if not accepted:
        return
    per_symbol: dict[str, int] = {}
    nulls: dict[str, int] = {}
    for row in accepted:
        per_symbol[row.symbol] = per_symbol.get(row.symbol, 0) + 1
        if None in row.features.values():
            for name, value in row.features.items():
                if value is None:
                    nulls[name] = nulls.get(name, 0) + 1
    for symbol, n in per_symbol.items():
        m.child(m.feature_updates, symbol).inc(n)
    for name in FEATURES:  # a valid row has a value or a null for every feature
        m.child(m.feature_values, name).inc(len(accepted))
        if nulls.get(name):
            m.child(m.feature_nulls, name).inc(nulls[name])
