"""Alert templates expand as Prometheus expands them, or are refused: never a third answer.

A label's expansion is part of the alert's identity, so each row's expected text is Go's. Sources:

- *prom*: prometheus/prometheus ``template/template_test.go`` (``TestTemplateExpansion``);
- *common*: prometheus/common ``helpers/templates/time_test.go`` (humanizeDuration, humanizeTimestamp);
- *x/text*: golang/text ``cases/map_test.go`` (later Prometheus' ``title``, ``cases.Title(AmericanEnglish,
  NoLower)``), where it agrees with v2.42's ``strings.Title``;
- *promtool*: what ``promtool test rules`` of Prometheus v2.42 (the version the harness runs) renders,
  where it differs from a table written for a later version;
- *fmt*: golang/go ``src/fmt/fmt_test.go`` and the ``fmt`` package docs (``printf``, ``print``);
- *regexp*: the ``regexp`` package docs (``ReplaceAllString`` example, ``Expand``);
- *text/template*: the ``text/template`` package docs;
- *derived*: not in a table; worked out from the Go source named in the row (``template.go``'s
  function, Go's float64 arithmetic, which Python shares).

"""

from __future__ import annotations

import math

import pytest

from harness.engine.templates import FUNCTIONS, TemplateData, TemplateUnsupported, expand

LABELS = {"instance": "host-1:9090", "job": "api"}
EXTERNAL = {"cluster": "eu-1"}
URL = "http://prom.example:9090"
NAN, INF = math.nan, math.inf
MAX_INT64 = 9223372036854775807

Arg = float | int | str
Table = list[object]  # rows: tuples of arguments and the expected text, or pytest.param of one


def render(template: str, value: float = 0.0, arg: str | None = None) -> str:
    """``template`` expanded for a sample of ``value``; ``arg`` is the label ``$labels.arg``."""
    labels = LABELS if arg is None else {**LABELS, "arg": arg}
    return expand(template, TemplateData(labels, value, EXTERNAL, URL))


def call(function: str, argument: Arg) -> str:
    """``{{ function argument }}`` with the argument as a template meets it: a float as the
    sample's ``$value``, an int as an integer constant, a str as a label's value."""
    if isinstance(argument, float):
        return render(f"{{{{ {function} $value }}}}", value=argument)
    if isinstance(argument, int):
        return render(f"{{{{ {function} {argument} }}}}")
    return render(f"{{{{ {function} $labels.arg }}}}", arg=argument)


HUMANIZE: Table = [
    # prom "Humanize - float64": 0.0, 1.0, 1234567.0, .12 -> 0:1:1.235M:120m:
    (0.0, "0"),
    (1.0, "1"),
    (1234567.0, "1.235M"),
    (0.12, "120m"),
    # prom "Humanize - string"
    ("0.0", "0"),
    ("1.0", "1"),
    ("1234567.0", "1.235M"),
    (".12", "120m"),
    # prom "Humanize - int": 0, -1, 1, 1234567, math.MaxInt64 -> 0:-1:1:1.235M:9.223E:
    (0, "0"),
    (-1, "-1"),
    (1, "1"),
    (1234567, "1.235M"),
    (MAX_INT64, "9.223E"),
    # prom "Humanize* Inf and NaN - float64" and "- string"
    (INF, "+Inf"),
    (-INF, "-Inf"),
    (NAN, "NaN"),
    ("+Inf", "+Inf"),
    ("-Inf", "-Inf"),
    ("NaN", "NaN"),
    # derived from template.go's humanize: x1000 / /1000 steps through the prefixes, then %.4g
    (1e-05, "10u"),
    (1e06, "1M"),
    (-1234567.0, "-1.235M"),
    (-0.001, "-1m"),
    (1e27, "1000Y"),
    (1e30, "1e+06Y"),
    (1e-27, "0.001y"),
    (-0.0, "-0"),  # v == 0: fmt.Sprintf("%.4g", -0.0)
]

