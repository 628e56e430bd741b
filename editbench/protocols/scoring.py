"""A benchmark protocol's judge requests for one case, and its answers turned into dimensions.

The protocol's counterpart of `judging.scoring.Scorer` (whose transport, decoding and cache it
shares): the asks that apply to the case become requests; under `generate` one request per ask
whose answer names every sub-score (the benchmark's own format), under `logit` one request per
sub-score, each read as the expected score over the scale's own digits (a documented variant of
the multi-score prompt). Sub-scores combine into the ask's dimension (min, mean, or each its own
dimension), then derived dimensions are computed (GEdit's O, RISE's weighted score).

A sub-score that cannot be read, or lies off its scale, fails its dimension with the status and
reason (after one retry with a format reminder under generate; a failed retry keeps its own
status); under logit, one whose probability on the scale's score tokens is below
`judge.min_digit_mass` fails with `low-digit-mass` (checked on cached scores too, as
`Scorer` does). A dimension computed from a failed one is `missing-input`. Nothing is ever
filled in. Results per request are cached under a
key of what determines the answer (judge, method, decoding, prompt, image hashes, scale).
"""

from __future__ import annotations

import json
import math
import statistics
import time
from dataclasses import dataclass
from typing import Any

from editbench.cache import Cache, cache_key
from editbench.config import JudgeConfig
from editbench.errors import CaseError
from editbench.images import decode_png, encode_png, sha256
from editbench.judging import DimensionResult, JudgeInput
from editbench.judging.parsing import JSON_KEYS, Parsed, parse_subscores
from editbench.judging.parsing import Subscore as AnswerName
from editbench.judging.remote import on_scale
from editbench.judging.scoring import JudgeFailure, Scorer, Send, result, samples_result
from editbench.protocols import model as m
from editbench.protocols.facts import case_facts
from editbench.protocols.loader import prompt_file_text
from editbench.protocols.prompts import (
    NONE_GIVEN,
    answer_format,
    describe_images,
    fill_prompt_file,
    read_template,
    reminder,
)
from editbench.vocabulary import Status


@dataclass(frozen=True)
class Request:
    """One judge request: the ask it belongs to and the sub-scores its answer gives."""

    id: str  # the wire item's "dimension": the ask id, or "<ask id>.<sub-score>" under logit
    ask: m.Ask
    subscores: tuple[m.Subscore, ...]
    item: dict[str, Any]


