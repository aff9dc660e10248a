"""The service's exceptions: one root, a subclass per failure a caller can act on.

::

    ServiceError
    ├── ClockError               (clock.py)          a time out of range (a simulated clock's start)
    │   └── ClockHeaderError                         a simulated request's time headers: answered 400
    ├── ChaosLimitError          (chaos.py)          a fault past the caps: answered 409
    ├── InjectedFault            (chaos.py)          a request chaos chose to fail: answered 503
    ├── FeatureStoreUnavailable  (feature_store.py)  the store timed out: the breaker counts it
    ├── ModelFileError           (model.py)          an artifact that cannot be loaded
    └── LeanRouteError           (fastpath.py)       a route the lean path cannot serve (a bug, at start)

Those that were ``ValueError`` or ``TypeError`` before the root existed still are, so callers
that caught them as such keep working. Request input the schema refuses is FastAPI's
``RequestValidationError`` (answered 422), not one of these.
"""

from __future__ import annotations


class ServiceError(Exception):
    """Root of the prediction service's own exceptions."""