HUMANIZE_1024: Table = [
    # prom "Humanize1024 - float64": 0.0, 1.0, 1048576.0, .12 -> 0:1:1Mi:0.12:
    (0.0, "0"),
    (1.0, "1"),
    (1048576.0, "1Mi"),
    (0.12, "0.12"),
    # prom "Humanize1024 - string"
    ("1048576.0", "1Mi"),
    (".12", "0.12"),
    # prom "Humanize1024 - int": 0, -1, 1, 1234567, math.MaxInt64 -> 0:-1:1:1.177Mi:8Ei:
    (-1, "-1"),
    (1234567, "1.177Mi"),
    (MAX_INT64, "8Ei"),
    # prom "Humanize* Inf and NaN"
    (INF, "+Inf"),
    (-INF, "-Inf"),
    (NAN, "NaN"),
    # derived from template.go's humanize1024: |v| <= 1 is printed with %.4g as it is
    (1e-05, "1e-05"),
    (2.0**50, "1Pi"),
    # derived from template.go: its first prefix is "ki" (lower-case k), not "Ki"
    pytest.param(1024, "1ki"),
    pytest.param(1536.0, "1.5ki"),
]

HUMANIZE_DURATION: Table = [
    # common TestHumanizeDuration, integers and floats
    (0, "0s"),
    (1, "1s"),
    (60, "1m 0s"),
    (3600, "1h 0m 0s"),
    (86400, "1d 0h 0m 0s"),
    (86400 + 3600, "1d 1h 0m 0s"),
    (-(86400 * 2 + 3600 * 3 + 60 * 4 + 5), "-2d 3h 4m 5s"),
    (899.99, "14m 59s"),
    (0.1, "100ms"),
    (0.0001, "100us"),
    (0.12345, "123.5ms"),
    (60.1, "1m 0s"),
    (60.5, "1m 0s"),
    (1.2345, "1.234s"),
    (12.345, "12.35s"),
    (-1, "-1s"),
    (1234567, "14d 6h 56m 7s"),
    # common TestHumanizeDuration, strings
    ("0", "0s"),
    ("86400", "1d 0h 0m 0s"),
    (".0001", "100us"),
    ("12.345", "12.35s"),
    # prom "Humanize* Inf and NaN"
    (INF, "+Inf"),
    (-INF, "-Inf"),
    (NAN, "NaN"),
    # derived from common's HumanizeDuration (days via int64 division, sub-second prefixes)
    (1e-05, "10us"),
    (-0.5, "-500ms"),
    (1e06, "11d 13h 46m 40s"),
    (86399.9, "23h 59m 59s"),
    (-0.0, "-0s"),  # v == 0: fmt.Sprintf("%.4gs", -0.0)
]

HUMANIZE_PERCENTAGE: Table = [
    # prom "HumanizePercentage - model.SampleValue input - float64"
    (-0.22222, "-22.22%"),
    (0.0, "0%"),
    (0.1234567, "12.35%"),
    (1.23456, "123.5%"),
    # prom "HumanizePercentage - model.SampleValue input - string"
    ("-0.22222", "-22.22%"),
    ("0.1234567", "12.35%"),
    # prom "HumanizePercentage - int": 0, -1, 1, 1234567, MaxInt64
    (0, "0%"),
    (-1, "-100%"),
    (1, "100%"),
    (1234567, "1.235e+08%"),
    (MAX_INT64, "9.223e+20%"),
    # derived from template.go: fmt.Sprintf("%.4g%%", v*100)
    (NAN, "NaN%"),
    (INF, "+Inf%"),
    (1e-05, "0.001%"),
]

HUMANIZE_TIMESTAMP: Table = [
    # common TestHumanizeTimestamp (and prom "HumanizeTimestamp - int")
    (0, "1970-01-01 00:00:00 +0000 UTC"),
    (-1, "1969-12-31 23:59:59 +0000 UTC"),
    (1, "1970-01-01 00:00:01 +0000 UTC"),
    (1234567, "1970-01-15 06:56:07 +0000 UTC"),
    (9223372036, "2262-04-11 23:47:16 +0000 UTC"),
    ("+Inf", "+Inf"),
    ("-Inf", "-Inf"),
    ("NaN", "NaN"),
    (INF, "+Inf"),
    (-INF, "-Inf"),
    (NAN, "NaN"),
    (1435065584.128, "2015-06-23 13:19:44.128 +0000 UTC"),
    ("1435065584.128", "2015-06-23 13:19:44.128 +0000 UTC"),
    # derived from common's FloatToTime: model.TimeFromUnixNano(int64(v*1e9)) keeps milliseconds,
    # and time.Time's String drops trailing zeros of the fraction
    (10.5, "1970-01-01 00:00:10.5 +0000 UTC"),
    (1767225600.0, "2026-01-01 00:00:00 +0000 UTC"),
    pytest.param(
        1.0004,
        "1970-01-01 00:00:01 +0000 UTC",
    ),
]

