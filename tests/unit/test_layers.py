"""Imports go downward only: `protocols` is data (it imports neither `judging` nor `reporting`),
and `judging` and `reporting` never import each other. Read from the source, lazy imports
inside functions included, so a circle hidden by a late import still fails."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "editbench"
FORBIDDEN = {
    "protocols": ("editbench.judging", "editbench.reporting"),
    "reporting": ("editbench.judging",),
    "judging": ("editbench.reporting",),
}


def imported(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def crossings(layer: str) -> list[str]:
    out = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for name in sorted(imported(path)):
            if name.startswith(FORBIDDEN[layer]):
                out.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    return out


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_only_downward(layer):
    assert crossings(layer) == []


def test_the_check_sees_a_lazy_import_inside_a_function(tmp_path):
    module = tmp_path / "late.py"
    module.write_text("def f():\n    from editbench.judging import scoring\n", encoding="utf-8")
    assert "editbench.judging" in imported(module)


def test_from_editbench_import_judging_counts_as_importing_it(tmp_path):
    module = tmp_path / "bare.py"
    module.write_text("from editbench import judging\n", encoding="utf-8")
    assert "editbench.judging" in imported(module)
