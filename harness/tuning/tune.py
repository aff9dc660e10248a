"""``alertdrill tune``: the tuning file's variants over a corpus, scored, marked and written out."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path

import yaml

from harness.engine import check_rules, load_rule_groups
from harness.errors import ConfigurationError
from harness.record import write_json
from harness.tuning.grid import TuningFile, load_tuning_file
from harness.tuning.results import Scored, by_alert, mark, score_all
from harness.tuning.sweep import CorpusRun, RunFirings, read_corpus, sweep
from harness.tuning.variants import Variant, variant_document, variant_groups, variants

DEFAULT_INTERVAL = 15.0  # groups without an interval: prometheus.yml's global one


def plan(grid: TuningFile, base: Path) -> tuple[list[Variant], list[Path]]:
    paths = grid.rule_paths(base)
    groups = load_rule_groups(paths, default_interval=DEFAULT_INTERVAL)
    rules = {r.name: r for g in groups for r in g.alerting_rules}
    chosen: list[Variant] = []
    for name, values in grid.alerts.items():
        if name not in rules:
            close = difflib.get_close_matches(name, list(rules), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigurationError(
                f"alerts.{name}: no alerting rule of that name in {', '.join(map(str, paths))}{hint}"
            )
        chosen += variants(rules[name], values.grid())
    return chosen, paths


def tune(
    corpus_dir: Path,
    grid_path: Path,
    out: Path,
    *,
    workers: int = 2,
    scheduler: str | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> list[Scored]:
    grid = load_tuning_file(grid_path)
    chosen, paths = plan(grid, grid_path.parent)
    groups = variant_groups(load_rule_groups(paths, default_interval=DEFAULT_INTERVAL), chosen)
    out.mkdir(parents=True, exist_ok=True)
    variant_file = out / "variants.yml"
    variant_file.write_text(yaml.safe_dump(variant_document(groups), sort_keys=False), encoding="utf-8")
    check_rules([variant_file])  # promtool's word on every variant
    corpus = read_corpus(corpus_dir)
    found = sweep(corpus, groups, workers=workers, scheduler=scheduler, on_done=progress)
    scored = score_all(chosen, corpus, found, grid.grace)
    mark(scored, grid.constraints)
    write_json(
        out / "tune.json",
        {
            "corpus": str(corpus_dir),
            "runs": [r.folder.name for r in corpus],
            "grid": str(grid_path),
            "grace": grid.grace,
            "constraints": grid.constraints.model_dump(),
            "variants": [s.row() for s in scored],
        },
    )
    write_json(out / "firings.json", firings_document(chosen, corpus, found))
    return scored


def firings_document(chosen: list[Variant], corpus: list[CorpusRun], found: list[RunFirings]) -> dict[str, object]:
    """Every variant's firings per run (seconds since the run's start; null: still firing at
    its end), for analyses the scores do not make (the Workbook notebook scores per scenario)."""
    return {
        v.key: {run.folder.name: fired[v.key] for run, fired in zip(corpus, found, strict=True) if fired.get(v.key)}
        for v in chosen
    }


def apply_recommended(scored: list[Scored], grid_path: Path, out: Path) -> list[Path]:
    """Copies of the rule files with each recommended variant that differs from the configured
    rule in place of it (``--apply``); the files with nothing to change are not copied."""
    from harness.engine import raw_rules
    from harness.tuning.apply import apply

    chosen = [s.variant for s in scored if s.recommended and not s.variant.current]
    written = []
    for path in load_tuning_file(grid_path).rule_paths(grid_path.parent):
        defined = {str(rule.get("alert")) for _, rule in raw_rules(path)}
        mine = [v for v in chosen if v.alert in defined]
        if mine:
            written.append(apply(path, mine, out / f"{path.stem}.tuned{path.suffix}"))
    return written


def _num(value: object, unit: str = "", digits: int = 2) -> str:
    if value is None:
        return "-"
    assert isinstance(value, int | float)
    return f"{value:.{digits}f}{unit}" if isinstance(value, float) else f"{value}{unit}"


def table(scored: list[Scored]) -> str:
    """The terminal's table: per alert, each variant; * the configured one, P on the Pareto
    front, R the recommended one."""
    lines = []
    for alert, items in by_alert(scored).items():
        first = items[0].score
        lines.append(
            f"{alert}: {first.incidents} incidents it is meant for, {first.quiet_seconds / 86400:.2f} quiet days"
        )
        lines.append(
            f"  {'':3} {'variant':44} {'recall':>6} {'prec.':>6} {'false/d':>8} {'detect':>8} {'p95':>7} {'reset':>7}"
        )
        for s in items:
            m = s.score.summary()
            marks = ("*" if s.variant.current else " ") + ("P" if s.pareto else " ") + ("R" if s.recommended else " ")
            lines.append(
                f"  {marks} {s.variant.describe()[:44]:44} {_num(m['recall']):>6} {_num(m['precision']):>6} "
                f"{_num(m['false_per_day']):>8} {_num(m['detection_median'], 's', 0):>8} "
                f"{_num(m['detection_p95'], 's', 0):>7} {_num(m['reset_median'], 's', 0):>7}"
            )
    lines.append(
        "* the rule as configured   P on the Pareto front (recall, false alerts a day, detection)   R recommended"
    )
    return "\n".join(lines)
