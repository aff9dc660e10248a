"""The simulated world: market, traffic, faults and the scraper, on SimPy's clock."""

from sim.records import FaultRecord, Scrape, SimResult
from sim.specs import FaultKind, FaultSpec, ServerSpec, TrafficSpec, WorldSpec
from sim.world import simulate

__all__ = [
    "FaultKind",
    "FaultRecord",
    "FaultSpec",
    "Scrape",
    "ServerSpec",
    "SimResult",
    "TrafficSpec",
    "WorldSpec",
    "simulate",
]
