"""One structured log line per request, in Elastic Common Schema (``ecs-logging``).

Each app gets its own ``logging.Logger`` object, built here and never registered in the
logging module's global tree, so two services in one process never share handlers. The
line's ``@timestamp`` is the request's clock: simulated time when the service runs on one,
so logs and metrics of a run line up.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import ecs_logging

SERVICE_NAME = "hft-factor-prediction-api"


def request_logger(stream: TextIO | None = None, level: int = logging.INFO) -> logging.Logger:
    logger = logging.Logger("prediction_api.access", level)
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(ecs_logging.StdlibFormatter(exclude_fields=["process", "log.origin"]))
    logger.addHandler(handler)
    logger.propagate = False
    return logger


def log_request(
    logger: logging.Logger,
    *,
    at: float,
    method: str,
    route: str,
    path: str,
    status: int,
    seconds: float,
    request_id: str,
    model_version: str,
) -> None:
    level = logging.ERROR if status >= 500 else logging.WARNING if status >= 400 else logging.INFO
    if not logger.isEnabledFor(level):
        return
    record = logger.makeRecord(
        logger.name,
        level,
        __file__,
        0,
        f"{method} {route} {status}",
        (),
        None,
        extra={
            "http": {"request": {"method": method, "id": request_id}, "response": {"status_code": status}},
            "url": {"path": path},
            "event": {"duration": round(seconds * 1e9), "dataset": "prediction_api.access"},
            "service": {"name": SERVICE_NAME, "version": model_version},
            "labels": {"route": route, "model_version": model_version},
        },
    )
    record.created = at
    record.msecs = (at % 1) * 1000
    logger.handle(record)