STRIP_PORT: Table = [
    # prom stripPort rows
    ("foo.example.com", "foo.example.com"),
    ("foo.example.com:12345", "foo.example.com"),
    ("192.0.2.1", "192.0.2.1"),
    ("192.0.2.1:12345", "192.0.2.1"),
    pytest.param(
        "2001:0DB8::1",
        "2001:0DB8::1",
    ),
    pytest.param(
        "[2001:0DB8::1]:12345",
        "2001:0DB8::1",
    ),
    pytest.param(
        "[2001:0DB8::1]::12345",
        "[2001:0DB8::1]::12345",
    ),
    # derived from net.SplitHostPort: an empty port is a port; brackets without a port are an error
    ("localhost:", "localhost"),
    ("[::1]", "[::1]"),
]

TITLE: Table = [
    # prom "Title"
    ("aa bb CC", "Aa Bb CC"),
    # x/text case 4 (NoLower, as Prometheus calls it)
    ("abc aBc ABC abC", "Abc ABc ABC AbC"),
    ("o'Brien", "O'Brien"),
    # x/text case 3, "Title breaking"
    ("with-hyphens", "With-Hyphens"),
    # promtool: v2.42's title is strings.Title, where every ASCII non-alphanumeric (an apostrophe
    # too) is a word break and a digit is part of a word; x/text says "Don't Do This" and "49Ers"
    ("don't do this", "Don'T Do This"),
    ("49ers", "49ers"),
    # derived: the first letter of a word is mapped with Unicode's title case (é -> É)
    ("élan vital", "Élan Vital"),
    ("straße ǆemal", "Straße ǅemal"),  # rune by rune: ß has no single title-case rune; ǆ's is ǅ
    ("a_b c.d é-f", "A_b C.D É-F"),  # "_" joins a word, ASCII punctuation breaks it
]

UPPER_LOWER: Table = [
    # prom "toUpper" and "toLower"
    ("toUpper", "aa bb CC", "AA BB CC"),
    ("toLower", "aA bB CC", "aa bb cc"),
    ("toUpper", "Ünïcode", "ÜNÏCODE"),  # derived: strings.ToUpper maps every letter
    pytest.param(
        "toUpper",
        "straße",
        "STRAßE",
    ),
]

RE_REPLACE_ALL: Table = [
    # prom "Regex replacement"
    ("(a)b", "x$1", "ab", "xa"),
    # regexp docs, ExampleRegexp_ReplaceAllString: a(x*)b over -ab-axxb-
    ("a(x*)b", "T", "-ab-axxb-", "-T-T-"),
    ("a(x*)b", "$1", "-ab-axxb-", "--xx-"),
    pytest.param(
        "a(x*)b",
        "$1W",
        "-ab-axxb-",
        "---",
    ),
    pytest.param("a(x*)b", "${1}W", "-ab-axxb-", "-W-xxW-"),
    # derived from regexp.Expand: "$$" is a literal $, and a backslash is nothing special
    pytest.param(r"(\d+)", "$$$1", "cost 5", "cost $5"),
    pytest.param("(a)", r"\1", "a", r"\1"),
    # derived: the everyday use, an instance label without its port
    (":[0-9]+$", "", "host-1:9090", "host-1"),
]

MATCH: Table = [
    # prom "Match": {{ match "a+" "aa" }} {{ match "a+" "b" }} -> "true false"
    ("a+", "aa", True),
    ("a+", "b", False),
    # regexp docs, ExampleMatchString: the pattern may match anywhere
    ("foo.*", "seafood", True),
    ("bar.*", "seafood", False),
    # derived: RE2 and Python agree on anchors and classes used in alert rules
    ("^api$", "api", True),
    ("^api$", "api-2", False),
    (r"\d{3}", "status 503", True),
]


@pytest.mark.parametrize(("argument", "expected"), HUMANIZE)
def test_humanize(argument: Arg, expected: str) -> None:
    assert call("humanize", argument) == expected


@pytest.mark.parametrize(("argument", "expected"), HUMANIZE_1024)
def test_humanize1024(argument: Arg, expected: str) -> None:
    assert call("humanize1024", argument) == expected


