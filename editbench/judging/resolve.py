"""The judge section of a run config, resolved: which interpreter, which model, and the checks both modes share.

Gateway mode (one judge interpreter per worker) and service mode (one server per run) read the
same settings: the judge environment's python, the model as the judge side loads it (a local
folder, a hub id, or a built tiny checkpoint) and its fingerprint, the backend name, and the
values that are wrong whatever the mode (dimensions, images, sampling, limits). Each check
raises one `ConfigError` naming the key and the fix, before any model loads.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from editbench.cache import folder_fingerprint
from editbench.errors import ConfigError
from editbench.vocabulary import IMAGES, JUDGED_DIMENSIONS

if TYPE_CHECKING:
    from editbench.config import Config

BACKENDS = ("qwen-vl", "constant", "none")
DEFAULT_PYTHON = Path(".tox") / "judge" / "bin" / "python"  # under the project folder


def judge_python(config: Config) -> Path:
    """judge.python, else $EDITBENCH_JUDGE_PYTHON, else the project's `.tox/judge/bin/python`."""
    # Never resolve symlinks here: a venv's bin/python is a link, and following it loses the venv.
    if config.judge.python:
        return Path(
            os.path.abspath(Path(config.base_dir) / os.path.expanduser(config.judge.python))
        )
    if os.environ.get("EDITBENCH_JUDGE_PYTHON"):
        return Path(os.path.abspath(os.path.expanduser(os.environ["EDITBENCH_JUDGE_PYTHON"])))
    return project_python(Path(config.base_dir))


def project_python(config_folder: Path) -> Path:
    """`.tox/judge/bin/python` of the project: in the config file's folder or the nearest folder
    above it that has one (benchmarks/*.yaml: the checkout), else above the working folder, so a
    run started from another folder (`pytest -c PROJECT/pytest.ini ...`) finds it too. None
    found: the working folder's, which the missing-interpreter message names."""
    for start in (Path(os.path.abspath(config_folder)), Path(os.getcwd())):
        for folder in (start, *start.parents):
            if (folder / DEFAULT_PYTHON).is_file():
                return folder / DEFAULT_PYTHON
    return Path(os.path.abspath(DEFAULT_PYTHON))


def check_python(config: Config, why: str) -> Path:
    """The judge interpreter, which must exist; `why` says what needs it."""
    python = judge_python(config)
    if not (python.is_file() and os.access(python, os.X_OK)):
        raise ConfigError(
            f"judge.python {python}: no such interpreter; {why}. Create the judge "
            "environment with `tox -e judge` (from the project folder), or set "
            "judge.python (or $EDITBENCH_JUDGE_PYTHON) to a python that has torch and "
            "transformers"
        )
    return python


def check_values(config: Config) -> None:
    """The judge settings both modes share: dimensions, images, sampling, limits."""
    judge = config.judge
    for key, values, known in (
        ("judge.dimensions", judge.dimensions, JUDGED_DIMENSIONS),
        ("judge.images", judge.images, IMAGES),
    ):
        bad = [v for v in values if v not in known]
        if bad or not values or len(set(values)) != len(values):
            raise ConfigError(
                f"{config.origin(key)}: {key} {values!r}: list one or more of "
                f"{', '.join(known)}, each once"
            )
    if judge.samples < 1 or (judge.samples > 1 and judge.temperature <= 0):
        raise ConfigError(
            f"{config.origin('judge.samples')}: judge.samples {judge.samples} needs judge.temperature > 0 "
            "(greedy decoding gives identical samples); use samples: 1 or set a temperature"
        )
    if not 0.0 <= judge.min_digit_mass <= 1.0:
        raise ConfigError(
            f"{config.origin('judge.min_digit_mass')}: judge.min_digit_mass {judge.min_digit_mass:g}: a probability, "
            "between 0 and 1 (0 turns the check off)"
        )
    if judge.timeout_s <= 0 or judge.max_pixels < 1 or judge.max_new_tokens < 1:
        raise ConfigError(
            f"{config.source}: judge.timeout_s, judge.max_pixels and judge.max_new_tokens "
            "must be positive"
        )


