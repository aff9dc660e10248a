"""``/admin``: chaos switches, behind a bearer token; answers 404 while no token is configured."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Request

from service.chaos import ChaosSpec
from service.model import ModelFileError, load_model
from service.state import request_clock, service


async def require_admin(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    token = service(request).settings.admin_token
    if token is None:
        raise HTTPException(404, "the admin API is disabled: start the service with an admin token")
    if authorization != f"Bearer {token}":
        raise HTTPException(401, "admin API: missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})


router = APIRouter(prefix="/admin", dependencies=[Depends(require_admin)])


@router.get("/chaos")
async def list_chaos(request: Request) -> dict[str, ChaosSpec]:
    return dict(service(request).chaos.faults)


@router.put("/chaos/{name}")
async def set_chaos(name: str, spec: ChaosSpec, request: Request) -> dict[str, ChaosSpec]:
    svc = service(request)
    if spec.cpu_cores and not svc.clock.simulated:
        raise HTTPException(422, "cpu_cores is modelled only on a simulated clock; live, load the CPU for real")
    svc.chaos.set(name, spec)
    svc.apply_chaos(request_clock(request).now())
    svc.metrics.chaos_faults.labels(name).set(1)
    return dict(svc.chaos.faults)


@router.post("/model/reload")
async def reload_model(request: Request) -> dict[str, str]:
    """Load the model artifact again (a retrained model), without a restart."""
    svc = service(request)
    if svc.settings.model_path is None:
        raise HTTPException(409, "no model artifact configured (model_path): nothing to reload")
    try:
        model = load_model(Path(svc.settings.model_path))
    except ModelFileError as exc:
        raise HTTPException(422, str(exc)) from exc
    svc.serve_model(model)
    return {"model_version": model.version}


@router.delete("/chaos/{name}")
async def clear_chaos(name: str, request: Request) -> dict[str, ChaosSpec]:
    svc = service(request)
    if not svc.chaos.clear(name):
        raise HTTPException(404, f"no chaos fault named {name!r} is active")
    svc.apply_chaos(request_clock(request).now())
    svc.metrics.chaos_faults.labels(name).set(0)
    return dict(svc.chaos.faults)