@pytest.mark.parametrize(("argument", "expected"), HUMANIZE_DURATION)
def test_humanize_duration(argument: Arg, expected: str) -> None:
    assert call("humanizeDuration", argument) == expected


@pytest.mark.parametrize(("argument", "expected"), HUMANIZE_PERCENTAGE)
def test_humanize_percentage(argument: Arg, expected: str) -> None:
    assert call("humanizePercentage", argument) == expected


@pytest.mark.parametrize(("argument", "expected"), HUMANIZE_TIMESTAMP)
def test_humanize_timestamp(argument: Arg, expected: str) -> None:
    assert call("humanizeTimestamp", argument) == expected


@pytest.mark.parametrize(("argument", "expected"), STRIP_PORT)
def test_strip_port(argument: str, expected: str) -> None:
    assert call("stripPort", argument) == expected


@pytest.mark.parametrize(("argument", "expected"), TITLE)
def test_title(argument: str, expected: str) -> None:
    assert call("title", argument) == expected


@pytest.mark.parametrize(("function", "argument", "expected"), UPPER_LOWER)
def test_to_upper_and_to_lower(function: str, argument: str, expected: str) -> None:
    assert call(function, argument) == expected


@pytest.mark.parametrize(("pattern", "replacement", "text", "expected"), RE_REPLACE_ALL)
def test_re_replace_all(pattern: str, replacement: str, text: str, expected: str) -> None:
    """Pattern and replacement as raw (backquoted) constants, the text as a label's value."""
    assert render(f"{{{{ reReplaceAll `{pattern}` `{replacement}` $labels.arg }}}}", arg=text) == expected


@pytest.mark.parametrize(("pattern", "text", "expected"), MATCH)
def test_match(pattern: str, text: str, expected: bool) -> None:
    """The function's answer; how a template prints it is the next test."""
    assert FUNCTIONS["match"](pattern, text) is expected


def test_match_prints_as_go_prints_a_bool() -> None:
    assert render('{{ match "a+" "aa" }} {{ match "a+" "b" }}') == "true false"  # prom "Match"


PRINTF: Table = [
    # fmt_test.go rows, {format, value, output}, the value as a template constant or $value
    ('{{ printf "%d" 12345 }}', 0.0, "12345"),
    ('{{ printf "%.2f" 1.0 }}', 0.0, "1.00"),
    ('{{ printf "%7.2f" -1.0 }}', 0.0, "  -1.00"),
    ('{{ printf "%07.2f" -1.0 }}', 0.0, "-001.00"),
    ('{{ printf "%+.2f" 1.0 }}', 0.0, "+1.00"),
    ('{{ printf "%e" 1.0 }}', 0.0, "1.000000e+00"),
    ('{{ printf "%e" 1234.5678e3 }}', 0.0, "1.234568e+06"),
    ('{{ printf "%f" -1e-9 }}', 0.0, "-0.000000"),
    ('{{ printf "%g" 1234.5678e3 }}', 0.0, "1.2345678e+06"),
    ('{{ printf "%g" 1234.5678e-8 }}', 0.0, "1.2345678e-05"),
    ('{{ printf "%g" -1e-9 }}', 0.0, "-1e-09"),
    ('{{ printf "%v" 1.2345678 }}', 0.0, "1.2345678"),
    ('{{ printf "%s" "abc" }}', 0.0, "abc"),
    ('{{ printf "%q" "abc" }}', 0.0, '"abc"'),
    ('{{ printf "%.2f" $value }}', 0.125, "0.12"),  # derived: ties to even on the exact binary value
    ('{{ printf "100%%" }}', 0.0, "100%"),  # fmt docs: %% is a literal percent sign
    ('{{ printf "hi%d" }}', 0.0, "hi%!d(MISSING)"),  # fmt docs, "Too few arguments"
    pytest.param('{{ printf "%10d" 12345 }}', 0.0, "     12345"),
    pytest.param(
        '{{ printf "%-05.1f" 1.0 }}',
        0.0,
        "1.0  ",
    ),
    pytest.param('{{ printf "%5s" "abc" }}', 0.0, "  abc"),
    pytest.param('{{ printf "%f" $value }}', INF, "+Inf"),
    pytest.param('{{ printf "%.1f" $value }}', -INF, "-Inf"),
    pytest.param('{{ printf "% f" $value }}', NAN, " NaN"),
    pytest.param('{{ printf "%q" "\\n" }}', 0.0, '"\\n"'),
    pytest.param(
        '{{ printf "%d" "hi" }}',
        0.0,
        "%!d(string=hi)",
    ),
    pytest.param(
        '{{ printf "%d" $value }}',
        5.0,
        "%!d(float64=5)",
    ),
    # promtool: the wrong-type text prints the value with %v and the verb's flags, precision included
    ('{{ printf "%.2f" $labels.job }}', 0.0, "%!f(string=ap)"),
    ('{{ printf "%10d" "hi" }}', 0.0, "%!d(string=        hi)"),
    pytest.param(
        '{{ printf "hi" "guys" }}',
        0.0,
        "hi%!(EXTRA string=guys)",
    ),
    pytest.param('{{ printf "%x" 255 }}', 0.0, "ff"),
]

