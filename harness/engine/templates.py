"""The part of Prometheus' alert templating that alert rules use in practice.

Prometheus expands labels and annotations with Go's text/template, after defining
``$labels``, ``$externalLabels``, ``$externalURL`` and ``$value``. This module evaluates
pipelines of variables, ``.Labels``/``.Value`` fields, literals and the functions below;
anything else (``if``, ``range``, ``query`` ...) raises ``TemplateUnsupported`` so a caller
can refuse a label it cannot compute, or keep an annotation raw with a note, instead of
guessing; so do Go's errors (an unclosed ``{{``, a bad regular expression, a wrong number or
type of arguments, a timestamp beyond int64 nanoseconds). Missing label keys expand to ""
(Prometheus sets ``missingkey=zero``).

The functions are those of Prometheus v2.42 (the version the harness runs): ``humanize``,
``humanize1024``, ``humanizeDuration``, ``humanizePercentage``, ``humanizeTimestamp``,
``toUpper``, ``toLower``, ``title`` (Go's ``strings.Title``), ``stripPort``
(``net.SplitHostPort``), ``match`` and ``reReplaceAll`` (Python's ``re`` in ASCII mode, with
Go's replacement syntax and empty-match rule; lookarounds and backreferences, which RE2 lacks,
are refused), ``print`` and ``printf`` (the verbs ``v s q d b o O x X c t T e E f F g G`` with
Go's flags, widths and precisions, and its ``%!verb(type=value)`` error texts; ``%#v``,
``%[n]`` and ``*`` are refused).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from harness.engine.gofmt import Spec, format_arg, format_g, format_v, go_type, sprintf


class TemplateUnsupported(ValueError):
    """The template uses a construct this evaluator does not implement."""


@dataclass(frozen=True)
class TemplateData:
    labels: Mapping[str, str]
    value: float
    external_labels: Mapping[str, str] = field(default_factory=dict)
    external_url: str = ""


# a trim marker is "{{- " or " -}}": the space is part of it, so {{-3}} is the number -3
_ACTION = re.compile(r"\{\{(?:(-)[ \t\r\n])?[ \t\r\n]*(.*?)[ \t\r\n]*(?:[ \t\r\n](-))?\}\}", re.S)
_SPACE = " \t\r\n"
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
    for p in ("ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"):  # template.go writes "ki"
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


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _humanize_timestamp(v: float) -> str:
    """template.go: int64(v*1e9) nanoseconds, truncated to model.Time's milliseconds, printed by time.Time."""
    if math.isnan(v) or math.isinf(v):
        return format_g(v, 4)
    nanos = v * 1e9
    if nanos >= 2.0**63 or nanos < -(2.0**63):  # Go errors above 2**63; at it, int64() is CPU-dependent
        raise TemplateUnsupported(f"{format_v(v)} cannot be represented as a nanoseconds timestamp")
    ns = int(nanos)
    ms = abs(ns) // 1_000_000 * (1 if ns >= 0 else -1)  # Go's integer division truncates toward zero
    t = _EPOCH + dt.timedelta(milliseconds=ms)
    text = t.strftime("%Y-%m-%d %H:%M:%S")
    if t.microsecond:
        text += f".{t.microsecond // 1000:03d}".rstrip("0")
    return text + " +0000 UTC"


def _num(x: object) -> float:
    if isinstance(x, bool):
        raise TemplateUnsupported("a boolean is not a number")
    if isinstance(x, int | float):
        return float(x)
    if isinstance(x, str):
        if x != x.strip():  # Python's float() skips spaces; Go's strconv.ParseFloat does not
            raise TemplateUnsupported(f"{x!r} is not a number")
        try:
            return float(x)
        except ValueError:
            raise TemplateUnsupported(f"{x!r} is not a number") from None
    raise TemplateUnsupported(f"{x!r} is not a number")


def _str(x: object) -> str:
    """A Go function's string parameter: text/template refuses any other type."""
    if not isinstance(x, str):
        raise TemplateUnsupported(f"wrong type for value; expected string; got {go_type(x)}")
    return x


