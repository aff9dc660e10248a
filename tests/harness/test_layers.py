"""The arrows of the design card hold in the code: imports point one way.

``harness -> sim -> service``; the service knows neither, the simulator no harness; the engine
(``harness/engine``) knows no simulator, no service and nothing of the run around it but the
error hierarchy; code outside the engine uses it through its facade, which lists everything
they use; the PromQL reader (``harness/promql.py``) knows only the errors. Read from the
source with ``ast``, so an import inside a function counts too.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def imports(folder: str) -> list[tuple[Path, int, str, list[str]]]:
    """(file, line, module, names) of every import of our own packages under ``folder`` (or in
    that one file)."""
    found = []
    top = REPO / folder
    for path in [top] if top.is_file() else sorted(top.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((path, node.lineno, node.module, [a.name for a in node.names]))
            elif isinstance(node, ast.Import):
                found += [(path, node.lineno, a.name, []) for a in node.names]
    return [f for f in found if f[2].split(".")[0] in {"harness", "sim", "service", "tests"}]


def offending(folder: str, allowed: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(REPO)}:{line} imports {module}"
        for path, line, module, _ in imports(folder)
        if not any(module == a or module.startswith(a + ".") for a in allowed)
    ]


@pytest.mark.parametrize(
    ("folder", "allowed"),
    [
        ("service", ("service",)),
        ("sim", ("sim", "service")),  # the service's contract (header names), never its insides over HTTP
        ("harness/engine", ("harness.engine", "harness.errors")),
        # notifications build on the engine's timelines, as runs do, and know nothing of runs
        ("harness/notify", ("harness.notify", "harness.engine", "harness.errors")),
        # drills: the live stack's config, Prometheus, watcher and journal; the engine's facade and the errors only
        ("harness/drill", ("harness.drill", "harness.engine", "harness.errors")),
        # a leaf, read by the stack checks and the run layer's plots alike
        ("harness/promql.py", ("harness.errors",)),
    ],
)
def test_imports_point_one_way(folder: str, allowed: tuple[str, ...]) -> None:
    assert offending(folder, allowed) == []


def test_the_layer_check_can_fail() -> None:
    """Negative control: the engine is not allowed what the run layer does."""
    assert offending("harness/engine", ("harness.engine",)) != []  # it does use harness.errors
    assert offending("harness/promql.py", ()) != []  # one file is read too


@pytest.mark.parametrize("package", ["harness.engine", "harness.notify", "harness.drill"])
def test_outside_a_package_only_its_facade_is_used_and_it_is_complete(package: str) -> None:
    """The rest of ``harness`` takes the engine's (and the notifications') names from the package
    itself, whose ``__all__`` lists every one of them (tests may reach inside, to test a helper)."""
    folder = package.replace(".", "/")
    outside = [i for i in imports("harness") if folder not in str(i[0])]
    inside = [
        f"{path.relative_to(REPO)}:{line} imports {names} from {module}"
        for path, line, module, names in outside
        if module.startswith(package + ".")
    ]
    assert inside == []
    facade = importlib.import_module(package)
    exported = set(facade.__all__)
    assert all(hasattr(facade, name) for name in exported)
    used = {n for _, _, module, names in outside if module == package for n in names}
    assert used <= exported


def test_every_package_is_installed() -> None:
    """``pip install .`` ships what pyproject lists: a new subpackage left out of it would be
    missing from every non-editable install (as harness.engine once was)."""
    import tomllib

    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(REPO).parts)
        for top in ("service", "sim", "harness")
        for init in (REPO / top).rglob("__init__.py")
    }
    assert found <= listed, f"not in pyproject's packages: {sorted(found - listed)}"
    assert "harness.report_notebooks" in listed  # the report templates, as package data