PRINT: Table = [
    # fmt docs: Sprint "adds spaces between operands when neither is a string"
    ('{{ print "a" "b" }}', 0.0, "ab"),
    ("{{ print $value }}", 1e06, "1e+06"),
    ("{{ print }}", 0.0, ""),
    pytest.param(
        '{{ print "<" 1 ">:" 1 2 3 "!" }}',
        0.0,
        "<1>:1 2 3!",
    ),
]

VARIABLES: Table = [
    # the data Prometheus gives an alert template (rules/alerting.go defines $labels, $value, ...)
    ("{{ $labels.instance }}", 0.0, "host-1:9090"),
    ("{{ .Labels.instance }}", 0.0, "host-1:9090"),
    ("{{ $labels.missing }}", 0.0, ""),  # Prometheus sets missingkey=zero
    ("{{ .Labels.missing }}", 0.0, ""),
    ("{{ $externalLabels.cluster }}", 0.0, "eu-1"),
    ("{{ .ExternalLabels.cluster }}", 0.0, "eu-1"),
    ("{{ $externalURL }}", 0.0, URL),
    ("{{ .ExternalURL }}", 0.0, URL),
    ("{{ $labels }}", 0.0, "map[instance:host-1:9090 job:api]"),  # fmt prints a map sorted by key
    # $value prints with %v (Go's shortest 'g'): fmt_test.go and strconv/ftoa_test.go, see test_gofmt.py
    ("{{ $value }}", 1.5, "1.5"),
    ("{{ .Value }}", 1.5, "1.5"),
    ("{{ $value }}", 3.0, "3"),
    ("{{ $value }}", 0.1, "0.1"),
    ("{{ $value }}", 123456.0, "123456"),
    ("{{ $value }}", 1e06, "1e+06"),
    ("{{ $value }}", 1e-05, "1e-05"),
    ("{{ $value }}", -0.0, "-0"),
    ("{{ $value }}", NAN, "NaN"),
    ("{{ $value }}", INF, "+Inf"),
    ("{{ $value }}", -INF, "-Inf"),
]

LITERALS: Table = [
    ("plain text", "plain text"),  # prom "No template"
    ("{{ 1 }}", "1"),  # prom "Simple value"
    ('{{ "<b>" }}', "<b>"),  # prom "HTML escaping doesn't apply to non-html"
    ("{{ -3 }}", "-3"),  # text/template: an integer constant
    ("{{ 1.5 }}", "1.5"),  # text/template: a constant with '.' or 'e' is a float64, printed with %v
    ("{{ 1e6 }}", "1e+06"),
    ("{{ 1e-05 }}", "1e-05"),
    ('{{ "a\\tb" }}', "a\tb"),  # text/template: a double-quoted constant takes Go's escapes
    ("{{ `a\\tb` }}", "a\\tb"),  # ... a raw (backquoted) one none
    ('{{ "a" }}{{ "b" }}', "ab"),
    ("{{23 -}} < {{- 45}}", "23<45"),  # text/template docs, trim markers
    ("x{{/* a comment */}}y", "xy"),  # text/template docs, comments
    pytest.param(
        "{{-3}}",
        "-3",
    ),
    pytest.param('{{ "élan" }}', "élan"),
]

