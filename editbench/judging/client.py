"""The worker's side of service mode: score through one shared OpenAI-compatible chat-completions endpoint.

Same prompts, dimensions, parsing, retries and score cache as gateway mode (`Scorer`); only the
transport differs: the chat-completions requests of `chat_api`. Each dimension (and each sample)
of a case is its own request, and they are sent concurrently so the server can batch them. Images
travel as PNG data URLs, downscaled first to at most `judge.max_pixels` (as the gateway's
processor would). A request larger than `judge.max_request_mb` is not sent: that case fails with
the reason. Here too: service mode's config checks that need no server (`check`).

`logit` over a service reads `top_logprobs` (vLLM, SGLang): p over the score texts at the answer
position (exactly `remote.SCORE_TEXTS`: "7", " 7", "10", " 10", as the gateway reads them from
the vocabulary), and, for each "1" text among them, q after that assistant prefix (for "10");
the expected score is `remote.score_probs` and `remote.expected_score`, the gateway's formula. A
score none of whose texts is in the returned top-k cannot be known: it is listed as `unseen` and
its probability counts as missing from `mass`, never as a zero-probability score.

Faults (`chat_api.post`: the server died, no answer within `judge.timeout_s`, an HTTP error) fail
the request, and with it the case, with their status. A finished case is never touched by a later
failure.
"""

from __future__ import annotations

import os
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from editbench.cache import Cache
from editbench.errors import ConfigError
from editbench.hub import hub_snapshot, is_hub_id
from editbench.judging import WorkerInfo
from editbench.judging.chat_api import (
    LOGPROBS_UNSUPPORTED,
    Endpoint,
    answer_text,
    chat_body,
    is_loopback,
    logprob_body,
    post,
    score_texts,
    top_logprobs,
    unseen_scores,
)
from editbench.judging.remote import ONE_TEXTS, PROTOCOL, expected_score, score_probs
from editbench.judging.resolve import (
    check_python,
    check_values,
    fingerprint,
    judge_python,
    resolve_model,
)
from editbench.judging.scoring import JudgeFailure, Scorer, described
from editbench.vocabulary import Status

if TYPE_CHECKING:
    from editbench.config import Config
    from editbench.protocols import Protocol

SAMPLE_SEED_STEP = 7919  # sample k of a case uses seed + k * step (the retry uses seed + 1)


# -- the config checks ----------------------------------------------------------------------------


def check(config: Config) -> None:
    """Service-mode config checks that need no server (the server itself is checked when it starts)."""
    judge = config.judge
    check_values(config)
    check_endpoint(config)
    if not judge.url:
        check_python(
            config,
            f"judge.mode service starts the {judge.engine} server there (or set "
            "judge.url to a running endpoint)",
        )
        resolve_model(config, build=False)
        if judge.engine == "vllm":
            check_vllm(config)


def check_vllm(config: Config) -> None:
    """The started vLLM engine: its executable beside judge.server_python, and its GPU share."""
    judge = config.judge
    python = config.resolve(judge.server_python) if judge.server_python else judge_python(config)
    vllm = python.parent / "vllm"
    if not vllm.is_file():
        raise ConfigError(
            f"{config.source}: judge.engine vllm runs {vllm}, which does not exist; set "
            "judge.server_python to the python of an environment where vLLM is installed "
            "(vLLM pins its own torch: a separate one)"
        )
    if not 0.0 < judge.gpu_memory_utilization <= 1.0:
        raise ConfigError(
            f"{config.source}: judge.gpu_memory_utilization {judge.gpu_memory_utilization}: "
            "expected a share of the GPU above 0 and at most 1 (e.g. 0.45)"
        )
    if judge.max_model_len <= 0:
        raise ConfigError(f"{config.source}: judge.max_model_len must be a positive token count")


def check_endpoint(config: Config) -> None:
    """Service-mode config errors that need no server: url shape, loopback, logit on transformers."""
    judge = config.judge
    if judge.url:
        parts = urllib.parse.urlsplit(judge.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"{config.source}: judge.url {judge.url!r}: expected http(s)://HOST:PORT "
                "(the server's base URL, e.g. http://127.0.0.1:8000)"
            )
        if not is_loopback(judge.url) and not judge.allow_remote:
            raise ConfigError(
                f"{config.source}: judge.url {judge.url!r} is not on this machine; images and "
                "prompts would leave it. Set judge.allow_remote: true to allow it (prefer https "
                "and judge.api_key_env)"
            )
        if judge.api_key_env and not os.environ.get(judge.api_key_env):
            raise ConfigError(
                f"{config.source}: judge.api_key_env {judge.api_key_env}: that environment "
                "variable is not set; export it or drop the key"
            )
    elif judge.method == "logit" and judge.engine == "transformers":
        raise ConfigError(f"{config.source}: {LOGPROBS_UNSUPPORTED}")
    if judge.max_request_mb <= 0:
        raise ConfigError(f"{config.source}: judge.max_request_mb must be positive")


