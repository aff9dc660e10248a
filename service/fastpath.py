"""The hot routes, served without FastAPI's per-request machinery.

``/predict``, ``/features``, ``/feedback`` and ``/metrics`` are most of what the service
answers. FastAPI serves each through its router (a regular-expression match per route),
a request handler that solves dependencies, validates the body as a field and, for a
returned model, validates the response again. Those routes use none of that: one JSON body
model and the ``Request``. So ``MeasuredRequests`` looks them up by exact method and path and
calls the very same endpoint functions here: the body parsed and validated as FastAPI would
(same model, same error locations, same 422 shape), errors answered by the app's own
exception handlers. Everything else (admin, probes, the docs, a path with a trailing slash)
goes through FastAPI, where the same routes stay declared, so the OpenAPI schema is complete
and either path gives the same answer (``tests/service/test_fastpath.py``).
"""

from __future__ import annotations

import email.message
import functools
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel
from pydantic_core import from_json
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope

from service.body_limit import too_large
from service.errors import ServiceError
from service.headers import scope_header

ExceptionHandler = Callable[[Request, Any], Awaitable[Response] | Response]


class LeanRouteError(ServiceError, TypeError):
    """A route declared as lean uses FastAPI machinery the lean path does not provide."""


@functools.lru_cache(maxsize=64)  # a client sends one or two content types, each parsed once
def _json_content_type(value: str | None) -> bool:
    """FastAPI's test: ``application/json`` or ``application/*+json``, parameters allowed."""
    if not value:
        return False
    message = email.message.Message()
    message["content-type"] = value
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


def _loads(raw: bytes) -> Any:
    """What ``json.loads`` returns, from pydantic-core's parser (jiter), three times faster on a
    feature batch. Whatever jiter refuses (a byte order mark, UTF-16, a lone surrogate, any
    error) ``json.loads`` decides, so what is accepted, and every error with its position, is
    json's. On everything else they agree (``tests/service/test_fastpath.py`` fuzzes them)."""
    try:
        return from_json(raw)
    except ValueError:
        return json.loads(raw)


def _read_body(route: APIRoute, raw: bytes, content_type: str | None) -> tuple[Any, list[Any]]:
    """The body as FastAPI reads it for a route with one body model (``strict_content_type``),
    validated by the route's own body field, so values and errors are FastAPI's."""
    if not raw:
        return None, [{"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}]
    data: Any = raw
    if _json_content_type(content_type):
        try:
            data = _loads(raw)
        except json.JSONDecodeError as exc:
            error = {"type": "json_invalid", "loc": ("body", exc.pos), "msg": "JSON decode error", "input": {}}
            return None, [{**error, "ctx": {"error": exc.msg}}]
        except Exception:  # not a JSON syntax error (an int of 5,000 digits, nesting too deep): FastAPI's 400
            raise HTTPException(400, "There was an error parsing the body") from None
    assert route.body_field is not None
    value, errors = route.body_field.validate(data, {}, loc=("body",))
    return value, list(errors)


@dataclass(frozen=True)
class LeanRoute:
    """One route of FastAPI's table, callable straight from ASGI."""

    route: APIRoute
    body_param: str | None  # the name the endpoint takes its body model by, if it takes one
    request_param: str
    max_body: int | None = None  # bytes; a body past it is a 413 (``service/body_limit.py``)

    @classmethod
    def of(cls, route: APIRoute, max_body: int | None = None) -> LeanRoute:
        dependant = route.dependant
        extra = [*dependant.dependencies, *dependant.path_params, *dependant.query_params, *dependant.header_params]
        extra += [*dependant.cookie_params]
        if extra or len(dependant.body_params) > 1 or dependant.request_param_name is None:
            raise LeanRouteError(f"route {route.path}: a lean route takes the Request and at most one body model")
        body_param = dependant.body_params[0] if dependant.body_params else None
        model = body_param.field_info.annotation if body_param is not None else None
        if body_param is not None and not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise LeanRouteError(f"route {route.path}: its body must be one pydantic model")
        return cls(route, body_param.name if body_param else None, dependant.request_param_name, max_body)

    async def response(self, scope: Scope, receive: Receive, handlers: Mapping[Any, ExceptionHandler]) -> Response:
        """The route's answer, or its exception handler's; an exception without a handler is
        raised (``MeasuredRequests`` then answers a plain 500, as Starlette does). Returned,
        not sent, so the caller reads its status and adds its headers without wrapping ``send``."""
        scope["route"] = self.route
        request = Request(scope, receive)
        try:
            return await self._respond(request)
        except Exception as exc:
            handler = _handler_for(handlers, exc)
            if handler is None:
                raise
            answer = handler(request, exc)
            return await answer if isinstance(answer, Awaitable) else answer

    async def _respond(self, request: Request) -> Response:
        kwargs: dict[str, Any] = {self.request_param: request}
        if self.body_param is not None:
            try:
                raw = await _body(request, self.max_body)
            except ClientDisconnect:  # what FastAPI answers when reading the body fails
                raise HTTPException(400, "There was an error parsing the body") from None
            body, errors = _read_body(self.route, raw, scope_header(request.scope, b"content-type"))
            if errors:
                raise RequestValidationError(errors)
            kwargs[self.body_param] = body
        response = await self.route.endpoint(**kwargs)
        if not isinstance(response, Response):
            raise LeanRouteError(f"route {self.route.path}: a lean endpoint returns a Response, not {type(response)}")
        return response


async def _body(request: Request, limit: int | None) -> bytes:
    """The whole body, read from ASGI ``receive`` directly (Starlette's ``Request.body`` runs an
    async generator per request) and left where ``Request.body`` looks, should the endpoint ask;
    a 413 as soon as it is over ``limit`` bytes, not read further."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if limit is not None and size > limit:
            raise too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    request._body = body  # Starlette's cache of the body: Request.body() returns it from now on
    return body


def _handler_for(handlers: Mapping[Any, ExceptionHandler], exc: Exception) -> ExceptionHandler | None:
    """The app's handler for ``exc``: by status code for HTTP errors, then by class, as Starlette looks."""
    if isinstance(exc, HTTPException) and exc.status_code in handlers:
        return handlers[exc.status_code]
    for cls in type(exc).__mro__:
        if cls in handlers:
            return handlers[cls]
    return None


def lean_table(routes: Iterable[Any], max_body: int | None = None) -> dict[tuple[str, str], LeanRoute]:
    """``(method, path) -> LeanRoute`` for every API route given, bodies limited to ``max_body`` bytes."""
    table: dict[tuple[str, str], LeanRoute] = {}
    for route in routes:
        if isinstance(route, APIRoute):
            lean = LeanRoute.of(route, max_body)
            for method in route.methods or ():
                table[(method, route.path)] = lean
    return table
