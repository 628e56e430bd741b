"""What diffusers exports, and what a pipeline's `__call__` takes, read from its files unimported.

`import diffusers` costs seconds (it imports torch and transformers), and the controller only needs
to know that `editor.pipeline` names a pipeline class and which generation arguments it accepts:
the start-up checks and the edit cache key. diffusers declares every public name in its packages'
`__init__.py` files (`_import_structure`, the table its lazy modules import from), so those
files, parsed with `ast`, say which names exist and in which module each class is defined; that
module's `class` statement gives `__call__`'s parameters.

Anything this cannot read (a layout diffusers may change, a `__call__` inherited from another
package) answers None, and the caller imports diffusers instead: slower, never wrong.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

_TABLE = "_import_structure"


@dataclass(frozen=True)
class CallSignature:
    """The parameter names of a pipeline's `__call__` and whether it takes any keyword (**kwargs)."""

    owner: str
    names: frozenset[str]
    open_ended: bool


def package_dir() -> Path | None:
    """diffusers' installed folder, found without importing it (None when it is not installed)."""
    try:
        spec = importlib.util.find_spec("diffusers")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith("__init__.py"):
        return None
    return Path(spec.origin).parent


def pipeline_names() -> frozenset[str] | None:
    """Every top-level diffusers name ending in `Pipeline` (None: diffusers' table was not found)."""
    root = package_dir()
    table = _table(root / "__init__.py") if root else None
    if not table:
        return None
    return frozenset(n for names in table.values() for n in names if n.endswith("Pipeline"))


def call_signature(name: str) -> CallSignature | None:
    """`__call__`'s parameters of pipeline class `name`, from the file that defines it."""
    root = package_dir()
    found = _find_class(root, name) if root else None
    if found is None:
        return None
    return _call_of(*found, depth=0)


@functools.lru_cache(maxsize=64)
def _table(init: Path) -> dict[str, frozenset[str]] | None:
    """A package `__init__.py`'s `_import_structure`: submodule -> the names it exports.

    Every branch counts (the lists for installed and for missing optional dependencies alike):
    diffusers exports each name either way, as the class or as a placeholder that says what is
    missing when used.
    """
    try:
        tree = ast.parse(init.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None
    table: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        for key, names in _entries(node):
            table.setdefault(key, set()).update(names)
    return {k: frozenset(v) for k, v in table.items()} or None


def _entries(node: ast.AST) -> list[tuple[str, list[str]]]:
    """The (submodule, names) that one statement adds to the table."""
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target, value = node.targets[0], node.value
        if isinstance(target, ast.Name) and target.id == _TABLE and isinstance(value, ast.Dict):
            return [
                (k.value, _strings(v))
                for k, v in zip(value.keys, value.values, strict=True)
                if isinstance(k, ast.Constant) and isinstance(k.value, str)
            ]
        key = _table_key(target)
        return [(key, _strings(value))] if key else []
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        key = _table_key(node.func.value)
        if key and node.func.attr in ("extend", "append") and len(node.args) == 1:
            arg = node.args[0]
            return [(key, _strings(arg) if node.func.attr == "extend" else _strings_of([arg]))]
    return []


def _table_key(node: ast.AST) -> str | None:
    """`_import_structure["key"]` -> "key"."""
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Name)
        and node.value.id == _TABLE
        and isinstance(node.slice, ast.Constant)
        and isinstance(node.slice.value, str)
    ):
        return node.slice.value
    return None


def _strings(node: ast.AST) -> list[str]:
    """The string constants of a list or tuple literal (a computed list reads as none)."""
    return _strings_of(node.elts) if isinstance(node, ast.List | ast.Tuple) else []


def _strings_of(nodes: list[ast.expr]) -> list[str]:
    return [n.value for n in nodes if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _find_class(package: Path, name: str, depth: int = 0) -> tuple[Path, str] | None:
    """(file, class name) of the module that defines `name`, following the packages' tables down."""
    table = _table(package / "__init__.py")
    if table is None or depth > 6:
        return None
    for key in sorted(k for k, names in table.items() if name in names):
        if key.startswith("utils.dummy_"):
            continue  # the placeholder used when a dependency is missing, not the class
        target = package.joinpath(*key.split("."))
        if (target / "__init__.py").is_file():
            found = _find_class(target, name, depth + 1)
        else:
            found = (
                (target.with_suffix(".py"), name) if target.with_suffix(".py").is_file() else None
            )
        if found is not None:
            return found
    return None


def _call_of(path: Path, name: str, depth: int) -> CallSignature | None:
    """The `__call__` of class `name` in `path`, or of a base class defined in the same file or
    imported into it by a relative import."""
    tree = _module(path)
    cls = next(
        (n for n in (tree.body if tree else []) if isinstance(n, ast.ClassDef) and n.name == name),
        None,
    )
    if cls is None or depth > 4:
        return None
    for item in cls.body:
        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and item.name == "__call__":
            return _signature(name, item.args)
    for base in cls.bases:
        if isinstance(base, ast.Name) and base.id not in ("object",):
            origin = _origin(tree, path, base.id)
            found = _call_of(*origin, depth=depth + 1) if origin else None
            if found is not None:
                return CallSignature(name, found.names, found.open_ended)
    return None


@functools.lru_cache(maxsize=64)
def _module(path: Path) -> ast.Module | None:
    try:
        return ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None


def _origin(tree: ast.Module, path: Path, name: str) -> tuple[Path, str] | None:
    """Where a class named in `tree` comes from: this file, or a relative `from .x import name`."""
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return path, name
        if isinstance(node, ast.ImportFrom) and node.level > 0 and node.module:
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    folder = path.parent
                    for _ in range(node.level - 1):
                        folder = folder.parent
                    module = folder.joinpath(*node.module.split("."))
                    return module.with_suffix(".py"), alias.name
    return None


def _signature(owner: str, args: ast.arguments) -> CallSignature:
    """The names `inspect.signature` lists for these arguments (`self` included)."""
    names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
    names += [a.arg for a in (args.vararg, args.kwarg) if a is not None]
    return CallSignature(owner, frozenset(names), args.kwarg is not None)
