"""Turn one case into score requests and the judge's replies into results per dimension.

Plain code: the transport (`send`) is passed in, so this runs the same over a gateway or in a
test. A dimension's result is a score read from the judge or a failure status with its reason
and the judge's raw text; nothing here ever fills in a score. Scores are cached per dimension,
keyed by what determines the judge's answer (its `score_key`: model, revision, settings), method, decoding parameters, the rendered prompt and the hashes
of the images it saw: a changed template re-scores that dimension without re-editing.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Callable

from editbench.cache import Cache, cache_key
from editbench.config import JudgeConfig
from editbench.images import sha256
from editbench.judging import DimensionResult, JudgeInput
from editbench.judging.parsing import JSON_KEYS, parse_score
from editbench.judging.prompts import REMINDER, Templates
from editbench.vocabulary import Status, scale_of

# Which images each dimension sees: PQ judges the edited image alone.
OWN_IMAGES = {"PQ": ["edited"]}


class JudgeFailure(Exception):
    """The whole request failed: timeout, judge-error or judge-unavailable, with the judge's text."""

    def __init__(self, status: Status | str, reason: str, raw: str = "") -> None:
        super().__init__(reason)
        self.status, self.reason, self.raw = Status(status).value, reason, raw


Send = Callable[[list, str, dict], dict]  # (items, method, decoding) -> ScoreReply


def result(
    score: float | None,
    status: Status | str,
    raw: str = "",
    reasoning: str = "",
    seconds: float = 0.0,
    **extra,
) -> DimensionResult:
    """One dimension's result; the status is stored as its plain string (it crosses execnet)."""
    return {
        "score": score,
        "status": Status(status).value,
        "raw": raw,
        "reasoning": reasoning,
        "seconds": float(seconds),
        "cached": False,
        **extra,
    }


def described(judge: JudgeConfig, scorer: Scorer, templates: Templates | None) -> dict:
    """What every judge mode's `describe()` says of its scoring: the scorer's cache key, the
    method, decoding, images, dimensions, timeout, template files and protocol."""
    return {
        **scorer.judge_key,
        "method": judge.method,
        "decoding": scorer.decoding(0) | {"seed": "case seed"},
        "images": list(judge.images),
        "dimensions": list(judge.dimensions),
        "timeout_s": judge.timeout_s,
        "templates": {d: str(p) for d, p in templates.files.items()} if templates else {},
        "protocol": judge.protocol,
    }


def samples_result(parsed: list, raw: str, seconds: float) -> DimensionResult:
    """An ok result from one or more parsed samples (all of them read): their mean, with the
    spread and the number of samples, and their reasonings joined."""
    scores = [p.score for p in parsed]
    reasoning = parsed[0].reasoning if len(parsed) == 1 else " | ".join(p.reasoning for p in parsed)
    return result(
        statistics.fmean(scores),
        Status.OK,
        raw,
        reasoning,
        seconds,
        spread=statistics.pstdev(scores) if len(scores) > 1 else 0.0,
        samples=len(scores),
    )


