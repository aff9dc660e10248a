"""The High-Frequency Trading Factor Prediction API.

``create_app`` builds one independent service: its own registry, chaos state, feature store
and clock, so several can live in one process (one per simulated run) without sharing anything.
"""

import contextlib
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Receive, Scope, Send

from service.chaos import InjectedFault
from service.clock import Clock, WallClock
from service.fastpath import lean_table
from service.middleware import MeasuredRequests
from service.model import LogisticModel, default_model, load_model
from service.routes import admin, features, feedback, predict, probes
from service.settings import Settings
from service.state import build_state

MAX_ERRORS = 20  # items of a 422's detail; past it, the last says how many more there were
_MAX_TEXT = 200  # characters of one msg, type or loc step
_MAX_DEPTH = 8  # steps of one loc


def _cut(text: str) -> str:
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 3] + "..."


def _item(error: Mapping[str, Any]) -> dict[str, Any]:
    loc = [step if isinstance(step, int) else _cut(str(step)) for step in list(error.get("loc", ()))[:_MAX_DEPTH]]
    return {"loc": loc, "msg": _cut(str(error.get("msg", ""))), "type": _cut(str(error.get("type", "")))}


def problems(errors: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A 422's ``detail``: FastAPI's items, ``loc``, ``msg`` and ``type`` only, cut short, at most
    ``MAX_ERRORS``. FastAPI's own handler echoes each item's ``input`` (a NaN in it made that a
    500) and every item: a 5 MB body of 600,000 unknown keys was answered with all of them."""
    if len(errors) <= MAX_ERRORS:
        return [_item(e) for e in errors]
    more = len(errors) - (MAX_ERRORS - 1)
    summary = {"loc": ["body"], "msg": f"and {more} more errors, not shown", "type": "too_many_errors"}
    return [*(_item(e) for e in errors[: MAX_ERRORS - 1]), summary]


async def _invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": problems(exc.errors())}, status_code=422)


def _not_allowed(routes: Sequence[APIRoute]) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    """A 405 handler whose ``Allow`` names every method of the path among ``routes``: Starlette
    names only those of the first route that matched it (``PUT`` for ``/admin/chaos/{name}``,
    which takes ``DELETE`` too)."""

    async def handle(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        path = request.scope["path"]
        allowed = sorted({m for r in routes if r.methods and r.path_regex.match(path) for m in r.methods})
        headers = {**(exc.headers or {}), **({"Allow": ", ".join(allowed)} if allowed else {})}
        return JSONResponse({"detail": exc.detail}, status_code=405, headers=headers)

    return handle


async def _injected(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": f"injected fault: {exc}"}, status_code=503)


def _without_telemetry() -> dict[str, Any]:
    """FastAPI's OpenTelemetry hooks, off: the service exports Prometheus metrics and ECS logs of
    its own, and the hooks' per-request check of the global providers costs ~14 µs a request.
    (Older FastAPI releases have no such option.)"""
    if "telemetry" in inspect.signature(FastAPI).parameters:
        return {"telemetry": {"tracing": False, "metrics": False, "logs": False}}
    return {}


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    if isinstance(app, PredictionApi):
        app.stop()


class PredictionApi(FastAPI):
    """FastAPI, with ``MeasuredRequests`` in front of its whole stack rather than inside it: the
    hot routes (``service/fastpath.py``) are answered there, without passing the error, telemetry
    and body-limit middlewares Starlette and FastAPI wrap every request in (about 9 µs a request);
    everything else goes through the stack as before, measured the same way."""

    measured: MeasuredRequests | None = None

    def stop(self) -> None:
        """Shutting down: requests waiting on the wall clock (an injected delay) stop waiting.

        Called by the lifespan's shutdown, and by ``service.serving`` as soon as uvicorn starts
        shutting down: uvicorn sends the lifespan shutdown only once the requests in flight are
        done, which would be after their delays."""
        self.state.service.clock.stop()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self
        if self.measured is None:
            await self.stack(scope, receive, send)
        else:
            await self.measured(scope, receive, send)

    async def stack(self, scope: Scope, receive: Receive, send: Send) -> None:
        await super().__call__(scope, receive, send)

    def openapi(self) -> dict[str, Any]:
        """FastAPI's schema, with what this service's settings decide written in: the sources a
        batch may come from and the bounds of a factor value, so a request the schema calls valid
        is one the service takes (schemathesis checks exactly that)."""
        if self.openapi_schema is None:
            schema = super().openapi()
            settings: Settings = self.state.service.settings
            models = schema.get("components", {}).get("schemas", {})
            source = models.get("FeatureBatch", {}).get("properties", {}).get("source")
            if source is not None:
                source.pop("pattern", None)
                source["enum"] = list(settings.sources)
            features = models.get("PredictRequest", {}).get("properties", {}).get("features", {})
            for option in features.get("anyOf", [features]):
                for value in option.get("properties", {}).values():
                    value["minimum"], value["maximum"] = -settings.feature_abs_max, settings.feature_abs_max
            self.openapi_schema = schema
        return self.openapi_schema


def create_app(
    settings: Settings | None = None,
    clock: Clock | None = None,
    model: LogisticModel | None = None,
    log_stream: TextIO | None = None,
) -> PredictionApi:
    settings = settings or Settings()
    clock = clock or WallClock()
    if model is None:
        model = load_model(Path(settings.model_path)) if settings.model_path else default_model(settings.model_version)
    state = build_state(settings, clock, model, log_stream)
    app = PredictionApi(
        title="HFT Factor Prediction API", version=model.version, lifespan=_lifespan, **_without_telemetry()
    )
    app.state.service = state
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(InjectedFault, _injected)
    modules = (predict, features, feedback, probes, admin)
    for module in modules:
        app.include_router(module.router)
    app.add_exception_handler(
        405, _not_allowed([r for m in modules for r in m.router.routes if isinstance(r, APIRoute)])
    )
    # The hot routes skip FastAPI's per-request stack; the same endpoints stay declared above.
    hot = [*predict.router.routes, *features.router.routes, *feedback.router.routes]
    lean = lean_table(hot, settings.max_body_bytes)
    metrics = lean_table(probes.router.routes, settings.max_body_bytes)
    lean.update((k, v) for k, v in metrics.items() if k == ("GET", "/metrics"))
    app.measured = MeasuredRequests(app.stack, state=state, lean=lean, handlers=app.exception_handlers)
    return app
