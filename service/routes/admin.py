"""``/admin``: chaos switches and model reload, behind a bearer token; 404 while no token is configured.

The token is checked before anything else of the request is read (``AdminRoute``): FastAPI
parses and validates a body before it solves a route's dependencies, so with the check as a
dependency a caller without the token got a 422, and learnt from it what a valid body looks
like. It is compared in constant time (``hmac.compare_digest``) and as bytes, so a header that
is not ASCII is a 401 like any other wrong token, not a ``TypeError``.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, Security
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer

from service.chaos import ChaosLimitError, ChaosSpec
from service.headers import scope_header_raw
from service.model import ModelFileError, load_model
from service.schemas import errors
from service.state import request_clock, service


def authorize(request: Request) -> None:
    """Raise the 404 or 401 for a request without the configured admin token."""
    token = service(request).settings.admin_token
    if token is None:
        raise HTTPException(404, "the admin API is disabled: start the service with an admin token")
    given = scope_header_raw(request.scope, b"authorization") or b""
    if not hmac.compare_digest(given, b"Bearer " + token.encode()):
        raise HTTPException(401, "admin API: missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})


class AdminRoute(APIRoute):
    """A route that authorizes the request before FastAPI reads its body or parameters."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def authorized(request: Request) -> Response:
            authorize(request)
            return await handle(request)

        return authorized


# Declares the scheme in the OpenAPI schema; it never refuses a request (AdminRoute does).
_bearer = HTTPBearer(auto_error=False, description="The service's admin token (Settings.admin_token).")

router = APIRouter(
    prefix="/admin",
    route_class=AdminRoute,
    dependencies=[Security(_bearer)],
    responses=errors(400, 401, 404, 413, s404="The admin API is disabled (no admin token), or no such fault."),
)


@router.get("/chaos")
async def list_chaos(request: Request) -> dict[str, ChaosSpec]:
    return dict(service(request).chaos.faults)


@router.put(
    "/chaos/{name}",
    responses=errors(409, 422, s409="Past chaos_max_faults or chaos_max_delay_seconds: clear a fault first."),
)
async def set_chaos(name: str, spec: ChaosSpec, request: Request) -> dict[str, ChaosSpec]:
    svc = service(request)
    if spec.cpu_cores and not svc.clock.simulated:
        # A valid fault this service cannot take in its state (live): a conflict, not a bad body.
        raise HTTPException(409, "cpu_cores is modelled only on a simulated clock; live, load the CPU for real")
    try:
        svc.chaos.set(name, spec)
    except ChaosLimitError as exc:
        raise HTTPException(409, str(exc)) from exc
    svc.apply_chaos(request_clock(request).now())
    svc.metrics.chaos_faults.labels(name).set(1)
    return dict(svc.chaos.faults)


@router.post(
    "/model/reload",
    responses=errors(
        409, 422, s409="No model artifact configured (model_path).", s422="The artifact cannot be loaded."
    ),
)
async def reload_model(request: Request) -> dict[str, str]:
    """Load the model artifact again (a retrained model), without a restart."""
    svc = service(request)
    if svc.settings.model_path is None:
        raise HTTPException(409, "no model artifact configured (model_path): nothing to reload")
    try:
        model = load_model(Path(svc.settings.model_path))
    except ModelFileError as exc:
        error = {"type": "model_file_invalid", "loc": ("model_path",), "msg": str(exc)}
        raise RequestValidationError([error]) from exc
    svc.serve_model(model)
    return {"model_version": model.version}


# No 422 is possible here; listed so the schema has our 422 rather than the one FastAPI adds for a path parameter.
@router.delete("/chaos/{name}", responses=errors(422))
async def clear_chaos(name: str, request: Request) -> dict[str, ChaosSpec]:
    svc = service(request)
    if not svc.chaos.clear(name):
        raise HTTPException(404, f"no chaos fault named {name!r} is active")
    svc.apply_chaos(request_clock(request).now())
    svc.metrics.chaos_faults.labels(name).set(0)
    return dict(svc.chaos.faults)
