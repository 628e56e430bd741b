"""The worker's side of service mode: score through one shared OpenAI-compatible chat-completions endpoint.

Same prompts, dimensions, parsing, retries and score cache as gateway mode (`Scorer`); only the
transport differs. Each dimension (and each sample) of a case is its own request, and they are
sent concurrently so the server can batch them. Images travel as PNG data URLs, downscaled first
to at most `judge.max_pixels` (as the gateway's processor would). A request larger than
`judge.max_request_mb` is not sent: that case fails with the reason.

`logit` over a service reads `top_logprobs` (vLLM, SGLang): p over the score texts at the answer
position (exactly `remote.SCORE_TEXTS`: "7", " 7", "10", " 10", as the gateway reads them from
the vocabulary), and, for each "1" text among them, q after that assistant prefix (for "10");
the expected score is `remote.score_probs` and `remote.expected_score`, the gateway's formula. A
score none of whose texts is in the returned top-k cannot be known: it is listed as `unseen` and
its probability counts as missing from `mass`, never as a zero-probability score.

Faults: connection refused/reset (the server died) -> one retry after a second, then
`judge-unavailable`; no answer within `judge.timeout_s` -> `timeout`; an HTTP error -> `judge-error`
with the server's text. A finished case is never touched by a later failure.
"""

from __future__ import annotations

import base64
import http.client
import io
import ipaddress
import json
import math
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from editbench.cache import Cache
from editbench.errors import ConfigError
from editbench.hub import hub_snapshot, is_hub_id
from editbench.judging import WorkerInfo
from editbench.judging.remote import (
    ONE_TEXTS,
    PROTOCOL,
    SCORE_TEXTS,
    expected_score,
    score_probs,
)
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
    from editbench.cases import Suite
    from editbench.config import Config
    from editbench.protocols import Protocol

TOP_LOGPROBS = 20
SAMPLE_SEED_STEP = 7919  # sample k of a case uses seed + k * step (the retry uses seed + 1)
LOGPROBS_UNSUPPORTED = (
    "judge.method logit over a service needs token log-probabilities (logprobs/"
    "top_logprobs); transformers serve does not return them (it ignores those fields). "
    "Use judge.method: generate, or judge.engine: vllm, or a judge.url whose engine "
    "returns logprobs (vLLM, SGLang)"
)


_DOWN = (ConnectionError, http.client.RemoteDisconnected, http.client.IncompleteRead)


# -- the endpoint and its checks ------------------------------------------------------------------


@dataclass
class Endpoint:
    """Everything a worker needs to reach the judge service, builtin-typed (it travels in workerinput)."""

    url: str
    key: str | None
    model: str
    engine: str
    engine_version: str | None = None
    revision: str | None = None
    started: bool = False  # the harness started (and will stop) it
    pid: int | None = None
    key_checked: bool | None = None
    loopback: bool = True
    log: str | None = None
    logprobs: bool | None = None
    versions: dict | None = None  # a started server's interpreter: packages and lock stamp
    root: str | None = None  # what the server says it loaded (vLLM's /v1/models "root")

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Endpoint:
        """The endpoint a worker was handed in its workerinput (or the controller kept)."""
        if not data:
            raise ConfigError(
                "judge.mode service: no judge endpoint in this process; the controller "
                "starts the server (or adopts judge.url) before any worker opens the judge"
            )
        return cls(**data)

    def public(self) -> dict[str, Any]:
        """What run.json records: everything but the key (and the versions, which run.json
        keeps under `versions.judge`)."""
        data = asdict(self)
        data["key"] = "set" if self.key else None
        data.pop("versions")
        return data


def is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check(config: Config, suite: Suite) -> None:
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


