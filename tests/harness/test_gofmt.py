"""Go's float64 formatting, which Prometheus' templates print: ``{{ $value }}`` is ``%v`` and the
``humanize*`` functions use ``%.4g``. An alert's labels are its identity, so one character of
difference (``1e+06`` against Python's ``1000000.0``) is a different alert.

Expected strings are Go's own, from golang/go: the rows of ``src/strconv/ftoa_test.go``
(``FormatFloat(f, 'g', prec, 64)``; ``%v`` of a float64 is ``'g'`` with the shortest precision)
and of ``src/fmt/fmt_test.go``. A row marked "derived" is not in those tables; the rule it
follows is quoted beside it.
"""

from __future__ import annotations

import math

import pytest

from harness.engine.gofmt import format_g, format_v

SHORTEST = [
    # strconv/ftoa_test.go, {f, 'g', -1, s}:
    (1.0, "1"),
    (20.0, "20"),
    (12.0, "12"),
    (32.0, "32"),
    (-1.0, "-1"),
    (0.0, "0"),
    (200000.0, "200000"),
    (2000000.0, "2e+06"),
    (1234567.8, "1.2345678e+06"),
    (123456700.0, "1.234567e+08"),
    (1e23, "1e+23"),
    (99999999999999974834176.0, "9.999999999999997e+22"),  # below1e23
    (100000000000000008388608.0, "1.0000000000000001e+23"),  # above1e23
    (5e-324, "5e-324"),  # fdiv(5e-304, 1e20)
    (-5e-324, "-5e-324"),
    (2.2250738585072012e-308, "2.2250738585072014e-308"),
    (2.2250738585072011e-308, "2.225073858507201e-308"),
    (383260575764816448.0, "3.8326057576481645e+17"),  # issue 2625
    (-5.8339553793802237e23, "-5.8339553793802237e+23"),  # issue 29491
    (math.nan, "NaN"),
    (-math.nan, "NaN"),
    (math.inf, "+Inf"),
    (-math.inf, "-Inf"),
    # fmt/fmt_test.go, {"%g", f, s} (%g without a precision is the shortest 'g', as %v is):
    (1234.5678e-8, "1.2345678e-05"),
    (-7.0, "-7"),
    (-1e-9, "-1e-09"),
    (1.23456789e3, "1234.56789"),
    (1.23456789e-3, "0.00123456789"),
    (1.23456789e20, "1.23456789e+20"),
    (1.2345678, "1.2345678"),  # {"%v", 1.2345678, "1.2345678"}
    (1000000.0, "1e+06"),  # {"%#v", 1000000.0, "1e+06"}: whole floats, issue 27634
    # derived: strconv's 'g' uses %e "if the exponent is less than -4 or greater than or equal to
    # the precision", and for the shortest precision "use precision 6 for this decision":
    (1e-05, "1e-05"),
    (0.0001, "0.0001"),
    (0.00012345, "0.00012345"),
    (9.9999e-05, "9.9999e-05"),
    (0.1, "0.1"),
    (100000.0, "100000"),
    (999999.0, "999999"),
    (999999.9, "999999.9"),
    (123456.7, "123456.7"),
    (1234567.0, "1.234567e+06"),
    (1e21, "1e+21"),
    (1e100, "1e+100"),
    (1.7976931348623157e308, "1.7976931348623157e+308"),
    # derived: strconv keeps the sign bit of zero (ftoa.go: neg := bits>>(expbits+mantbits) != 0):
    (-0.0, "-0"),
]

PRECISION = [
    # strconv/ftoa_test.go, {f, 'g', prec, s}; "g conversion and zero suppression":
    (400.0, 2, "4e+02"),
    (40.0, 2, "40"),
    (4.0, 2, "4"),
    (0.4, 2, "0.4"),
    (0.04, 2, "0.04"),
    (0.004, 2, "0.004"),
    (0.0004, 2, "0.0004"),
    (0.00004, 2, "4e-05"),
    (0.000004, 2, "4e-06"),
    (0.0, 5, "0"),
    (1.0, 5, "1"),
    (-1.0, 5, "-1"),
    (12.0, 5, "12"),
    (123456700.0, 5, "1.2346e+08"),
    (1.2345e6, 5, "1.2345e+06"),
    (1e23, 17, "9.9999999999999992e+22"),
    (32.0, 0, "3e+01"),
    # fmt/fmt_test.go, float infinities and NaN ({"% +20g", negInf, ...} without the padding):
    (math.nan, 4, "NaN"),
    (math.inf, 4, "+Inf"),
    (-math.inf, 4, "-Inf"),
    # derived, %.4g as humanize uses it: the same exponent rule with precision 4,
    # ties rounded to even on the exact binary value (strconv/ftoaryu.go, formatDecimal):
    (1e-05, 4, "1e-05"),
    (1e6, 4, "1e+06"),
    (1234.0, 4, "1234"),
    (12345.0, 4, "1.234e+04"),
    (12355.0, 4, "1.236e+04"),
    (1.2345, 4, "1.234"),  # prometheus/common helpers/templates: humanizeDuration(1.2345) is "1.234s"
    (12.345, 4, "12.35"),  # ... and humanizeDuration(12.345) is "12.35s"
    (-0.0, 4, "-0"),
]


@pytest.mark.parametrize(("value", "expected"), SHORTEST, ids=[e for _, e in SHORTEST])
def test_format_v_is_gos_shortest_g(value: float, expected: str) -> None:
    assert format_v(value) == expected


@pytest.mark.parametrize(("value", "precision", "expected"), PRECISION, ids=[f"{e}-p{p}" for _, p, e in PRECISION])
def test_format_g_is_gos_g_with_a_precision(value: float, precision: int, expected: str) -> None:
    assert format_g(value, precision) == expected


@pytest.mark.parametrize("value", [v for v, _ in SHORTEST if math.isfinite(v)], ids=str)
def test_format_v_reads_back_as_the_same_float(value: float) -> None:
    """Shortest means shortest that still round-trips: ``strconv.ParseFloat`` (and Python's
    ``float``) of the text is the same float64, sign of zero included."""
    back = float(format_v(value))
    assert back == value and math.copysign(1, back) == math.copysign(1, value)
