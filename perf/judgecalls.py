"""The tiny judge's requests, built the way a worker builds them, and three ways to have them answered.

- gateway: the harness's own `GatewayJudge` (execnet into a long-lived judge interpreter);
- in-process: `judgeside.py` inside another judge interpreter, timing `remote.handle` alone;
- old way: a fresh judge interpreter per batch, base64 images in a JSON file, model loaded each time.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import subprocess
import time
from pathlib import Path

import execnet
from PIL import ImageOps

from editbench.cases import Case, Suite
from editbench.config import Config
from editbench.images import encode_png
from editbench.judging import JudgeInput, WorkerInfo, remote
from editbench.judging.modes import open_judge
from editbench.judging.remote import PROTOCOL
from editbench.judging.scoring import Scorer
from editbench.protocols import run_protocol
from perf import judgeside
from perf.bench import Options, PerfError, env

TINY_JUDGE = "tiny:qwen3-vl"


def tiny_judge(opts: Options, method: str = "logit") -> dict:
    return {
        "backend": "qwen-vl",
        "model": TINY_JUDGE,
        "python": opts.judge_python,
        "method": method,
        "device": "cpu",
        "min_digit_mass": 0,  # random weights put little probability on score tokens
    }


def cpu_options(config: Config, **extra) -> dict:
    """The judge server's setup options for the config's (tiny) judge on the CPU, in-process or
    over a gateway: what the perf measurements hand `InProcess` and `remote.handle`."""
    from editbench.judging.resolve import resolve_model

    return {
        **extra,
        "model": resolve_model(config),
        "revision": None,
        "dtype": "auto",
        "device": "cpu",
        "max_pixels": config.judge.max_pixels,
        "scores": {},
    }


def judge_input(case: Case, language: str, seed: int = 0) -> JudgeInput:
    """Source as is; the "edit" is its mirror image, so the two images differ as a real edit's do."""
    image, png = case.source.load()
    instruction, description = case.text(language)
    return JudgeInput(
        case=case,
        source_png=png,
        edited_png=encode_png(ImageOps.mirror(image)),
        instruction=instruction,
        description=description,
        seed=seed,
    )


def requests(
    config: Config,
    suite: Suite,
    inputs: list[JudgeInput],
    method: str,
    max_new_tokens: int | None = None,
) -> list[dict]:
    """One score request per case, exactly as the worker's Scorer renders them."""
    judge = dataclasses.replace(
        config.judge, method=method, max_new_tokens=max_new_tokens or config.judge.max_new_tokens
    )
    protocol = run_protocol(dataclasses.replace(config, judge=judge), suite)
    scorer = Scorer(judge, protocol, {}, send=None)
    return [
        {
            "version": PROTOCOL,
            "kind": "score",
            "id": f"perf-{i}",
            "method": method,
            "items": list(scorer.items(item).values()),
            "decoding": scorer.decoding(item.seed),
        }
        for i, item in enumerate(inputs)
    ]


def open_gateway(config: Config, suite: Suite):
    return open_judge(config, run_protocol(config, suite), WorkerInfo(index=0, id="perf", gpus=[]))


class InProcess:
    """A judge interpreter running judgeside.serve: times `remote.handle` with no transport inside."""

    def __init__(self, python: str, backend: str, options: dict) -> None:
        self.group = execnet.Group()
        try:
            self.channel = self.group.makegateway(f"popen//python={python}").remote_exec(judgeside)
            self.channel.send({"server": remote.__file__, "backend": backend, "options": options})
            self.ready = self.channel.receive(timeout=900)
        except Exception as exc:
            self.group.terminate(timeout=2.0)
            raise PerfError(f"in-process judge in {python} did not start: {exc}") from None

    def run(self, requests: list[dict]) -> list[dict]:
        """[{"seconds", "reply"}] per request."""
        self.channel.send(requests)
        return self.channel.receive(timeout=1800)

    def close(self) -> None:
        try:
            self.channel.send(None)
            self.channel.waitclose(timeout=10)
        finally:
            self.group.terminate(timeout=5.0)


def old_way_batch(
    python: str, backend: str, options: dict, batch: list[dict], folder: Path
) -> tuple[float, list]:
    """(wall seconds, replies) of one batch scored the old way, JSON writing and reading included."""
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    encoded = [
        dict(
            r,
            items=[
                dict(i, images=[base64.b64encode(b).decode("ascii") for b in i["images"]])
                for i in r["items"]
            ],
        )
        for r in batch
    ]
    (folder / "in.json").write_text(
        json.dumps({"backend": backend, "options": options, "requests": encoded}), encoding="utf-8"
    )
    done = subprocess.run(
        [
            python,
            judgeside.__file__,
            remote.__file__,
            str(folder / "in.json"),
            str(folder / "out.json"),
        ],
        capture_output=True,
        text=True,
        env=env(),
        timeout=900,
    )
    if done.returncode != 0:
        raise PerfError(f"old-way judge subprocess exited {done.returncode}: {done.stderr[-2000:]}")
    replies = json.loads((folder / "out.json").read_text(encoding="utf-8"))["replies"]
    return time.perf_counter() - start, replies


def scores_of(reply: dict) -> list:
    if reply.get("kind") != "scored":
        raise PerfError(
            f"the judge answered {reply.get('kind')}: {str(reply.get('error', ''))[-1500:]}"
        )
    return [r["score"] for r in reply["results"]]
