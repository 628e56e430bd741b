"""The judge interpreter's side: sent there with execnet's `remote_exec(module)`, and the wire format.

One file, over 400 lines, because it must stand alone: execnet sends this one module's source into
an interpreter without editbench, and `launch.interpreter_versions` runs it there by path, so it
can import no sibling; its parts (the message shapes, the score arithmetic, the backends, the
serve loop) travel together or not at all.

This module runs inside the judge's own virtualenv, which has no editbench, pytest or diffusers:
it imports only the standard library at module level, and torch, transformers and PIL inside
the backend that needs them. The model loads once (the `setup` message); then each `score`
request is answered by a reply carrying its request id. An exception while scoring becomes an
`error` reply and the loop goes on.

Every message between a worker and this module is written down here once, as a TypedDict with
the protocol version `PROTOCOL`: builtin types only (str, bytes, int, float, bool, list, dict,
None), because execnet's serializer refuses anything else. The worker's side
(`editbench.judging.gateway`) imports these shapes; this module imports nothing of editbench.

Backends: `qwen-vl` (any Qwen-VL checkpoint through AutoModelForImageTextToText, processor loaded
image-only), `constant` (fixed scores, no model) and `path/to/file.py:ClassName` (loaded by path
here). A backend has `info() -> dict`, `logit(items) -> list[dict]` and
`generate(items, decoding) -> list[list[str]]`.

Generating, `qwen-vl` decodes fast where it can (`fast_decode_options`: a static KV cache and a
compiled decode step; on with CUDA unless `fast_decode` is "off"; a failure falls back once, with
one line on stderr) and stops each row once its answer is complete (an item's `stop`, an
`AnswerEnd`; `answer_end` never ends an answer before its whole score is written).

Reading a score with logits: the score texts are the digits "0".."9", the same with a leading
space (" 7"), and "10" / " 10" (`SCORE_TEXTS`); the gateway reads those of them that are one
token of the judge's vocabulary, and service mode those an endpoint returns, so both modes read
the same set. A tokenizer that does not write every bare digit as one token is refused when the
judge starts (method logit), naming the model. Qwen tokenizers write "10" as the two tokens "1",
"0": each request sequence is the prompt followed by a "1" token (one sequence per "1" text the
vocabulary has), so one forward pass gives both the distribution p at the answer position
(second to last) and q after "1" (last). Then P(d) = p(d) + p(" d") for the other digits;
P(1) = p("1") * (1 - q(a digit follows)); P(10) = p("1") * q("0") + p("10") + p(" 10"), each
"1" text with its own q (`score_probs`). These eleven are renormalised and the score is their
expectation; `mass` keeps the unnormalised total: how much the judge wanted to answer with a
score at all (the worker fails the dimension below `judge.min_digit_mass`).
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import re
import sys
import threading
import time
import traceback
from typing import TypedDict

PROTOCOL = 2  # every message carries it as `version` (2: method in the options, unseen scores)
DIGITS = "0123456789"
# every token text that reads as a score, and the score it reads as
SCORE_TEXTS = {
    **{d: int(d) for d in DIGITS},
    **{f" {d}": int(d) for d in DIGITS},
    "10": 10,
    " 10": 10,
}
ONE_TEXTS = ("1", " 1")  # texts after which a "0" makes 10, and another digit no score
CONTINUE_TEXTS = (*DIGITS, "10")  # after a "1": the number goes on (10..19, 110): not a 1


# -- the messages, written down once ---------------------------------------------------------------


class BackendOptions(TypedDict):
    method: str  # "logit" | "generate": logit checks the tokenizer's score tokens at startup
    model: str | None
    revision: str | None
    dtype: str
    device: str
    max_pixels: int
    scores: dict[str, float]
    fast_decode: str  # "auto" (on with CUDA) | "on" | "off": static KV cache + compiled decode step


class SetupRequest(TypedDict):
    """First message: which backend to load, once, and whose death ends the judge."""

    version: int
    kind: str  # "setup"
    backend: str
    options: BackendOptions
    parent_pid: int


class Versions(TypedDict, total=False):
    """`versions()`: python and executable, then each of SCORE_PACKAGES (None where not
    installed), and `lock` (the stamp's path and sha256, or None)."""

    python: str
    executable: str
    torch: str | None
    transformers: str | None
    tokenizers: str | None
    lock: dict | None


class ReadyReply(TypedDict):
    version: int
    kind: str  # "ready"
    pid: int
    versions: Versions
    info: dict
    load_s: float


class ScoreItem(TypedDict):
    """One dimension of one case: its rendered prompt and the PNG bytes of the images it sees."""

    dimension: str
    prompt: str
    images: list[bytes]


class ScaledScoreItem(ScoreItem, total=False):
    """A ScoreItem of a benchmark protocol whose scale is not 0-10: `scale` is [low, high], the
    whole-number scores the answer's digit reads (e.g. [1, 5], [0, 1]). Absent means 0-10, so the
    editbench protocol's messages are unchanged."""

    scale: list[int]
    stop: AnswerEnd  # generate: stop writing once this answer is complete (absent: run to the end)


class AnswerEnd(TypedDict, total=False):
    """Where a written answer ends, so the judge stops there instead of at `max_new_tokens`.

    `json`: after the first complete JSON object that has, for each group, one of its keys
    (`[["score", "final_score"]]`); `lines`: after the line break that ends the last of the named
    score lines (`[["Final Score"]]`, or one group of names per sub-score), each with a digit
    after its colon. The answer is cut there too, so where the check runs never changes the text.
    """

    json: list[list[str]]
    lines: list[list[str]]


class Decoding(TypedDict):
    max_new_tokens: int
    temperature: float
    samples: int
    seed: int


class ScoreRequest(TypedDict):
    version: int
    kind: str  # "score"
    id: str
    method: str  # "logit" | "generate"
    items: list[ScoreItem]
    decoding: Decoding


class ItemResult(TypedDict):
    """logit: score, mass (probability on valid scores), P(0..10) and the scores whose probability
    the judge could not report (service mode: outside the returned top-k; counted as missing mass,
    never as zero); generate: the sampled texts."""

    dimension: str
    score: float | None
    mass: float | None
    probs: list[float]
    unseen: list[int]
    texts: list[str]


class ScoreReply(TypedDict):
    version: int
    kind: str  # "scored"
    id: str
    results: list[ItemResult]
    seconds: float
    versions: Versions


class ErrorReply(TypedDict):
    """An exception inside the judge (id None: while loading the backend)."""

    version: int
    kind: str  # "error"
    id: str | None
    error: str


class CloseRequest(TypedDict):
    version: int
    kind: str  # "close"


SHAPES = (SetupRequest, ReadyReply, ScoreRequest, ScoreReply, ErrorReply, CloseRequest)


_VERSIONS: dict = {}
# the packages that move a score, as reporting/runmeta.py SCORE_PACKAGES (this file stands alone)
SCORE_PACKAGES = (
    "torch",
    "transformers",
    "tokenizers",
    "diffusers",
    "accelerate",
    "pillow",
    "numpy",
)
LOCK_STAMP = "editbench-lock.json"  # written by scripts/lock_envs.py --stamp when tox installs


def versions() -> dict:
    """This interpreter's score-moving packages (None where not installed) and, from the stamp
    tox leaves in its prefix, the lock it was installed from (None outside a locked env)."""
    if _VERSIONS:
        return dict(_VERSIONS)
    from importlib import metadata

    found: dict = {"python": sys.version.split()[0], "executable": sys.executable}
    for name in SCORE_PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    try:
        with open(os.path.join(sys.prefix, LOCK_STAMP), encoding="utf-8") as handle:
            found["lock"] = json.load(handle)
    except (OSError, ValueError):
        found["lock"] = None
    _VERSIONS.update(found)
    return found


def score_probs(first: dict, after_one: dict) -> list[float]:
    """Unnormalised P(0..10) from P(first token text) over SCORE_TEXTS and, for each "1" text,
    the next-token probabilities after it (over CONTINUE_TEXTS)."""
    probs = [0.0] * 11
    for text, p in first.items():
        if text in ONE_TEXTS:
            q = after_one.get(text) or {}
            goes_on = sum(q.get(t, 0.0) for t in CONTINUE_TEXTS)
            probs[1] += p * max(0.0, 1.0 - goes_on)
            probs[10] += p * q.get("0", 0.0)
        else:
            probs[SCORE_TEXTS[text]] += p
    return probs


def expected_score(probs: list[float]) -> tuple[float, float, list[float]]:
    """(expected score, mass on valid scores, P(0..10) renormalised) from unnormalised P(0..10)."""
    mass = sum(probs)
    if mass <= 0.0:
        raise ValueError("the judge put no probability on any score token")
    normed = [p / mass for p in probs]
    return sum(s * p for s, p in enumerate(normed)), mass, normed


def on_scale(
    probs: list[float], mass: float, low: int, high: int
) -> tuple[float, float, list[float]]:
    """(expected score, mass, P(low..high)) over one scale's own scores, from the renormalised
    P(0..10) and its mass: the judge's probabilities of the scores the scale allows, renormalised.

    The same as reading those score texts alone: P(1) already excludes a "1" that goes on to
    "10". `mass` becomes the unnormalised probability of the scale's scores; a score whose
    probability the judge did not report (service mode's `unseen`) stays missing from it, never a
    zero-probability score.
    """
    kept = [float(p) for p in probs[low : high + 1]]
    share = sum(kept)
    if share <= 0.0:
        raise ValueError(f"the judge put no probability on the scores {low}..{high}")
    normed = [p / share for p in kept]
    return (
        sum(s * p for s, p in zip(range(low, high + 1), normed, strict=True)),
        mass * share,
        normed,
    )


def score_token_ids(tokenizer, name: str) -> dict:
    """Each score text that is one token of this vocabulary, by id; refuse one that breaks the reading.

    Every bare digit must be one token that decodes to itself; leading-space digits and "10" are
    read where the vocabulary has them as one token, and left out where it does not.
    """
    found = {}
    for text in SCORE_TEXTS:
        ids = tokenizer.encode(text, add_special_tokens=False)
        if len(ids) == 1 and tokenizer.decode(ids) == text:
            found[text] = ids[0]
    missing = [d for d in DIGITS if d not in found]
    if missing:
        shown = tokenizer.convert_ids_to_tokens(
            tokenizer.encode(missing[0], add_special_tokens=False)
        )
        raise ValueError(
            f"judge model {name}: its tokenizer does not write the digit(s) "
            f"{', '.join(missing)} as one token each ({missing[0]!r} becomes {shown}); logit "
            "scoring reads single digit tokens and would compute a wrong expected score. Use "
            "judge.method: generate with this model"
        )
    return found


def answer_end(text: str, stop: dict | None) -> int | None:
    """Where the answer `stop` describes is complete in `text` (the index just after it), or None.

    Never earlier than the whole score: a JSON object counts once its closing brace parses, and a
    score line once its line break is written (a "1" may still become "10" before either).
    """
    if not stop:
        return None
    if stop.get("json"):
        return _json_end(text, stop["json"])
    if stop.get("lines"):
        return _lines_end(text, stop["lines"])
    return None


def _json_end(text: str, groups: list) -> int | None:
    """After the first top-level JSON object that holds one key of each group; None while an
    object is still open (its inner objects never end the answer)."""
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start >= 0:
        close = _closing_brace(text, start)
        if close is None:
            return None  # still being written
        try:
            value, end = decoder.raw_decode(text[: close + 1], start)
        except ValueError:
            value, end = None, close + 1
        keys = {str(k).strip().lower() for k in value} if isinstance(value, dict) else set()
        if keys and all(any(str(k).lower() in keys for k in group) for group in groups):
            return end
        start = text.find("{", end)
    return None


def _closing_brace(text: str, start: int) -> int | None:
    """The index of the brace that closes the one at `start` (strings skipped), or None."""
    depth, quoted, escaped = 0, False, False
    for index in range(start, len(text)):
        char = text[index]
        if quoted:
            escaped, quoted = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            quoted = True
        elif char in "{}":
            depth += 1 if char == "{" else -1
            if depth == 0:
                return index
    return None


def _lines_end(text: str, groups: list) -> int | None:
    """After the last of the named lines that hold a number alone ("Final Score: 7/10")."""
    ends = []
    for names in groups:
        alternatives = "|".join(re.escape(str(n)).replace(r"\ ", r"[\s_]+") for n in names)
        found = re.search(
            r"^[\s*#>\-\"']*(?:" + alternatives + r")[\s*\"']*[:：=][ \t*]*[-+]?\d+(?:\.\d+)?"
            r"(?:[ \t]*/[ \t]*\d+)?[ \t*]*[.。]?[ \t]*\n",
            text,
            re.IGNORECASE | re.MULTILINE,
        )
        if found is None:
            return None
        ends.append(found.end())
    return max(ends) if ends else None


# -- backends ------------------------------------------------------------------------------------


class ConstantBackend:
    """Fixed scores per dimension, no model: for the pipeline's own benchmarks and tests."""

    def __init__(self, options: dict) -> None:
        self.scores = dict(options.get("scores") or {})

    def info(self) -> dict:
        return {"backend": "constant", "scores": self.scores}

    def logit(self, items: list) -> list:
        return [
            {"score": float(self.scores[item["dimension"]]), "mass": 1.0, "probs": [], "unseen": []}
            for item in items
        ]

    def generate(self, items: list, decoding: dict) -> list:
        return [
            [json.dumps({"score": self.scores[item["dimension"]], "reasoning": "constant backend"})]
            * int(decoding["samples"])
            for item in items
        ]


PAD_TO = 64  # fast decode: prompt lengths are rounded up to this (left padding, masked)


class QwenVLBackend:
    """Any Qwen-VL-family checkpoint; the processor is loaded image-only (no video processor)."""

    IMAGE_TOKEN = "<|image_pad|>"

    def __init__(self, options: dict) -> None:
        import torch
        from transformers import AutoImageProcessor, AutoModelForImageTextToText, AutoTokenizer

        self.torch = torch
        model, revision = options["model"], options.get("revision")
        self.device = options.get("device") or "auto"
        if self.device == "auto":
            self.device = "cuda" if torch.cuda.is_available() else "cpu"
        self.dtype = _dtype(torch, options.get("dtype") or "auto", self.device)
        self.max_pixels = int(options.get("max_pixels") or 262144)
        self.tokenizer = AutoTokenizer.from_pretrained(model, revision=revision)
        self.tokenizer.padding_side = "left"
        self.images = AutoImageProcessor.from_pretrained(model, revision=revision)
        self.template = _chat_template(model, revision, self.tokenizer)
        self.model = AutoModelForImageTextToText.from_pretrained(
            model, revision=revision, dtype=self.dtype
        )
        self.model.to(self.device).eval()
        self.score_ids = (
            score_token_ids(self.tokenizer, model) if options.get("method") != "generate" else {}
        )
        self.image_token_id = self.tokenizer.convert_tokens_to_ids(self.IMAGE_TOKEN)
        self.min_pixels = int(getattr(self.images, "size", {}).get("shortest_edge", 0) or 0)
        self.merge = int(getattr(self.images, "merge_size", 2))
        self.name = model
        self.fast, self.fast_note = fast_decode_options(
            torch, str(self.device), options.get("fast_decode") or "auto"
        )

    def info(self) -> dict:
        return {
            "backend": "qwen-vl",
            "model": self.name,
            "class": type(self.model).__name__,
            "device": str(self.device),
            "dtype": str(self.dtype).replace("torch.", ""),
            "score_tokens": sorted(self.score_ids),
            "fast_decode": self.fast_note,
        }

    def _inputs(self, items: list, pad_to: int | None = None) -> dict:
        from PIL import Image

        unique: dict = {}  # each distinct image is preprocessed once per request
        order = [unique.setdefault(data, len(unique)) for item in items for data in item["images"]]
        inputs: dict = {}
        grids: list = []
        if order:
            pictures = [Image.open(io.BytesIO(data)).convert("RGB") for data in unique]
            size = {
                "shortest_edge": min(self.min_pixels or 1, self.max_pixels),
                "longest_edge": self.max_pixels,
            }
            vision = self.images(images=pictures, return_tensors="pt", size=size)
            thw = vision["image_grid_thw"]
            patches = self.torch.split(vision["pixel_values"], [int(g.prod()) for g in thw])
            inputs["pixel_values"] = self.torch.cat([patches[i] for i in order])
            inputs["image_grid_thw"] = thw[order]
            grids = [int(g.prod()) // (self.merge**2) for g in inputs["image_grid_thw"]]
        texts = []
        for item in items:
            content = [{"type": "image"} for _ in item["images"]] + [
                {"type": "text", "text": item["prompt"]}
            ]
            text = self.tokenizer.apply_chat_template(
                [{"role": "user", "content": content}],
                tokenize=False,
                add_generation_prompt=True,
                chat_template=self.template,
            )
            texts.append(_expand(text, self.IMAGE_TOKEN, grids))
        tokens = self.tokenizer(
            texts,
            return_tensors="pt",
            padding=True,
            pad_to_multiple_of=pad_to,
            add_special_tokens=False,
        )
        inputs["input_ids"], inputs["attention_mask"] = (
            tokens["input_ids"],
            tokens["attention_mask"],
        )
        return inputs

    def _with_type_ids(self, inputs: dict) -> dict:
        inputs["mm_token_type_ids"] = (inputs["input_ids"] == self.image_token_id).to(
            self.torch.int32
        )
        return {k: v.to(self.device) for k, v in inputs.items()}

    def logit(self, items: list) -> list:
        """One forward pass over every item followed by each "1" text the vocabulary has."""
        torch = self.torch
        if not self.score_ids:
            raise ValueError("this judge was started for method generate; restart it for logit")
        ones = [t for t in ONE_TEXTS if t in self.score_ids]
        inputs = self._inputs(items * len(ones))
        last = torch.tensor(
            [[self.score_ids[t]] for t in ones for _ in items], dtype=inputs["input_ids"].dtype
        )
        inputs["input_ids"] = torch.cat([inputs["input_ids"], last], dim=1)
        inputs["attention_mask"] = torch.cat(
            [inputs["attention_mask"], torch.ones_like(last)], dim=1
        )
        with torch.inference_mode():
            # the language-model head on the last two positions only: over every position it
            # writes a (rows x tokens x vocabulary) tensor, gigabytes for an 8B judge's 151k vocab
            logits = self.model(**self._with_type_ids(inputs), logits_to_keep=2).logits
            logits = logits[:, -2:, :].float()
        texts = list(self.score_ids)
        ids = torch.tensor([self.score_ids[t] for t in texts])
        probs = torch.softmax(logits, dim=-1)[:, :, ids].cpu().tolist()
        results = []
        for index in range(len(items)):
            first = dict(zip(texts, probs[index][0], strict=True))
            after = {
                one: dict(zip(texts, probs[k * len(items) + index][1], strict=True))
                for k, one in enumerate(ones)
            }
            score, mass, normed = expected_score(score_probs(first, after))
            results.append(
                {
                    "score": float(score),
                    "mass": float(mass),
                    "probs": [float(x) for x in normed],
                    "unseen": [],
                }
            )
        return results

    def generate(self, items: list, decoding: dict) -> list:
        samples = int(decoding["samples"])
        repeated = [item for item in items for _ in range(samples)]
        # the fast decode compiles (and on CUDA graphs) each cache length once: prompts are padded
        # to a multiple of PAD_TO so that cases of similar length share one
        pad_to = PAD_TO if self.fast is not None else None
        inputs = self._with_type_ids(self._inputs(repeated, pad_to))
        temperature = float(decoding["temperature"])
        options = {
            "do_sample": temperature > 0,
            "max_new_tokens": int(decoding["max_new_tokens"]),
            "pad_token_id": self.tokenizer.pad_token_id,
        }
        if temperature > 0:
            options["temperature"] = temperature
        else:
            options.update(temperature=None, top_p=None, top_k=None)
        stops = [item.get("stop") for item in repeated]
        prompt_len = inputs["input_ids"].shape[1]
        if any(stops):
            options["stopping_criteria"] = self._answer_complete(stops, prompt_len)
        output = self._decode(inputs, options, int(decoding["seed"]))
        texts = self.tokenizer.batch_decode(output[:, prompt_len:], skip_special_tokens=True)
        texts = [_cut(text, stop) for text, stop in zip(texts, stops, strict=True)]
        return [texts[i * samples : (i + 1) * samples] for i in range(len(items))]

    def _decode(self, inputs: dict, options: dict, seed: int):
        """`generate`, with the fast decode where it is on; a failure of it falls back once, logged."""
        torch = self.torch
        if self.fast is not None:
            torch.manual_seed(seed)
            try:
                with torch.inference_mode():
                    return self.model.generate(**inputs, **options, **self.fast)
            except Exception as exc:  # noqa: BLE001 - any failure of the fast path: the plain one
                self.fast, self.fast_note = None, f"off: fell back ({type(exc).__name__}: {exc})"
                _log(f"fast decode failed, falling back to the dynamic cache: {self.fast_note}")
        torch.manual_seed(seed)
        with torch.inference_mode():
            return self.model.generate(**inputs, **options)

    def _answer_complete(self, stops: list, prompt_len: int):
        """A stopping criterion: a row is done once its answer is complete (`answer_end`).

        An answer can only become complete with a token that writes "}" or a line break, so the
        whole row is decoded and read only after such a token: one token's decode per row and step.
        """
        from transformers import StoppingCriteria, StoppingCriteriaList

        torch, tokenizer = self.torch, self.tokenizer

        class AnswerComplete(StoppingCriteria):
            def __init__(self) -> None:
                self.done = [False] * len(stops)

            def __call__(self, input_ids, scores, **kwargs):
                last = input_ids[:, -1].tolist()
                for row, stop in enumerate(stops):
                    if stop and not self.done[row] and _may_end(tokenizer.decode([last[row]])):
                        text = tokenizer.decode(
                            input_ids[row, prompt_len:], skip_special_tokens=True
                        )
                        self.done[row] = answer_end(text, stop) is not None
                return torch.tensor(self.done, dtype=torch.bool, device=input_ids.device)

        return StoppingCriteriaList([AnswerComplete()])


def _may_end(token_text: str) -> bool:
    return "}" in token_text or "\n" in token_text


def _cut(text: str, stop: dict | None) -> str:
    end = answer_end(text, stop)
    return text if end is None else text[:end]


def _log(text: str) -> None:
    """One line on the judge interpreter's stderr (the worker's terminal and log)."""
    print(f"editbench judge: {text}", file=sys.stderr, flush=True)


def fast_decode_options(torch, device: str, choice: str) -> tuple[dict | None, str]:
    """generate() arguments of the fast decode, or None, and a note saying which and why.

    A static KV cache makes every decode step the same shape, which lets transformers compile the
    step (`torch.compile`, CUDA graphs on a GPU). transformers compiles it by itself on CUDA when
    the cache is static; on other devices only when asked (CompileConfig's all-devices flag), which
    `on` does, for measuring.
    """
    choice = choice or "auto"
    if choice == "off":
        return None, "off: judge.fast_decode off"
    if choice == "auto" and not device.startswith("cuda"):
        return None, f"off: auto turns it on with CUDA only (device {device})"
    try:
        from transformers import CompileConfig
    except ImportError as exc:
        note = f"off: this transformers has no CompileConfig ({exc})"
        _log(f"fast decode unavailable, using the dynamic cache: {note}")
        return None, note
    compile_config = CompileConfig()
    if not device.startswith("cuda"):
        compile_config = CompileConfig(mode="default")  # CUDA graphs need a GPU
        compile_config._compile_all_devices = True
    return (
        {"cache_implementation": "static", "compile_config": compile_config},
        "on: static cache, compiled decode step",
    )


def _dtype(torch, name: str, device: str):
    if name == "auto":
        return torch.bfloat16 if device.startswith("cuda") else torch.float32
    return getattr(torch, name)


def _expand(text: str, token: str, grids: list) -> str:
    """Give each image placeholder as many tokens as its merged patch grid (what Qwen processors do)."""
    parts = text.split(token)
    if len(parts) - 1 > len(grids):
        raise ValueError(
            f"the chat template wrote {len(parts) - 1} image placeholders for {len(grids)} images"
        )
    out = [parts[0]]
    for part in parts[1:]:
        out.append(token * grids.pop(0) + part)
    return "".join(out)


def _chat_template(model: str, revision, tokenizer):
    """The checkpoint's chat template: chat_template.jinja/.json beside the processor, else the tokenizer's."""
    for name in ("chat_template.jinja", "chat_template.json"):
        path = os.path.join(model, name)
        if not os.path.isdir(model):
            try:
                from huggingface_hub import hf_hub_download

                path = hf_hub_download(model, name, revision=revision)
            except Exception:  # noqa: BLE001 - absent from the repository: try the next source
                continue
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
            return json.loads(text)["chat_template"] if name.endswith(".json") else text
    if not tokenizer.chat_template:
        raise ValueError(
            f"{model}: no chat template (no chat_template.jinja/.json, none in the tokenizer)"
        )
    return tokenizer.chat_template


def load_backend(name: str, options: dict):
    if name == "constant":
        return ConstantBackend(options)
    if name == "qwen-vl":
        return QwenVLBackend(options)
    path, _, cls = name.rpartition(":")
    spec = importlib.util.spec_from_file_location("editbench_judge_backend", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, cls)(options)


# -- the serving loop ----------------------------------------------------------------------------


def handle(backend, request: dict) -> dict:
    """Answer one score request; any exception becomes an error reply naming it."""
    rid = request.get("id")
    if request.get("version") != PROTOCOL:
        return error_reply(
            rid, f"protocol version {request.get('version')!r}, this judge speaks {PROTOCOL}"
        )
    start = time.perf_counter()
    try:
        items = request["items"]
        if request["method"] == "logit":
            outputs = backend.logit(items)
            results = [
                _result(item, o.get("score"), o.get("mass"), o.get("probs") or [], [], o)
                for item, o in zip(items, outputs, strict=True)
            ]
        else:
            outputs = backend.generate(items, request["decoding"])
            results = [
                _result(item, None, None, [], [str(t) for t in texts], {})
                for item, texts in zip(items, outputs, strict=True)
            ]
    except Exception:  # noqa: BLE001 - reported to the worker, the loop goes on
        return error_reply(rid, traceback.format_exc())
    return {
        "version": PROTOCOL,
        "kind": "scored",
        "id": rid,
        "results": results,
        "seconds": time.perf_counter() - start,
        "versions": versions(),
    }


def _result(item: dict, score, mass, probs: list, texts: list, output: dict) -> dict:
    return {
        "dimension": str(item["dimension"]),
        "score": None if score is None else float(score),
        "mass": None if mass is None else float(mass),
        "probs": [float(p) for p in probs],
        "unseen": [int(v) for v in output.get("unseen") or []],
        "texts": texts,
    }


def error_reply(rid, text: str) -> dict:
    return {"version": PROTOCOL, "kind": "error", "id": rid, "error": text}


def watch_parent(parent_pid: int, interval: float = 0.5) -> None:
    """Exit this interpreter when the worker that started it is gone (reparented)."""

    def loop() -> None:
        while True:
            if os.getppid() != parent_pid:
                os._exit(3)
            time.sleep(interval)

    threading.Thread(target=loop, name="editbench-parent-watch", daemon=True).start()


def serve(channel) -> None:
    setup = channel.receive()
    watch_parent(int(setup["parent_pid"]))
    start = time.perf_counter()
    try:
        if setup.get("version") != PROTOCOL:
            raise ValueError(
                f"protocol version {setup.get('version')!r}, this judge speaks {PROTOCOL}"
            )
        backend = load_backend(setup["backend"], setup["options"])
        info = backend.info()
    except Exception:  # noqa: BLE001 - the worker reports it as a startup failure
        channel.send(error_reply(None, traceback.format_exc()))
        return
    channel.send(
        {
            "version": PROTOCOL,
            "kind": "ready",
            "pid": os.getpid(),
            "versions": versions(),
            "info": json.loads(json.dumps(info, default=str)),
            "load_s": time.perf_counter() - start,
        }
    )
    while True:
        request = channel.receive()
        if request.get("kind") == "close":
            return
        channel.send(handle(backend, request))


if __name__ == "__channelexec__":
    serve(channel)  # noqa: F821 - execnet provides `channel`
