"""The OpenAI-compatible chat-completions API that service mode speaks, on both of its sides.

The controller (`launch`) starts or adopts an endpoint, checks it answers and probes whether it
returns `top_logprobs`; each worker's `client.ServiceJudge` sends it a case's requests. Both reach
it through what is here: the `Endpoint` (builtin-typed: it travels to the workers in workerinput),
the request bodies (images as PNG data URLs, downscaled first to at most `judge.max_pixels`, every
sampling parameter stated), reading a reply (the answer's text, or the score texts among its top
log-probabilities), and one POST with its faults.

Faults: connection refused/reset (the server died) -> one retry after a second, then
`judge-unavailable`; no answer within `judge.timeout_s` -> `timeout`; an HTTP error -> `judge-error`
with the server's text; a request larger than `judge.max_request_mb` is not sent (`judge-error`).
"""

from __future__ import annotations

import base64
import http.client
import io
import ipaddress
import json
import math
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass
from typing import Any

from editbench.errors import ConfigError
from editbench.judging.remote import ONE_TEXTS, SCORE_TEXTS
from editbench.judging.scoring import JudgeFailure
from editbench.vocabulary import Status

TOP_LOGPROBS = 20
LOGPROBS_UNSUPPORTED = (
    "judge.method logit over a service needs token log-probabilities (logprobs/"
    "top_logprobs); transformers serve does not return them (it ignores those fields). "
    "Use judge.method: generate, or judge.engine: vllm, or a judge.url whose engine "
    "returns logprobs (vLLM, SGLang)"
)


_DOWN = (ConnectionError, http.client.RemoteDisconnected, http.client.IncompleteRead)


# -- the endpoint ---------------------------------------------------------------------------------


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
