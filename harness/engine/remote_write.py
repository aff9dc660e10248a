"""Prometheus' remote-write protocol (v1): a protobuf WriteRequest, snappy-compressed.

The WriteRequest is three nested messages of two field types; encoding it by hand is ~30
lines and saves a protobuf toolchain. Field numbers follow prompb/remote.proto and
prompb/types.proto: WriteRequest.timeseries=1; TimeSeries.labels=1, samples=2;
Label.name=1, value=2; Sample.value=1 (double), timestamp=2 (int64 ms).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Sequence

import cramjam
import httpx
import numpy as np

from harness.errors import RemoteWriteError

STALE_NAN_BITS = 0x7FF0000000000002
STALE_NAN: float = struct.unpack("<d", struct.pack("<Q", STALE_NAN_BITS))[0]

Labels = tuple[tuple[str, str], ...]
Series = tuple[Labels, Sequence[tuple[int, float]]]


def is_stale(value: float) -> bool:
    return math.isnan(value) and struct.unpack("<Q", struct.pack("<d", value))[0] == STALE_NAN_BITS


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _label(name: str, value: str) -> bytes:
    return _field(1, _field(1, name.encode()) + _field(2, value.encode()))


_SAMPLE = struct.Struct("<d")


def _sample(timestamp_ms: int, value: float) -> bytes:
    ts = timestamp_ms & 0xFFFFFFFFFFFFFFFF  # int64 as two's complement varint
    body = b"\x09" + _SAMPLE.pack(value) + b"\x10" + _varint(ts)
    return _field(2, body)


def _samples(samples: Sequence[tuple[int, float]]) -> bytes:
    """``b"".join(_sample(t, v) for t, v in samples)``, a row of bytes per sample built with numpy
    when every timestamp's varint has one length (it has: a run spans hours, not decades)."""
    n = len(samples)
    if n < 8:
        return b"".join(_sample(t, v) for t, v in samples)
    stamps = np.fromiter((t for t, _ in samples), dtype=np.int64, count=n).view(np.uint64)
    values = np.fromiter((v for _, v in samples), dtype="<f8", count=n)  # bits kept: stale markers too
    sizes = 1 + sum(((stamps >> np.uint64(7 * k)) != 0).astype(np.int64) for k in range(1, 10))
    size = int(sizes[0])
    if not (sizes == size).all():
        return b"".join(_sample(t, v) for t, v in samples)
    rows = np.empty((n, 12 + size), dtype=np.uint8)
    rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 11] = 0x12, 10 + size, 0x09, 0x10  # field 2, length; value; ts
    rows[:, 3:11] = values.view(np.uint8).reshape(n, 8)
    for k in range(size):
        rows[:, 12 + k] = (stamps >> np.uint64(7 * k)) & np.uint64(0x7F) | np.uint64(0x80 if k < size - 1 else 0)
    return rows.tobytes()


def encode_write_request(series: Iterable[Series]) -> bytes:
    """Uncompressed WriteRequest bytes; labels are sorted as the receiver requires."""
    out = bytearray()
    for labels, samples in series:
        ts_body = b"".join(_label(n, v) for n, v in sorted(labels))
        out += _field(1, ts_body + _samples(samples))
    return bytes(out)


def write(client: httpx.Client, url: str, series: Sequence[Series], batch_samples: int = 50_000) -> None:
    """POST the series to ``url``/api/v1/write in batches of about ``batch_samples`` samples."""
    batch: list[Series] = []
    size = 0
    for labels, samples in series:
        for i in range(0, len(samples), batch_samples):
            chunk = samples[i : i + batch_samples]
            batch.append((labels, chunk))
            size += len(chunk)
            if size >= batch_samples:
                _post(client, url, batch)
                batch, size = [], 0
    if batch:
        _post(client, url, batch)


def _post(client: httpx.Client, url: str, batch: list[Series]) -> None:
    body = bytes(cramjam.snappy.compress_raw(encode_write_request(batch)))
    try:
        response = client.post(
            f"{url}/api/v1/write",
            content=body,
            headers={
                "Content-Encoding": "snappy",
                "Content-Type": "application/x-protobuf",
                "X-Prometheus-Remote-Write-Version": "0.1.0",
            },
        )
    except httpx.HTTPError as exc:
        raise RemoteWriteError(f"remote write to {url} failed: {exc}") from exc
    if response.status_code >= 300:
        raise RemoteWriteError(f"remote write to {url} answered {response.status_code}: {response.text.strip()[:500]}")
