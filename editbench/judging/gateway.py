"""The worker's side of the judge: check the judge section at startup, open one execnet gateway per worker.

Each worker opens its own `execnet.Group` with one `popen//python=<judge python>` gateway and
sends `editbench.judging.server` across; the model loads once there. Faults:
- an exception inside the judge comes back as an error reply: that case gets `judge-error`;
- the judge process dies (EOFError, closed channel): the gateway is recreated once and the
  request retried; a second death gives `judge-unavailable`;
- no reply within `judge.timeout_s`: that case gets `timeout`; its request id is remembered, and
  before the next request the worker waits (up to `judge.timeout_s` again) for the late reply
  and discards it, so it is never attributed to another case; a judge that stays silent is
  killed and recreated.
"""

from __future__ import annotations

import difflib
import os
import re
import signal
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import execnet

from editbench.cache import Cache, folder_fingerprint
from editbench.devices import judge_devices
from editbench.errors import ConfigError, EditbenchError
from editbench.judging import WorkerInfo, server
from editbench.judging.messages import VERSION
from editbench.judging.prompts import load_templates
from editbench.judging.scoring import JudgeFailure, Scorer

if TYPE_CHECKING:
    from editbench.cases import Suite
    from editbench.config import Config

BACKENDS = ("qwen-vl", "constant", "none")
REPO_ROOT = Path(__file__).resolve().parents[2]
DIMENSIONS = ("SC", "PQ", "criterion")
IMAGES = ("source", "edited")
LOAD_TIMEOUT_S = 900.0
_DEAD = (EOFError, OSError, execnet.RemoteError)


class JudgeStartError(EditbenchError):
    """The judge interpreter could not be started or its backend failed to load."""


# -- startup checks ------------------------------------------------------------------------------


def judge_python(config: Config) -> Path:
    """judge.python, else $EDITBENCH_JUDGE_PYTHON, else the tox `judge` environment's python."""
    # Never resolve symlinks here: a venv's bin/python is a link, and following it loses the venv.
    if config.judge.python:
        return Path(
            os.path.abspath(Path(config.base_dir) / os.path.expanduser(config.judge.python))
        )
    if os.environ.get("EDITBENCH_JUDGE_PYTHON"):
        return Path(os.path.abspath(os.path.expanduser(os.environ["EDITBENCH_JUDGE_PYTHON"])))
    return REPO_ROOT / ".tox" / "judge" / "bin" / "python"


def check_values(config: Config) -> None:
    """The judge settings both modes share: dimensions, images, sampling, limits."""
    judge = config.judge
    for key, values, known in (
        ("judge.dimensions", judge.dimensions, DIMENSIONS),
        ("judge.images", judge.images, IMAGES),
    ):
        bad = [v for v in values if v not in known]
        if bad or not values or len(set(values)) != len(values):
            raise ConfigError(
                f"judge config {config.source}: {key} {values!r}: list one or more of "
                f"{', '.join(known)}, each once"
            )
    if judge.samples < 1 or (judge.samples > 1 and judge.temperature <= 0):
        raise ConfigError(
            f"{config.source}: judge.samples {judge.samples} needs judge.temperature > 0 "
            "(greedy decoding gives identical samples); use samples: 1 or set a temperature"
        )
    if judge.timeout_s <= 0 or judge.max_pixels < 1 or judge.max_new_tokens < 1:
        raise ConfigError(
            f"{config.source}: judge.timeout_s, judge.max_pixels and judge.max_new_tokens "
            "must be positive"
        )


def check(config: Config, suite: Suite) -> None:
    """Everything about the judge that can be wrong before a model loads, one clear line each."""
    judge = config.judge
    backend_target(config)
    python = judge_python(config)
    if not (python.is_file() and os.access(python, os.X_OK)):
        raise ConfigError(
            f"judge.python {python}: no such interpreter; create the judge environment with "
            "`tox -e judge`, or set judge.python (or $EDITBENCH_JUDGE_PYTHON) to a python "
            "that has torch and transformers"
        )
    check_values(config)
    if judge.backend == "constant":
        _check_constant(config)
    if judge.backend == "qwen-vl":
        resolve_model(config, build=False)
    load_templates(suite, list(judge.dimensions))


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