def _to_text(x: object) -> str:
    """Go's fmt.Sprint of one value."""
    return format_arg(x, "v", Spec())


def _sprint(*args: object) -> str:
    """Go's fmt.Sprint: a space between two operands when neither is a string."""
    out: list[str] = []
    for i, x in enumerate(args):
        if i and not isinstance(x, str) and not isinstance(args[i - 1], str):
            out.append(" ")
        out.append(_to_text(x))
    return "".join(out)


def _printf(fmt: object, *args: object) -> str:
    return sprintf(_str(fmt), args)


def _rune_upper(c: str) -> str:
    """Go's unicode.ToUpper: one rune for one rune (Python's full mapping gives ß -> SS)."""
    for mapped in (c.upper(), c.title()):
        if len(mapped) == 1:
            return mapped
    return c


def _rune_lower(c: str) -> str:
    mapped = c.lower()
    if len(mapped) == 1:
        return mapped
    return "i" if c == "\u0130" else c  # İ: the one rune whose full lower-case mapping is longer


def _rune_title(c: str) -> str:
    for mapped in (c.title(), c.upper()):
        if len(mapped) == 1:
            return mapped
    return c


def _is_separator(c: str) -> bool:
    """strings.Title's isSeparator."""
    if c < "\x80":
        return not (c.isalnum() or c == "_")
    if c.isalpha() or unicodedata.category(c) == "Nd":
        return False
    return c.isspace()


def _title(s: str) -> str:
    """Go's strings.Title (Prometheus v2.42's ``title``): a letter after a separator is title-cased."""
    out, prev = [], " "
    for c in s:
        out.append(_rune_title(c) if _is_separator(prev) else c)
        prev = c
    return "".join(out)


def _strip_port(hostport: str) -> str:
    """template.go: the host of net.SplitHostPort, or the input as it is when that is an error."""
    i = hostport.rfind(":")
    if i < 0:
        return hostport
    j = k = 0
    if hostport[0] == "[":
        end = hostport.find("]")
        if end < 0 or end + 1 != i:  # no "]", nothing after it, or not followed by the last ":"
            return hostport
        host, j, k = hostport[1:end], 1, end + 1
    else:
        host = hostport[:i]
        if ":" in host:
            return hostport  # too many colons (a bare IPv6 address)
    if "[" in hostport[j:] or "]" in hostport[k:]:
        return hostport
    return host


_NOT_RE2 = re.compile(r"\(\?(?:[=!#>]|<[=!]|P=)|\{,")  # lookarounds, comments, atomic groups, {,n}
_POSIX = {
    "alnum": "0-9A-Za-z", "alpha": "A-Za-z", "ascii": "\\x00-\\x7f", "blank": "\\t ", "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9", "graph": "!-~", "lower": "a-z", "print": " -~", "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ", "upper": "A-Z", "word": "0-9A-Za-z_", "xdigit": "0-9A-Fa-f",
}  # fmt: skip


def _translate(pattern: str) -> str:
    """RE2 syntax as Python's ``re`` reads it: ``$`` (without ``m``) is the very end, ``\\z`` too,
    ``[[:alpha:]]`` is an ASCII class; escapes RE2 lacks (a backreference, ``\\Z``) are refused."""
    if _NOT_RE2.search(pattern):
        raise TemplateUnsupported(f"regexp {pattern!r} uses syntax Go's RE2 does not have")
    multiline = re.search(r"\(\?[a-zA-Z]*m", pattern) is not None
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            nxt = pattern[i + 1 : i + 2]
            if (nxt.isdigit() and nxt != "0") or nxt == "Z":
                raise TemplateUnsupported(f"regexp {pattern!r}: invalid escape \\{nxt}")
            out.append("\\Z" if nxt == "z" else c + nxt)
            i += 2
            continue
        if in_class:
            posix = re.match(r"\[:(\w+):\]", pattern[i:])
            if c == "[" and posix:
                if posix.group(1) not in _POSIX:
                    raise TemplateUnsupported(f"regexp {pattern!r}: invalid character class range")
                out.append(_POSIX[posix.group(1)])
                i += posix.end()
                continue
            if c == "[":
                out.append("\\[")  # a literal "[" in RE2; Python warns of nested sets
                i += 1
                continue
            if c == "]":
                in_class = False
        elif c == "[":
            in_class = True
            out.append(c)
            i += 1
            if pattern[i : i + 1] == "^":
                out.append("^")
                i += 1
            if pattern[i : i + 1] == "]":  # a "]" first in a class is literal
                out.append("\\]")
                i += 1
            continue
        elif c == "$" and not multiline:
            out.append("\\Z")
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _regexp(pattern: object) -> re.Pattern[str]:
    """Go's regexp.Compile, closely: ASCII \\d \\w \\s \\b as RE2's; what RE2 lacks is refused."""
    text = _str(pattern)
    try:
        return re.compile(_translate(text), re.ASCII)
    except (re.error, OverflowError, RecursionError) as exc:
        raise TemplateUnsupported(f"error parsing regexp {text!r}: {exc}") from None


