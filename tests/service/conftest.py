"""Fixtures of the service's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.service.helpers import Services


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    """``services(**settings)``: a service on a simulated clock serving the test artifact."""
    made = Services(tmp_path)
    yield made
    made.close()
