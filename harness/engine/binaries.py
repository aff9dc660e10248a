"""Finds the real Prometheus binaries, or says exactly how to install them."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from harness.errors import BinaryNotFound

_PACKAGES = {
    "prometheus": ("ALERTDRILL_PROMETHEUS", "prometheus"),
    "promtool": ("ALERTDRILL_PROMTOOL", "prometheus"),
    "amtool": ("ALERTDRILL_AMTOOL", "prometheus-alertmanager"),
    "alertmanager": ("ALERTDRILL_ALERTMANAGER", "prometheus-alertmanager"),
}


def find_binary(name: str) -> Path:
    """The binary named by its ``ALERTDRILL_*`` variable, else the one on PATH."""
    env_var, package = _PACKAGES[name]
    override = os.environ.get(env_var)
    if override:
        path = Path(override)
        if path.is_file() and os.access(path, os.X_OK):
            return path
        raise BinaryNotFound(f"{env_var}={override} is not an executable file")
    found = shutil.which(name) or (shutil.which("prometheus-alertmanager") if name == "alertmanager" else None)
    if found is None:
        raise BinaryNotFound(
            f"{name} not found on PATH: install it with `apt-get install {package}` "
            f"(Debian/Ubuntu) or point {env_var} at the binary"
        )
    return Path(found)
