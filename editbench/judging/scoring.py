"""Turn one case into the requests its protocol asks of the judge, and the replies into dimensions.

Plain code: the transport (`send`) is passed in, so this runs the same over a gateway or in a
test. The asks that apply to the case become requests: under `generate` one request per ask
whose answer names every sub-score (the protocol's answer format), under `logit` one request per
sub-score, each read as the expected score over the scale's own digits. Sub-scores combine into
the ask's dimension, then derived dimensions are computed (judging/derive.py).

A sub-score that cannot be read, or lies off its scale, fails its dimension with the status and
reason (after one retry with a format reminder under generate; a failed retry keeps its own
status); under logit, one whose probability on the scale's score tokens is below
`judge.min_digit_mass` fails with `low-digit-mass` (checked on cached scores too). Nothing is
ever filled in. Results are cached per request, keyed by what determines the judge's answer (its
`score_key`: model, revision, settings), method, decoding, the rendered prompt, the hashes of the
images it saw, and for answers other than one `score` the scale and sub-scores: a changed
template re-scores that ask without re-editing.
"""

from __future__ import annotations

import json
import time

from editbench.cache import Cache, cache_key
from editbench.config import JudgeConfig
from editbench.errors import CaseError
from editbench.images import decode_png, encode_png, sha256
from editbench.judging import DimensionResult, JudgeInput
from editbench.judging.answers import all_ok, answer_end, failed_request, logit_value, sample_result
from editbench.judging.derive import ask_dimensions, derive
from editbench.judging.parsing import Parsed, parse_score, parse_subscores
from editbench.judging.parsing import Subscore as AnswerName
from editbench.judging.results import JudgeFailure, Request, Send, result
from editbench.protocols import model as m
from editbench.protocols.facts import case_facts
from editbench.protocols.prompts import (
    IMAGE_NAMES,
    NONE_GIVEN,
    answer_format,
    criterion_of,
    describe_images,
    fill_prompt_file,
    prompt_file_text,
    read_template,
    reminder,
)
from editbench.vocabulary import Status

__all__ = ["JudgeFailure", "Request", "Scorer", "Send", "answer_end", "described", "result"]


def described(judge: JudgeConfig, scorer: Scorer) -> dict:
    """What every judge mode's `describe()` says of its scoring: the scorer's cache key, the
    method, decoding, images, dimensions, timeout, template files and protocol."""
    return {
        **scorer.judge_key,
        "method": judge.method,
        "decoding": scorer.decoding(0) | {"seed": "case seed"},
        "images": list(judge.images),
        "dimensions": list(judge.dimensions),
        "timeout_s": judge.timeout_s,
        "templates": scorer.template_files(),
        "protocol": judge.protocol,
    }