def _check_constant(config: Config) -> None:
    scores = config.judge.scores
    for dimension in config.judge.dimensions:
        value = scores.get(dimension)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 10:
            raise ConfigError(
                f"{config.source}: judge.scores.{dimension}: the constant backend needs a number "
                f"in [0, 10] for every dimension (got {value!r})"
            )


def resolve_model(config: Config, build: bool = True) -> str | None:
    """judge.model as the judge side loads it: a local folder, a hub id, or a built tiny checkpoint."""
    model = config.judge.model
    if model is None:
        if config.judge.backend == "qwen-vl":
            raise ConfigError(
                f"{config.source}: judge.model is required for judge.backend qwen-vl "
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
            f"judge.model {model!r}: neither an existing folder nor a hub id like Qwen/Qwen3-VL-8B-Instruct"
        )
    return model


def _tiny(model: str, build: bool) -> str:
    name = model.partition(":")[2]
    try:
        from editbench import tiny
    except ImportError:  # pragma: no cover - the package ships it
        tiny = None
    known = tuple(getattr(tiny, "BUILDERS", None) or ("qwen3-vl",))
    if name not in known or not hasattr(tiny, "ensure_tiny"):
        raise ConfigError(
            f"judge.model {model!r}: unknown tiny checkpoint (known: "
            f"{', '.join('tiny:' + k for k in known)})"
        )
    return str(tiny.ensure_tiny(name)) if build else model


def fingerprint(model: str | None) -> str | None:
    """A local checkpoint's identity (None for a hub id)."""
    if model is None or not Path(model).is_dir():
        return None
    return folder_fingerprint(Path(model))


# -- the gateway ---------------------------------------------------------------------------------


def open_judge(config: Config, suite: Suite, worker: WorkerInfo) -> GatewayJudge:
    return GatewayJudge(config, suite, worker)


class Connection:
    """One judge interpreter: its execnet group, channel and process id."""

    def __init__(self, group: execnet.Group, channel, ready: dict) -> None:
        self.group, self.channel, self.ready = group, channel, ready
        self.pid = int(ready["pid"])

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.group.terminate(timeout=2.0)


