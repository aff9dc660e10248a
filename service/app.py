"""The High-Frequency Trading Factor Prediction API.

``create_app`` builds one independent service: its own registry, chaos state and clock, so
several can live in one process (one per simulated run) without sharing anything.
"""

import os
from typing import Annotated

from fastapi import Depends, FastAPI, Header, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from service.chaos import Chaos, ChaosSpec, InjectedFault
from service.clock import Clock, RequestClock, WallClock
from service.cpu import CpuAccount
from service.metrics import WithoutCreatedSeries, create_metrics
from service.middleware import MeasuredRequests
from service.model import LogisticModel, default_model
from service.schemas import Health, PredictRequest, PredictResponse
from service.settings import Settings


def create_app(
    settings: Settings | None = None,
    clock: Clock | None = None,
    model: LogisticModel | None = None,
) -> FastAPI:
    settings = settings or Settings()
    clock = clock or WallClock()
    model = model or default_model(settings.model_version)
    metrics = create_metrics(CollectorRegistry(auto_describe=True), model.version)
    exposition = WithoutCreatedSeries(metrics.registry)
    cpu = CpuAccount(clock, settings.cpu_cores or float(os.cpu_count() or 1))
    metrics.registry.register(cpu)
    chaos = Chaos.seeded(settings.chaos_seed)
    if settings.chaos_delay_seconds or settings.chaos_error_rate:
        chaos.set(
            "settings", ChaosSpec(delay_seconds=settings.chaos_delay_seconds, error_rate=settings.chaos_error_rate)
        )
        metrics.chaos_faults.labels("settings").set(1)

    app = FastAPI(title="HFT Factor Prediction API", version=model.version)
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.chaos = chaos
    app.state.cpu = cpu

    def request_clock(request: Request) -> RequestClock:
        return request.scope["state"]["clock"]  # type: ignore[no-any-return]

    async def require_admin(authorization: Annotated[str | None, Header()] = None) -> None:
        if settings.admin_token is None:
            raise HTTPException(404, "the admin API is disabled: start the service with an admin token")
        if authorization != f"Bearer {settings.admin_token}":
            raise HTTPException(401, "admin API: missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own handler echoes the input back, and a NaN in it makes that a 500.
        detail = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()
        ]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(InjectedFault)
    async def _injected(request: Request, exc: InjectedFault) -> JSONResponse:
        return JSONResponse({"detail": f"injected fault: {exc}"}, status_code=503)

    @app.post("/predict", response_model=PredictResponse)
    async def predict(body: PredictRequest, request: Request) -> Response:
        await chaos.apply(request_clock(request))
        p = model.predict(body.features)
        metrics.predictions.labels(p.direction).inc()
        answer = PredictResponse(
            symbol=body.symbol,
            direction=p.direction,
            probability=p.probability,
            confidence=p.confidence,
            model_version=model.version,
        )
        # Serialised here: returning the model would make FastAPI validate it a second time.
        return Response(answer.model_dump_json(), media_type="application/json")

    @app.get("/health", response_model=Health)
    async def health() -> Health:
        return Health(status="ok", model_version=model.version)

    @app.get("/metrics", include_in_schema=False)
    async def metrics_endpoint() -> Response:
        return Response(generate_latest(exposition), media_type=CONTENT_TYPE_LATEST)

    @app.get("/admin/chaos", dependencies=[Depends(require_admin)])
    async def list_chaos() -> dict[str, ChaosSpec]:
        return dict(chaos.faults)

    @app.put("/admin/chaos/{name}", dependencies=[Depends(require_admin)])
    async def set_chaos(name: str, spec: ChaosSpec, request: Request) -> dict[str, ChaosSpec]:
        if spec.cpu_cores and not clock.simulated:
            raise HTTPException(422, "cpu_cores is modelled only on a simulated clock; live, load the CPU for real")
        chaos.set(name, spec)
        cpu.set_hog(chaos.cpu_cores, request_clock(request).now())
        metrics.chaos_faults.labels(name).set(1)
        return dict(chaos.faults)

    @app.delete("/admin/chaos/{name}", dependencies=[Depends(require_admin)])
    async def clear_chaos(name: str, request: Request) -> dict[str, ChaosSpec]:
        if not chaos.clear(name):
            raise HTTPException(404, f"no chaos fault named {name!r} is active")
        cpu.set_hog(chaos.cpu_cores, request_clock(request).now())
        metrics.chaos_faults.labels(name).set(0)
        return dict(chaos.faults)

    app.add_middleware(MeasuredRequests, clock=clock, metrics=metrics, cpu=cpu)
    return app
