"""A drill's way back: every fault off, whatever ended it.

Chaos tools roll back on every exit path, and so does a drill: at its end, after an abort, an
exception, Ctrl-C or SIGTERM, it asks the service which chaos hooks are on (``GET /admin/chaos``)
and switches each off (``DELETE``), whoever set it, so nothing the drill started outlives it; the
faults that live in the world (traffic, feed, market) end with the world. The journal says what
was switched off. After a SIGKILL there was no chance: ``alertdrill drill --cleanup`` does the same
sweep for a service given by URL, and removes what the killed drill left in the temp folder.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from harness.drill import Journal
from harness.engine import sweep_orphaned_temp_dirs
from harness.errors import ConfigurationError

TEMP_KINDS = ("drillprom", "alertmanager", "prom")  # the folders a drill's processes write


@dataclass(frozen=True)
class ChaosSwitch:
    """The service's chaos hooks, over its admin API."""

    url: str
    token: str

    def switch_all_off(self) -> list[str]:
        """Switch off every chaos hook the service has on; their names. Raises ``httpx.HTTPError``."""
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.url, headers=headers, timeout=5.0) as client:
            listed = client.get("/admin/chaos")
            listed.raise_for_status()
            names = sorted(listed.json())
            for name in names:
                reply = client.delete(f"/admin/chaos/{name}")
                if reply.status_code not in (200, 404):  # 404: it ended meanwhile
                    reply.raise_for_status()
        return names


def rollback(chaos: ChaosSwitch, active: Mapping[str, Any], journal: Journal, t: float) -> list[str]:
    """Every fault off; what was done, as lines (also the journal's ``rollback`` event)."""
    done = []
    world = sorted(name for name, fault in active.items() if getattr(fault.kind, "value", "") != "service_crash")
    if world:
        done.append(f"still on when the world stopped (they end with it or were switched below): {', '.join(world)}")
    if any(getattr(f.kind, "value", "") == "service_crash" for f in active.values()):
        done.append("the service was down (crash fault): its chaos state went with the process")
    try:
        switched = chaos.switch_all_off()
    except httpx.HTTPError as exc:
        done.append(f"could not ask the service for its chaos hooks: {exc}")
        journal.event("rollback", t, ok=False, switched_off=[], notes=done)
        return done
    done.append(f"switched off at the service: {', '.join(switched)}" if switched else "no chaos hook was on")
    journal.event("rollback", t, ok=True, switched_off=switched, notes=done)
    return done


def cleanup(service_url: str | None, token: str | None) -> list[str]:
    """What a drill killed with SIGKILL leaves behind, undone: its temp folders (its processes
    died with it) and, given the service, every chaos hook still on there."""
    done = []
    for kind in TEMP_KINDS:
        done += [f"removed {p}" for p in sweep_orphaned_temp_dirs(kind)]
    if service_url is not None:
        if not token:
            raise ConfigurationError("--cleanup --service-url needs the service's admin token (--admin-token-file)")
        try:
            switched = ChaosSwitch(service_url.rstrip("/"), token).switch_all_off()
        except httpx.HTTPError as exc:
            raise ConfigurationError(f"--service-url {service_url}: cannot switch its chaos hooks off: {exc}") from exc
        names = ", ".join(switched) or "nothing (no chaos hook was on)"
        done.append(f"switched off at {service_url}: {names}")
    return done or ["nothing to clean up"]


def journal_open_faults(path: Path) -> list[str]:
    """Faults a journal switched on and never off (a drill killed mid-fault)."""
    from harness.drill import read_journal

    on: dict[str, bool] = {}
    for event in read_journal(path):
        if event.get("event") in ("fault_on", "fault_off"):
            on[str(event.get("fault"))] = event["event"] == "fault_on"
        if event.get("event") == "rollback":
            on.clear()
    return sorted(name for name, is_on in on.items() if is_on)
