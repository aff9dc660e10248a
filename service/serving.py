"""The service under uvicorn, with a shutdown that does not wait out injected delays.

On SIGTERM or SIGINT uvicorn stops accepting connections, waits for the requests in flight to
finish, and only then sends the app its lifespan shutdown. A request sleeping through injected
chaos delay (up to ``Settings.chaos_max_delay_seconds``) held the process that long: 58 s once.
``serve`` tells the app (``PredictionApi.stop``) as soon as shutdown begins, so those requests
stop waiting and are answered, and the process exits within the grace uvicorn gives.
"""

from __future__ import annotations

import socket
from typing import Any

import uvicorn

from service.app import PredictionApi
from service.errors import ServiceError


class ServeError(ServiceError):
    """The server did not start: the address is taken or not ours to bind, or the app's startup failed."""


class _StoppingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, app: PredictionApi) -> None:
        super().__init__(config)
        self._app = app

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._app.stop()
        await super().shutdown(sockets=sockets)


def serve(app: PredictionApi, host: str, port: int, **config: Any) -> None:
    """Serve ``app`` on ``host:port`` until SIGINT or SIGTERM, as ``uvicorn.run(app, ...)`` would
    (``config``: more of ``uvicorn.Config``'s options, e.g. ``log_level``, ``access_log``).

    Raises ``ServeError`` naming the address when the server could not start; uvicorn itself
    would exit the process (status 1 or 3) after logging why.
    """
    server = _StoppingServer(uvicorn.Config(app, host=host, port=port, **config), app)
    try:
        server.run()
    except SystemExit as exc:
        if server.started:
            raise
        raise ServeError(
            f"could not serve on {host}:{port}: is the port in use? (uvicorn's log above says why)"
        ) from exc
