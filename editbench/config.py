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

HUB_SCHEME = "hf://"
LAYOUTS = ("gedit", "imgedit", "kris", "rise")


@dataclass(frozen=True)
class SuiteConfig:
    path: str = "../fixtures/sample_suite"
    format: str = "auto"  # auto | native | b64 | gedit | imgedit | kris | rise
    language: str | list[str] = "en"  # en | zh, or a preference list: [en, zh]
    name: str | None = None  # display name (base64 and published benchmarks)
    templates: str | None = None  # prompt template folder (suites without suite.yaml)
    images: str | None = None  # image root when the manifest is elsewhere (imgedit, rise)
    categories: list[dict] = field(default_factory=list)  # a base64 suite's {key, names, criterion}


@dataclass(frozen=True)
class RunConfig:
    seed: int = 0
    dir: str = "reports"  # beside the config file (benchmarks/*.yaml name ../reports)
    cache_dir: str = ".editbench-cache"
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
    replay_layout: str | None = None  # gedit | imgedit | kris | rise: read edits in that layout
    kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class JudgeConfig:
    backend: str = "none"  # qwen-vl | constant | none | <file.py>:<Class>
    model: str | None = None
    revision: str | None = None
    python: str | None = None  # judge interpreter; default: $EDITBENCH_JUDGE_PYTHON or .tox/judge
    method: str = "logit"  # logit | generate
    protocol: str = "editbench"  # editbench | gedit | imgedit | kris | rise | path/to/protocol.yaml
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
    min_digit_mass: float = 0.5  # logit: less probability on score tokens fails (low-digit-mass)
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
    fast_decode: str = "auto"  # gateway generate: static KV cache + compiled step (auto: on CUDA)
    stop_at_answer: bool = True  # generate: stop writing once the answer's format is complete
    continuous_batching: bool = True  # service mode, engine transformers: serve with it
    server_python: str | None = None  # service mode, engine vllm: the interpreter that has vllm
    gpu_memory_utilization: float = 0.45  # engine vllm: its share of the GPU (room for the editor)
    max_model_len: int = 16384  # engine vllm: longest prompt + answer, in tokens


@dataclass(frozen=True)
class Config:
    suite: SuiteConfig = field(default_factory=SuiteConfig)
    run: RunConfig = field(default_factory=RunConfig)
    editor: EditorConfig = field(default_factory=EditorConfig)
    judge: JudgeConfig = field(default_factory=JudgeConfig)
    source: str = "<defaults>"  # the file it was read from (not a YAML key)
    base_dir: str = "."  # relative paths resolve against this (not a YAML key)
    overrides: tuple[str, ...] = ()  # the --eb-set items applied over the file (not a YAML key)

    def origin(self, dotted: str) -> str:
        """Where `dotted` (or the mapping holding it) was set: `--eb-set=ITEM`, else the file."""
        return set_by(self.overrides, dotted) or self.source

    def resolve(self, value: str | None) -> Path | None:
        """A path from the config, resolved against the config file's folder."""
        if value is None:
            return None
        if value.startswith(HUB_SCHEME):
            return Path(value)  # a hub data set, not a path: left for the suite reader
        return (Path(self.base_dir) / os.path.expanduser(value)).resolve()

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data.pop("source")
        data.pop("base_dir")
        data.pop("overrides")
        return data


_SECTIONS = {"suite": SuiteConfig, "run": RunConfig, "editor": EditorConfig, "judge": JudgeConfig}
_CHOICES = {
    "suite.format": ("auto", "native", "b64", *LAYOUTS),
    "editor.replay_layout": LAYOUTS,
    "suite.language": ("en", "zh"),
    "editor.dtype": ("auto", "float32", "bfloat16", "float16"),
    "editor.device": ("auto", "cpu", "cuda"),
    "judge.method": ("logit", "generate"),
    "judge.dtype": ("auto", "float32", "bfloat16", "float16"),
    "judge.device": ("auto", "cpu", "cuda"),
    "judge.mode": ("gateway", "service"),
    "judge.engine": ("transformers", "vllm"),
    "judge.fast_decode": ("auto", "on", "off"),
}


def load_config(
    path: str | os.PathLike | None, overrides: list[str] = (), for_run: bool = False
) -> Config:
    """Read a YAML run config (or the defaults when path is None) and apply `key=value` overrides.

    `for_run`: the config drives a run, so it must name its editor and its judge (`NAMED_PARTS`):
    left out, they would be the no-edit editor and no judge, and the run would pass in silence.
    """
    data: dict = {}
    source, base_dir = "<defaults>", os.getcwd()
    if path is not None:
        file = Path(path)
        if not file.is_file():
            raise ConfigError(
                f"run config {file}: no such file; name an existing YAML file "
                "(pytest --eb-config=PATH, or editbench validate CONFIG)"
            )
        data = _read_yaml(file)
        source, base_dir = str(file), str(file.resolve().parent)
    for item in overrides:
        _apply_override(data, item)
    config = build_config(data, source=source, base_dir=base_dir, overrides=tuple(overrides))
    if for_run and path is not None:
        _check_named_parts(data, source)
    return config


NAMED_PARTS = ("editor", "judge")


def _check_named_parts(data: dict, source: str) -> None:
    """A run config without `editor:` or `judge:` is refused, never run on silent defaults."""
    for part in NAMED_PARTS:
        if part not in data:
            raise ConfigError(
                f"{source}: no {part}: section; a run config names its editor and its judge "
                "(copy both sections from benchmarks/default.yaml for the tiny models, or write "
                "`editor: {backend: identity}` and `judge: {backend: none}` for the no-edit "
                f"baseline unjudged), or pass --eb-set={part}.backend=..."
            )


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