class GatewayJudge:
    """The Judge of one worker: a long-lived judge interpreter reached through execnet."""

    def __init__(self, config: Config, suite: Suite, worker: WorkerInfo) -> None:
        judge = config.judge
        self.config, self.worker, self.method = config, worker, judge.method
        self.python = judge_python(config)
        self.backend = backend_target(config)
        self.model = resolve_model(config)
        devices = judge_devices(worker.gpus, judge.gpus, worker.index)
        self.spec = f"popen//python={self.python}" + (
            f"//env:CUDA_VISIBLE_DEVICES={','.join(devices)}" if devices else ""
        )
        self.options = {
            "model": self.model,
            "revision": judge.revision,
            "dtype": judge.dtype,
            "device": judge.device,
            "max_pixels": judge.max_pixels,
            "scores": {k: float(v) for k, v in judge.scores.items()},
        }
        self.abandoned: set[str] = set()
        self.discarded = 0
        self.restarts = 0
        self.conn: Connection | None = self._connect()
        self.templates = load_templates(suite, list(judge.dimensions))
        cache = Cache(config.resolve(config.run.cache_dir)) if config.run.cache else None
        self.scorer = Scorer(judge, self.templates, self.identity(), self.request, cache)

    # Judge protocol ----------------------------------------------------------------------------

    def identity(self) -> dict[str, Any]:
        """What determines a score besides the prompt and images (keys the score cache)."""
        judge = self.config.judge
        return {
            "backend": self.backend,
            "model": self.model,
            "revision": judge.revision,
            "fingerprint": fingerprint(self.model),
            "dtype": judge.dtype,
            "max_pixels": judge.max_pixels,
            "scores": self.options["scores"] if judge.backend == "constant" else None,
        }

    def describe(self) -> dict[str, Any]:
        judge = self.config.judge
        ready = self.conn.ready if self.conn else {}
        return {
            **self.scorer.identity,
            "method": judge.method,
            "python": str(self.python),
            "decoding": self.scorer.decoding(0) | {"seed": "case seed"},
            "images": list(judge.images),
            "dimensions": list(judge.dimensions),
            "timeout_s": judge.timeout_s,
            "templates": {d: str(p) for d, p in self.templates.files.items()},
            "versions": ready.get("versions"),
            "info": ready.get("info"),
            "load_s": ready.get("load_s"),
            "restarts": self.restarts,
            "late_replies_discarded": self.discarded,
        }

    def score(self, item):
        return self.scorer.score(item)

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is None:
            return
        try:
            conn.channel.send({"version": VERSION, "kind": "close"})
            conn.channel.waitclose(timeout=10)
        except Exception:  # noqa: BLE001 - closing a judge that is already gone
            pass
        conn.group.terminate(timeout=5.0)

    # transport ---------------------------------------------------------------------------------

    def _connect(self) -> Connection:
        group = execnet.Group()
        setup = {
            "version": VERSION,
            "kind": "setup",
            "backend": self.backend,
            "options": self.options,
            "parent_pid": os.getpid(),
        }
        try:
            gateway = group.makegateway(self.spec)
            channel = gateway.remote_exec(server)
            channel.send(setup)
            ready = channel.receive(timeout=max(LOAD_TIMEOUT_S, self.config.judge.timeout_s))
        except (execnet.TimeoutError, *_DEAD) as exc:
            group.terminate(timeout=2.0)
            raise JudgeStartError(
                f"judge {self.backend}: could not start {self.python} "
                f"({type(exc).__name__}: {str(exc).strip().splitlines()[-1:] or ''})"
            ) from None
        if ready.get("kind") != "ready":
            group.terminate(timeout=2.0)
            last = str(ready.get("error", "")).strip().splitlines()[-1:] or ["?"]
            raise JudgeStartError(
                f"judge {self.backend} {self.model or ''}: failed to load in {self.python}: "
                f"{last[0]}"
            )
        return Connection(group, channel, ready)

    def _drop(self) -> None:
        conn, self.conn = self.conn, None
        self.abandoned.clear()
        if conn is not None:
            conn.kill()

    def _live(self) -> Connection:
        """A connection ready for a new request: late replies drained, a silent judge replaced."""
        if self.conn is not None and self.abandoned:
            try:
                self._drain(self.conn)
            except execnet.TimeoutError:
                self._drop()
        if self.conn is None:
            self.restarts += 1
            self.conn = self._connect()
        return self.conn

    def _drain(self, conn: Connection) -> None:
        deadline = time.monotonic() + self.config.judge.timeout_s
        while self.abandoned:
            reply = conn.channel.receive(timeout=max(0.0, deadline - time.monotonic()))
            self.abandoned.discard(reply.get("id"))
            self.discarded += 1

    def _await(self, conn: Connection, rid: str) -> dict:
        deadline = time.monotonic() + self.config.judge.timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise execnet.TimeoutError(f"no reply to {rid}")
            reply = conn.channel.receive(timeout=remaining)
            if reply.get("id") == rid:
                return reply
            self.abandoned.discard(reply.get("id"))
            self.discarded += 1  # a late reply to an earlier, timed-out request

    def request(self, items: list, method: str, decoding: dict) -> dict:
        """Send one score request and return its reply; raise JudgeFailure with the status on failure."""
        rid = uuid.uuid4().hex
        message = {
            "version": VERSION,
            "kind": "score",
            "id": rid,
            "method": method,
            "items": items,
            "decoding": decoding,
        }
        for attempt in (1, 2):
            try:
                conn = self._live()
                conn.channel.send(message)
                reply = self._await(conn, rid)
            except execnet.TimeoutError:
                self.abandoned.add(rid)
                raise JudgeFailure(
                    "timeout", f"no answer within judge.timeout_s={self.config.judge.timeout_s:g}s"
                ) from None
            except JudgeStartError as exc:
                raise JudgeFailure("judge-unavailable", str(exc)) from None
            except _DEAD as exc:
                self._drop()
                if attempt == 2:
                    raise JudgeFailure(
                        "judge-unavailable",
                        f"the judge process died twice ({type(exc).__name__}: {exc})",
                    ) from None
                continue
            if reply.get("kind") == "error":
                text = str(reply.get("error", ""))
                last = text.strip().splitlines()[-1:] or ["error"]
                raise JudgeFailure("judge-error", f"exception in the judge: {last[0]}", text)
            return reply
        raise AssertionError("unreachable")
