"""A drill's way back: every fault off, whatever ended it.

Chaos tools roll back on every exit path, and so does a drill: at its end, after an abort, an
exception, Ctrl-C or SIGTERM, it switches off (``DELETE /admin/chaos/<name>``) every chaos hook
named after one of its scenario's faults — on or not, as far as it knows: an interrupt may land
between the service taking a fault and the drill hearing so — and lists the hooks it leaves alone
(someone else's experiment on a shared staging service). The faults that live in the world
(traffic, feed, market) end with the world. The journal says what was switched off. After a
SIGKILL there was no chance: ``alertdrill drill --cleanup --service-url URL`` switches off what
the killed drill's journal left on (every hook, without a journal), and removes what it left in
the temp folder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from harness.drill import Journal, read_journal
from harness.engine import sweep_orphaned_temp_dirs
from harness.errors import ConfigurationError
from sim.specs import FaultKind, FaultSpec

TEMP_KINDS = ("drillprom", "alertmanager", "prom")  # the folders a drill's processes write


@dataclass(frozen=True)
class ChaosSwitch:
    """The service's chaos hooks, over its admin API."""

    url: str
    token: str

    def switch_off(self, names: Sequence[str] | None = None) -> tuple[list[str], list[str]]:
        """Switch off the hooks named ``names`` (None: every one on); returns the names that were
        on and are now off, and those left on. Raises ``httpx.HTTPError``."""
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.url, headers=headers, timeout=5.0) as client:
            listed = client.get("/admin/chaos")
            listed.raise_for_status()
            on = sorted(listed.json())
            mine = on if names is None else sorted(set(names))
            for name in mine:
                reply = client.delete(f"/admin/chaos/{name}")
                if reply.status_code not in (200, 404):  # 404: not on (any more)
                    reply.raise_for_status()
        return [n for n in on if n in mine], [n for n in on if n not in mine]


def rollback(
    chaos: ChaosSwitch, names: Sequence[str], active: Mapping[str, FaultSpec], journal: Journal, t: float
) -> list[str]:
    """Every fault of the drill off (``names``: its chaos hooks); what was done, as lines (also
    the journal's ``rollback`` event)."""
    done = []
    crash = FaultKind.SERVICE_CRASH
    world = sorted(n for n, fault in active.items() if n not in names and fault.kind is not crash)
    if world:
        done.append(f"ended with the world: {', '.join(world)}")
    if any(f.kind is crash for f in active.values()):
        done.append("the service was down (crash fault): its chaos state went with the process")
    try:
        switched, others = chaos.switch_off(names)
    except httpx.HTTPError as exc:
        done.append(f"could not switch the service's chaos hooks off: {exc}")
        journal.event("rollback", t, ok=False, switched_off=[], notes=done)
        return done
    done.append(
        f"switched off at the service: {', '.join(switched)}" if switched else "no chaos hook of the drill was on"
    )
    if others:
        done.append(f"left on (not this drill's): {', '.join(others)}")
    journal.event("rollback", t, ok=True, switched_off=switched, left_alone=others, notes=done)
    return done


def cleanup(service_url: str | None, token: str | None, journal: Path | None = None) -> list[str]:
    """What a drill killed with SIGKILL leaves behind, undone: its temp folders (its processes
    died with it) and, given the service, the chaos hooks its ``journal`` left on (every hook
    on, without one)."""
    done = []
    for kind in TEMP_KINDS:
        done += [f"removed {p}" for p in sweep_orphaned_temp_dirs(kind)]
    if service_url is not None:
        if not token:
            raise ConfigurationError("--cleanup --service-url needs the service's admin token (--admin-token-file)")
        names = None if journal is None else journal_open_faults(journal)
        try:
            switched, others = ChaosSwitch(service_url.rstrip("/"), token).switch_off(names)
        except httpx.HTTPError as exc:
            raise ConfigurationError(f"--service-url {service_url}: cannot switch its chaos hooks off: {exc}") from exc
        done.append(f"switched off at {service_url}: {', '.join(switched) or 'nothing (none was on)'}")
        if others:
            done.append(f"left on at {service_url} (not the drill's): {', '.join(others)}")
    return done or ["nothing to clean up"]


def journal_open_faults(path: Path) -> list[str]:
    """Faults a journal switched on and never off (a drill killed mid-fault)."""
    if not path.is_file():
        raise ConfigurationError(f"{path}: no drill journal there")

    on: dict[str, bool] = {}
    for event in read_journal(path):
        if event.get("event") in ("fault_on", "fault_off"):
            on[str(event.get("fault"))] = event["event"] == "fault_on"
        if event.get("event") == "rollback":
            on.clear()
    return sorted(name for name, is_on in on.items() if is_on)
