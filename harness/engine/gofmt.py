"""Go's fmt, as Prometheus' templates print values.

``{{ $value }}`` prints a float64 with Go's ``%v`` (shortest digits, exponent form from
1e+06 up and below 1e-04), and the ``humanize*`` functions use ``%.4g``. Python's
``repr`` and ``format`` differ in the thresholds and in NaN/Inf spelling, and an alert's
labels are its identity, so the difference matters.

``sprintf`` is Go's ``fmt.Sprintf`` for the values a template holds (string, int, float64,
bool, map[string]string): flags ``+ - # space 0``, width and precision, the verbs
``v s q d b o O x X c t T e E f F g G``, and Go's error texts (``%!d(string=hi)``,
``%!d(MISSING)``, ``%!(EXTRA string=x)``, ``%!(NOVERB)``). What it does not do (``%#v``,
``%[n]d``, ``*`` widths, hexadecimal floats, ``%U``, ``%p``) raises ``FormatUnsupported``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from decimal import Decimal


class FormatUnsupported(ValueError):
    """A format this module does not reproduce exactly."""


def _special(v: float) -> str | None:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return None


def _shortest_digits(v: float) -> tuple[str, int]:
    """Shortest round-trip digits of |v| and the decimal point position (Go's digs.d, digs.dp)."""
    _, digits, exponent = Decimal(repr(abs(v))).normalize().as_tuple()
    text = "".join(map(str, digits))
    dp = len(digits) + int(exponent)
    return text, dp


def format_v(v: float) -> str:
    """Go's ``fmt.Sprint(float64)``: strconv 'g' with the shortest precision."""
    special = _special(v)
    if special is not None:
        return special
    if v == 0:
        return "-0" if math.copysign(1, v) < 0 else "0"
    digits, dp = _shortest_digits(v)
    sign = "-" if v < 0 else ""
    exp = dp - 1
    if exp < -4 or exp >= 6:  # strconv: "if precision was the shortest possible, use precision 6"
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if dp <= 0:
        return f"{sign}0.{'0' * -dp}{digits}"
    if dp >= len(digits):
        return f"{sign}{digits}{'0' * (dp - len(digits))}"
    return f"{sign}{digits[:dp]}.{digits[dp:]}"


def format_g(v: float, precision: int) -> str:
    """Go's ``%.<precision>g``; Python's 'g' has the same thresholds, not the same NaN/Inf."""
    special = _special(v)
    return special if special is not None else format(v, f".{precision}g")


@dataclass(frozen=True)
class Spec:
    """One verb's flags, width and precision (Go's fmt.fmtFlags)."""

    minus: bool = False
    plus: bool = False
    sharp: bool = False
    space: bool = False
    zero: bool = False
    width: int | None = None
    prec: int | None = None


def _pad(text: str, spec: Spec, zero: bool | None = None) -> str:
    """Go's fmt.pad: to the width in runes, on the right with "-", else with zeros if "0"."""
    if spec.width is None or len(text) >= spec.width:
        return text
    fill = spec.width - len(text)
    if spec.minus:
        return text + " " * fill
    return ("0" if (spec.zero if zero is None else zero) else " ") * fill + text


def go_type(x: object) -> str:
    if isinstance(x, bool):
        return "bool"
    if isinstance(x, int):
        return "int"
    if isinstance(x, float):
        return "float64"
    if isinstance(x, str):
        return "string"
    if isinstance(x, dict):
        return "map[string]string"
    raise FormatUnsupported(f"no Go type for {x!r}")


def _bad_verb(x: object, verb: str, spec: Spec) -> str:
    """Wrong type or unknown verb: %!verb(type=value), the value printed with %v and the same flags."""
    return f"%!{verb}({go_type(x)}={format_arg(x, 'v', spec)})"


def _float(v: float, verb: str, spec: Spec) -> str:
    """Go's fmt.fmtFloat."""
    if verb not in "vgGeEfF":
        if verb in "bxX":
            raise FormatUnsupported(f"%{verb} of a float64")
        return _bad_verb(v, verb, spec)
    if spec.sharp:
        raise FormatUnsupported(f"%#{verb} of a float64")
    special = _special(v)
    if special is not None:
        num = "+NaN" if special == "NaN" else special
    else:
        prec = spec.prec if spec.prec is not None else (-1 if verb in "vgG" else 6)
        if prec < 0:
            num = format_v(v)
            if verb == "G":
                num = num.upper()
        else:
            num = format(v, f".{prec}{'g' if verb == 'v' else verb}")
        if not num.startswith("-"):
            num = "+" + num
    if spec.space and num[0] == "+" and not spec.plus:
        num = " " + num[1:]
    if num[1] in "IN":  # Inf and NaN are not padded with zeros; NaN's "+" is dropped unless asked for
        if num[1] == "N" and not spec.space and not spec.plus:
            num = num[1:]
        return _pad(num, spec, zero=False)
    if spec.plus or num[0] != "+":
        if spec.zero and spec.width is not None and spec.width > len(num):
            return num[0] + "0" * (spec.width - len(num)) + num[1:]
        return _pad(num, spec)
    return _pad(num[1:], spec)


_INT_BASES = {"d": "d", "v": "d", "b": "b", "o": "o", "O": "o", "x": "x", "X": "X"}


def _int(n: int, verb: str, spec: Spec) -> str:
    """Go's fmt.fmtInteger for an int (int64)."""
    if verb == "c":
        return _pad(chr(n) if 0 <= n <= 0x10FFFF and not 0xD800 <= n <= 0xDFFF else "\ufffd", spec)
    if verb in "qU":
        raise FormatUnsupported(f"%{verb} of an int")
    if verb not in _INT_BASES:
        return _bad_verb(n, verb, spec)
    digits = format(abs(n), _INT_BASES[verb])
    if spec.prec is not None:
        if spec.prec == 0 and n == 0:
            return _pad("", spec, zero=False)
        digits = digits.rjust(spec.prec, "0")
    elif spec.zero and spec.width is not None:
        digits = digits.rjust(spec.width - (1 if n < 0 or spec.plus or spec.space else 0), "0")
    prefix = ""
    if verb == "O":
        prefix = "0o"
    elif spec.sharp:
        prefix = {"b": "0b", "o": "0" if digits[0] != "0" else "", "x": "0x", "X": "0X"}.get(verb, "")
    sign = "-" if n < 0 else "+" if spec.plus else " " if spec.space else ""
    return _pad(sign + prefix + digits, spec, zero=False)


def quote(s: str, ascii_only: bool = False) -> str:
    """Go's strconv.Quote (QuoteToASCII with ``ascii_only``)."""
    out = ['"']
    for c in s:
        o = ord(c)
        if c in '"\\':
            out.append("\\" + c)
        elif c.isprintable() and (o < 0x80 or not ascii_only):
            out.append(c)
        elif c in _C_ESCAPES:
            out.append(_C_ESCAPES[c])
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\x{o:02x}")
        elif 0xD800 <= o <= 0xDFFF:
            out.append("\\ufffd")
        elif o < 0x10000:
            out.append(f"\\u{o:04x}")
        else:
            out.append(f"\\U{o:08x}")
    out.append('"')
    return "".join(out)


_C_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def _can_backquote(s: str) -> bool:
    return not any((c < " " and c != "\t") or c in "`\x7f\ufeff" or "\ud800" <= c <= "\udfff" for c in s)


def _string(s: str, verb: str, spec: Spec) -> str:
    """Go's fmt.fmtString: %v %s, %q, %x %X."""
    if verb in "vs":
        return _pad(s if spec.prec is None else s[: spec.prec], spec)
    if verb == "q":
        s = s if spec.prec is None else s[: spec.prec]
        if spec.sharp and _can_backquote(s):
            return _pad(f"`{s}`", spec)
        return _pad(quote(s, ascii_only=spec.plus), spec)
    if verb in "xX":
        if spec.sharp or spec.space:
            raise FormatUnsupported(f"%{verb} of a string with '#' or ' '")
        data = s.encode()
        if spec.prec is not None:
            data = data[: spec.prec]
        hexed = data.hex()
        return _pad(hexed.upper() if verb == "X" else hexed, spec)
    return _bad_verb(s, verb, spec)


def format_arg(x: object, verb: str, spec: Spec) -> str:
    """One operand of Go's fmt (printArg) with its verb."""
    if verb == "T":
        return _pad(go_type(x), spec)
    if verb == "p":
        raise FormatUnsupported("%p")
    if isinstance(x, bool):
        return _pad("true" if x else "false", spec) if verb in "tv" else _bad_verb(x, verb, spec)
    if isinstance(x, int):
        return _int(x, verb, spec)
    if isinstance(x, float):
        return _float(x, verb, spec)
    if isinstance(x, str):
        return _string(x, verb, spec)
    if isinstance(x, dict):  # fmt prints a map sorted by key, each key and value with the verb
        pairs = (f"{format_arg(k, verb, spec)}:{format_arg(v, verb, spec)}" for k, v in sorted(x.items()))
        return "map[" + " ".join(pairs) + "]"
    raise FormatUnsupported(f"cannot format {x!r}")


def _number(fmt: str, i: int) -> tuple[int | None, int]:
    start = i
    while i < len(fmt) and fmt[i].isascii() and fmt[i].isdigit():
        i += 1
    if i == start:
        return None, i
    if i - start > 6:  # Go gives up on widths over 1e6 (tooLarge)
        raise FormatUnsupported("width or precision too large")
    return int(fmt[start:i]), i


def sprintf(fmt: str, args: tuple[object, ...] | list[object]) -> str:
    """Go's fmt.Sprintf (doPrintf) over template values."""
    out: list[str] = []
    i, n, used = 0, len(fmt), 0
    while i < n:
        pct = fmt.find("%", i)
        if pct < 0:
            out.append(fmt[i:])
            break
        out.append(fmt[i:pct])
        i = pct + 1
        flags = {"minus": False, "plus": False, "sharp": False, "space": False, "zero": False}
        while i < n and fmt[i] in "#0+- ":
            c = fmt[i]
            if c == "#":
                flags["sharp"] = True
            elif c == "0":
                flags["zero"] = not flags["minus"]  # only zero padding to the left
            elif c == "+":
                flags["plus"] = True
            elif c == "-":
                flags["minus"], flags["zero"] = True, False
            else:
                flags["space"] = True
            i += 1
        if i < n and fmt[i] in "[*":
            raise FormatUnsupported(f"%{fmt[i]} in a printf format")
        width, i = _number(fmt, i)
        prec = None
        if i < n and fmt[i] == ".":
            i += 1
            if i < n and fmt[i] in "[*":
                raise FormatUnsupported(f"%{fmt[i]} in a printf format")
            prec, i = _number(fmt, i)
            prec = prec or 0
        if i >= n:
            out.append("%!(NOVERB)")
            break
        verb = fmt[i]
        i += 1
        spec = Spec(width=width, prec=prec, **flags)
        if verb == "%":
            out.append("%")
            continue
        if used >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        if verb == "v":
            if spec.sharp:
                raise FormatUnsupported("%#v")
            spec = replace(spec, plus=False)  # %+v is Go's struct-field syntax, not a sign
        out.append(format_arg(args[used], verb, spec))
        used += 1
    if used < len(args):
        extra = ", ".join(f"{go_type(x)}={format_arg(x, 'v', Spec())}" for x in args[used:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)
