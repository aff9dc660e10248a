"""Input files as text (UTF-8, size-bounded), and the line of a field in a YAML document, so errors can point at it."""

from __future__ import annotations

import codecs
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from harness.errors import ConfigurationError

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def read_mapping(path: Path, what: str, error: type[ConfigurationError], *, limit: int | None = None) -> dict[str, Any]:
    """A YAML file that must be a mapping (a Prometheus or Alertmanager config); YAML it cannot
    read is an ``error`` naming the file, the line and ``what`` it is."""
    text = read_text(path, what, error, limit=limit)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise error(f"{where}: {what} is not YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise error(f"{path}: {what} is not a mapping")
    return data


def read_text(
    path: Path, what: str, error: type[ConfigurationError], *, limit: int | None = None, utf16: bool = False
) -> str:
    """The text of a UTF-8 file (a UTF-8 byte-order mark is kept: YAML skips it), read only up to
    ``limit`` bytes. With ``utf16``, UTF-16 with a byte-order mark too (Prometheus reads rule files
    so). Anything else is an ``error`` naming the file, what it is (``what``), and the line at fault.
    """
    try:
        with path.open("rb") as f:
            data = f.read() if limit is None else f.read(limit + 1)
    except OSError as exc:
        raise error(f"{path}: cannot read {what}: {exc.strerror}") from exc
    if limit is not None and len(data) > limit:
        raise error(f"{path}: {what} is {_too_large(path, limit)}; the limit is {_megabytes(limit)}")
    if data.startswith(_UTF16_BOMS):
        if not utf16:
            raise error(f"{path}: {what} is UTF-16 text (it starts with a byte-order mark); save it as UTF-8")
        try:
            return _no_nul(data.decode("utf-16"), path, what, error)
        except UnicodeDecodeError as exc:
            raise error(f"{path}: {what} starts with a UTF-16 byte-order mark but is not UTF-16 text") from exc
    if b"\0" in data:
        line = data.count(b"\n", 0, data.index(b"\0")) + 1
        raise error(f"{path}:{line}: {what} holds a NUL byte: it is binary, or UTF-16 without a byte-order mark")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - data.rfind(b"\n", 0, exc.start)
        byte = f"byte 0x{data[exc.start]:02x} at column {column}"
        raise error(f"{path}:{line}: {what} is not UTF-8 text: {byte}; save it as UTF-8") from None


def _no_nul(text: str, path: Path, what: str, error: type[ConfigurationError]) -> str:
    if "\0" in text:
        line = text.count("\n", 0, text.index("\0")) + 1
        raise error(f"{path}:{line}: {what} holds a NUL character: it is binary, not text")
    return text


def _megabytes(size: int) -> str:
    mb = size / 1_000_000
    return (f"{mb:.1f}".removesuffix(".0") if mb < 10 else f"{mb:.0f}") + " MB"


def _too_large(path: Path, limit: int) -> str:
    """The size of a file over ``limit``, or only that it is over (a pipe or a device has no size)."""
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    return f"{_megabytes(size)} ({size:,} bytes)" if size > limit else f"over {_megabytes(limit)}"


def compose(text: str) -> yaml.Node | None:
    return yaml.compose(text, Loader=yaml.SafeLoader)


def line_of(root: yaml.Node | None, loc: Sequence[str | int]) -> int | None:
    """1-based line of the deepest node on ``loc`` that exists in the document.

    Steps that name no key (pydantic's union-variant tags, for instance) are skipped.
    """
    node = root
    if node is None:
        return None
    line = node.start_mark.line + 1
    for step in loc:
        child = _child(node, step)
        if child is None:
            continue
        node = child
        line = node.start_mark.line + 1
    return line


def _child(node: yaml.Node, step: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode) and isinstance(step, str):
        for key, value in node.value:
            if key.value == step:
                return value  # type: ignore[no-any-return]
    if isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
        return node.value[step]  # type: ignore[no-any-return]
    return None