def auth_headers(key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key else {}


# -- request bodies ------------------------------------------------------------------------------


def data_url(png: bytes, max_pixels: int) -> str:
    """A PNG data URL, the image first downscaled (aspect kept) to at most `max_pixels` pixels."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        width, height = image.size
        if width * height > max_pixels:
            scale = (max_pixels / (width * height)) ** 0.5
            size = (max(1, int(width * scale)), max(1, int(height * scale)))
            buffer = io.BytesIO()
            image.convert("RGB").resize(size, Image.Resampling.BICUBIC).save(buffer, "PNG")
            png = buffer.getvalue()
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


# Sampling parameters every request states, so no server default applies: vLLM otherwise takes
# top_k / top_p / repetition_penalty from the checkpoint's generation_config.json. transformers
# serve refuses fields outside OpenAI's schema (HTTP 422), so it gets the OpenAI ones only.
OPENAI_SAMPLING = {"top_p": 1.0, "presence_penalty": 0.0, "frequency_penalty": 0.0}
VLLM_SAMPLING = {**OPENAI_SAMPLING, "n": 1, "top_k": -1, "min_p": 0.0, "repetition_penalty": 1.0}


def sampling(engine: str) -> dict:
    """The sampling parameters, beyond temperature, seed and max_tokens, sent to this engine."""
    return dict(VLLM_SAMPLING if engine == "vllm" else OPENAI_SAMPLING)


def chat_body(
    model: str,
    item: dict,
    max_pixels: int,
    max_tokens: int,
    temperature: float,
    seed: int,
    engine: str = "transformers",
) -> dict:
    """One chat-completions request: the item's images (in order) then its prompt, as one user
    turn, with every sampling parameter stated (`sampling`)."""
    content = [
        {"type": "image_url", "image_url": {"url": data_url(png, max_pixels)}}
        for png in item["images"]
    ]
    content.append({"type": "text", "text": item["prompt"]})
    return {
        "model": model,
        "messages": [{"role": "user", "content": content}],
        "max_tokens": int(max_tokens),
        "temperature": float(temperature),
        "seed": int(seed),
        "stream": False,
        **sampling(engine),
    }


def logprob_body(body: dict, prefix: str | None = None) -> dict:
    """Ask for the top log-probabilities of the next token; with `prefix`, after that assistant text."""
    out = {
        **body,
        "max_tokens": 1,
        "temperature": 0.0,
        "logprobs": True,
        "top_logprobs": TOP_LOGPROBS,
    }
    if prefix is not None:
        out["messages"] = [*body["messages"], {"role": "assistant", "content": prefix}]
        out |= {"add_generation_prompt": False, "continue_final_message": True}
    return out


def top_logprobs(reply: dict) -> dict[str, float]:
    """P(token text) of the first generated token's returned top_logprobs (texts summed)."""
    try:
        top = reply["choices"][0]["logprobs"]["content"][0]["top_logprobs"]
    except (KeyError, IndexError, TypeError):
        raise ValueError("the answer carries no top_logprobs for its first token") from None
    probs: dict[str, float] = {}
    for entry in top:
        text = str(entry.get("token", ""))
        probs[text] = probs.get(text, 0.0) + math.exp(float(entry["logprob"]))
    return probs


def score_texts(probs: dict[str, float]) -> dict[str, float]:
    """The returned texts that read as a score, exactly as the gateway reads them (no stripping)."""
    return {text: p for text, p in probs.items() if text in SCORE_TEXTS}


def unseen_scores(first: dict[str, float], after_one: dict[str, dict[str, float]]) -> list[int]:
    """Scores whose probability the endpoint did not return (no text of theirs in the top-k)."""
    seen = {SCORE_TEXTS[text] for text in first if text not in ONE_TEXTS}
    if any(one in first for one in ONE_TEXTS):
        seen.add(1)
        if any("0" in q for q in after_one.values()):
            seen.add(10)
    return [value for value in range(11) if value not in seen]


def answer_text(reply: dict) -> str:
    try:
        content = reply["choices"][0]["message"].get("content")
    except (KeyError, IndexError, TypeError, AttributeError):
        raise ValueError(f"not a chat completion: {json.dumps(reply)[:300]}") from None
    return "" if content is None else str(content)


# -- transport -----------------------------------------------------------------------------------


def post(endpoint: Endpoint, body: dict, timeout: float, max_bytes: int) -> dict:
    """POST one chat completion; raise JudgeFailure with the status on any failure."""
    data = json.dumps(body).encode("utf-8")
    if len(data) > max_bytes:
        raise JudgeFailure(
            Status.JUDGE_ERROR,
            f"request too large: {len(data) / 2**20:.1f} MB exceeds "
            f"judge.max_request_mb={max_bytes / 2**20:g}; lower judge.max_pixels or raise the limit",
        )
    headers = {"Content-Type": "application/json", **auth_headers(endpoint.key)}
    url = endpoint.url.rstrip("/") + "/v1/chat/completions"
    for attempt in (1, 2):
        request = urllib.request.Request(url, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            text = exc.read().decode("utf-8", errors="replace")
            raise JudgeFailure(
                Status.JUDGE_ERROR,
                f"the judge service answered HTTP {exc.code}: {text[:300]}",
                text,
            ) from None
        except TimeoutError:
            raise JudgeFailure(
                Status.TIMEOUT, f"no answer within judge.timeout_s={timeout:g}s"
            ) from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise JudgeFailure(
                    Status.TIMEOUT, f"no answer within judge.timeout_s={timeout:g}s"
                ) from None
            reason = exc.reason
        except _DOWN as exc:
            reason = exc
        except ValueError as exc:
            raise JudgeFailure(
                Status.JUDGE_ERROR, f"the judge service answered something that is not JSON ({exc})"
            ) from None
        if attempt == 1:
            time.sleep(1.0)
    raise JudgeFailure(
        Status.JUDGE_UNAVAILABLE,
        f"the judge service at {endpoint.url} is unreachable "
        f"({type(reason).__name__}: {reason}), after one retry",
    )


def probe_logprobs(endpoint: Endpoint, timeout: float) -> bool:
    """Does this endpoint return top_logprobs? One text-only request of one token."""
    body = logprob_body(
        {
            "model": endpoint.model,
            "messages": [{"role": "user", "content": "Say 7."}],
            "max_tokens": 1,
            "temperature": 0.0,
            "seed": 0,
            "stream": False,
            **sampling(endpoint.engine),
        }
    )
    try:
        reply = post(endpoint, body, timeout, 1 << 20)
    except JudgeFailure as failure:
        if failure.status == Status.JUDGE_ERROR:
            return False  # refused the fields
        raise
    try:
        top_logprobs(reply)
    except ValueError:
        return False
    return True


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
