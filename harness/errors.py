"""alertdrill's errors: one root, a subclass per failure the user can act on.

    AlertdrillError
    ├── ConfigurationError            exit code 2: the input cannot be used
    │   ├── ScenarioError             a scenario file is malformed (file, field, line)
    │   ├── RuleFileError             a rule file is malformed or promtool rejects it
    │   ├── PromQLError               an expression alertdrill's PromQL parser cannot read
    │   ├── BinaryNotFound            prometheus / promtool missing (names the package)
    │   └── RunFolderError            the run folder cannot be created or written
    └── EngineError                   the Prometheus engine failed during a run
        ├── PrometheusStartError      it would not start or become ready
        ├── RemoteWriteError          it refused samples we wrote
        ├── QueryError                a query_range failed
        ├── FaultError                a fault could not be injected into the service
        ├── ServiceLostError          the service under test stopped answering (not a fault)
        ├── AlertmanagerError         the real Alertmanager would not start, or refused alerts
        └── ReceiverError             alertdrill's own notification receivers could not serve
    DuplicateAlertError (EngineError) two alerts of one rule ended with the same labels

Third-party errors are wrapped where they cross into the harness (``raise ... from``).
"""

from __future__ import annotations


class AlertdrillError(Exception):
    """Root of every error alertdrill raises on purpose."""

    exit_code = 2


class ConfigurationError(AlertdrillError):
    """The user's input (scenario, rule file, environment) cannot be used as given."""


class ScenarioError(ConfigurationError):
    pass


class RuleFileError(ConfigurationError):
    pass


class PromQLError(ConfigurationError):
    """alertdrill's PromQL parser (``harness.promql``) cannot read an expression: promtool's
    verdict on it stands, but what alertdrill reads from it (metric names, calendar calls, a
    plot's signal) is unknown."""


class BinaryNotFound(ConfigurationError):
    pass


class RunFolderError(ConfigurationError):
    """``--out`` is not writable, or writing the run folder failed (a full disk)."""


class EngineError(AlertdrillError):
    """The real Prometheus engine failed while alertdrill drove it."""


class PrometheusStartError(EngineError):
    pass


class RemoteWriteError(EngineError):
    pass


class QueryError(EngineError):
    pass


class FaultError(EngineError):
    """The service refused a fault, or cannot take it (a crash of a service we cannot restart)."""


class ServiceLostError(EngineError):
    """The service a run drives refused connections when no crash fault had stopped it: a
    ``--service-url`` service that died, or a spawned one that crashed on its own."""


class AlertmanagerError(EngineError):
    """The real Alertmanager a run replays its alerts through failed (start, config, API)."""


class ReceiverError(EngineError):
    """alertdrill's stand-ins for PagerDuty, Slack, webhooks and SMTP could not start or serve."""


class DuplicateAlertError(EngineError):
    """Prometheus' rule manager errors out the same way: the rule is broken for that input."""