def _search(rx: re.Pattern[str], text: str, pos: int = 0) -> re.Match[str] | None:
    if rx.flags & re.IGNORECASE and not (rx.pattern.isascii() and text.isascii()):
        raise TemplateUnsupported("(?i) over non-ASCII text: RE2 folds Unicode case, re.ASCII does not")
    return rx.search(text, pos)


def _expand(template: str, rx: re.Pattern[str], m: re.Match[str]) -> str:
    """Go's Regexp.ExpandString: $1, $name, ${1}, ${name}; $$ is "$"; a name takes all letters,
    digits and "_" (so $1W is the group "1W"); an unknown group is ""; a backslash is itself."""
    out: list[str] = []
    pos = 0
    while True:
        dollar = template.find("$", pos)
        if dollar < 0:
            break
        out.append(template[pos:dollar])
        rest = template[dollar + 1 :]
        if rest.startswith("$"):
            out.append("$")
            pos = dollar + 2
            continue
        named = _GROUP_NAME.match(rest)
        if named is None:
            out.append("$")
            pos = dollar + 1
            continue
        name = named.group(1) or named.group(2)
        pos = dollar + 1 + named.end()
        if name.isascii() and name.isdigit() and not (name[0] == "0" and len(name) > 1):
            group: int | str | None = int(name) if int(name) <= rx.groups else None
        else:
            group = name if name in rx.groupindex else None
        if group is not None:
            out.append(m.group(group) or "")
    out.append(template[pos:])
    return "".join(out)


_GROUP_NAME = re.compile(r"\{(\w+)\}|(\w+)")  # \w in str patterns: Unicode letters, digits, "_" (Go's test)


def _replace_all(rx: re.Pattern[str], repl: str, text: str) -> str:
    """Go's ReplaceAllString: no replacement for an empty match right after a match."""
    out: list[str] = []
    last_end = search = 0
    while search <= len(text):
        m = _search(rx, text, search)
        if m is None:
            break
        out.append(text[last_end : m.start()])
        if m.end() > last_end or m.start() == 0:
            out.append(_expand(repl, rx, m))
        last_end = m.end()
        search = search + 1 if search + 1 > m.end() else m.end()
    out.append(text[last_end:])
    return "".join(out)


