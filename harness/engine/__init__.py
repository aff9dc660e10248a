"""The Prometheus engine: exactly Prometheus, and nothing of the simulator or the run around it.

Samples as the scrape loop stores them (with stale markers), remote write, the Prometheus
process, rule files (the one reader of rule YAML), group evaluation by the real engine, the
alert state machine, templates and Go number formatting, durations, OpenMetrics files, and
the child processes and ports all of it needs. It imports nothing from ``sim``, ``service`` or
the rest of ``harness`` but ``harness.errors`` (``tests/harness/test_layers.py``), so
backtesting, tuning and notification replay build on it as runs do. Use it through this
module; its submodules are its inside.
"""

from harness.engine.alert_state import (
    AlertInstance,
    AlertState,
    RuleTimeline,
    StateRow,
    TemplateContext,
    run_state_machine,
)
from harness.engine.binaries import find_binary
from harness.engine.durations import format_duration, parse_duration
from harness.engine.evaluate import (
    Evaluation,
    EvaluationWindow,
    evaluate_groups,
    evaluation_times,
    instant_query,
    query_range,
)
from harness.engine.openmetrics import SeriesFileError, load_openmetrics
from harness.engine.processes import (
    bound,
    check_bindable,
    die_with_parent,
    free_port,
    log_tail,
    owned_temp_dir,
    start_listening,
    start_logged,
    stop,
    sweep_orphaned_temp_dirs,
    wait_until_ready,
)
from harness.engine.prometheus import PrometheusServer, StartingPrometheus, prometheus_server, starting_prometheus
from harness.engine.remote_write import STALE_NAN, STALE_NAN_BITS, Labels, is_stale, write
from harness.engine.rules import (
    AlertingRule,
    RecordingRule,
    RuleCheck,
    RuleGroup,
    check_rules,
    checking_rules,
    load_rule_groups,
    raw_rules,
    read_rule_groups,
    rule_document,
)
from harness.engine.samples import (
    CONTROLLER_INSTANCE,
    CONTROLLER_JOB,
    DEFAULT_JOB,
    DESK_INSTANCE,
    DESK_JOB,
    SampleSet,
    Scrape,
    ScrapeReader,
    StaleMarking,
    TargetSamples,
    parse_exposition,
    samples_from_scrapes,
    target_labels,
)
from harness.engine.yaml_lines import compose, line_of, read_mapping, read_text

__all__ = [
    "CONTROLLER_INSTANCE",
    "CONTROLLER_JOB",
    "DEFAULT_JOB",
    "DESK_INSTANCE",
    "DESK_JOB",
    "STALE_NAN",
    "STALE_NAN_BITS",
    "AlertInstance",
    "AlertState",
    "AlertingRule",
    "Evaluation",
    "EvaluationWindow",
    "Labels",
    "PrometheusServer",
    "RecordingRule",
    "RuleCheck",
    "RuleGroup",
    "RuleTimeline",
    "SampleSet",
    "Scrape",
    "ScrapeReader",
    "SeriesFileError",
    "StaleMarking",
    "StartingPrometheus",
    "StateRow",
    "TargetSamples",
    "TemplateContext",
    "bound",
    "check_bindable",
    "check_rules",
    "checking_rules",
    "compose",
    "die_with_parent",
    "evaluate_groups",
    "evaluation_times",
    "find_binary",
    "format_duration",
    "free_port",
    "instant_query",
    "is_stale",
    "line_of",
    "load_openmetrics",
    "load_rule_groups",
    "log_tail",
    "owned_temp_dir",
    "parse_duration",
    "parse_exposition",
    "prometheus_server",
    "query_range",
    "raw_rules",
    "read_mapping",
    "read_rule_groups",
    "read_text",
    "rule_document",
    "run_state_machine",
    "samples_from_scrapes",
    "start_listening",
    "start_logged",
    "starting_prometheus",
    "stop",
    "sweep_orphaned_temp_dirs",
    "target_labels",
    "wait_until_ready",
    "write",
]
