"""``alertdrill tune --apply``: the recommended variants written into a copy of the rule file.

The copy is the file's own text with only the changed alerts' ``expr`` and ``for`` lines
rewritten (comments, order and every other rule kept as they were), then read back: each
changed alert must read as its variant and every other rule as before, and promtool must
accept the copy, or nothing is written.
"""

from __future__ import annotations

import re
from pathlib import Path

from harness.engine import check_rules, format_duration, parse_duration, raw_rules
from harness.errors import ConfigurationError
from harness.tuning.variants import Variant


def _block(lines: list[str], alert: str) -> tuple[int, int, int]:
    """(first line, end line, indent of the rule's keys) of ``- alert: NAME``'s rule."""
    pattern = re.compile(rf"^(\s*)- alert:\s*['\"]?{re.escape(alert)}['\"]?\s*$")
    for i, line in enumerate(lines):
        m = pattern.match(line)
        if m:
            dash = len(m.group(1))
            end = i + 1
            while end < len(lines):
                text = lines[end]
                stripped = text.lstrip()
                if stripped and not stripped.startswith("#") and len(text) - len(stripped) <= dash:
                    break
                end += 1
            return i, end, dash + 2
    raise ConfigurationError(f"cannot find '- alert: {alert}' in the rule file's text")


def _rewrite(lines: list[str], v: Variant) -> list[str]:
    start, end, key_indent = _block(lines, v.alert)
    block = lines[start:end]
    out: list[str] = []
    i = 0
    wrote_for = False
    prefix = " " * key_indent
    while i < len(block):
        line = block[i]
        if i and line.startswith(prefix + "expr:"):
            value = line[len(prefix + "expr:") :].strip()
            if value in ("|", "|-"):
                j = i + 1
                while j < len(block) and (not block[j].strip() or len(block[j]) - len(block[j].lstrip()) > key_indent):
                    j += 1
                body = block[i + 1 : j]
                while body and not body[-1].strip():
                    j -= 1
                    body = body[:-1]
                inner = len(body[0]) - len(body[0].lstrip())
                out.append(line)
                out += [(" " * inner + text) if text else "" for text in v.expr.rstrip("\n").split("\n")]
                i = j
                continue
            if value.startswith((">", "'", '"')) or "\n" in v.expr.strip():
                raise ConfigurationError(
                    f"alert {v.alert}: its expr is written in a way --apply does not rewrite ({value[:20]!r})"
                )
            out.append(f"{prefix}expr: {v.expr.strip()}")
        elif i and line.startswith(prefix + "for:"):
            out.append(f"{prefix}for: {format_duration(v.hold)}")
            wrote_for = True
        else:
            out.append(line)
        i += 1
    if not wrote_for and v.hold:
        at = next(k for k, text in enumerate(out) if text.startswith(prefix + "expr:"))
        k = at + 1
        while k < len(out) and (not out[k].strip() or len(out[k]) - len(out[k].lstrip()) > key_indent):
            k += 1
        out.insert(k, f"{prefix}for: {format_duration(v.hold)}")
    return lines[:start] + out + lines[end:]


def apply(rule_file: Path, chosen: list[Variant], out: Path) -> Path:
    """Write ``rule_file`` with ``chosen`` in place of their rules to ``out``; checked, or raise."""
    text = rule_file.read_text(encoding="utf-8")
    lines = text.split("\n")
    for variant in chosen:
        lines = _rewrite(lines, variant)
    tuned = "\n".join(lines)
    before = [rule for _, rule in raw_rules(rule_file)]
    out.write_text(tuned, encoding="utf-8")
    try:
        after = [rule for _, rule in raw_rules(out)]
        wanted = {v.alert: v for v in chosen}
        if len(after) != len(before):
            raise ConfigurationError(f"--apply: {out} holds {len(after)} rules, {rule_file} {len(before)}")
        for old, new in zip(before, after, strict=True):
            v = wanted.get(str(old.get("alert")))
            if v is None:
                if new != old:
                    raise ConfigurationError(
                        f"--apply: {old.get('alert') or old.get('record')} changed though not tuned"
                    )
                continue
            hold = parse_duration(str(new.get("for", "0s")))
            if new.get("alert") != v.alert or str(new.get("expr", "")).strip() != v.expr.strip() or hold != v.hold:
                raise ConfigurationError(f"--apply: {v.alert} does not read back as its variant in {out}")
        check_rules([out])
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    return out
