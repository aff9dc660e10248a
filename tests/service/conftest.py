"""Fixtures of the service's tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from service import Settings, SimulatedClock, create_app
from tests.asgi_client import AsgiClient
from tests.service.helpers import Services


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    """``services(**settings)``: a service on a simulated clock serving the test artifact."""
    made = Services(tmp_path)
    yield made
    made.close()


@pytest.fixture
def client() -> Iterator[Callable[..., AsgiClient]]:
    """``client(**settings)``: a bare service on a simulated clock (no artifact), closed afterwards."""
    made: list[AsgiClient] = []

    def make(**settings: Any) -> AsgiClient:
        made.append(AsgiClient(create_app(Settings(sim_clock=True, **settings), SimulatedClock())))
        return made[-1]

    yield make
    for c in made:
        c.close()
