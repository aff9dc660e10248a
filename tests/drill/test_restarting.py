"""A drill's restarted service: refused connections while it boots are failed requests, not the
end of the drill; once it has answered (or the boot takes too long), a refusal is the service gone."""

from __future__ import annotations

import asyncio
import time

import pytest

from harness.targets import _Restarting
from sim.transport import Headers, Reply, ServiceGone


class Booting:
    def __init__(self, refusals: int) -> None:
        self.refusals = refusals

    async def exchange(self, method: str, path: str, headers: Headers, body: bytes | None) -> Reply:
        if self.refusals:
            self.refusals -= 1
            raise ServiceGone("refused")
        return Reply(200, b"{}")

    async def aclose(self) -> None:
        pass


def test_refusals_while_booting_are_failed_requests_then_it_answers() -> None:
    steady = Booting(refusals=0)
    transport = _Restarting(Booting(refusals=2), steady, time.monotonic() + 30)
    replies = [asyncio.run(transport.exchange("GET", "/", [], None)) for _ in range(3)]
    assert [r.status for r in replies] == [None, None, 200]
    assert replies[0].error is not None and "restarting" in replies[0].error
    steady.refusals = 1  # it crashed again, unplanned: gone, as without the wrapper
    with pytest.raises(ServiceGone):
        asyncio.run(transport.exchange("GET", "/", [], None))


def test_a_boot_that_takes_too_long_is_the_service_gone() -> None:
    transport = _Restarting(Booting(refusals=5), Booting(refusals=0), time.monotonic() - 1)
    with pytest.raises(ServiceGone):
        asyncio.run(transport.exchange("GET", "/", [], None))
