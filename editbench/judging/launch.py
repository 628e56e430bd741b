"""The controller's side of service mode: start one judge server for the whole run, or adopt `judge.url`.

Without `judge.url` the controller starts an existing inference server in the judge environment
(`transformers serve`, run through `launch_remote.py` so that Qwen-VL processors load without
torchvision, as the judge environment has none, with `--continuous-batching` unless
`judge.continuous_batching` is false; or `vllm serve` from `judge.server_python`'s environment for
`judge.engine: vllm`, with `--gpu-memory-utilization` and `--max-model-len` leaving room for the
editor on the same GPU), bound to 127.0.0.1 on a free port, in its own process group, with its log
in the run folder; waits for `/health` and `/v1/models`; and stops the whole group at the end
(pytest_unconfigure, atexit, and on Linux the server also dies with the controller through
PR_SET_PDEATHSIG).

API key: a fresh random key is generated and sent as `Authorization: Bearer` with every request.
`vllm serve` checks it (`--api-key`). `transformers serve` (5.x) has no API-key option and
accepts any request; it is still only reachable from this machine (127.0.0.1). run.json says
which of the two holds (`key_checked`).

Method `logit` needs token log-probabilities. `transformers serve` does not return them (it
ignores `logprobs`/`top_logprobs`), so that combination fails at startup; any endpoint is probed
once at startup and refused if its answer carries no `top_logprobs`. The method never changes
silently.
"""

from __future__ import annotations

import atexit
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from editbench.errors import EditbenchError
from editbench.judging.chat_api import (
    LOGPROBS_UNSUPPORTED,
    TOP_LOGPROBS,
    Endpoint,
    auth_headers,
    is_loopback,
    probe_logprobs,
)
from editbench.judging.resolve import judge_python, resolve_model

if TYPE_CHECKING:
    from editbench.config import Config

START_TIMEOUT_S = 900.0
SERVE_WRAPPER = Path(__file__).with_name("launch_remote.py")
REMOTE = Path(__file__).with_name("remote.py")
LOG_NAME = "judge-server.log"
KEY_CHECKED = {"transformers": False, "vllm": True}


class ServerError(EditbenchError):
    """The judge server could not be started, reached, or does not do what the config needs."""


@dataclass
class ServerProcess:
    process: subprocess.Popen
    log: Path
    endpoint: Endpoint
    stopped: bool = field(default=False)

    def stop(self, grace_s: float = 10.0) -> None:
        """Stop the server's whole process group: SIGTERM, then SIGKILL after `grace_s`."""
        if self.stopped:
            return
        self.stopped = True
        _signal_group(self.process, signal.SIGTERM)
        try:
            self.process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            _signal_group(self.process, signal.SIGKILL)
            self.process.wait(timeout=grace_s)


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


# -- starting a server ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class ServerPlan:
    """What the started server needs beyond the model: the engine's interpreter and its options."""

    engine: str
    python: Path  # judge.python (transformers), judge.server_python or judge.python (vllm)
    device: str = "auto"
    dtype: str = "auto"
    continuous_batching: bool = True  # transformers: many workers' requests decoded together
    gpu_memory_utilization: float = 0.45  # vllm: its share of the GPU, the rest for the editor
    max_model_len: int = 16384  # vllm: caps the KV cache it reserves
    extra: tuple[str, ...] = ()


def server_command(
    plan: ServerPlan, model: str, revision: str | None, port: int, key: str
) -> list[str]:
    """The command line of the engine's own server, bound to 127.0.0.1."""
    if plan.engine == "vllm":
        command = [
            str(plan.python.parent / "vllm"),
            "serve",
            model,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--api-key",
            key,
            f"--dtype={plan.dtype}",
            f"--gpu-memory-utilization={plan.gpu_memory_utilization:g}",
            f"--max-model-len={plan.max_model_len}",
            f"--max-logprobs={TOP_LOGPROBS}",
            "--generation-config=vllm",  # sampling defaults are vLLM's; requests state theirs
        ]
        return command + ([f"--revision={revision}"] if revision else []) + list(plan.extra)
    target = f"{model}@{revision}" if revision and not Path(model).exists() else model
    command = [
        str(plan.python),
        str(SERVE_WRAPPER),  # `transformers serve`, with processors loaded image-only
        "serve",
        target,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--dtype",
        plan.dtype,
        "--log-level",
        "info",
    ]
    if plan.continuous_batching:
        command.append("--continuous-batching")
    return command + (["--device", plan.device] if plan.device != "auto" else []) + list(plan.extra)


