"""The monitoring stack as code, checked: ``check-config`` (promtool, amtool, runbooks, metric
names), ``coverage`` (which scenarios prove each alert) and ``crosscheck`` (a run's timeline
as a ``promtool test rules`` file). It reads rule files through ``harness.engine``."""

from harness.stack.check_config import Finding, check_project
from harness.stack.coverage import RuleCoverage, coverage
from harness.stack.crosscheck import CrossCheck, crosscheck_run_folder, crosscheck_samples

__all__ = [
    "CrossCheck",
    "Finding",
    "RuleCoverage",
    "check_project",
    "coverage",
    "crosscheck_run_folder",
    "crosscheck_samples",
]
