"""The part of Prometheus' alert templating that alert rules use in practice.

Prometheus expands labels and annotations with Go's text/template, after defining
``$labels``, ``$externalLabels``, ``$externalURL`` and ``$value``. This module evaluates
pipelines of variables, ``.Labels``/``.Value`` fields, literals and the functions below;
anything else (``if``, ``range``, ``query`` ...) raises ``TemplateUnsupported`` so a caller
can refuse a label it cannot compute, or keep an annotation raw with a note, instead of
guessing. Missing label keys expand to "" (Prometheus sets ``missingkey=zero``).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from harness.engine.gofmt import format_g, format_v


class TemplateUnsupported(ValueError):
    """The template uses a construct this evaluator does not implement."""


@dataclass(frozen=True)
class TemplateData:
    labels: Mapping[str, str]
    value: float
    external_labels: Mapping[str, str] = field(default_factory=dict)
    external_url: str = ""


_ACTION = re.compile(r"\{\{(-?)\s*(.*?)\s*(-?)\}\}", re.S)
_TOKEN = re.compile(r'\s*(?:(\|)|(\()|(\))|("(?:[^"\\]|\\.)*")|(`[^`]*`)|([^\s|()]+))')
_KEYWORDS = {"if", "else", "end", "range", "with", "define", "template", "block", "break", "continue"}


def _humanize(v: float) -> str:
    if v == 0 or math.isnan(v) or math.isinf(v):
        return format_g(v, 4)
    prefix = ""
    if abs(v) >= 1:
        for p in ("k", "M", "G", "T", "P", "E", "Z", "Y"):
            if abs(v) < 1000:
                break
            prefix, v = p, v / 1000
    else:
        for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
            if abs(v) >= 1:
                break
            prefix, v = p, v * 1000
    return format_g(v, 4) + prefix


def _humanize1024(v: float) -> str:
    if abs(v) <= 1 or math.isnan(v) or math.isinf(v):
        return format_g(v, 4)
    prefix = ""
    for p in ("Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"):
        if abs(v) < 1024:
            break
        prefix, v = p, v / 1024
    return format_g(v, 4) + prefix


def _humanize_duration(v: float) -> str:
    if math.isnan(v) or math.isinf(v):
        return format_g(v, 4)
    if v == 0:
        return format_g(v, 4) + "s"
    if abs(v) >= 1:
        sign = "-" if v < 0 else ""
        v = abs(v)
        total = int(v)
        seconds, minutes, hours, days = total % 60, total // 60 % 60, total // 3600 % 24, total // 86400
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{format_g(v, 4)}s"
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix, v = p, v * 1000
    return f"{format_g(v, 4)}{prefix}s"


def _humanize_timestamp(v: float) -> str:
    if math.isnan(v) or math.isinf(v):
        return format_g(v, 4)
    t = dt.datetime.fromtimestamp(v, dt.UTC)
    return t.strftime("%Y-%m-%d %H:%M:%S.%f").rstrip("0").rstrip(".") + " +0000 UTC"


def _num(x: object) -> float:
    if isinstance(x, bool):
        raise TemplateUnsupported("a boolean is not a number")
    if isinstance(x, int | float):
        return float(x)
    if isinstance(x, str):
        try:
            return float(x)
        except ValueError:
            raise TemplateUnsupported(f"{x!r} is not a number") from None
    raise TemplateUnsupported(f"{x!r} is not a number")


def _to_text(x: object) -> str:
    if isinstance(x, float):
        return format_v(x)
    if isinstance(x, dict):
        return "map[" + " ".join(f"{k}:{v}" for k, v in sorted(x.items())) + "]"
    return str(x)


_VERB = re.compile(r"%([-+# 0]*)(\d+)?(?:\.(\d+))?([vsdfgeq%])")


def _printf(fmt: object, *args: object) -> str:
    items = list(args)

    def one(m: re.Match[str]) -> str:
        flags, width, prec, verb = m.groups()
        if verb == "%":
            return "%"
        if not items:
            return f"%!{verb}(MISSING)"
        arg = items.pop(0)
        if verb in "fge":
            spec = f"{flags}{width or ''}{'.' + prec if prec else ''}{verb}"
            if verb == "g" and not prec:
                return format_v(_num(arg))
            return format(_num(arg), spec)
        if verb == "d":
            return str(int(arg)) if isinstance(arg, int) else f"%!d({type(arg).__name__}={_to_text(arg)})"
        if verb == "q":
            return '"' + str(arg).replace("\\", "\\\\").replace('"', '\\"') + '"'
        return _to_text(arg)

    return _VERB.sub(one, str(fmt))


FUNCTIONS: dict[str, Callable[..., object]] = {
    "humanize": lambda v: _humanize(_num(v)),
    "humanize1024": lambda v: _humanize1024(_num(v)),
    "humanizeDuration": lambda v: _humanize_duration(_num(v)),
    "humanizePercentage": lambda v: format_g(_num(v) * 100, 4) + "%",
    "humanizeTimestamp": lambda v: _humanize_timestamp(_num(v)),
    "toUpper": lambda s: str(s).upper(),
    "toLower": lambda s: str(s).lower(),
    "title": lambda s: re.sub(r"\b[a-z]", lambda m: m.group(0).upper(), str(s)),
    "printf": _printf,
    "print": lambda *a: "".join(_to_text(x) for x in a),
    "reReplaceAll": lambda pattern, repl, text: re.sub(pattern, re.sub(r"\$(\d+)", r"\\\1", repl), str(text)),
    "match": lambda pattern, text: re.search(pattern, str(text)) is not None,
    "stripPort": lambda s: str(s).rsplit(":", 1)[0] if ":" in str(s) and not str(s).endswith("]") else str(s),
}


def _tokens(action: str) -> list[str]:
    out, pos = [], 0
    while pos < len(action):
        m = _TOKEN.match(action, pos)
        if m is None or m.end() == pos:
            if action[pos:].strip():
                raise TemplateUnsupported(f"cannot read {action[pos:]!r}")
            break
        out.append(next(g for g in m.groups() if g is not None))
        pos = m.end()
    return out


class _Pipeline:
    def __init__(self, tokens: list[str], data: TemplateData) -> None:
        self.tokens, self.pos, self.data = tokens, 0, data

    def pipeline(self) -> object:
        value = self.command(None, first=True)
        while self.pos < len(self.tokens) and self.tokens[self.pos] == "|":
            self.pos += 1
            value = self.command(value, first=False)
        return value

    def command(self, piped: object, first: bool) -> object:
        args: list[object] = []
        name = None
        while self.pos < len(self.tokens) and self.tokens[self.pos] not in ("|", ")"):
            tok = self.tokens[self.pos]
            if name is None and not args and tok in FUNCTIONS:
                name = tok
                self.pos += 1
                continue
            args.append(self.operand())
        if not first:
            args.append(piped)
        if name is None:
            if len(args) != 1:
                raise TemplateUnsupported(f"cannot apply {args!r}")
            return args[0]
        return FUNCTIONS[name](*args)

    def operand(self) -> object:
        tok = self.tokens[self.pos]
        self.pos += 1
        if tok == "(":
            value = self.pipeline()
            if self.pos >= len(self.tokens) or self.tokens[self.pos] != ")":
                raise TemplateUnsupported("unclosed parenthesis")
            self.pos += 1
            return value
        if tok.startswith('"'):
            return bytes(tok[1:-1], "utf-8").decode("unicode_escape")
        if tok.startswith("`"):
            return tok[1:-1]
        if re.fullmatch(r"-?\d+", tok):
            return int(tok)
        if re.fullmatch(r"-?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][-+]?\d+)", tok):
            return float(tok)
        return self.variable(tok)

    def variable(self, tok: str) -> object:
        if tok.startswith("$"):
            head, _, field = tok.partition(".")
        else:
            head, field = "", tok.removeprefix(".")
        roots: dict[str, object] = {
            "$labels": dict(self.data.labels),
            "$externalLabels": dict(self.data.external_labels),
            "$value": self.data.value,
            "$externalURL": self.data.external_url,
            "Labels": dict(self.data.labels),
            "ExternalLabels": dict(self.data.external_labels),
            "Value": self.data.value,
            "ExternalURL": self.data.external_url,
        }
        if head:
            if head not in roots:
                raise TemplateUnsupported(f"unknown variable {head}")
            value = roots[head]
            path = field.split(".") if field else []
        else:
            first, *path = field.split(".")
            if first not in roots or tok in _KEYWORDS:
                raise TemplateUnsupported(f"{tok!r} is not supported")
            value = roots[first]
        for step in path:
            if not isinstance(value, dict):
                raise TemplateUnsupported(f"cannot take .{step} of {value!r}")
            value = value.get(step, "")
        return value


def expand(text: str, data: TemplateData) -> str:
    """Expand one label or annotation template; raises TemplateUnsupported for the rest of Go's language."""
    if "{{" not in text:
        return text
    out: list[str] = []
    pos = 0
    for m in _ACTION.finditer(text):
        literal = text[pos : m.start()]
        if m.group(1):
            literal = literal.rstrip()
        out.append(literal)
        action = m.group(2)
        if action.startswith("/*"):
            pass
        else:
            tokens = _tokens(action)
            if not tokens or tokens[0] in _KEYWORDS or tokens[0] in ("query", "first", "value", "label"):
                raise TemplateUnsupported(f"{{{{ {action} }}}} is not supported")
            out.append(_to_text(_Pipeline(tokens, data).pipeline()))
        pos = m.end()
        if m.group(3):
            rest = text[pos:]
            pos += len(rest) - len(rest.lstrip())
    out.append(text[pos:])
    return "".join(out)
