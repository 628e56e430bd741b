"""The worker's side of gateway mode: one execnet gateway per worker into the judge interpreter.

Each worker opens its own `execnet.Group` with one `popen//python=<judge python>` gateway and
sends `editbench.judging.remote` across; the model loads once there. The interpreter starts on
the first request, that is on the first score-cache miss, not when the worker opens its judge:
a fully cached rerun loads no judge model at all (as the editor loads on its first cache miss).
A judge that fails to start fails that case with `judge-unavailable` and the reason, and every
later case at once with the same reason (it is not started again per case). Faults:
- an exception inside the judge comes back as an error reply: that case gets `judge-error`;
- the judge process dies (EOFError, closed channel): the gateway is recreated once and the
  request retried; a second death gives `judge-unavailable`;
- no reply within `judge.timeout_s`: that case gets `timeout`; its request id is remembered, and
  before the next request the worker waits (up to `judge.timeout_s` again) for the late reply
  and discards it, so it is never attributed to another case; a judge that stays silent is
  killed and recreated.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from typing import TYPE_CHECKING, Any

import execnet

from editbench.cache import Cache
from editbench.devices import judge_devices, visible_gpus
from editbench.errors import EditbenchError
from editbench.hub import hub_snapshot, is_hub_id
from editbench.judging import WorkerInfo, remote
from editbench.judging.remote import PROTOCOL
from editbench.judging.resolve import (
    backend_digest,
    backend_target,
    check_constant,
    check_python,
    check_values,
    fingerprint,
    judge_python,
    resolve_model,
    resolved_device,
)
from editbench.judging.scoring import JudgeFailure, Scorer, described
from editbench.vocabulary import Status

if TYPE_CHECKING:
    from editbench.config import Config
    from editbench.protocols import Protocol

LOAD_TIMEOUT_S = 900.0
_DEAD = (EOFError, OSError, execnet.RemoteError)


class JudgeStartError(EditbenchError):
    """The judge interpreter could not be started or its backend failed to load."""


# -- startup checks ------------------------------------------------------------------------------


def check(config: Config) -> None:
    """Everything about a gateway judge that can be wrong before a model loads, one clear line each."""
    judge = config.judge
    backend_target(config)
    check_python(config, "judge.mode gateway opens it in every worker")
    check_values(config)
    if judge.backend == "constant":
        check_constant(config)
    if judge.backend == "qwen-vl":
        resolve_model(config, build=False)


# -- the gateway ---------------------------------------------------------------------------------


def score_key(config: Config, backend: str, model: str | None, device: str, dtype: str) -> dict:
    """What determines a gateway judge's score besides the prompt and images (keys the cache).

    Computed without the judge running: the device type and dtype resolved by the worker's rule
    (`resolve.resolved_device`), a file backend's content, a local model's fingerprint and a hub
    id's cached snapshot commit; only the constant backend ignores device and dtype.
    """
    judge = config.judge
    constant = judge.backend == "constant"
    content = fingerprint(model)
    return {
        "backend": backend,
        "backend_sha256": backend_digest(backend),
        "model": None if content else model,  # a local folder is its content, not its path
        "revision": judge.revision,
        "snapshot": hub_snapshot(model, judge.revision) if is_hub_id(model) else None,
        "fingerprint": content,
        "device": None if constant else device,
        "dtype": None if constant else dtype,
        "max_pixels": judge.max_pixels,
        "scores": {k: float(v) for k, v in judge.scores.items()} if constant else None,
    }


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

    def __init__(self, config: Config, protocol: Protocol, worker: WorkerInfo) -> None:
        judge = config.judge
        self.config, self.worker, self.method = config, worker, judge.method
        self.python = judge_python(config)
        self.backend = backend_target(config)
        self.model = resolve_model(config)
        devices = judge_devices(worker.gpus, judge.gpus, worker.index)
        self.spec = f"popen//python={self.python}" + (
            f"//env:CUDA_VISIBLE_DEVICES={','.join(devices)}" if devices else ""
        )
        # without its own list the judge inherits this process's environment and sees its GPUs
        self.device, self.dtype = resolved_device(config, devices or visible_gpus())
        self.options = {
            "method": judge.method,
            "model": self.model,
            "revision": judge.revision,
            "dtype": judge.dtype,
            "device": judge.device,
            "max_pixels": judge.max_pixels,
            "scores": {k: float(v) for k, v in judge.scores.items()},
            "fast_decode": judge.fast_decode,
        }
        self.abandoned: set[str] = set()
        self.discarded = 0
        self.restarts = 0
        self.conn: Connection | None = None  # started by the first request (a score-cache miss)
        self.ready: dict = {}  # the judge's last "ready" message: versions, info, load time
        self.start_error: str | None = None
        cache = Cache(config.resolve(config.run.cache_dir)) if config.run.cache else None
        self.scorer = Scorer(judge, protocol, self.score_key(), self.request, cache)

    # Judge protocol ----------------------------------------------------------------------------

    def score_key(self) -> dict[str, Any]:
        return score_key(self.config, self.backend, self.model, self.device, self.dtype)

    def check_device(self, ready: dict) -> None:
        """The judge's own device and dtype must be the ones the cache key assumed."""
        info = ready.get("info") or {}
        if "device" not in info or "dtype" not in info:
            return  # a backend that does not say (constant, most file backends)
        actual = (str(info["device"]).split(":")[0], str(info["dtype"]))
        if actual != (self.device, self.dtype):
            raise JudgeStartError(
                f"judge {self.model}: it runs on {actual[0]} in {actual[1]}, but judge.device "
                f"{self.config.judge.device!r} and judge.dtype {self.config.judge.dtype!r} "
                f"resolve to {self.device} in {self.dtype} here (the score cache key). Set "
                "judge.device and judge.dtype explicitly"
            )

    def describe(self) -> dict[str, Any]:
        judge = self.config.judge
        ready = self.ready
        return {
            **described(judge, self.scorer),
            "python": str(self.python),
            "versions": ready.get("versions"),
            "info": ready.get("info"),
            "load_s": ready.get("load_s"),
            "started": bool(ready),  # False: every score so far came from the cache
            "restarts": self.restarts,
            "late_replies_discarded": self.discarded,
        }

    def score(self, item):
        return self.scorer.score(item)

    def start(self) -> Connection:
        """Start the judge interpreter now (a request starts it anyway); return the connection."""
        return self._live()

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is None:
            return
        try:
            conn.channel.send({"version": PROTOCOL, "kind": "close"})
            conn.channel.waitclose(timeout=10)
        except Exception:  # noqa: BLE001 - closing a judge that is already gone
            pass
        conn.group.terminate(timeout=5.0)

    # transport ---------------------------------------------------------------------------------

    def _connect(self) -> Connection:
        group = execnet.Group()
        setup = {
            "version": PROTOCOL,
            "kind": "setup",
            "backend": self.backend,
            "options": self.options,
            "parent_pid": os.getpid(),
        }
        try:
            gateway = group.makegateway(self.spec)
            channel = gateway.remote_exec(remote)
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
        try:
            self.check_device(ready)
        except JudgeStartError:
            group.terminate(timeout=2.0)
            raise
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
            self.conn = self._start()
        return self.conn

    def _start(self) -> Connection:
        """A new judge interpreter; one that never started once is not tried again."""
        if self.start_error is not None:
            raise JudgeStartError(self.start_error)
        try:
            conn = self._connect()
        except JudgeStartError as exc:
            if not self.ready:
                self.start_error = str(exc)
            raise
        if self.ready:
            self.restarts += 1  # it had started before: this one replaces a dead or silent one
        self.ready = conn.ready
        return conn

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
            "version": PROTOCOL,
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
                    Status.TIMEOUT,
                    f"no answer within judge.timeout_s={self.config.judge.timeout_s:g}s",
                ) from None
            except JudgeStartError as exc:
                raise JudgeFailure(Status.JUDGE_UNAVAILABLE, str(exc)) from None
            except _DEAD as exc:
                self._drop()
                if attempt == 2:
                    raise JudgeFailure(
                        Status.JUDGE_UNAVAILABLE,
                        f"the judge process died twice ({type(exc).__name__}: {exc})",
                    ) from None
                continue
            if reply.get("kind") == "error":
                text = str(reply.get("error", ""))
                last = text.strip().splitlines()[-1:] or ["error"]
                raise JudgeFailure(Status.JUDGE_ERROR, f"exception in the judge: {last[0]}", text)
            return reply
        raise AssertionError("unreachable")
