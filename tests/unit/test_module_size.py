"""No module of the package is over 400 lines without its docstring saying why (issue 25): a long
file is a choice a reader is told about, not an accident."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "editbench"
LIMIT = 400


def unexplained(path: Path) -> bool:
    """Over the limit, and its docstring does not name the limit with its reason."""
    text = path.read_text(encoding="utf-8")
    if len(text.splitlines()) <= LIMIT:
        return False
    docstring = ast.get_docstring(ast.parse(text)) or ""
    return f"over {LIMIT} lines" not in docstring.lower()


def test_every_long_module_says_why():
    long_ones = [str(p.relative_to(PACKAGE.parent)) for p in sorted(PACKAGE.rglob("*.py"))]
    assert [p for p in long_ones if unexplained(PACKAGE.parent / p)] == []


def test_a_long_module_without_its_reason_is_found(tmp_path):
    module = tmp_path / "long.py"
    module.write_text('"""A module."""\n' + "x = 1\n" * LIMIT, encoding="utf-8")
    assert unexplained(module)
    module.write_text('"""A module, over 400 lines because ..."""\n' + "x = 1\n" * LIMIT)
    assert not unexplained(module)