PIPELINES: Table = [
    # prom rows written as pipelines
    ("{{ -0.22222 | humanizePercentage }}", 0.0, "-22.22%"),
    ("{{ 1435065584.128 | humanizeTimestamp }}", 0.0, "2015-06-23 13:19:44.128 +0000 UTC"),
    ('{{ "foo.example.com:12345" | stripPort }}', 0.0, "foo.example.com"),
    # text/template: a pipeline's value is the last argument of the next command
    ("{{ $value | humanize }}", 1234567.0, "1.235M"),
    ("{{ $labels.instance | stripPort | toUpper }}", 0.0, "HOST-1"),
    ('{{ $value | printf "%.1f" }}', 0.123, "0.1"),
    ('{{ "a" | printf "%s-%s" "b" }}', 0.0, "b-a"),
    ('{{ printf "%s at %s" (toUpper $labels.job) ($value | humanizePercentage) }}', 0.5, "API at 50%"),
]


CHECKED_WITH_PROMTOOL: Table = [
    # promtool: rendered by ``promtool test rules`` of Prometheus v2.42, the version the harness runs
    ('{{ printf "%05s|%-5s|%.1s" "ab" "ab" "élan" }}', 0.0, "000ab|ab   |é"),
    ('{{ printf "%+05d|% d|%X|%#x|%#o|%b|%O|%c" 42 42 255 255 8 5 8 65 }}', 0.0, "+0042| 42|FF|0xff|010|101|0o10|A"),
    ('{{ printf "%08d|%-8d|%.3d|%8.3d|%.0d|" -42 42 7 7 0 }}', 0.0, "-0000042|42      |007|     007||"),
    (
        '{{ printf "%t|%5t|%T|%T|%T|%d|%s" true false 1 1.5 "s" true 1 }}',
        0.0,
        "true|false|int|float64|string|%!d(bool=true)|%!s(int=1)",
    ),
    ('{{ printf "%q|%+q|%#q|%x" "é\\t\\x01" "é" "a`b" "hé" }}', 0.0, '"é\\t\\x01"|"\\u00e9"|"a`b"|68c3a9'),
    (
        '{{ printf "%e|%G|%.3g|%10.4v" $value $value $value $value }}',
        123456789.123,
        "1.234568e+08|1.23456789123E+08|1.23e+08| 1.235e+08",
    ),
    ('{{ printf "%+f|%08.2f|% .1f" $value $value $value }}', INF, "+Inf|    +Inf| Inf"),
    ('{{ printf "%+f|%08.2f|%5f" $value $value $value }}', NAN, "+NaN|     NaN|  NaN"),
    ('{{ printf "%+v|%010v" $value $value }}', -0.5, "-0.5|-0000000.5"),
    ('{{ printf "%s %" "a" }}|{{ printf "%z|%5%" 1 }}', 0.0, "a %!(NOVERB)|%!z(int=1)|%"),
    ('{{ printf "" 1 2.5 "x" true }}', 0.0, "%!(EXTRA int=1, float64=2.5, string=x, bool=true)"),
    ('{{ print 1 2 "a" 3 "b" "c" 4.5 true false }}', 0.0, "1 2a3bc4.5 true false"),
    ("{{ +3 }}|{{ 010 }}|{{ 0x1f }}|{{ 1_000 }}|{{ 1. }}|{{ .5 }}|{{ -1.5e-7 }}", 0.0, "3|8|31|1000|1|0.5|-1.5e-07"),
    ('{{ "\\u00e9\\x41\\101\\U0001F600\\"\\\\" }}', 0.0, 'éAA😀"\\'),
    ('{{ humanize1024 -2048 }}|{{ humanize "1_0" }}|{{ humanize "Infinity" }}', 0.0, "-2ki|10|+Inf"),
    (
        "{{ humanizeTimestamp -0.5 }}|{{ humanizeTimestamp -9223372036 }}",
        0.0,
        "1969-12-31 23:59:59.5 +0000 UTC|1677-09-21 00:12:44 +0000 UTC",
    ),
    (
        '{{ title "hello wORLD-foo_bar.baz 1st" }}|{{ toUpper "ǆﬁ ᾀ" }}|{{ toLower "İI ǅ" }}',
        0.0,
        "Hello WORLD-Foo_bar.Baz 1st|Ǆﬁ ᾈ|ii ǆ",
    ),
    (
        '{{ stripPort "[::1]:80" }}|{{ stripPort "a:b:c" }}|{{ stripPort ":80" }}|{{ stripPort "[a]b:1" }}',
        0.0,
        "::1|a:b:c||[a]b:1",
    ),
    (
        '{{ reReplaceAll "x*" "-" "abxd" }}|{{ reReplaceAll "" "-" "hé" }}|{{ reReplaceAll "a|" "-" "baac" }}',
        0.0,
        "-a-b-d-|-h-é-|-b--c-",
    ),
    ('{{ reReplaceAll "(?P<n>\\\\w+)@" "${n}:$0:$9:$:${" "ab@" }}', 0.0, "ab:ab@::$:${"),
    (
        '{{ reReplaceAll "a$" "X" "a\\n" }}|{{ match "a$" "a\\n" }}|{{ reReplaceAll "\\\\z" "X" "ab" }}',
        0.0,
        "a\n|false|abX",
    ),
    ('{{ match "[[:alpha:]]+" "ab" }}|{{ reReplaceAll "[[:digit:]]" "D" "a1" }}', 0.0, "true|aD"),
    ('{{ reReplaceAll "\\\\d" "#" "a1٣" }}|{{ match "^\\\\w+$" "héllo" }}', 0.0, "a#٣|false"),
    ("{{- 3 -}} x {{- 4 }}|{{/* c */}}{{- /* d */ -}} e", 0.0, "3x4|e"),
]


