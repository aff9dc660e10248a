"""Rule files as our own reader reads them (without promtool): what Prometheus reads, and nothing that crashes."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.engine import read_rule_groups
from harness.errors import RuleFileError

RULES = """\
groups:
- name: g
  rules:
  - alert: Down
    expr: up == 0
    for: 1m
"""


def _names(path: Path) -> list[str]:
    return [r.name for g in read_rule_groups([path]) for r in g.alerting_rules]


def test_utf16_with_a_byte_order_mark_is_read_as_prometheus_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "rules.yml"
    path.write_bytes(RULES.encode("utf-16"))  # promtool check rules accepts it, and Prometheus loads it
    assert _names(path) == ["Down"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (RULES.replace("Down", "D\xf6wn").encode("latin-1"), ":4: rule file is not UTF-8 text: byte 0xf6"),
        (bytes(range(256)), ":1: rule file holds a NUL byte"),
        (RULES.encode("utf-16-le"), ":1: rule file holds a NUL byte"),
    ],
    ids=["latin-1", "binary", "utf-16-without-bom"],
)
def test_a_rule_file_that_is_not_text_names_the_file_and_line(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "rules.yml"
    path.write_bytes(content)
    with pytest.raises(RuleFileError) as info:
        read_rule_groups([path])
    assert str(info.value).startswith(f"{path}{expected}")


def test_a_rule_file_over_the_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "rules.yml"
    with path.open("w") as f:
        f.write(RULES)
        f.write("# padding\n" * 1_100_000)  # 11 MB
    with pytest.raises(RuleFileError, match=r"rules.yml: rule file is 11 MB \(11,000,073 bytes\); the limit is 10 MB"):
        read_rule_groups([path])


def test_a_missing_rule_file(tmp_path: Path) -> None:
    with pytest.raises(RuleFileError, match=r"nope\.yml: cannot read rule file: .*No such file or directory"):
        read_rule_groups([tmp_path / "nope.yml"])