def server_plan(config: Config) -> ServerPlan:
    """The started server's plan from the judge section (vLLM from judge.server_python)."""
    judge = config.judge
    python = judge_python(config)
    if judge.engine == "vllm" and judge.server_python:
        python = config.resolve(judge.server_python)
    return ServerPlan(
        engine=judge.engine,
        python=python,
        device=judge.device,
        dtype=judge.dtype,
        continuous_batching=judge.continuous_batching,
        gpu_memory_utilization=judge.gpu_memory_utilization,
        max_model_len=judge.max_model_len,
        extra=tuple(judge.serve_args),
    )


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    os.setsid()
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def start_server(config: Config, run_dir: Path) -> ServerProcess:
    """Start the configured engine's server for this run and wait until it answers."""
    judge = config.judge
    plan = server_plan(config)
    python = plan.python
    model = resolve_model(config)
    key = secrets.token_urlsafe(24)
    port = free_port()
    command = server_command(plan, model, judge.revision, port, key)
    run_dir.mkdir(parents=True, exist_ok=True)
    log = run_dir / LOG_NAME
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if judge.gpus:
        env["CUDA_VISIBLE_DEVICES"] = ",".join(judge.gpus)
    with open(log, "ab") as out:
        try:
            process = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                preexec_fn=_die_with_parent,
            )
        except OSError as exc:
            raise ServerError(
                f"judge.engine {judge.engine}: cannot run {command[0]} ({exc}); install the "
                f"engine into the judge environment ({python})"
            ) from None
    url = f"http://127.0.0.1:{port}"
    endpoint = Endpoint(
        url=url,
        key=key,
        model=model,
        engine=judge.engine,
        revision=judge.revision,
        started=True,
        pid=process.pid,
        key_checked=KEY_CHECKED[judge.engine],
        log=str(log),
    )
    server = ServerProcess(process, log, endpoint)
    atexit.register(server.stop)
    try:
        wait_ready(endpoint, process, log, max(START_TIMEOUT_S, judge.timeout_s))
        endpoint.engine_version = engine_version(endpoint, python)
        endpoint.versions = interpreter_versions(python)
    except BaseException:
        server.stop(grace_s=5.0)
        raise
    return server


def log_tail(log: Path, lines: int = 15) -> str:
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.strip().splitlines()[-lines:])


def wait_ready(
    endpoint: Endpoint, process: subprocess.Popen | None, log: Path, timeout_s: float
) -> None:
    """Poll /health, then /v1/models, until both answer; fail with the server's log tail."""
    deadline = time.monotonic() + timeout_s
    while True:
        if process is not None and process.poll() is not None:
            raise ServerError(
                f"judge server ({endpoint.engine}) exited with status {process.returncode} "
                f"before it was ready; last lines of {log}:\n{log_tail(log)}"
            )
        try:
            if get_json(endpoint, "/health", 5.0) is not None:
                get_json(endpoint, "/v1/models", 5.0)
                return
        except (OSError, ValueError):
            pass
        if time.monotonic() > deadline:
            raise ServerError(
                f"judge server ({endpoint.engine}) at {endpoint.url} not ready after "
                f"{timeout_s:g}s; last lines of {log}:\n{log_tail(log)}"
            )
        time.sleep(0.5)


