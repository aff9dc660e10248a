"""The request body limit (``Settings.max_body_bytes``), the same on both paths a request takes.

A body is refused with a 413 as soon as it is known to be too large, never after being read
whole: at once when its ``Content-Length`` says so (``MeasuredRequests``), else while it is
read, chunk by chunk — by the lean path's reader (``service/fastpath.py``) or, on FastAPI's
path, by the ``receive`` that ``limited`` wraps. Both raise the same ``HTTPException``, which
the app's handler answers, so the answer is the same whichever path served the request.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import Message, Receive


def too_large(limit: int) -> HTTPException:
    """The 413, which also closes the connection: the rest of the body is not wanted, and on a
    connection kept alive the server would otherwise go on reading it (to discard it)."""
    detail = f"request body over {limit} bytes (the service's max_body_bytes)"
    return HTTPException(413, detail, headers={"Connection": "close"})


def declared_too_large(content_length: bytes | None, limit: int) -> bool:
    """Whether a ``Content-Length`` header says the body is over ``limit`` (a malformed one is
    the server's to refuse; the count while reading still holds)."""
    if content_length is None:
        return False
    try:
        return int(content_length) > limit
    except ValueError:
        return False


def limited(receive: Receive, limit: int) -> Receive:
    """``receive``, raising the 413 once the body read so far is over ``limit``."""
    seen = 0

    async def receive_limited() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise too_large(limit)
        return message

    return receive_limited