FUNCTIONS: dict[str, Callable[..., object]] = {
    "humanize": lambda v: _humanize(_num(v)),
    "humanize1024": lambda v: _humanize1024(_num(v)),
    "humanizeDuration": lambda v: _humanize_duration(_num(v)),
    "humanizePercentage": lambda v: format_g(_num(v) * 100, 4) + "%",
    "humanizeTimestamp": lambda v: _humanize_timestamp(_num(v)),
    "toUpper": lambda s: "".join(map(_rune_upper, _str(s))),
    "toLower": lambda s: "".join(map(_rune_lower, _str(s))),
    "title": lambda s: _title(_str(s)),
    "printf": _printf,
    "print": _sprint,
    "reReplaceAll": lambda pattern, repl, text: _replace_all(_regexp(pattern), _str(repl), _str(text)),
    "match": lambda pattern, text: _search(_regexp(pattern), _str(text)) is not None,
    "stripPort": lambda s: _strip_port(_str(s)),
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


_GO_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\", '"': '"'}
_ESCAPE = re.compile(r"\\(?:([abfnrtv\\\"])|x([0-9a-fA-F]{2})|([0-7]{3})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8}))")


def _unquote(body: str) -> str:
    """Go's strconv.Unquote of a double-quoted constant; \\x and octal escapes are bytes of UTF-8."""
    if "\n" in body:
        raise TemplateUnsupported("unterminated quoted string")
    out = bytearray()
    pos = 0
    for m in _ESCAPE.finditer(body):
        if "\\" in body[pos : m.start()]:
            break
        out += body[pos : m.start()].encode()
        simple, hex2, octal, u4, u8 = m.groups()
        if simple:
            out += _GO_ESCAPES[simple].encode()
        elif hex2 or octal:
            code = int(hex2, 16) if hex2 else int(octal, 8)
            if code > 255:
                raise TemplateUnsupported(f"invalid escape in {body!r}")
            out.append(code)
        else:
            code = int(u4 or u8, 16)
            if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise TemplateUnsupported(f"invalid escape in {body!r}")
            out += chr(code).encode()
        pos = m.end()
    if "\\" in body[pos:]:
        raise TemplateUnsupported(f"invalid escape in {body!r}")
    out += body[pos:].encode()
    try:
        return out.decode()
    except UnicodeDecodeError:
        raise TemplateUnsupported(f"{body!r} is not UTF-8 text") from None


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
        try:
            return FUNCTIONS[name](*args)
        except TemplateUnsupported:
            raise
        except (TypeError, ValueError, OverflowError, re.error) as exc:  # Go: an error, or a wrong argument count
            raise TemplateUnsupported(f"error calling {name}: {exc}") from None

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
            return _unquote(tok[1:-1])
        if tok.startswith("`"):
            return tok[1:-1].replace("\r", "")  # strconv.Unquote drops a raw string's carriage returns
        if tok in ("true", "false"):
            return tok == "true"
        integer = re.fullmatch(r"([-+]?)(0[xX][\w]+|0[oObB][\w]+|0[0-7_]*|[1-9][\d_]*)", tok)
        if integer:  # strconv.ParseInt(text, 0, 64): 010 is octal, 0x1f hexadecimal, 1_000 a thousand
            sign, body = integer.groups()
            try:
                number = int(body, 8) if re.fullmatch(r"0[0-7_]+", body) else int(body, 0)
            except ValueError:
                raise TemplateUnsupported(f"bad number syntax: {tok}") from None
            number = -number if sign == "-" else number
            if not -(2**63) <= number < 2**63:
                raise TemplateUnsupported(f"integer overflow: {tok}")
            return number
        if re.fullmatch(r"[-+]?(\d+\.\d*|\.\d+|\d+(?=[eE]))([eE][-+]?\d+)?", tok):
            value = float(tok)
            if math.isinf(value):
                raise TemplateUnsupported(f"number out of range: {tok}")
            return value
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
            literal = literal.rstrip(_SPACE)
        out.append(literal)
        action = m.group(2)
        if action.startswith("/*"):
            if not re.fullmatch(r"\{\{(- )?/\*.*\*/( -)?\}\}", re.sub(r"[\t\r\n]", " ", m.group(0)), re.S):
                raise TemplateUnsupported(f"{m.group(0)}: a comment must be {{{{/* ... */}}}} or {{{{- /* ... */ -}}}}")
        else:
            tokens = _tokens(action)
            if not tokens or tokens[0] in _KEYWORDS or tokens[0] in ("query", "first", "value", "label"):
                raise TemplateUnsupported(f"{{{{ {action} }}}} is not supported")
            out.append(_to_text(_Pipeline(tokens, data).pipeline()))
        pos = m.end()
        if m.group(3):
            rest = text[pos:]
            pos += len(rest) - len(rest.lstrip(_SPACE))
    if "{{" in text[pos:]:
        raise TemplateUnsupported("unclosed action")
    out.append(text[pos:])
    return "".join(out)