class Scorer:
    """Scores one case under the run's protocol; the transport (`send`) is passed in."""

    def __init__(
        self,
        judge: JudgeConfig,
        protocol: m.Protocol,
        judge_key: dict,
        send: Send,
        cache: Cache | None = None,
    ) -> None:
        self.judge, self.protocol, self.judge_key = judge, protocol, judge_key
        self.send, self.cache = send, cache
        self.texts = {ask.id: _template_text(ask) for ask in protocol.asks}
        self.image_names = {**IMAGE_NAMES, **protocol.image_names}

    def decoding(self, seed: int) -> dict:
        samples = self.judge.samples if self.judge.method == "generate" else 1
        return {
            "max_new_tokens": self.judge.max_new_tokens,
            "temperature": float(self.judge.temperature),
            "samples": samples,
            "seed": int(seed),
        }

    def template_files(self) -> dict[str, str]:
        """Each asked dimension's template file (several asks of one dimension: the first's)."""
        out: dict[str, str] = {}
        for ask in self.protocol.asks:
            if ask.template_file is not None:
                out.setdefault(ask.dimension, str(ask.template_file))
        return out

    # requests ----------------------------------------------------------------------------------

    def items(self, item: JudgeInput) -> dict[str, dict]:
        """The wire item of each of the case's requests, by request id (what `send` carries)."""
        return {r.id: r.item for r in self.requests(item)[0]}

    def requests(self, item: JudgeInput) -> tuple[list[Request], dict[str, DimensionResult]]:
        """The case's requests, and the dimensions that failed before asking (a missing image)."""
        case = item.case
        facts = case_facts(case)
        out, failed = [], {}
        for ask in self.protocol.asks_for(case.category.key, facts):
            try:
                kinds, images = self._images(ask, item)
            except CaseError as exc:
                for dimension in ask.dimensions:
                    failed[dimension] = result(None, Status.CASE_ERROR, "", str(exc))
                continue
            out += self._ask_requests(ask, item, kinds, images)
        return out, failed

    def _ask_requests(self, ask: m.Ask, item: JudgeInput, kinds, images) -> list[Request]:
        groups = (
            [(f"{ask.id}.{s.id}", (s,)) for s in ask.subscores]
            if self.judge.method == "logit" and len(ask.subscores) > 1
            else [(ask.id, ask.subscores)]
        )
        out = []
        for request_id, subs in groups:
            wire = {
                "dimension": request_id,
                "prompt": self._prompt(ask, item, kinds, subs[0]),
                "images": images,
            }
            if (ask.scale.low, ask.scale.high) != (0.0, 10.0):
                wire["scale"] = [int(ask.scale.low), int(ask.scale.high)]
            if self.judge.method == "generate" and self.judge.stop_at_answer:
                wire["stop"] = answer_end(ask, subs)
            out.append(Request(request_id, ask, subs, wire))
        return out

    def _images(self, ask: m.Ask, item: JudgeInput) -> tuple[list[str], list[bytes]]:
        sources = list(item.source_pngs or (item.source_png,))
        edited = _resized(item.edited_png, sources[0]) if ask.resize_edited else item.edited_png
        kinds, images = [], []
        for kind in ask.images:
            if kind == "sources":
                kinds += ["source"] * len(sources)
                images += sources
            elif kind == "source":
                kinds.append("source")
                images.append(sources[0])
            elif kind == "edited":
                kinds.append("edited")
                images.append(edited)
            else:
                kinds.append("reference")
                images.append(_reference(item))
        return kinds, images

    def _prompt(self, ask: m.Ask, item: JudgeInput, kinds: list[str], sub: m.Subscore) -> str:
        case = item.case
        values = {
            "instruction": item.instruction,
            "description": item.description or NONE_GIVEN,
            "category": case.category.display,
            "criterion": criterion_of(case),
            "explanation": case.extra.get("explanation") or NONE_GIVEN,
            "reference_text": case.reference_text or NONE_GIVEN,
            "images": describe_images(kinds, self.image_names),
            "answer_format": answer_format(ask, self.judge.method, sub),
        }
        text = self.texts[ask.id]
        if isinstance(ask.template, m.PromptFile):
            text = fill_prompt_file(text, ask.template.placeholders, values)
            return text + "\n\n" + values["answer_format"] if self.judge.method == "logit" else text
        return text.format(**values)

    def request_key(self, request: Request, seed: int, digests: dict[int, str]) -> str:
        decoding = self.decoding(seed)
        if self.judge.method == "logit" or decoding["temperature"] <= 0:
            decoding.pop("seed")  # deterministic: the seed does not change the score
        # a one-score answer (`answer: score`) keeps the key the editbench protocol always had: its
        # prompt says the scale and the format; other answers add what reads their sub-scores
        key = {
            "kind": "score",
            "judge": self.judge_key,
            "method": self.judge.method,
            "decoding": decoding,
            "prompt": request.item["prompt"],
            "images": [digests[id(png)] for png in request.item["images"]],
        }
        if request.ask.answer != "score":
            scale = request.ask.scale
            key |= {
                "kind": "protocol-score",
                "scale": [scale.low, scale.high],
                "integer": scale.integer_only,
                "answer": request.ask.answer,
                "subscores": [[s.id, s.label, s.key] for s in request.subscores],
            }
        return cache_key(key)

    # scoring -----------------------------------------------------------------------------------

    def score(self, item: JudgeInput) -> dict[str, DimensionResult]:
        requests, failed = self.requests(item)
        digests = {id(png): sha256(png) for r in requests for png in r.item["images"]}
        keys = {r.id: self.request_key(r, item.seed, digests) for r in requests}
        subs: dict[str, dict[str, DimensionResult]] = {}
        for request in requests:
            cached = self.cache.get_json("scores", keys[request.id]) if self.cache else None
            if cached is not None:
                values = _from_cache(request, cached)
                subs[request.id] = {k: {**v, "cached": True} for k, v in values.items()}
        missing = [r for r in requests if r.id not in subs]
        if missing:
            fresh = self.fresh_requests(missing, item.seed)
            by_id = {r.id: r for r in missing}
            for request_id, values in fresh.items():
                if self.cache and all(v["status"] == Status.OK for v in values.values()):
                    self.cache.put_json(
                        "scores", keys[request_id], _to_cache(by_id[request_id], values)
                    )
            subs.update(fresh)
        floored = {
            r: {k: self._mass_floor(v) for k, v in values.items()} for r, values in subs.items()
        }
        return self.combine(item, requests, floored, failed)

    def _mass_floor(self, value: DimensionResult) -> DimensionResult:
        """A logit score read from too little probability on score tokens fails (checked on
        cached scores too, so a raised `judge.min_digit_mass` applies to them)."""
        mass, floor = value.get("mass"), self.judge.min_digit_mass
        if value["status"] != Status.OK or mass is None or mass >= floor:
            return value
        return {
            **value,
            "score": None,
            "status": Status.LOW_DIGIT_MASS.value,
            "reasoning": (
                f"the judge put {mass:.3g} of its probability on score tokens, below "
                f"judge.min_digit_mass {floor:g}: the expected score {value['score']:.3f} would "
                "describe an answer it was unlikely to give"
            ),
        }

    def fresh_requests(self, requests: list[Request], seed: int) -> dict[str, dict]:
        """{request id: {sub-score id: result}} from one request to the judge (and one retry)."""
        start = time.perf_counter()
        try:
            reply = self.send([r.item for r in requests], self.judge.method, self.decoding(seed))
        except JudgeFailure as failure:
            share = (time.perf_counter() - start) / len(requests)
            return {r.id: failed_request(r, failure, share) for r in requests}
        if self.judge.method == "logit":
            return self._logit_results(requests, reply)
        return self._generate_results(requests, reply, seed, start)

    def _logit_results(self, requests: list[Request], reply: dict) -> dict[str, dict]:
        share = float(reply["seconds"]) / len(requests)
        by_id = {r["dimension"]: r for r in reply["results"]}
        return {r.id: {r.subscores[0].id: logit_value(r, by_id[r.id], share)} for r in requests}

    def _generate_results(
        self, requests: list[Request], reply: dict, seed: int, start: float
    ) -> dict[str, dict]:
        texts = {r["dimension"]: list(r["texts"]) for r in reply["results"]}
        parsed = {r.id: [self._parse(r, t) for t in texts[r.id]] for r in requests}
        retry = [r for r in requests if not all(all_ok(p) for p in parsed[r.id])]
        again: dict[str, list[str] | JudgeFailure] = {}
        if retry:
            items = [dict(r.item, prompt=r.item["prompt"] + reminder(r.ask)) for r in retry]
            try:
                second = self.send(items, "generate", self.decoding(seed + 1))
                again = {x["dimension"]: list(x["texts"]) for x in second["results"]}
            except JudgeFailure as failure:  # the retry's own failure is what is reported
                for r in retry:
                    texts[r.id].append(f"[retry failed: {failure.status}: {failure.reason}]")
                    texts[r.id] += [failure.raw] if failure.raw else []
                    again[r.id] = failure
        share = (time.perf_counter() - start) / len(requests)
        return {
            r.id: self._samples(r, parsed[r.id], texts[r.id], again.get(r.id), share)
            for r in requests
        }

    def _parse(self, request: Request, text: str) -> dict[str, Parsed]:
        if request.ask.answer == "score":
            return {request.subscores[0].id: parse_score(text, request.ask.scale)}
        names = [AnswerName(s.id, s.label, s.key) for s in request.subscores]
        return parse_subscores(text, names, request.ask.scale, request.ask.answer == "list")

    def _samples(
        self, request: Request, first: list[dict], texts: list[str], retried, seconds: float
    ) -> dict[str, DimensionResult]:
        """Every sample must give every sub-score; a failed sample is replaced by its retry."""
        final, raws = list(first), list(texts)
        suffix = " (after one retry with a format reminder)" if retried is not None else ""
        if isinstance(retried, JudgeFailure):
            why = next(p.reason for parsed in first for p in parsed.values() if not p.ok)
            reason = f"{retried.reason} (in the retry with a format reminder, after: {why})"
            failed = Parsed(None, Status(retried.status), reason)
            final = [p if all_ok(p) else {s.id: failed for s in request.subscores} for p in first]
            suffix = ""
        elif retried is not None:
            answers = iter(retried)
            for index, parsed in enumerate(first):
                if not all_ok(parsed):
                    text = next(answers, "")
                    final[index] = self._parse(request, text)
                    raws.append(text)
        raw = raws[0] if len(raws) == 1 else json.dumps(raws, ensure_ascii=False)
        return {
            s.id: sample_result([p[s.id] for p in final], raw, seconds, suffix)
            for s in request.subscores
        }

    # sub-scores into dimensions ----------------------------------------------------------------

    def combine(
        self,
        item: JudgeInput,
        requests: list[Request],
        subs: dict[str, dict[str, DimensionResult]],
        failed: dict[str, DimensionResult],
    ) -> dict[str, DimensionResult]:
        by_ask: dict[str, dict[str, DimensionResult]] = {}
        for request in requests:
            by_ask.setdefault(request.ask.id, {}).update(subs[request.id])
        dims: dict[str, DimensionResult] = dict(failed)
        extras: dict[str, DimensionResult] = {}
        for ask in self.protocol.asks:
            if ask.id in by_ask:
                found, parts = ask_dimensions(ask, by_ask[ask.id])
                dims.update(found)
                extras.update(parts)
        case = item.case
        facts = case_facts(case)
        for derived in self.protocol.derived:
            value = derive(
                derived, dims, self.protocol, case.category.key, facts, self.judge.method
            )
            if value is not None:
                dims[derived.dimension] = value
        produced = [d for ask in self.protocol.asks for d in ask.dimensions]
        produced += [d.dimension for d in self.protocol.derived]
        ordered = {d: dims[d] for d in dict.fromkeys(produced) if d in dims}
        return {**ordered, **extras}


