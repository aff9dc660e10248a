"""Liveness, readiness and the metrics endpoint."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from service.breaker import BreakerState
from service.headers import scope_header_raw
from service.routes.admin import authorize
from service.schemas import Health, Readiness
from service.state import service

router = APIRouter()


@router.get("/health", response_model=Health, response_model_exclude_none=True)
async def health(request: Request) -> Health:
    """Liveness: the process answers. With an ``Authorization`` header, also whether that admin
    token is the service's: a harness asks before a run, and a probe is neither counted nor
    timed, so asking changes no metric (``GET /admin/chaos`` would add a series)."""
    admin: Literal["accepted", "refused", "disabled"] | None = None
    if scope_header_raw(request.scope, b"authorization") is not None:
        try:
            authorize(request)
            admin = "accepted"
        except HTTPException as exc:
            admin = "disabled" if exc.status_code == 404 else "refused"
    return Health(status="ok", model_version=service(request).model.version, admin=admin)


@router.get(
    "/ready",
    responses={
        200: {"model": Readiness, "description": "Ready."},
        503: {"model": Readiness, "description": "Not ready: the failing check is false."},
    },
)
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
