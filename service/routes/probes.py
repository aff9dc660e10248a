"""Liveness, readiness and the metrics endpoint."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from service.breaker import BreakerState
from service.schemas import Health
from service.state import service

router = APIRouter()


@router.get("/health", response_model=Health)
async def health(request: Request) -> Health:
    """Liveness: the process answers."""
    return Health(status="ok", model_version=service(request).model.version)


@router.get("/ready")
async def ready(request: Request) -> JSONResponse:
    """Readiness: a model is loaded and the feature store is reachable (its breaker is not open)."""
    svc = service(request)
    checks = {
        "model_loaded": svc.model is not None,
        "feature_store_reachable": not svc.store_client.down and svc.breaker.state is not BreakerState.OPEN,
    }
    ok = all(checks.values())
    return JSONResponse({"ready": ok, "checks": checks}, status_code=200 if ok else 503)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    return Response(service(request).exposition.render(), media_type=CONTENT_TYPE_LATEST)
