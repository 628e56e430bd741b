"""The worker's side of service mode: score through one shared OpenAI-compatible chat-completions endpoint.

Same prompts, dimensions, parsing, retries and score cache as gateway mode (`Scorer`); only the
transport differs. Each dimension (and each sample) of a case is its own request, and they are
sent concurrently so the server can batch them. Images travel as PNG data URLs, downscaled first
to at most `judge.max_pixels` (as the gateway's processor would). A request larger than
`judge.max_request_mb` is not sent: that case fails with the reason.

`logit` over a service reads `top_logprobs` (vLLM, SGLang): p over the digit tokens at the answer
position, and, when "1" is among them, q after an assistant prefix "1" (for "10"); the expected
score is `server.expected_score(p, q)`, the same formula the gateway uses. Digits outside the
returned top-k count as 0; `mass` says how much probability the returned digits carried.

Faults: connection refused/reset (the server died) -> one retry after a second, then
`judge-unavailable`; no answer within `judge.timeout_s` -> `timeout`; an HTTP error -> `judge-error`
with the server's text. A finished case is never touched by a later failure.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from editbench.cache import Cache
from editbench.errors import ConfigError
from editbench.judging import WorkerInfo
from editbench.judging.prompts import load_templates
from editbench.judging.scoring import JudgeFailure, Scorer
from editbench.judging.serve import Endpoint, auth_headers
from editbench.judging.serve import check as check_serve
from editbench.judging.server import DIGITS, expected_score

if TYPE_CHECKING:
    from editbench.cases import Suite
    from editbench.config import Config

TOP_LOGPROBS = 20
SAMPLE_SEED_STEP = 7919  # sample k of a case uses seed + k * step (the retry uses seed + 1)
_ENDPOINT: dict[str, Any] = {}
_DOWN = (ConnectionError, http.client.RemoteDisconnected, http.client.IncompleteRead)


# -- the run's endpoint, set once per process ----------------------------------------------------


def use_endpoint(data: dict[str, Any] | None) -> None:
    """Set this process's endpoint (controller: after starting the server; worker: from workerinput)."""
    _ENDPOINT.clear()
    if data:
        _ENDPOINT.update(data)


def current_endpoint() -> Endpoint:
    if not _ENDPOINT:
        raise ConfigError(
            "judge.mode service: no judge endpoint in this process; the controller starts the "
            "server (or adopts judge.url) before any worker opens the judge"
        )
    return Endpoint(**_ENDPOINT)


# -- startup check -------------------------------------------------------------------------------


def check(config: Config, suite: Suite) -> None:
    """Service-mode config checks that need no server (the server itself is checked when it starts)."""
    from editbench.judging.gateway import check_values, judge_python, resolve_model

    judge = config.judge
    check_values(config)
    check_serve(config)
    if not judge.url:
        python = judge_python(config)
        if not python.is_file():
            raise ConfigError(
                f"judge.python {python}: no such interpreter; judge.mode service starts the "
                f"{judge.engine} server there (or set judge.url to a running endpoint)"
            )
        resolve_model(config, build=False)
    load_templates(suite, list(judge.dimensions))


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


def chat_body(
    model: str, item: dict, max_pixels: int, max_tokens: int, temperature: float, seed: int
) -> dict:
    """One chat-completions request: the item's images (in order) then its prompt, as one user turn."""
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


def digit_probs(reply: dict) -> list[float]:
    """P(digit) for 0..9 from the first generated token's top_logprobs (absent digits: 0)."""
    try:
        top = reply["choices"][0]["logprobs"]["content"][0]["top_logprobs"]
    except (KeyError, IndexError, TypeError):
        raise ValueError("the answer carries no top_logprobs for its first token") from None
    probs = [0.0] * 10
    for entry in top:
        token = str(entry.get("token", "")).strip()
        if len(token) == 1 and token in DIGITS:
            probs[DIGITS.index(token)] += float(2.718281828459045 ** float(entry["logprob"]))
    return probs


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
            "judge-error",
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
                "judge-error", f"the judge service answered HTTP {exc.code}: {text[:300]}", text
            ) from None
        except TimeoutError:
            raise JudgeFailure(
                "timeout", f"no answer within judge.timeout_s={timeout:g}s"
            ) from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise JudgeFailure(
                    "timeout", f"no answer within judge.timeout_s={timeout:g}s"
                ) from None
            reason = exc.reason
        except _DOWN as exc:
            reason = exc
        except ValueError as exc:
            raise JudgeFailure(
                "judge-error", f"the judge service answered something that is not JSON ({exc})"
            ) from None
        if attempt == 1:
            time.sleep(1.0)
    raise JudgeFailure(
        "judge-unavailable",
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
        }
    )
    try:
        reply = post(endpoint, body, timeout, 1 << 20)
    except JudgeFailure as failure:
        if failure.status == "judge-error":
            return False  # refused the fields
        raise
    try:
        digit_probs(reply)
    except ValueError:
        return False
    return True


# -- the judge -----------------------------------------------------------------------------------


def open_judge(config: Config, suite: Suite, worker: WorkerInfo) -> ServiceJudge:
    return ServiceJudge(config, suite, worker, current_endpoint())


class ServiceJudge:
    """The Judge of one worker in service mode: requests to the run's one endpoint, several at a time."""

    def __init__(
        self, config: Config, suite: Suite, worker: WorkerInfo, endpoint: Endpoint
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
        self.templates = load_templates(suite, list(judge.dimensions))
        cache = Cache(config.resolve(config.run.cache_dir)) if config.run.cache else None
        self.scorer = Scorer(judge, self.templates, self.identity(), self.request, cache)

    def identity(self) -> dict[str, Any]:
        from editbench.judging.gateway import fingerprint

        judge, endpoint = self.config.judge, self.endpoint
        return {
            "backend": "service",
            "model": endpoint.model,
            "revision": endpoint.revision,
            "fingerprint": fingerprint(endpoint.model),
            "engine": endpoint.engine,
            "engine_version": endpoint.engine_version,
            "max_pixels": judge.max_pixels,
        }

    def describe(self) -> dict[str, Any]:
        judge = self.config.judge
        return {
            **self.scorer.identity,
            "mode": "service",
            "method": judge.method,
            "endpoint": self.endpoint.public(),
            "server_pid": self.endpoint.pid,
            "decoding": self.scorer.decoding(0) | {"seed": "case seed"},
            "images": list(judge.images),
            "dimensions": list(judge.dimensions),
            "timeout_s": judge.timeout_s,
            "templates": {d: str(p) for d, p in self.templates.files.items()},
            "versions": {"engine": self.endpoint.engine, "version": self.endpoint.engine_version},
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
            "version": 1,
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
                raise JudgeFailure("judge-error", str(exc)) from None
        return {
            "dimension": item["dimension"],
            "score": None,
            "mass": None,
            "probs": [],
            "texts": texts,
        }

    def _logit(self, item: dict, decoding: dict) -> dict:
        body = self._body(item, decoding, int(decoding["seed"]))
        try:
            p = digit_probs(self._post(logprob_body(body)))
            q = digit_probs(self._post(logprob_body(body, prefix="1"))) if p[1] > 0 else [0.0] * 10
            score, mass, normed = expected_score(p, q)
        except ValueError as exc:
            raise JudgeFailure("judge-error", f"logit over the service: {exc}") from None
        return {
            "dimension": item["dimension"],
            "score": float(score),
            "mass": float(mass),
            "probs": [float(x) for x in normed],
            "texts": [],
        }
