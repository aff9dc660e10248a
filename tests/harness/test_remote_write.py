"""The remote-write encoder: the vectorised sample rows are the per-sample encoding, byte for byte."""

from __future__ import annotations

import math
import random
import struct

import pytest

from harness.engine.remote_write import STALE_NAN, _sample, _samples, is_stale


def _one_by_one(samples: list[tuple[int, float]]) -> bytes:
    return b"".join(_sample(t, v) for t, v in samples)


@pytest.mark.parametrize("seed", range(3))
def test_sample_rows_are_the_per_sample_encoding(seed: int) -> None:
    rng = random.Random(seed)
    start = 1_767_225_600_000 + rng.randrange(10**9)
    values = [rng.gauss(0, 1), 0.0, -0.0, math.inf, -math.inf, math.nan, STALE_NAN, 1e300, 5e-324]
    steady = [(start + 15_000 * i, rng.choice(values)) for i in range(500)]
    assert _samples(steady) == _one_by_one(steady)
    mixed = [(t, 1.0) for t in (0, 1, 127, 128, 2**14, 2**35, 2**42, -1, -(2**40), 2**62)]  # varints of 1 to 10 bytes
    assert _samples(mixed) == _one_by_one(mixed)
    assert _samples(steady[:3]) == _one_by_one(steady[:3])


def test_a_stale_marker_keeps_its_bits_through_the_rows() -> None:
    rows = _samples([(1_767_225_600_000 + 15_000 * i, STALE_NAN) for i in range(20)])
    last = rows[-(12 + 6) :]  # one row: tag, length, 0x09, the double, 0x10, a 6-byte varint
    assert last[:3] == b"\x12\x10\x09" and last[11] == 0x10
    assert is_stale(struct.unpack("<d", last[3:11])[0])
    assert not is_stale(math.nan)
