"""The Prometheus config a drill runs: the stack's own ``config/prometheus.yml``, pointed at what
the drill started.

Only addresses change: each scrape job the drill serves gets the address it listens on (a job it
does not serve is dropped, or its targets would be down and page for nothing), the rule files are
the scenario's (absolute), and the Alertmanagers are the drill's. Intervals, relabelling, external
labels and everything else are the user's, so the drill exercises the deployment as configured.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.errors import ConfigurationError


def live_prometheus_config(
    original: Mapping[str, Any],
    source: Path,
    targets: Mapping[str, Sequence[str]],
    rule_files: Sequence[Path],
    alertmanagers: Sequence[str] = (),
) -> dict[str, Any]:
    """``original`` (read from ``source``) with ``targets`` (job name -> host:port addresses) as
    the only scrape targets, ``rule_files`` as its rules, and ``alertmanagers`` (host:port) as
    where alerts go (none: the ``alerting`` section is removed)."""
    config = copy.deepcopy(dict(original))
    jobs = [j for j in config.get("scrape_configs") or [] if isinstance(j, dict)]
    known = {str(j.get("job_name")) for j in jobs}
    missing = sorted(set(targets) - known)
    if missing:
        raise ConfigurationError(
            f"{source}: no scrape job named {', '.join(missing)} (jobs: {', '.join(sorted(known))})"
        )
    kept = []
    for job in jobs:
        name = str(job.get("job_name"))
        if name not in targets:
            continue
        for key in [k for k in job if k.endswith("_sd_configs")]:
            del job[key]  # discovery of the real fleet: the drill's targets are static
        job["static_configs"] = [{"targets": list(targets[name])}]
        kept.append(job)
    config["scrape_configs"] = kept
    config["rule_files"] = [str(p.resolve()) for p in rule_files]
    if alertmanagers:
        config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": list(alertmanagers)}]}]}
    else:
        config.pop("alerting", None)
    config.pop("remote_write", None)  # a drill's samples stay in its own Prometheus
    return config
