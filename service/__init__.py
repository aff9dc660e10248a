"""The system under test: the HFT factor prediction API. Knows nothing of ``sim`` or ``harness``."""

from service.app import create_app
from service.clock import SIM_SERVICE_TIME_HEADER, SIM_TIME_HEADER, SimulatedClock, WallClock
from service.errors import ServiceError
from service.settings import Settings

__all__ = [
    "SIM_SERVICE_TIME_HEADER",
    "SIM_TIME_HEADER",
    "ServiceError",
    "Settings",
    "SimulatedClock",
    "WallClock",
    "create_app",
]