# -- helpers -------------------------------------------------------------------------------------


def _template_text(ask: m.Ask) -> str:
    if isinstance(ask.template, m.PromptFile):
        return prompt_file_text(ask.template)
    if isinstance(ask.template, m.SuiteTemplate):
        raise ValueError(f"ask {ask.id}: the suite's template is read by protocols.run_protocol")
    return read_template(ask.template)


def _reference(item: JudgeInput) -> bytes:
    reference = item.case.reference
    if reference is None:
        raise CaseError(f"case {item.case.id}: the protocol shows a reference image it has none of")
    return reference.load()[1]


def _resized(edited: bytes, source: bytes) -> bytes:
    """The edited image at the source's size (GEdit's scorer resizes it before judging)."""
    target = decode_png(source, "source").size
    image = decode_png(edited, "edited image")
    return edited if image.size == target else encode_png(image.convert("RGB").resize(target))


def _from_cache(request: Request, cached: dict) -> dict[str, DimensionResult]:
    """{sub-score id: result} of a cached request; a one-score answer is stored as its result."""
    return {request.subscores[0].id: cached} if request.ask.answer == "score" else cached


def _to_cache(request: Request, values: dict[str, DimensionResult]) -> dict:
    return values[request.subscores[0].id] if request.ask.answer == "score" else values