def get_json(endpoint: Endpoint, path: str, timeout: float) -> Any:
    request = urllib.request.Request(
        endpoint.url.rstrip("/") + path, headers=auth_headers(endpoint.key)
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body = response.read()
    return json.loads(body) if body.strip() else {}


def engine_version(endpoint: Endpoint, python: Path | None) -> str | None:
    """vLLM and SGLang answer GET /version; for transformers serve ask the judge interpreter."""
    try:
        version = get_json(endpoint, "/version", 5.0)
        if isinstance(version, dict) and version.get("version"):
            return str(version["version"])
    except (OSError, ValueError):
        pass
    if endpoint.engine == "transformers" and python is not None:
        out = subprocess.run(
            [str(python), "-c", "import transformers; print(transformers.__version__)"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        return out.stdout.strip() or None
    return None


def interpreter_versions(python: Path) -> dict | None:
    """The server interpreter's score-moving packages and lock stamp, as the gateway's judge
    reports its own (`remote.versions`, run in that interpreter without starting a judge)."""
    code = f"import json, runpy; print(json.dumps(runpy.run_path({str(REMOTE)!r})['versions']()))"
    try:
        out = subprocess.run(
            [str(python), "-c", code], capture_output=True, text=True, timeout=120, check=True
        )
        return json.loads(out.stdout)
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


# -- adopting an endpoint that is already running ------------------------------------------------


def connect(config: Config) -> Endpoint:
    """judge.url: check it answers, read its model id and version, probe logprobs for method logit."""
    judge = config.judge
    key = os.environ.get(judge.api_key_env) if judge.api_key_env else None
    endpoint = Endpoint(
        url=judge.url.rstrip("/"),
        key=key,
        model=judge.model or "",
        engine=judge.engine,
        revision=judge.revision,
        loopback=is_loopback(judge.url),
    )
    try:
        models = get_json(endpoint, "/v1/models", 30.0)
    except urllib.error.HTTPError as exc:
        raise ServerError(
            f"judge.url {judge.url}: GET /v1/models answered HTTP {exc.code}"
            + (
                "; set judge.api_key_env to the variable holding its API key"
                if exc.code in (401, 403)
                else ""
            )
        ) from None
    except (OSError, ValueError) as exc:
        raise ServerError(
            f"judge.url {judge.url}: no OpenAI-compatible server answers there ({exc})"
        ) from None
    served = [str(m.get("id")) for m in (models.get("data") or []) if isinstance(m, dict)]
    if not judge.model and len(served) != 1:
        raise ServerError(
            f"judge.url {judge.url} serves {served or 'no models'}; set judge.model to one of them"
        )
    if judge.model and served and judge.model not in served:
        raise ServerError(
            f"judge.url {judge.url}: judge.model {judge.model!r} is not served there "
            f"(served: {', '.join(served)})"
        )
    endpoint.model = judge.model or served[0]
    endpoint.root = next(  # the model the server reports it loaded (vLLM: a path or hub id)
        (
            str(m["root"])
            for m in models.get("data") or []
            if isinstance(m, dict) and m.get("id") == endpoint.model and m.get("root")
        ),
        None,
    )
    endpoint.engine_version = engine_version(endpoint, None)
    return endpoint


def prepare(config: Config, run_dir: Path) -> tuple[Endpoint, ServerProcess | None]:
    """The run's endpoint: judge.url adopted, else a server started; logprobs probed for method logit."""
    server = None
    if config.judge.url:
        endpoint = connect(config)
    else:
        server = start_server(config, run_dir)
        endpoint = server.endpoint
    if config.judge.method == "logit":
        try:
            endpoint.logprobs = probe_logprobs(endpoint, config.judge.timeout_s)
        except BaseException:
            if server is not None:
                server.stop(grace_s=5.0)
            raise
        if not endpoint.logprobs:
            if server is not None:
                server.stop(grace_s=5.0)
            raise ServerError(
                f"judge at {endpoint.url} ({endpoint.engine}): {LOGPROBS_UNSUPPORTED}; its answer "
                "to a probe request carried no top_logprobs"
            )
    return endpoint, server
