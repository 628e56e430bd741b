"""Read a protocol: a built-in name (editbench, gedit, imgedit, kris, rise) or a YAML file.

The file is read here (built-in or the user's, `extends` resolved, template paths made absolute,
the content hashed); `build` turns its data into the model and checks it. Every problem is one
`ConfigError` naming the file, the key and the fix. A user's file may start from a built-in
(`extends: imgedit`) and replace the prompt of some asks (`templates: {ask id: ...}`), e.g.
with the benchmark's own prompt file as downloaded.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
from pathlib import Path
from typing import Any

import yaml

from editbench.errors import ConfigError
from editbench.protocols import model as m
from editbench.protocols.build import build_protocol, unknown

BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"
DEFAULT = "editbench"  # SC / PQ / O / criterion, with the suite's own templates
BUILTIN = (DEFAULT, "gedit", "imgedit", "kris", "kris-explained", "rise")


def protocol_name(value: str) -> str:
    """The name a config's judge.protocol stands for (a file's stem for a path)."""
    return value if value in BUILTIN else Path(value).stem


def load_protocol(config) -> m.Protocol:
    """The protocol `judge.protocol` names, as its file says (`choice.run_protocol` fits it to
    the run's config and suite)."""
    value = config.judge.protocol
    if value in BUILTIN:
        return builtin(value)
    path = config.resolve(value)
    if not path.is_file():
        close = difflib.get_close_matches(value, list(BUILTIN), n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise ConfigError(
            f"{config.source}: judge.protocol {value!r}: no such protocol file ({path}){hint} "
            f"(built-in: {', '.join(BUILTIN)}, or a path to a protocol YAML file)"
        )
    return read_protocol(path, source=str(path))


def builtin(name: str) -> m.Protocol:
    return read_protocol(BUILTIN_DIR / f"{name}.yaml", source=f"builtin:{name}")


def read_protocol(path: Path, source: str | None = None) -> m.Protocol:
    data = _read_yaml(path)
    files: list[Path] = [path]
    if "extends" in data:
        data = _extend(data, path, files)
    else:
        _refuse(data, "templates", path, "templates: only with extends: <built-in name>")
        data = _absolute_templates(data, path.parent)
    protocol = build_protocol(data, str(path), source or str(path))
    files += [ask.template_file for ask in protocol.asks if ask.template_file is not None]
    return with_hash(protocol, files)


def protocol_from_spec(spec: dict[str, Any], where: str = "run.json protocol") -> m.Protocol:
    """A protocol recorded in run.json, rebuilt for the reports (templates are not read again)."""
    return build_protocol(spec, where, where, check_templates=False)


# -- reading -------------------------------------------------------------------------------------


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"protocol {path}: cannot read it as YAML ({problem})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"protocol {path}: expected a mapping with name, asks and aggregate")
    return data


def _extend(data: dict[str, Any], path: Path, files: list[Path]) -> dict[str, Any]:
    """A built-in protocol with some asks' prompts replaced (`templates: {ask id: template}`)."""
    base_name = data["extends"]
    if base_name not in BUILTIN:
        raise ConfigError(
            f"protocol {path}: extends {base_name!r}: not a built-in protocol "
            f"(one of {', '.join(BUILTIN)})"
        )
    extra = set(data) - {"extends", "templates", "name", "title"}
    if extra:
        raise ConfigError(
            f"protocol {path}: with extends, only name, title and templates may be given "
            f"(found {', '.join(sorted(extra))}); copy the built-in file to change more"
        )
    base_path = BUILTIN_DIR / f"{base_name}.yaml"
    files.append(base_path)
    base = _absolute_templates(_read_yaml(base_path), BUILTIN_DIR)
    replaced = data.get("templates") or {}
    if not isinstance(replaced, dict):
        raise ConfigError(f"protocol {path}: templates: expected a mapping of ask id -> template")
    ids = [ask["id"] for ask in base["asks"]]
    for ask_id, template in replaced.items():
        if ask_id not in ids:
            raise ConfigError(unknown(path, f"templates.{ask_id}", ask_id, ids, "ask id"))
        ask = base["asks"][ids.index(ask_id)]
        ask["template"] = _absolute_template(template, path.parent)
    base["name"] = data.get("name", f"{base_name}-custom")
    base["title"] = data.get("title", base.get("title", base_name))
    return base


def _absolute_templates(data: dict[str, Any], folder: Path) -> dict[str, Any]:
    data = copy.deepcopy(data)
    for ask in data.get("asks") or []:
        if isinstance(ask, dict) and "template" in ask:
            ask["template"] = _absolute_template(ask["template"], folder)
    return data


def _absolute_template(template: Any, folder: Path) -> Any:
    if isinstance(template, str):
        return str((folder / template).resolve())
    if isinstance(template, dict) and isinstance(template.get("file"), str):
        return {**template, "file": str((folder / template["file"]).resolve())}
    return template


def with_hash(protocol: m.Protocol, files: list[Path]) -> m.Protocol:
    """The protocol with its sha256: of its files, after any hash it had (templates read later)."""
    digest = hashlib.sha256(protocol.sha256.encode())
    for file in files:
        digest.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
    return m.Protocol(**{**protocol.__dict__, "sha256": digest.hexdigest()})


def _refuse(data: dict, key: str, where: Any, why: str) -> None:
    if key in data:
        raise ConfigError(f"protocol {where}: {why}")