# -- the judge -----------------------------------------------------------------------------------


class ServiceJudge:
    """The Judge of one worker in service mode: requests to the run's one endpoint, several at a time."""

    def __init__(
        self, config: Config, protocol: Protocol, worker: WorkerInfo, endpoint: Endpoint
    ) -> None:
        judge = config.judge
        self.config, self.worker, self.endpoint, self.method = (
            config,
            worker,
            endpoint,
            judge.method,
        )
        self.max_bytes = int(judge.max_request_mb * 2**20)
        self.pool = ThreadPoolExecutor(
            max_workers=max(4, len(judge.dimensions) * judge.samples),
            thread_name_prefix="editbench-judge",
        )
        cache = Cache(config.resolve(config.run.cache_dir)) if config.run.cache else None
        self.scorer = Scorer(judge, protocol, self.score_key(), self.request, cache)

    def score_key(self) -> dict[str, Any]:
        judge, endpoint = self.config.judge, self.endpoint
        loaded = endpoint.root or endpoint.model
        return {
            "backend": "service",
            "model": endpoint.model,
            "root": endpoint.root,
            "revision": endpoint.revision,
            "snapshot": hub_snapshot(loaded, endpoint.revision) if is_hub_id(loaded) else None,
            "fingerprint": fingerprint(loaded),
            "engine": endpoint.engine,
            "engine_version": endpoint.engine_version,
            "max_pixels": judge.max_pixels,
        }

    def describe(self) -> dict[str, Any]:
        judge = self.config.judge
        return {
            **described(judge, self.scorer),
            "mode": "service",
            "endpoint": self.endpoint.public(),
            "server_pid": self.endpoint.pid,
            "versions": {
                **(self.endpoint.versions or {}),
                "engine": self.endpoint.engine,
                "version": self.endpoint.engine_version,
            },
        }

    def score(self, item):
        return self.scorer.score(item)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    # transport ---------------------------------------------------------------------------------

    def _post(self, body: dict) -> dict:
        return post(self.endpoint, body, self.config.judge.timeout_s, self.max_bytes)

    def request(self, items: list, method: str, decoding: dict) -> dict:
        """All items (and samples) concurrently; one failure fails the request (Scorer's contract)."""
        start = time.perf_counter()
        work = self._logit if method == "logit" else self._generate
        futures = [self.pool.submit(work, item, decoding) for item in items]
        failure, results = None, []
        for future in futures:
            try:
                results.append(future.result())
            except JudgeFailure as exc:
                failure = failure or exc
        if failure is not None:
            raise failure
        return {
            "version": PROTOCOL,
            "kind": "scored",
            "id": "",
            "results": results,
            "seconds": time.perf_counter() - start,
            "versions": {},
        }

    def _body(self, item: dict, decoding: dict, seed: int) -> dict:
        judge = self.config.judge
        return chat_body(
            self.endpoint.model,
            item,
            judge.max_pixels,
            decoding["max_new_tokens"],
            decoding["temperature"],
            seed,
            self.endpoint.engine,
        )

    def _generate(self, item: dict, decoding: dict) -> dict:
        seeds = [
            int(decoding["seed"]) + k * SAMPLE_SEED_STEP for k in range(int(decoding["samples"]))
        ]
        texts = []
        for seed in seeds:  # the samples of one item run one after another; items run in parallel
            try:
                texts.append(answer_text(self._post(self._body(item, decoding, seed))))
            except ValueError as exc:
                raise JudgeFailure(Status.JUDGE_ERROR, str(exc)) from None
        return {
            "dimension": item["dimension"],
            "score": None,
            "mass": None,
            "probs": [],
            "unseen": [],
            "texts": texts,
        }

    def _logit(self, item: dict, decoding: dict) -> dict:
        body = self._body(item, decoding, int(decoding["seed"]))
        try:
            first = score_texts(top_logprobs(self._post(logprob_body(body))))
            after = {
                one: score_texts(top_logprobs(self._post(logprob_body(body, prefix=one))))
                for one in ONE_TEXTS
                if one in first
            }
            score, mass, normed = expected_score(score_probs(first, after))
        except ValueError as exc:
            raise JudgeFailure(Status.JUDGE_ERROR, f"logit over the service: {exc}") from None
        return {
            "dimension": item["dimension"],
            "score": float(score),
            "mass": float(mass),
            "probs": [float(x) for x in normed],
            "unseen": unseen_scores(first, after),
            "texts": [],
        }