@pytest.mark.parametrize(("template", "value", "expected"), CHECKED_WITH_PROMTOOL)
def test_what_promtool_renders(template: str, value: float, expected: str) -> None:
    assert render(template, value) == expected


@pytest.mark.parametrize(("template", "value", "expected"), PRINTF)
def test_printf(template: str, value: float, expected: str) -> None:
    assert render(template, value) == expected


@pytest.mark.parametrize(("template", "value", "expected"), PRINT)
def test_print(template: str, value: float, expected: str) -> None:
    assert render(template, value) == expected


@pytest.mark.parametrize(("template", "value", "expected"), VARIABLES)
def test_variables_and_fields(template: str, value: float, expected: str) -> None:
    assert render(template, value) == expected


@pytest.mark.parametrize(("template", "expected"), LITERALS)
def test_literals(template: str, expected: str) -> None:
    assert render(template) == expected


@pytest.mark.parametrize(("template", "value", "expected"), PIPELINES)
def test_pipelines(template: str, value: float, expected: str) -> None:
    assert render(template, value) == expected


REFUSED: Table = [
    # the module docstring: if, range, query, ... are refused, not guessed
    "{{ if gt $value 1.0 }}high{{ end }}",
    "{{ range $labels }}{{ . }}{{ end }}",
    "{{ with $labels.job }}{{ . }}{{ end }}",
    '{{ define "x" }}x{{ end }}{{ template "x" }}',
    "{{ $x := 1 }}{{ $x }}",
    '{{ query "up" | first | value }}',  # prom "Get value from query"
    '{{ "up" | query }}',
    # functions Prometheus or text/template has and this module does not
    '{{ index $labels "job" }}',
    "{{ $labels.instance | stripDomain }}",
    "{{ externalURL }}",
    # errors in Go, which Prometheus writes into the label as "<error expanding template: ...>"
    "{{ .Foo }}",  # prom "Missing value": no such field in the alert's data
    "{{ $labels.job.name }}",
    '{{ humanize "one" }}',  # prom "Humanize - string with error"
    '{{ humanizeDuration "one" }}',  # prom "HumanizeDuration - string with error"
    '{{ "one" | humanizePercentage }}',  # prom "HumanizePercentage ... string with error"
    "{{ }}",
    pytest.param("{{"),
    pytest.param(
        f"{{{{ humanizeTimestamp {MAX_INT64} }}}}",
    ),
    pytest.param(
        "{{ humanizeTimestamp 1e11 }}",
    ),
    pytest.param(
        "{{ match `a(b` $labels.job }}",
    ),
    pytest.param(
        '{{ reReplaceAll `a(b` "x" $labels.job }}',
    ),
    pytest.param(
        "{{ humanize }}",
    ),
]


@pytest.mark.parametrize("template", REFUSED)
def test_what_is_not_expanded_exactly_is_refused(template: str) -> None:
    """TemplateUnsupported, nothing else: rule loading turns it into a RuleFileError for a label
    and keeps an annotation raw; any other exception would crash the run instead."""
    with pytest.raises(TemplateUnsupported):
        render(template)
