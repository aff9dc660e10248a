"""One request header read straight from the ASGI scope.

Starlette's ``request.headers`` builds a ``Headers`` object and decodes every name to find
one; on the hot routes, which read a single header, that was a measurable share of a request.
"""

from __future__ import annotations

from starlette.types import Scope


def scope_header(scope: Scope, name: bytes) -> str | None:
    """The first value of header ``name`` (lower-case, as ASGI carries names), as Starlette's
    ``Headers.get`` returns it, or None."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def scope_header_raw(scope: Scope, name: bytes) -> bytes | None:
    """The first value of header ``name``, as sent (bytes), or None."""
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None