def set_by(overrides: tuple[str, ...] | list[str], dotted: str) -> str | None:
    """`--eb-set=ITEM` for the last override that set `dotted` or a mapping above it, else None."""
    for item in reversed(overrides):
        key = item.partition("=")[0].strip()
        if dotted == key or dotted.startswith(key + "."):
            return f"--eb-set={item}"
    return None


def _apply_override(data: dict, item: str) -> None:
    key, sep, raw = item.partition("=")
    if not sep or "." not in key:
        raise ConfigError(
            f"--eb-set={item}: expected SECTION.KEY=VALUE, e.g. --eb-set=editor.steps=4"
        )
    section, _, name = key.strip().partition(".")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    _check_flow_map(item, value)
    target = data.setdefault(section, {})
    if not isinstance(target, dict):
        raise ConfigError(f"--eb-set={item}: {section} is not a section")
    target[name] = _command_line_path(f"{section}.{name}", value)


# Keys that name files or folders. In a config file they resolve against the file's folder; given
# with --eb-set they resolve against the folder the command runs in, as any command-line path does.
PATH_KEYS = {
    "suite.path",
    "suite.templates",
    "suite.images",
    "run.dir",
    "run.cache_dir",
    "editor.replay_dir",
    "judge.python",
    "judge.server_python",
}


def _command_line_path(dotted: str, value: Any) -> Any:
    """A relative path given on the command line, made absolute against the working folder."""
    if not isinstance(value, str) or not value or value.startswith((HUB_SCHEME, "~", "/")):
        return value
    if dotted in PATH_KEYS or (dotted in ("editor.model", "judge.model") and value.startswith(".")):
        return os.path.abspath(value)
    if dotted == "judge.backend" and ".py:" in value:
        path, _, cls = value.rpartition(":")
        return f"{os.path.abspath(path)}:{cls}"
    return value


def _check_flow_map(item: str, value: Any) -> None:
    """`{SC:7}` is YAML for the key "SC:7" with no value: say so, and how to write it."""
    if not isinstance(value, dict):
        return
    for key, inner in value.items():
        if inner is None and isinstance(key, str) and ":" in key:
            name, _, number = key.partition(":")
            raise ConfigError(
                f"--eb-set={item}: YAML reads {{{key}}} as the key {key!r} with no value; "
                f"put a space after each colon and quote the option for the shell, e.g. "
                f"--eb-set='{item.partition('=')[0]}={{{name}: {number}}}'"
            )


def build_config(
    data: dict, source: str = "<dict>", base_dir: str = ".", overrides: tuple[str, ...] = ()
) -> Config:
    """Validate a plain dict into a Config; every error names the key, where it was set (the
    file, or the `--eb-set` item of `overrides` that set it) and the fix."""
    unknown = [k for k in data if k not in _SECTIONS]
    if unknown:
        where = set_by(overrides, unknown[0]) or source
        raise ConfigError(_unknown_key(where, unknown[0], "", _SECTIONS))
    sections = {}
    for name, cls in _SECTIONS.items():
        value = data.get(name) or {}
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: {name}: expected a mapping, got {type(value).__name__}")
        sections[name] = _build_section(cls, value, name, source, overrides)
    return Config(**sections, source=source, base_dir=base_dir, overrides=tuple(overrides))


def _build_section(
    cls: type, values: dict, section: str, source: str, overrides: tuple[str, ...] = ()
) -> Any:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for key, value in values.items():
        dotted = f"{section}.{key}"
        where = set_by(overrides, dotted) or source
        if key not in fields:
            raise ConfigError(_unknown_key(where, key, section + ".", fields))
        kwargs[key] = _check_type(value, hints[key], dotted, where)
        choices = _CHOICES.get(dotted)
        chosen = kwargs[key] if isinstance(kwargs[key], list) else [kwargs[key]]
        if choices and kwargs[key] is not None and any(c not in choices for c in chosen):
            raise ConfigError(f"{where}: {dotted}: {value!r} is not one of {', '.join(choices)}")
    if section == "judge":
        _check_scores(kwargs.get("scores") or {}, set_by(overrides, "judge.scores") or source)
    return cls(**kwargs)


def _check_scores(scores: dict, source: str) -> None:
    """judge.scores: one number per judged dimension; an unknown dimension is refused by name."""
    for key, value in scores.items():
        if key not in JUDGED_DIMENSIONS:
            known = {d.lower(): d for d in JUDGED_DIMENSIONS}
            close = difflib.get_close_matches(str(key).lower(), list(known), n=1)
            hint = f"; did you mean judge.scores.{known[close[0]]}?" if close else ""
            raise ConfigError(
                f"{source}: unknown judge dimension judge.scores.{key}{hint} "
                f"(known: {', '.join(JUDGED_DIMENSIONS)})"
            )
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(_wrong_type(source, f"judge.scores.{key}", value, "a number"))


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
        for option in inner[:-1]:  # the first type the value fits (str before list[str])
            try:
                return _check_type(value, option, dotted, source)
            except ConfigError:
                continue
        return _check_type(value, inner[-1], dotted, source)
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
        raise ConfigError(_wrong_type(source, dotted, value, _a(expected.__name__)))
    return value


def _a(name: str) -> str:
    return f"an {name}" if name[0] in "aeiou" else f"a {name}"


def _wrong_type(source: str, dotted: str, value: Any, expected: str) -> str:
    if source.startswith("--eb-set="):
        fix = f"give {expected} after the =, as --eb-set={dotted}=..."
    else:
        fix = f"fix the value in the config or pass --eb-set={dotted}=..."
    return f"{source}: {dotted}: expected {expected}, got {type(value).__name__} {value!r}; {fix}"