class ProtocolScorer(Scorer):
    """Scores one case under a benchmark protocol; the transport (`send`) is passed in."""

    def __init__(
        self,
        judge: JudgeConfig,
        protocol: m.Protocol,
        judge_key: dict,
        send: Send,
        cache: Cache | None = None,
    ) -> None:
        super().__init__(judge, None, judge_key, send, cache)
        self.protocol = protocol
        self.texts = {ask.id: _template_text(ask) for ask in protocol.asks}

    # requests ----------------------------------------------------------------------------------

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
            "explanation": case.extra.get("explanation") or NONE_GIVEN,
            "reference_text": case.reference_text or NONE_GIVEN,
            "images": describe_images(kinds),
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
            decoding.pop("seed")
        return cache_key(
            {
                "kind": "protocol-score",
                "judge": self.judge_key,
                "method": self.judge.method,
                "decoding": decoding,
                "prompt": request.item["prompt"],
                "images": [digests[id(png)] for png in request.item["images"]],
                "scale": [request.ask.scale.low, request.ask.scale.high],
                "integer": request.ask.scale.integer_only,
                "answer": request.ask.answer,
                "subscores": [[s.id, s.label, s.key] for s in request.subscores],
            }
        )

    # scoring -----------------------------------------------------------------------------------

    def score(self, item: JudgeInput) -> dict[str, DimensionResult]:
        requests, failed = self.requests(item)
        digests = {id(png): sha256(png) for r in requests for png in r.item["images"]}
        keys = {r.id: self.request_key(r, item.seed, digests) for r in requests}
        subs: dict[str, dict[str, DimensionResult]] = {}
        for request in requests:
            cached = self.cache.get_json("scores", keys[request.id]) if self.cache else None
            if cached is not None:
                subs[request.id] = {k: {**v, "cached": True} for k, v in cached.items()}
        missing = [r for r in requests if r.id not in subs]
        if missing:
            fresh = self.fresh_requests(missing, item.seed)
            for request_id, values in fresh.items():
                if self.cache and all(v["status"] == Status.OK for v in values.values()):
                    self.cache.put_json("scores", keys[request_id], values)
            subs.update(fresh)
        floored = {
            r: {k: self._mass_floor(v) for k, v in values.items()} for r, values in subs.items()
        }
        return self.combine(item, requests, floored, failed)

    def fresh_requests(self, requests: list[Request], seed: int) -> dict[str, dict]:
        """{request id: {sub-score id: result}} from one request to the judge (and one retry)."""
        start = time.perf_counter()
        try:
            reply = self.send([r.item for r in requests], self.judge.method, self.decoding(seed))
        except JudgeFailure as failure:
            share = (time.perf_counter() - start) / len(requests)
            return {r.id: _failed(r, failure, share) for r in requests}
        if self.judge.method == "logit":
            return self._logit_results(requests, reply)
        return self._generate_results(requests, reply, seed, start)

    def _logit_results(self, requests: list[Request], reply: dict) -> dict[str, dict]:
        share = float(reply["seconds"]) / len(requests)
        by_id = {r["dimension"]: r for r in reply["results"]}
        return {r.id: {r.subscores[0].id: _logit_value(r, by_id[r.id], share)} for r in requests}

    def _generate_results(
        self, requests: list[Request], reply: dict, seed: int, start: float
    ) -> dict[str, dict]:
        texts = {r["dimension"]: list(r["texts"]) for r in reply["results"]}
        parsed = {r.id: [self._parse(r, t) for t in texts[r.id]] for r in requests}
        retry = [r for r in requests if not all(_all_ok(p) for p in parsed[r.id])]
        again: dict[str, list[str] | JudgeFailure] = {}
        if retry:
            items = [dict(r.item, prompt=r.item["prompt"] + reminder(r.ask)) for r in retry]
            try:
                second = self.send(items, "generate", self.decoding(seed + 1))
                again = {x["dimension"]: list(x["texts"]) for x in second["results"]}
            except JudgeFailure as failure:  # the retry's own failure is what is reported
                for r in retry:
                    texts[r.id].append(f"[retry failed: {failure.status}: {failure.reason}]")
                    again[r.id] = failure
        share = (time.perf_counter() - start) / len(requests)
        return {
            r.id: self._samples(r, parsed[r.id], texts[r.id], again.get(r.id), share)
            for r in requests
        }

    def _parse(self, request: Request, text: str) -> dict[str, Parsed]:
        names = [AnswerName(s.id, s.label, s.key) for s in request.subscores]
        return parse_subscores(text, names, request.ask.scale, request.ask.answer == "list")

    def _samples(
        self, request: Request, first: list[dict], texts: list[str], retried, seconds: float
    ) -> dict[str, DimensionResult]:
        """Every sample must give every sub-score; a failed sample is replaced by its retry."""
        final, raws = list(first), list(texts)
        if isinstance(retried, JudgeFailure):
            failed = Parsed(None, Status(retried.status), f"the retry failed: {retried.reason}")
            final = [p if _all_ok(p) else {s.id: failed for s in request.subscores} for p in first]
        elif retried is not None:
            answers = iter(retried)
            for index, parsed in enumerate(first):
                if not _all_ok(parsed):
                    text = next(answers, "")
                    final[index] = self._parse(request, text)
                    raws.append(text)
        raw = raws[0] if len(raws) == 1 else json.dumps(raws, ensure_ascii=False)
        suffix = " (after one retry with a format reminder)" if retried is not None else ""
        return {
            s.id: _sample_result([p[s.id] for p in final], raw, seconds, suffix)
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
        ordered = {d: dims[d] for d in self.protocol.dimensions if d in dims}
        return {**ordered, **extras}


def ask_dimensions(
    ask: m.Ask, subs: dict[str, DimensionResult]
) -> tuple[dict[str, DimensionResult], dict[str, DimensionResult]]:
    """(the ask's dimensions, its sub-scores as "<dimension>.<sub-score>" entries)."""
    if ask.combine == "each":
        return {s.id: _mapped(ask, subs[s.id]) for s in ask.subscores}, {}
    if ask.combine == "single":
        return {ask.dimension: _mapped(ask, subs[ask.subscores[0].id])}, {}
    parts = {f"{ask.dimension}.{s.id}": subs[s.id] for s in ask.subscores}
    bad = [(s, subs[s.id]) for s in ask.subscores if subs[s.id]["status"] != Status.OK]
    first = subs[ask.subscores[0].id]
    if bad:
        _, failure = bad[0]
        reason = failure["reasoning"] or failure["status"]
        value = result(None, failure["status"], failure["raw"], reason, _seconds(subs))
        return {ask.dimension: value}, parts
    scores = [subs[s.id]["score"] for s in ask.subscores]
    combined = min(scores) if ask.combine == "min" else statistics.fmean(scores)
    shown = ", ".join(f"{s.label} {subs[s.id]['score']:g}" for s in ask.subscores)
    reasoning = f"{ask.combine}({shown}): {first['reasoning']}".rstrip(": ")
    value = result(combined, Status.OK, first["raw"], reasoning, _seconds(subs))
    value["cached"] = all(v.get("cached") for v in subs.values())
    return {ask.dimension: _mapped(ask, value)}, parts


def derive(
    derived: m.Derived,
    dims: dict[str, DimensionResult],
    protocol: m.Protocol,
    category: str,
    facts: dict[str, Any],
    method: str,
) -> DimensionResult | None:
    """A derived dimension of one case; None where it does not apply (none of its inputs do)."""
    inputs = m.derived_inputs(derived, category, facts)
    present = [d for d in inputs if d in dims]
    needed = present if derived.op == "all_at_max" else list(inputs)
    if not present:
        return None
    bad = [d for d in needed if d not in dims or dims[d]["status"] != Status.OK]
    if bad:
        return result(None, Status.MISSING_INPUT, "", f"{', '.join(bad)} not scored")
    values = {d: float(dims[d]["score"]) for d in needed}
    value, text = _apply(derived, values, protocol, category, facts, method)
    return result(value, Status.OK, "", text)


def _apply(derived, values, protocol, category, facts, method) -> tuple[float, str]:
    names = list(values)
    if derived.op == "geometric_mean":
        return math.prod(values.values()) ** (1 / len(values)), f"geometric mean of {names}"
    if derived.op == "mean":
        return statistics.fmean(values.values()), f"mean of {names}"
    if derived.op == "min":
        return min(values.values()), f"min of {names}"
    if derived.op == "all_at_max":
        at_max = all(
            reading(values[d], protocol, d, method) == protocol.scale_of(d).high for d in names
        )
        return float(at_max), f"every one of {names} at its maximum: {at_max}"
    weights = m.chosen_variant(derived, category, facts).weights
    value = sum(w * values[d] for d, w in weights.items())
    text = " + ".join(f"{w:g}*{d}" for d, w in weights.items())
    penalty = derived.penalty
    if penalty and reading(values[penalty.dimension], protocol, penalty.dimension, method) == (
        penalty.equals
    ):
        value = max(value * penalty.factor, penalty.floor)
        text += f", times {penalty.factor:g} (not below {penalty.floor:g}) as {penalty.dimension} is {penalty.equals:g}"
    return value, text


def reading(value: float, protocol: m.Protocol, dimension: str, method: str) -> float:
    """A score as a rule reads it: as given under generate; under logit the expected score is
    rounded to the nearest score the dimension can take (a documented variant)."""
    if method != "logit":
        return value
    points = scale_points(protocol, dimension)
    return min(points, key=lambda p: (abs(p - value), -p))


def scale_points(protocol: m.Protocol, dimension: str) -> list[float]:
    for ask in protocol.asks:
        if dimension in ask.dimensions:
            own = range(int(ask.scale.low), int(ask.scale.high) + 1)
            return [_map_value(ask, float(p)) for p in own]
    scale = protocol.scale_of(dimension)
    return [float(p) for p in range(int(scale.low), int(scale.high) + 1)]


# -- helpers -------------------------------------------------------------------------------------


def _template_text(ask: m.Ask) -> str:
    if isinstance(ask.template, m.PromptFile):
        return prompt_file_text(ask.template)
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


def _map_value(ask: m.Ask, value: float) -> float:
    if ask.report_as is None:
        return value
    low, high = ask.report_as
    return low + (value - ask.scale.low) / ask.scale.range * (high - low)


def _mapped(ask: m.Ask, value: DimensionResult) -> DimensionResult:
    if ask.report_as is None or value["status"] != Status.OK:
        return value
    read = float(value["score"])
    note = f"read {read:g} on {ask.scale}, reported as {_map_value(ask, read):g} on {ask.reported_scale}"
    return {**value, "score": _map_value(ask, read), "reasoning": f"{note}; {value['reasoning']}"}


def _failed(request: Request, failure: JudgeFailure, seconds: float) -> dict:
    return {
        s.id: result(None, failure.status, failure.raw, failure.reason, seconds)
        for s in request.subscores
    }


def _all_ok(parsed: dict[str, Parsed]) -> bool:
    return all(p.ok for p in parsed.values())


def _sample_result(parsed: list[Parsed], raw: str, seconds: float, suffix: str) -> DimensionResult:
    bad = [p for p in parsed if not p.ok]
    if bad:
        return result(None, bad[0].status, raw, bad[0].reason + suffix, seconds)
    return samples_result(parsed, raw, seconds)


def _logit_value(request: Request, item: dict, seconds: float) -> DimensionResult:
    """One sub-score read by logit: the expected score over the scale's own scores.

    A score the judge's reply could not report (service mode: outside the returned top-k,
    `unseen`) is missing from the mass, never a score of probability 0; the mass on the scale's
    scores is kept, so the run's `judge.min_digit_mass` applies to it (`Scorer._mass_floor`).
    """
    scale = request.ask.scale
    score, mass, probs = item.get("score"), item.get("mass"), list(item.get("probs") or [])
    low, high = int(scale.low), int(scale.high)
    unseen = [v for v in item.get("unseen") or [] if low <= v <= high]
    raw = json.dumps({"probs": probs, "mass": mass, "unseen": unseen})
    try:
        if len(probs) == 11 and (scale.low, scale.high) != (0.0, 10.0):
            score, mass, probs = on_scale(probs, float(mass or 0.0), low, high)
            raw = json.dumps({"probs": probs, "mass": mass, "unseen": unseen})
    except ValueError as exc:
        return result(None, Status.LOW_DIGIT_MASS, raw, str(exc), seconds, mass=0.0)
    if score is None or not math.isfinite(score) or not scale.low <= score <= scale.high:
        reason = f"logit score {score!r} outside {scale}"
        return result(None, Status.OUT_OF_RANGE, raw, reason, seconds)
    reasoning = f"expected score over P({scale.low:g}..{scale.high:g}) at the answer position"
    if mass is not None:
        reasoning += f"; probability on the scale's score tokens {mass:.3g}"
    if unseen:
        reasoning += (
            f"; scores {', '.join(map(str, unseen))} outside the returned top-k: their "
            "probability is unknown and counts as missing mass"
        )
    extra = {} if mass is None else {"mass": float(mass)}
    return result(float(score), Status.OK, raw, reasoning, seconds, **extra)


def _seconds(subs: dict[str, DimensionResult]) -> float:
    return sum(float(v.get("seconds") or 0.0) for v in subs.values())


def answer_end(ask: m.Ask, subs) -> dict:
    """Where an answer in this ask's format is complete (`remote.AnswerEnd`): the judge stops there."""
    if ask.answer == "list":
        return {"json": [list(JSON_KEYS)]}
    if ask.answer == "keys":
        return {"json": [[s.key] for s in subs]}
    if ask.answer == "lines":
        return {"lines": [[s.label, s.key] for s in subs]}
    return {"lines": [["Final Score"]]}
