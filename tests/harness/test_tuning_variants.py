"""Rule variants (harness.tuning.variants) and the tuning file (harness.tuning.grid)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from harness.engine import AlertingRule, RecordingRule, check_rules, load_rule_groups
from harness.errors import ConfigurationError
from harness.promql import parse, threshold
from harness.tuning.grid import load_tuning_file
from harness.tuning.tune import plan
from harness.tuning.variants import (
    AlertGrid,
    Variant,
    variant_document,
    variant_groups,
    variants,
    with_threshold,
    with_windows,
)

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "config" / "prometheus-alerts.yml"
EXAMPLE = REPO / "tuning" / "example.yaml"


@pytest.fixture(scope="module")
def groups() -> list:
    return load_rule_groups([RULES], default_interval=15.0, check=False)


@pytest.fixture(scope="module")
def rules(groups: list) -> dict[str, AlertingRule]:
    return {r.name: r for g in groups for r in g.alerting_rules}


# --- with_threshold -----------------------------------------------------------------------------


def test_with_threshold_on_high_latency(rules: dict[str, AlertingRule]) -> None:
    expr = rules["HighLatency"].expr
    before = threshold(expr)
    assert before is not None and before.value == 0.025 and before.op == ">"
    new = with_threshold(expr, 0.02)
    after = threshold(new)
    assert after is not None
    assert after.value == 0.02
    assert after.op == before.op
    assert after.signal == before.signal
    assert new == expr.replace(") > 0.025", ") > 0.02")
    parse(new)


def test_with_threshold_changes_only_the_first_comparison(rules: dict[str, AlertingRule]) -> None:
    expr = rules["ModelAccuracyDrop"].expr
    before = threshold(expr)
    assert before is not None and before.value == 0.60 and before.op == "<"
    new = with_threshold(expr, 0.55)
    after = threshold(new)
    assert after is not None
    assert (after.signal, after.op, after.value) == (before.signal, "<", 0.55)
    assert "0.60" not in new
    assert ">= 100" in new
    assert new.replace("0.55", "0.60") == expr


def test_with_threshold_keeps_bool_and_a_plain_expression() -> None:
    assert with_threshold("up == bool 1", 0) == "up == bool 0.0"
    assert with_threshold("rate(x_total[5m]) > 3", 4.5) == "rate(x_total[5m]) > 4.5"
    assert threshold(with_threshold("x > 1e3", 2000)).value == 2000.0  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "expr",
    [
        "up",
        "rate(x_total[5m])",
        "a > b",  # a comparison, but not with a number
        "absent(up{job='x'})",
    ],
)
def test_with_threshold_without_a_threshold_raises(expr: str) -> None:
    with pytest.raises(ConfigurationError):
        with_threshold(expr, 1.0)


# --- with_windows -------------------------------------------------------------------------------


def test_with_windows_on_high_latency(rules: dict[str, AlertingRule]) -> None:
    expr = rules["HighLatency"].expr
    assert "[1m]" in expr
    new = with_windows(expr, {"1m": "2m"})
    assert "[1m]" not in new
    assert new.count("[2m]") == expr.count("[1m]")
    assert new == expr.replace("[1m]", "[2m]")
    assert threshold(new).value == 0.025  # type: ignore[union-attr]


def test_with_windows_everywhere_and_only_the_asked_ones() -> None:
    expr = "rate(a_total[1m]) / rate(b_total[1m]) > 0.1 and rate(c_total[5m]) > 0"
    new = with_windows(expr, {"1m": "30s"})
    assert new == "rate(a_total[30s]) / rate(b_total[30s]) > 0.1 and rate(c_total[5m]) > 0"


def test_with_windows_missing_window_raises(rules: dict[str, AlertingRule]) -> None:
    with pytest.raises(ConfigurationError, match=r"\[5m\]"):
        with_windows(rules["HighLatency"].expr, {"5m": "10m"})
    with pytest.raises(ConfigurationError):
        with_windows(rules["HighCPU"].expr, {"1m": "2m"})  # a recording rule's name: no range here


# --- variants -----------------------------------------------------------------------------------


def test_variants_are_the_product_with_one_current(rules: dict[str, AlertingRule]) -> None:
    rule = rules["HighLatency"]
    grid = AlertGrid((0.02, 0.025, 0.03), (60.0, 120.0), (("1m", ("1m", "2m")),))
    found = variants(rule, grid)
    assert len(found) == 3 * 2 * 2
    assert len({v.key for v in found}) == len(found)
    assert all(v.alert == "HighLatency" and v.key.startswith("HighLatency") for v in found)
    current = [v for v in found if v.current]
    assert len(current) == 1
    assert current[0].expr == rule.expr
    assert (current[0].threshold, current[0].hold, current[0].windows) == (0.025, 120.0, ())
    combos = {(v.threshold, v.hold, v.windows) for v in found}
    assert len(combos) == len(found)
    for v in found:
        t = threshold(v.expr)
        assert t is not None and t.value == v.threshold
        assert ("[2m]" in v.expr) == (v.windows == (("1m", "2m"),))
        assert ("[1m]" in v.expr) == (v.windows == ())


def test_variants_remove_duplicates(rules: dict[str, AlertingRule]) -> None:
    rule = rules["HighLatency"]
    grid = AlertGrid((0.02, 0.02, 0.025), (120.0, 120.0), (("1m", ("1m", "1m")),))
    found = variants(rule, grid)
    assert [(v.threshold, v.hold, v.windows) for v in found] == [(0.02, 120.0, ()), (0.025, 120.0, ())]
    assert [v.current for v in found] == [False, True]


def test_variants_of_an_empty_grid_is_the_rule(rules: dict[str, AlertingRule]) -> None:
    rule = rules["HighCPU"]
    assert variants(rule, AlertGrid()) == [
        Variant("HighCPU", "HighCPU__0", rule.expr, rule.hold, 0.8, (), True),
    ]


def test_variants_append_the_configured_rule_when_the_grid_misses_it(rules: dict[str, AlertingRule]) -> None:
    rule = rules["HighLatency"]
    found = variants(rule, AlertGrid((0.02, 0.03), (60.0,)))
    assert len(found) == 3
    assert [v.current for v in found] == [False, False, True]
    last = found[-1]
    assert (last.expr, last.hold, last.threshold, last.windows) == (rule.expr, rule.hold, 0.025, ())
    assert len({v.key for v in found}) == 3


def test_variants_of_a_rule_without_threshold(rules: dict[str, AlertingRule]) -> None:
    rule = AlertingRule("Down", "absent(up)", 60.0)
    found = variants(rule, AlertGrid(holds=(0.0, 60.0)))
    assert [(v.threshold, v.hold, v.current) for v in found] == [(None, 0.0, False), (None, 60.0, True)]
    with pytest.raises(ConfigurationError, match="Down"):
        variants(rule, AlertGrid(thresholds=(1.0,)))


def test_describe(rules: dict[str, AlertingRule]) -> None:
    found = variants(rules["HighLatency"], AlertGrid((0.02,), (60.0,), (("1m", ("2m",)),)))
    assert found[0].describe() == "threshold 0.02, for 1m, 1m->2m"


# --- the rule files of a sweep ------------------------------------------------------------------


def chosen_variants(rules: dict[str, AlertingRule]) -> list[Variant]:
    return variants(rules["HighLatency"], AlertGrid((0.02, 0.025), (60.0, 120.0), (("1m", ("1m", "2m")),))) + variants(
        rules["ModelAccuracyDrop"], AlertGrid((0.5, 0.6))
    )


def test_variant_groups_keep_the_recording_rules_and_add_one_group_per_alert(
    groups: list, rules: dict[str, AlertingRule]
) -> None:
    chosen = chosen_variants(rules)
    out = variant_groups(groups, chosen)
    recording = [(g.name, r) for g in groups for r in g.rules if isinstance(r, RecordingRule)]
    assert recording, "the configuration has recording rules"
    kept = [(g.name, r) for g in out for r in g.rules if isinstance(r, RecordingRule)]
    assert kept == recording
    assert [g.name for g in out[-2:]] == ["tune-HighLatency", "tune-ModelAccuracyDrop"]
    assert all(not g.alerting_rules for g in out[:-2])
    home = {r.name: g for g in groups for r in g.alerting_rules}
    for g, alert in zip(out[-2:], ("HighLatency", "ModelAccuracyDrop"), strict=True):
        assert g.interval == home[alert].interval
        mine = [v for v in chosen if v.alert == alert]
        assert [(r.name, r.expr, r.hold) for r in g.alerting_rules] == [(v.key, v.expr, v.hold) for v in mine]
        assert all(r.labels == rules[alert].labels for r in g.alerting_rules)
        assert all(isinstance(r, AlertingRule) for r in g.rules)


@pytest.mark.prometheus
def test_variant_document_passes_promtool(groups: list, rules: dict[str, AlertingRule], tmp_path: Path) -> None:
    out = variant_groups(groups, chosen_variants(rules))
    document = variant_document(out)
    path = tmp_path / "variants.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    check_rules([path])
    again = load_rule_groups([path], default_interval=15.0)
    assert [g.name for g in again] == [g.name for g in out]
    assert [[getattr(r, "name", None) or r.record for r in g.rules] for g in again] == [
        [getattr(r, "name", None) or r.record for r in g.rules] for g in out
    ]


# --- the tuning file ----------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "grid.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ConfigurationError) as caught:
        load_tuning_file(path)
    return str(caught.value)


def test_tuning_file_unknown_field(tmp_path: Path) -> None:
    path = write(tmp_path, "alerts:\n  HighLatency:\n    threshold: [0.02]\n    widows: {1m: [2m]}\n")
    message = error_of(path)
    assert f"{path}:4:" in message
    assert "alerts.HighLatency.widows" in message
    assert "unknown field" in message


def test_tuning_file_unknown_top_level_field(tmp_path: Path) -> None:
    path = write(tmp_path, "alerts:\n  HighLatency: {}\ngrease: 5m\n")
    message = error_of(path)
    assert f"{path}:3:" in message and "grease" in message


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        ("alerts:\n  HighLatency:\n    windows: {1m: [5x]}\n", 3, "alerts.HighLatency.windows.1m"),
        ("alerts:\n  HighLatency:\n    windows:\n      5x: [1m]\n", 4, "alerts.HighLatency.windows.5x"),
    ],
)
def test_tuning_file_bad_window(tmp_path: Path, text: str, line: int, field: str) -> None:
    path = write(tmp_path, text)
    message = error_of(path)
    assert f"{path}:{line}:" in message
    assert f"field {field}" in message


@pytest.mark.parametrize("value", ["-1m", "-60"])
def test_tuning_file_negative_for(tmp_path: Path, value: str) -> None:
    path = write(tmp_path, f"alerts:\n  HighLatency:\n    threshold: [0.02]\n    for:\n      - 1m\n      - {value}\n")
    message = error_of(path)
    assert f"{path}:" in message
    assert "alerts.HighLatency.for" in message
    line = message.split(f"{path}:", 1)[1].split(":", 1)[0]
    assert line in {"5", "6"}


def test_tuning_file_needs_alerts(tmp_path: Path) -> None:
    assert "alerts" in error_of(write(tmp_path, "grace: 5m\n"))
    assert "alerts" in error_of(write(tmp_path, "alerts: {}\n"))
    assert f"{tmp_path / 'grid.yaml'}" in error_of(write(tmp_path, "alerts: [\n"))


def test_tuning_file_values(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "rules: [a.yml, sub/b.yml]\ngrace: 5m\nconstraints: {min_recall: 0.9}\n"
        "alerts:\n  X:\n    threshold: [1, 2.5]\n    for: [0s, 90s, 2m]\n    windows: {5m: [1m, 10m]}\n",
    )
    grid = load_tuning_file(path)
    assert grid.grace == 300.0
    assert grid.constraints.min_recall == 0.9
    assert grid.constraints.max_false_per_day == pytest.approx(1 / 7)
    assert grid.rule_paths(tmp_path) == [(tmp_path / "a.yml").resolve(), (tmp_path / "sub" / "b.yml").resolve()]
    assert grid.alerts["X"].grid() == AlertGrid((1.0, 2.5), (0.0, 90.0, 120.0), (("5m", ("1m", "10m")),))


@pytest.mark.prometheus
def test_the_example_tuning_file(rules: dict[str, AlertingRule]) -> None:
    grid = load_tuning_file(EXAMPLE)
    assert grid.rule_paths(EXAMPLE.parent) == [RULES.resolve()]
    assert set(grid.alerts) <= set(rules)
    chosen, paths = plan(grid, EXAMPLE.parent)
    assert paths == [RULES.resolve()]
    expected = 0
    for name, values in grid.alerts.items():
        g = values.grid()
        size = max(len(set(g.thresholds)), 1) * max(len(set(g.holds)), 1)
        size *= math.prod(len(set(tried)) for _, tried in g.windows)
        for e in g.expressions:  # each combination of its params, at its own `for` or each of the grid's
            size += math.prod(len(v) for _, v in e.params) * (1 if e.hold is not None else max(len(set(g.holds)), 1))
        mine = [v for v in chosen if v.alert == name]
        assert sum(v.current for v in mine) == 1, name
        assert len(mine) == size, name  # the file's grids all include the configured values
        expected += size
    assert len(chosen) == expected == 5 * 3 * 2 + 4 * 3 + 3 * 3 + 2 * 2 * 3
    assert len({v.key for v in chosen}) == len(chosen)


# --- whole expressions, templated ---------------------------------------------------------------


def _expression_grid(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "grid.yaml"
    path.write_text(f"rules: {RULES}\nalerts:\n  HighErrorRate:\n{body}", encoding="utf-8")
    return path


def test_a_templated_expression_gives_one_variant_per_combination(tmp_path: Path) -> None:
    grid = _expression_grid(
        tmp_path,
        "    expressions:\n"
        "      - name: burn ${burn}x over ${window}\n"
        "        expr: job:prediction_api_errors:ratio_rate${window} > ${burn} * 0.001\n"
        "        params: {window: [1h, 6h], burn: [6, 14.4]}\n"
        "        for: 2m\n",
    )
    chosen, _ = plan(load_tuning_file(grid), tmp_path)
    tried = [v for v in chosen if v.expression is not None]
    assert [v.describe() for v in tried] == [
        "burn 6x over 1h, for 2m",
        "burn 14.4x over 1h, for 2m",
        "burn 6x over 6h, for 2m",
        "burn 14.4x over 6h, for 2m",
    ]
    assert tried[1].expr == "job:prediction_api_errors:ratio_rate1h > 14.4 * 0.001"
    assert all(v.hold == 120.0 and not v.current and v.threshold is None for v in tried)
    assert sum(v.current for v in chosen) == 1  # the configured rule is scored beside them
    groups = variant_groups(load_rule_groups([RULES], default_interval=15.0, check=False), chosen)
    written = tmp_path / "variants.yml"
    written.write_text(yaml.safe_dump(variant_document(groups), sort_keys=False), encoding="utf-8")
    check_rules([written])  # promtool accepts every one


def test_an_expression_without_its_own_for_takes_the_grids(tmp_path: Path) -> None:
    grid = _expression_grid(
        tmp_path,
        "    for: [0s, 5m]\n"
        "    expressions:\n"
        "      - {name: ten minutes, expr: 'job:prediction_api_errors:ratio_rate5m >= 0.001'}\n",
    )
    chosen, _ = plan(load_tuning_file(grid), tmp_path)
    assert [(v.expression, v.hold) for v in chosen if v.expression] == [("ten minutes", 0.0), ("ten minutes", 300.0)]


def test_the_configured_expression_tried_again_is_scored_once_as_the_configured_rule(
    tmp_path: Path, rules: dict[str, AlertingRule]
) -> None:
    rule = rules["HighErrorRate"]
    expr = rule.expr.replace("\n", " ").replace("'", "''")
    grid = _expression_grid(
        tmp_path,
        f"    expressions:\n      - name: as configured\n        expr: '{expr}'\n        for: {rule.hold:g}s\n",
    )
    chosen, _ = plan(load_tuning_file(grid), tmp_path)
    assert len(chosen) == 1 and chosen[0].current and chosen[0].expression == "as configured"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{name: x, expr: 'up > ${missing}'}", r"placeholder \$\{missing\} has no value"),
        ("{name: x, expr: 'up > 1', params: {burn: [1, 2]}}", "params.burn is not used"),
        ("{name: x, expr: 'up > > 1'}", "'x': not PromQL"),
        ("{name: x, expr: 'up > ${w}', params: {win: [1]}}", "params.win is not used"),
        ("{name: a, expr: 'up > 1'}\n      - {name: b, expr: 'up>1'}", "'b' is 'a' again"),
    ],
)
def test_a_bad_expression_is_a_configuration_error_naming_it(tmp_path: Path, entry: str, message: str) -> None:
    grid = _expression_grid(tmp_path, f"    expressions:\n      - {entry}\n")
    with pytest.raises(ConfigurationError, match=message):
        plan(load_tuning_file(grid), tmp_path)


def test_only_braced_placeholders_are_replaced(tmp_path: Path) -> None:
    """A regex anchor and label_replace's $1 are PromQL's own dollars: left as written."""
    grid = _expression_grid(
        tmp_path,
        "    expressions:\n"
        "      - name: over ${level}\n"
        "        expr: >-\n"
        '          label_replace(up{job=~"pred.*$"}, "j", "$1", "job", "(.*)") > ${level}\n'
        "        params: {level: [0, 1]}\n",
    )
    chosen, _ = plan(load_tuning_file(grid), tmp_path)
    assert [v.expr for v in chosen if v.expression] == [
        'label_replace(up{job=~"pred.*$"}, "j", "$1", "job", "(.*)") > 0',
        'label_replace(up{job=~"pred.*$"}, "j", "$1", "job", "(.*)") > 1',
    ]


def test_an_unknown_field_of_an_expression_names_its_line(tmp_path: Path) -> None:
    grid = _expression_grid(tmp_path, "    expressions:\n      - name: x\n        expr: up > 1\n        param: {}\n")
    with pytest.raises(ConfigurationError, match=r"grid.yaml:7: field alerts.HighErrorRate.expressions.0.param"):
        load_tuning_file(grid)