def backend_target(config: Config) -> str:
    """The backend as the judge side loads it: a known name, or an absolute `file.py:Class`."""
    name = config.judge.backend
    if name in BACKENDS:
        return name
    path, sep, cls = name.rpartition(":")
    if sep and path.endswith(".py") and cls.isidentifier():
        file = config.resolve(path)
        if not file.is_file():
            raise ConfigError(f"judge.backend {name!r}: file {file} does not exist")
        return f"{file}:{cls}"
    close = difflib.get_close_matches(name, BACKENDS, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ConfigError(
        f"judge.backend: unknown backend {name!r}{hint} (known: {', '.join(BACKENDS)}, "
        "or path/to/file.py:ClassName)"
    )


def check_constant(config: Config) -> None:
    """judge.scores: a number in [0, 10] for each judged dimension; a left-out one is named."""
    scores, dimensions = config.judge.scores, config.judge.dimensions
    where = config.origin("judge.scores")
    example = ", ".join(f"{d}: {scores.get(d, 6)}" for d in dimensions)
    fix = f"e.g. --eb-set='judge.scores={{{example}}}'"
    for dimension in dimensions:
        value = scores.get(dimension)
        if dimension not in scores:
            raise ConfigError(
                f"{where}: judge.scores has no {dimension}; the constant backend needs a number "
                f"in [0, 10] for each of judge.dimensions ({', '.join(dimensions)}): {fix}"
            )
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 10:
            raise ConfigError(
                f"{where}: judge.scores.{dimension}: the constant backend needs a number "
                f"in [0, 10] for every dimension (got {value!r}); {fix}"
            )


def resolve_model(config: Config, build: bool = True) -> str | None:
    """judge.model as the judge side loads it: a local folder, a hub id, or a built tiny checkpoint."""
    model = config.judge.model
    if model is None:
        if config.judge.backend == "qwen-vl":
            raise ConfigError(
                f"{config.origin('judge.backend')}: judge.model is required for judge.backend qwen-vl "
                "(a hub id, a local folder, or tiny:qwen3-vl)"
            )
        return None
    if model.startswith("tiny:"):
        return _tiny(model, build)
    local = model.startswith(("/", ".", "~")) or config.resolve(model).exists()
    if local:
        folder = config.resolve(model)
        if not (folder / "config.json").is_file():
            raise ConfigError(
                f"judge.model {model!r}: {folder} is not a checkpoint folder (no config.json)"
            )
        return str(folder)
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", model):
        raise ConfigError(
            f"judge.model {model!r}: neither an existing folder nor a hub id like "
            "Qwen/Qwen3-VL-8B-Instruct"
        )
    return model


def _tiny(model: str, build: bool) -> str:
    from editbench import tiny

    name = model.partition(":")[2]
    tiny.check_name(name, "judge.model", ("qwen3-vl",))
    return str(tiny.ensure_tiny(name)) if build else model


def fingerprint(model: str | None) -> str | None:
    """A local checkpoint's fingerprint (None for a hub id)."""
    if model is None or not Path(model).is_dir():
        return None
    return folder_fingerprint(Path(model))


def resolved_device(config: Config, gpus: list[str]) -> tuple[str, str]:
    """(device type, dtype) the judge will run with, decided without starting it.

    `judge.device: auto` is cuda when the judge can see a GPU (`gpus`: the GPUs it is given, else
    the worker's visible ones) and cpu otherwise; `judge.dtype: auto` is bfloat16 on cuda and
    float32 on cpu, the rule the judge side applies (remote.QwenVLBackend). The judge reports
    what it really chose when it starts, and a mismatch stops it (gateway.check_device).
    """
    judge = config.judge
    device = judge.device if judge.device != "auto" else ("cuda" if gpus else "cpu")
    dtype = judge.dtype if judge.dtype != "auto" else "bfloat16" if device == "cuda" else "float32"
    return device, dtype


def backend_digest(target: str) -> str | None:
    """A `file.py:Class` backend's content hash (None for a built-in backend)."""
    path, sep, _ = target.rpartition(":")
    if not sep or not path.endswith(".py"):
        return None
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
