"""The run config: YAML read once into frozen dataclasses that reject unknown keys and wrong types.

Relative paths in a config file are resolved against the file's own folder. Overrides use
dotted keys (`editor.steps=4`), their values parsed as YAML scalars.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from editbench.errors import ConfigError
from editbench.vocabulary import IMAGES, JUDGED_DIMENSIONS


@dataclass(frozen=True)
class SuiteConfig:
    path: str = "../fixtures/sample_suite"
    format: str = "auto"  # auto | native | b64
    language: str = "en"  # en | zh
    name: str | None = None  # display name for a base64 suite (defaults to the file stem)
    templates: str | None = None  # prompt template folder for a base64 suite


@dataclass(frozen=True)
class RunConfig:
    seed: int = 0
    dir: str = "../reports"
    cache_dir: str = "../.editbench-cache"
    cache: bool = True
    name: str | None = None  # run id prefix
    overlap: bool = True  # edit the worker's next case while the judge scores this one


@dataclass(frozen=True)
class EditorConfig:
    backend: str = "identity"  # diffusers | identity | replay
    model: str | None = None  # hub id, local folder, or tiny:<name>
    revision: str | None = None
    pipeline: str = "QwenImageEditPipeline"
    dtype: str = "auto"  # auto | float32 | bfloat16 | float16
    device: str = "auto"  # auto | cpu | cuda
    steps: int = 20
    true_cfg_scale: float | None = 4.0
    guidance_scale: float | None = None
    negative_prompt: str | None = " "
    size: str = "pipeline"  # pipeline | source | <W>x<H>
    max_pixels: int | None = None  # processor cap for Qwen-VL text encoders (pixels)
    replay_dir: str | None = None
    kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class JudgeConfig:
    backend: str = "none"  # qwen-vl | constant | none | <file.py>:<Class>
    model: str | None = None
    revision: str | None = None
    python: str | None = None  # judge interpreter; default: $EDITBENCH_JUDGE_PYTHON or .tox/judge
    method: str = "logit"  # logit | generate
    dtype: str = "auto"
    device: str = "auto"  # auto | cpu | cuda
    gpus: list[str] | None = None  # judge GPU list; default: the worker's own GPU(s)
    images: list[str] = field(default_factory=lambda: list(IMAGES))
    dimensions: list[str] = field(default_factory=lambda: list(JUDGED_DIMENSIONS))
    max_pixels: int = 262144
    max_new_tokens: int = 128
    temperature: float = 0.0
    samples: int = 1
    timeout_s: float = 300.0
    scores: dict = field(default_factory=dict)  # constant backend: fixed score per dimension
    mode: str = "gateway"  # gateway (one judge per worker) | service (one shared endpoint)
    url: str | None = None  # service mode: an OpenAI-compatible endpoint already running
    engine: str = "transformers"  # service mode without url: transformers (serve) | vllm
    api_key_env: str | None = None  # service mode: env var holding the endpoint's API key
    max_request_mb: float = 32.0  # service mode: refuse to send a request larger than this
    serve_args: list[str] = field(
        default_factory=list
    )  # service mode: extra arguments for the started server
    allow_remote: bool = (
        False  # service mode: allow a judge.url that is not on this machine (loopback)
    )


@dataclass(frozen=True)
class Config:
    suite: SuiteConfig = field(default_factory=SuiteConfig)
    run: RunConfig = field(default_factory=RunConfig)
    editor: EditorConfig = field(default_factory=EditorConfig)
    judge: JudgeConfig = field(default_factory=JudgeConfig)
    source: str = "<defaults>"  # the file it was read from (not a YAML key)
    base_dir: str = "."  # relative paths resolve against this (not a YAML key)

    def resolve(self, value: str | None) -> Path | None:
        """A path from the config, resolved against the config file's folder."""
        if value is None:
            return None
        return (Path(self.base_dir) / os.path.expanduser(value)).resolve()

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data.pop("source")
        data.pop("base_dir")
        return data