class Scorer:
    def __init__(
        self,
        judge: JudgeConfig,
        templates: Templates,
        judge_key: dict,
        send: Send,
        cache: Cache | None = None,
    ) -> None:
        self.judge, self.templates, self.judge_key = judge, templates, judge_key
        self.send, self.cache = send, cache

    def decoding(self, seed: int) -> dict:
        samples = self.judge.samples if self.judge.method == "generate" else 1
        return {
            "max_new_tokens": self.judge.max_new_tokens,
            "temperature": float(self.judge.temperature),
            "samples": samples,
            "seed": int(seed),
        }

    def items(self, item: JudgeInput) -> dict[str, dict]:
        """The request item (rendered prompt + images) of each configured dimension.

        "source" stands for every input image of the case, in order (one for most cases).
        """
        pngs = {"source": list(item.source_pngs or (item.source_png,)), "edited": [item.edited_png]}
        out = {}
        for dimension in self.judge.dimensions:
            kinds = OWN_IMAGES.get(dimension, self.judge.images)
            names = [kind for kind in kinds for _ in pngs[kind]]
            prompt = self.templates.render(
                dimension, item.case, item.instruction, item.description, names, self.judge.method
            )
            out[dimension] = {
                "dimension": dimension,
                "prompt": prompt,
                "images": [png for kind in kinds for png in pngs[kind]],
            }
            if self.judge.method == "generate" and self.judge.stop_at_answer:
                out[dimension]["stop"] = {"json": [list(JSON_KEYS)]}  # the answer format asked
        return out

    def key(self, request_item: dict, seed: int, digests: dict[int, str]) -> str:
        decoding = self.decoding(seed)
        if self.judge.method == "logit" or decoding["temperature"] <= 0:
            decoding.pop("seed")  # deterministic: the seed does not change the score
        return cache_key(
            {
                "kind": "score",
                "judge": self.judge_key,
                "method": self.judge.method,
                "decoding": decoding,
                "prompt": request_item["prompt"],
                "images": [digests[id(png)] for png in request_item["images"]],
            }
        )

    def score(self, item: JudgeInput) -> dict[str, DimensionResult]:
        items = self.items(item)
        inputs = item.source_pngs or (item.source_png,)
        digests = {id(png): sha256(png) for png in (*inputs, item.edited_png)}
        keys = {d: self.key(i, item.seed, digests) for d, i in items.items()}
        results: dict[str, DimensionResult] = {}
        for dimension, key in keys.items():
            cached = self.cache.get_json("scores", key) if self.cache else None
            if cached is not None:
                results[dimension] = {**cached, "cached": True}
        missing = [items[d] for d in items if d not in results]
        if missing:
            fresh = self.fresh(missing, item.seed)
            for dimension, value in fresh.items():
                if value["status"] == Status.OK and self.cache:
                    self.cache.put_json("scores", keys[dimension], value)
            results.update(fresh)
        return {d: self._mass_floor(results[d]) for d in items}

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

    def fresh(self, items: list[dict], seed: int) -> dict[str, DimensionResult]:
        start = time.perf_counter()
        try:
            reply = self.send(items, self.judge.method, self.decoding(seed))
        except JudgeFailure as failure:
            share = (time.perf_counter() - start) / len(items)
            return {
                i["dimension"]: result(None, failure.status, failure.raw, failure.reason, share)
                for i in items
            }
        if self.judge.method == "logit":
            return self._logit(reply, len(items))
        return self._generate(items, reply, seed, start)

    def _logit(self, reply: dict, count: int) -> dict[str, DimensionResult]:
        share = float(reply["seconds"]) / count
        out = {}
        for item in reply["results"]:
            dimension, score, mass = item["dimension"], item["score"], item["mass"]
            unseen = list(item.get("unseen") or [])
            raw = json.dumps({"probs": item["probs"], "mass": mass, "unseen": unseen})
            scale = scale_of(dimension)
            if score is None or not math.isfinite(score) or not scale.contains(score):
                out[dimension] = result(
                    None, Status.OUT_OF_RANGE, raw, f"logit score {score!r} outside {scale}", share
                )
                continue
            reasoning = "expected score over P(0..10) at the answer position"
            if mass is not None:
                reasoning += f"; probability on score tokens {mass:.3g}"
            if unseen:
                reasoning += (
                    f"; scores {', '.join(map(str, unseen))} outside the returned top-k: their "
                    "probability is unknown and counts as missing mass"
                )
            extra = {} if mass is None else {"mass": float(mass)}
            out[dimension] = result(float(score), Status.OK, raw, reasoning, share, **extra)
        return out

    def _generate(
        self, items: list[dict], reply: dict, seed: int, start: float
    ) -> dict[str, DimensionResult]:
        texts = {r["dimension"]: list(r["texts"]) for r in reply["results"]}
        parsed = {d: [parse_score(t, scale_of(d)) for t in ts] for d, ts in texts.items()}
        retry = [
            dict(i, prompt=i["prompt"] + REMINDER)
            for i in items
            if not all(p.ok for p in parsed[i["dimension"]])
        ]
        retried: dict[str, list] = {}
        failure: JudgeFailure | None = None
        if retry:
            try:
                again = self.send(retry, "generate", self.decoding(seed + 1))
                retried = {r["dimension"]: list(r["texts"]) for r in again["results"]}
            except JudgeFailure as exc:
                failure = exc
        share = (time.perf_counter() - start) / len(items)
        out = {}
        for i in items:
            dimension = i["dimension"]
            if failure is not None and any(r["dimension"] == dimension for r in retry):
                out[dimension] = self._retry_failed(parsed[dimension], texts[dimension], failure)
                out[dimension]["seconds"] = share
                continue
            out[dimension] = self._combine(
                dimension, parsed[dimension], texts[dimension], retried.get(dimension), share
            )
        return out

    @staticmethod
    def _retry_failed(first: list, texts: list[str], failure: JudgeFailure) -> DimensionResult:
        """The retry itself failed: the case keeps that failure's status (timeout stays timeout)."""
        why = next(p.reason for p in first if not p.ok)
        raws = [*texts, f"[retry failed: {failure.status}: {failure.reason}]"]
        if failure.raw:
            raws.append(failure.raw)
        return result(
            None,
            failure.status,
            json.dumps(raws, ensure_ascii=False),
            f"{failure.reason} (in the retry with a format reminder, after: {why})",
        )

    def _combine(
        self,
        dimension: str,
        first: list,
        texts: list[str],
        retried: list[str] | None,
        seconds: float,
    ) -> DimensionResult:
        """Each sample that failed to parse gets its retry answer; all samples must parse."""
        final, raws = list(first), list(texts)
        if retried is not None:
            again = iter(retried)
            for index, parsed in enumerate(first):
                if not parsed.ok:
                    text = next(again, "")
                    final[index] = parse_score(text, scale_of(dimension))
                    raws.append(text)
        raw = raws[0] if len(raws) == 1 else json.dumps(raws, ensure_ascii=False)
        failed = [p for p in final if not p.ok]
        if failed:
            return result(
                None,
                failed[0].status,
                raw,
                f"{failed[0].reason} (after one retry with a format reminder)",
                seconds,
            )
        return samples_result(final, raw, seconds)
