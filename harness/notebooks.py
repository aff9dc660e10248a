"""Executed report notebooks: a run folder's ``report.ipynb``, a suite's ``analysis.ipynb`` and the
trading desk's ``business_review.ipynb`` (of a run, or of a suite's runs).

The templates live in ``notebooks/``; their cell tagged ``parameters`` is replaced with the
values for this run (papermill's convention, without papermill), then nbclient executes the
notebook in a fresh kernel and the result — plots included — is saved beside the data it
read, so a suite's reports open without re-running anything.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
from pathlib import Path

from harness.errors import ConfigurationError, EngineError

# The templates: installed as package data beside this module, or notebooks/ of a source tree.
_INSTALLED = Path(__file__).resolve().parent / "report_notebooks"
NOTEBOOKS = _INSTALLED if _INSTALLED.is_dir() else Path(__file__).resolve().parents[1] / "notebooks"
TIMEOUT = 300  # seconds per cell
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")  # IPython colours its tracebacks (CSI sequences)
# The report extra (pyproject.toml): what executing a template imports, here or in its kernel.
REPORT_MODULES = ("nbformat", "nbclient", "ipykernel", "matplotlib", "pandas")


def require_report_stack() -> None:
    """Fail before a run simulates for minutes, not after, when the report extra is not installed."""
    missing = [m for m in REPORT_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise ConfigurationError(
            f"reports need {', '.join(missing)}: pip install 'alertdrill[report]' (or run without reports)"
        )


def execute(template: Path, parameters: dict[str, object], out: Path) -> Path:
    """Execute ``template`` with ``parameters`` (cwd: the output's folder) and write it to ``out``."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    if not template.is_file():
        raise ConfigurationError(f"{template}: report notebook template not found")
    nb = nbformat.read(template, as_version=4)  # type: ignore[no-untyped-call]
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if not cells:
        raise ConfigurationError(f"{template}: no cell tagged 'parameters'")
    cells[0].source = "# Parameters (injected by alertdrill)\n" + "\n".join(
        f"{name} = {value!r}" for name, value in parameters.items()
    )
    client = NotebookClient(
        nb, timeout=TIMEOUT, kernel_name="python3", resources={"metadata": {"path": str(out.parent)}}
    )
    try:
        client.execute(stderr=subprocess.DEVNULL)  # the kernel's own log (a TCP warning per report)
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
        _save(nb, out)  # keep the partial notebook: its traceback says what went wrong
        text = _ANSI.sub("", str(exc)).strip()
        raise EngineError(f"{out}: report notebook failed: {text.splitlines()[-1] if text else exc}") from exc
    _save(nb, out)
    return out


def _save(nb: object, out: Path) -> None:
    """Written beside ``out``, then renamed over it: an interrupt never leaves half a notebook."""
    import nbformat

    staging = out.with_name(f".{out.name}.partial-{os.getpid()}")
    try:
        nbformat.write(nb, staging)  # type: ignore[no-untyped-call]
        os.replace(staging, out)
    finally:
        staging.unlink(missing_ok=True)


def run_report(run_folder: Path) -> Path:
    # The kernel's cwd is the run folder: the notebook names it ".", so no absolute path is stored.
    return execute(NOTEBOOKS / "run_report.ipynb", {"run_folder": "."}, run_folder / "report.ipynb")


def suite_analysis(suite_folders: list[Path], out: Path) -> Path:
    folders = [_relative(f, out.parent) for f in suite_folders]  # the kernel's cwd is out's folder
    return execute(NOTEBOOKS / "suite_analysis.ipynb", {"suite_folders": folders}, out)


def business_review(runs: list[Path], out: Path) -> Path:
    """The trading desk's daily review (P&L attribution and correlation, adoption, false positives, cost
    per prediction, against the seed's KPIs) of ``runs``, each reviewed on its own and then together."""
    folders = [_relative(f, out.parent) for f in runs]  # the kernel's cwd is out's folder
    return execute(NOTEBOOKS / "daily_business_review.ipynb", {"runs": folders}, out)


def tuning_report(out: Path) -> Path:
    """What ``alertdrill tune`` measured, plotted from the ``tune.json`` beside it."""
    return execute(NOTEBOOKS / "tuning.ipynb", {"tune_json": "tune.json"}, out / "tuning.ipynb")


def workbook_report(out: Path, corpus: Path, grace: float) -> Path:
    """The SRE Workbook's table (chapter 5) measured by ``alertdrill tune`` in ``out`` over ``corpus``."""
    parameters = {"tune_dir": ".", "corpus": _relative(corpus, out), "grace": grace}
    return execute(NOTEBOOKS / "workbook_slo.ipynb", parameters, out / "workbook_slo.ipynb")


def _relative(folder: Path, start: Path) -> str:
    """``folder`` as seen from ``start`` (the executed notebook stores no absolute path), if it can be."""
    try:
        return os.path.relpath(folder.resolve(), start.resolve())
    except ValueError:  # another drive (Windows): no relative path exists
        return str(folder.resolve())
