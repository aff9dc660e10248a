"""``POST /predict``: features from the request, or from the feature store behind its breaker.

A null the pipeline published for a feature is imputed with the model's training median
(``LogisticModel.imputation``); the answer names those features in ``imputed``. Every answer
carries a ``prediction_id`` (the request id, also in ``X-Request-ID``) and is remembered until
the desk reports its outcome (``/feedback``). Features sent in the body are judged by the rule
``/features`` judges a row's by (``feature_schema.feature_values``), before anything else: an
invalid body is a 422 even while chaos delays or fails requests.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError

from service.feature_schema import feature_values
from service.feature_store import FeatureRow, FeatureStoreUnavailable
from service.headers import scope_header
from service.outcomes import Pending
from service.schemas import PredictRequest, PredictResponse, errors
from service.state import FEATURE_STORE, ServiceState, request_clock, service

router = APIRouter()


async def _features(svc: ServiceState, symbol: str, request: Request) -> tuple[FeatureRow, bool]:
    """The symbol's latest features and whether they are a fallback (cached while the store is unreachable)."""
    clock = request_clock(request)
    dependency = svc.metrics.dependency_requests
    if svc.breaker.allow(clock.now()):
        try:
            row = await svc.store_client.get(symbol, clock)
        except FeatureStoreUnavailable:
            svc.breaker.failure(clock.now())
            svc.metrics.child(dependency, FEATURE_STORE, "error").inc()
        else:
            svc.breaker.success(clock.now())
            svc.metrics.child(dependency, FEATURE_STORE, "ok").inc()
            if row is None:
                raise HTTPException(
                    404, f"no features for symbol {symbol!r}: the feature pipeline has not published it"
                )
            svc.cache[symbol] = row
            return row, False
    else:
        svc.metrics.child(dependency, FEATURE_STORE, "rejected").inc()
    cached = svc.cache.get(symbol)
    max_age = svc.settings.fallback_max_age
    if cached is not None and clock.now() - cached.timestamp <= max_age:
        svc.metrics.fallbacks.inc()
        return cached, True
    raise HTTPException(
        503, f"feature store unavailable and no cached features for {symbol!r} younger than {max_age:g}s"
    )


@router.post(
    "/predict",
    response_model=PredictResponse,
    responses=errors(
        400,
        404,
        413,
        422,
        503,
        s404="The feature pipeline has not published the symbol (and no features were sent).",
        s503="An injected fault, or the feature store unreachable with no cached features young enough.",
    ),
)
async def predict(body: PredictRequest, request: Request) -> Response:
    svc = service(request)
    clock = request_clock(request)
    given = None if body.features is None else feature_values(body.features, svc.settings.feature_abs_max)
    if isinstance(given, list):
        loc = ("body", "features")
        raise RequestValidationError([{"type": v.reason, "loc": (*loc, v.field), "msg": v.detail} for v in given])
    await svc.chaos.apply(clock)
    imputed: list[str] = []
    if given is not None:
        features, degraded, age = given, False, None
    else:
        row, degraded = await _features(svc, body.symbol, request)
        age = max(0.0, clock.now() - row.timestamp)
        features = {}
        for name, value in row.features.items():
            if value is None:
                imputed.append(name)
                value = svc.model.imputation(name)
            features[name] = value
    p = svc.model.predict(features)
    prediction_id = svc.next_prediction_id()
    svc.metrics.confidence.observe(p.confidence)
    expired = svc.pending.add(prediction_id, Pending(p.direction, p.confidence, clock.now()))
    if expired:
        svc.metrics.feedback_expired.inc(expired)
    client = scope_header(request.scope, b"x-client")
    client = "default" if client is None else client
    svc.metrics.child(svc.metrics.predictions, client if client in svc.settings.clients else "other", p.direction).inc()
    answer = PredictResponse(
        prediction_id=prediction_id,
        symbol=body.symbol,
        direction=p.direction,
        probability=p.probability,
        confidence=p.confidence,
        model_version=svc.model.version,
        degraded=degraded,
        features_age_seconds=age,
        imputed=imputed,
    )
    # Serialised here: returning the model would make FastAPI validate it a second time.
    return Response(answer.model_dump_json(), media_type="application/json")