_SECTIONS = {"suite": SuiteConfig, "run": RunConfig, "editor": EditorConfig, "judge": JudgeConfig}
_CHOICES = {
    "suite.format": ("auto", "native", "b64"),
    "suite.language": ("en", "zh"),
    "editor.dtype": ("auto", "float32", "bfloat16", "float16"),
    "editor.device": ("auto", "cpu", "cuda"),
    "judge.method": ("logit", "generate"),
    "judge.dtype": ("auto", "float32", "bfloat16", "float16"),
    "judge.device": ("auto", "cpu", "cuda"),
    "judge.mode": ("gateway", "service"),
    "judge.engine": ("transformers", "vllm"),
}


def load_config(path: str | os.PathLike | None, overrides: list[str] = ()) -> Config:
    """Read a YAML run config (or the defaults when path is None) and apply `key=value` overrides."""
    data: dict = {}
    source, base_dir = "<defaults>", os.getcwd()
    if path is not None:
        file = Path(path)
        if not file.is_file():
            raise ConfigError(
                f"run config {file}: no such file; pass an existing YAML file to --eb-config"
            )
        data = _read_yaml(file)
        source, base_dir = str(file), str(file.resolve().parent)
    for item in overrides:
        _apply_override(data, item)
    return build_config(data, source=source, base_dir=base_dir)


def _read_yaml(file: Path) -> dict:
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(
            f"{file}{where}: not valid YAML ({problem}); python tags and other "
            "non-plain YAML are refused (safe loading only)"
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{file}: expected a mapping of sections (suite, run, editor, judge)")
    return data


def _apply_override(data: dict, item: str) -> None:
    key, sep, raw = item.partition("=")
    if not sep or "." not in key:
        raise ConfigError(f"--eb-set {item!r}: expected SECTION.KEY=VALUE, e.g. editor.steps=4")
    section, _, name = key.strip().partition(".")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    target = data.setdefault(section, {})
    if not isinstance(target, dict):
        raise ConfigError(f"--eb-set {item!r}: {section} is not a section")
    target[name] = value


def build_config(data: dict, source: str = "<dict>", base_dir: str = ".") -> Config:
    """Validate a plain dict into a Config; every error names the key and the fix."""
    unknown = [k for k in data if k not in _SECTIONS]
    if unknown:
        raise ConfigError(_unknown_key(source, unknown[0], "", _SECTIONS))
    sections = {}
    for name, cls in _SECTIONS.items():
        value = data.get(name) or {}
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: {name}: expected a mapping, got {type(value).__name__}")
        sections[name] = _build_section(cls, value, name, source)
    return Config(**sections, source=source, base_dir=base_dir)


def _build_section(cls: type, values: dict, section: str, source: str) -> Any:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for key, value in values.items():
        if key not in fields:
            raise ConfigError(_unknown_key(source, key, section + ".", fields))
        dotted = f"{section}.{key}"
        kwargs[key] = _check_type(value, hints[key], dotted, source)
        choices = _CHOICES.get(dotted)
        if choices and kwargs[key] not in choices:
            raise ConfigError(f"{source}: {dotted}: {value!r} is not one of {', '.join(choices)}")
    return cls(**kwargs)


def _unknown_key(source: str, key: str, prefix: str, known) -> str:
    close = difflib.get_close_matches(str(key), list(known), n=1)
    hint = f"; did you mean {prefix}{close[0]}?" if close else ""
    return (
        f"{source}: unknown config key {prefix}{key}{hint} "
        f"(known: {', '.join(prefix + k for k in known)})"
    )


def _check_type(value: Any, hint: Any, dotted: str, source: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _check_type(value, inner[0], dotted, source)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if origin is list:
        if not isinstance(value, list):
            value = [value] if isinstance(value, (str, int)) and dotted == "judge.gpus" else value
        if not isinstance(value, list):
            raise ConfigError(_wrong_type(source, dotted, value, "a list"))
        return [_check_type(v, args[0], dotted, source) if args else v for v in value]
    expected = origin or hint
    if (
        expected is str
        and isinstance(value, (int, float))
        and not isinstance(value, bool)
        and dotted == "judge.gpus"
    ):
        return str(value)
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise ConfigError(_wrong_type(source, dotted, value, f"a {expected.__name__}"))
    return value


def _wrong_type(source: str, dotted: str, value: Any, expected: str) -> str:
    return (
        f"{source}: {dotted}: expected {expected}, got {type(value).__name__} {value!r}; "
        f"fix the value in the config or pass --eb-set {dotted}=..."
    )
