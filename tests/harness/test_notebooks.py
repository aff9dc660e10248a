"""The notebook templates run on today's libraries: no error, and no deprecation warning (the API that
warns today is gone in the next release: matplotlib 3.13 drops boxplot's ``vert=``)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from harness.notebooks import NOTEBOOKS, suite_analysis

DEPRECATED = {"boxplot": {"vert"}, "violinplot": {"vert"}, "bxp": {"vert"}}


def _code(notebook: Path) -> str:
    cells = json.loads(notebook.read_text())["cells"]
    lines = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    return "\n".join(line for cell in lines for line in cell.splitlines() if not line.lstrip().startswith(("%", "!")))


@pytest.mark.parametrize("notebook", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_no_template_calls_matplotlib_with_a_deprecated_argument(notebook: Path) -> None:
    calls = [n for n in ast.walk(ast.parse(_code(notebook))) if isinstance(n, ast.Call)]
    used = [
        f"{n.func.attr}({k.arg}=...)"
        for n in calls
        if isinstance(n.func, ast.Attribute)
        for k in n.keywords
        if k.arg in DEPRECATED.get(n.func.attr, set())
    ]
    assert used == [], f"{notebook.name}: {used} (use orientation='horizontal' or 'vertical')"


def test_no_template_keeps_outputs() -> None:
    for notebook in NOTEBOOKS.glob("*.ipynb"):
        cells = json.loads(notebook.read_text())["cells"]
        assert not [c for c in cells if c.get("outputs") or c.get("execution_count")], notebook.name


def _verdict(scenario: str, seed: int, delays: list[tuple[str, float, float | None]]) -> dict[str, object]:
    expectations = [
        {"expected": f"{a} fires", "alert": a, "passed": True, "fired_after": f, "resolved_after": r}
        for a, f, r in delays
    ]
    return {"scenario": scenario, "seed": seed, "passed": True, "expectations": expectations}


def test_the_suite_analysis_plots_detection_delays_without_warnings(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    for seed in (0, 1):
        run = suite / f"spike-seed{seed}"
        run.mkdir(parents=True)
        delays = [("HighLatency", 150.0 + seed, 90.0), ("SLOBurn", 300.0 - seed, None)]
        (run / "verdict.json").write_text(json.dumps(_verdict("spike", seed, delays)))
    out = suite_analysis([suite], tmp_path / "analysis.ipynb")
    outputs = [o for c in json.loads(out.read_text())["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
    assert [o for o in outputs if o["output_type"] == "error"] == []
    stderr = json.dumps([o["text"] for o in outputs if o.get("name") == "stderr"])  # where warnings go
    assert "MatplotlibDeprecationWarning" not in stderr, stderr
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 2
