"""A judge backend with injected faults, loaded by path inside the judge interpreter.

Standard library only: the judge environment has no editbench and no pytest. Configure it as
`judge.backend: tests/faults/judge_faults.py:FaultyJudge`. Normal requests get fixed scores
(SC 6, PQ 7, criterion 5). A tag anywhere in a request's prompts picks a fault for that request:

- `[judge:hang]`      sleep `EB_FAULT_HANG_S` seconds (default 4), then answer 9 (a late reply);
- `[judge:garbage]`   answer text without any score;
- `[judge:kill]`      SIGKILL this judge process on every attempt;
- `[judge:kill-once]` SIGKILL this judge process the first time only (a marker file remembers);
- `[judge:raise]`     raise inside the judge;
- `[judge:echo]`      answer a valid score whose reasoning quotes the prompt and adds a <script> tag;
- `[judge:retry-hang]` answer without a score the first time; the retry (a prompt that extends one
  already seen: the format reminder) hangs like `[judge:hang]`.
- `[judge:kill-worker]` SIGKILL the worker that sent the request (this process's parent), as the
  kernel's OOM killer would;
- `[judge:wait]`      first write `judge-waiting.<pid>`, then wait until the test creates
  `release-judge` (both in `$EB_FAULT_DIR`); the tag's fault, if any, comes after.

`EB_FAULT_LOAD_S` makes the judge take that many seconds to start (a model loading).

Each process appends its pid to `$EB_FAULT_DIR/judge-pids` when it starts.
"""

from __future__ import annotations

import json
import os
import signal
import time

SCORES = {"SC": 6.0, "PQ": 7.0, "criterion": 5.0}
LATE = 9.0


class FaultyJudge:
    def __init__(self, options: dict) -> None:
        self.dir = os.environ["EB_FAULT_DIR"]
        time.sleep(float(os.environ.get("EB_FAULT_LOAD_S", "0")))  # a model that takes a while
        with open(os.path.join(self.dir, "judge-pids"), "a", encoding="utf-8") as log:
            log.write(f"{os.getpid()}\n")
        self.seen: list[str] = []

    def info(self) -> dict:
        return {"backend": "faulty", "pid": os.getpid()}

    def _fault(self, items: list) -> str | None:
        text = " ".join(item["prompt"] for item in items)
        if "[judge:retry-hang]" in text:
            retry = any(item["prompt"].startswith(seen) for item in items for seen in self.seen)
            self.seen += [item["prompt"] for item in items]
            return "hang" if retry else "garbage"
        for tag in ("hang", "garbage", "kill-once", "kill-worker", "kill", "raise", "echo"):
            if f"[judge:{tag}]" in text:
                return tag
        return None

    def _wait(self, items: list) -> None:
        if any("[judge:wait]" in item["prompt"] for item in items):
            waiting = os.path.join(self.dir, f"judge-waiting.{os.getpid()}")
            open(waiting, "w").close()
            while not os.path.exists(os.path.join(self.dir, "release-judge")):
                time.sleep(0.05)

    def _before(self, fault: str | None) -> None:
        if fault == "kill-worker":
            os.kill(os.getppid(), signal.SIGKILL)
        if fault == "kill-once":
            marker = os.path.join(self.dir, "killed-once")
            if not os.path.exists(marker):
                open(marker, "w").close()
                os.kill(os.getpid(), signal.SIGKILL)
        if fault == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if fault == "raise":
            raise RuntimeError("injected judge failure")
        if fault == "hang":
            time.sleep(float(os.environ.get("EB_FAULT_HANG_S", "4")))

    def logit(self, items: list) -> list:
        fault = self._fault(items)
        self._wait(items)
        self._before(fault)
        if fault == "garbage":
            return [{"score": float("nan"), "mass": 0.0, "probs": []} for _ in items]
        return [
            {
                "score": LATE if fault == "hang" else SCORES[item["dimension"]],
                "mass": 1.0,
                "probs": [],
            }
            for item in items
        ]

    def generate(self, items: list, decoding: dict) -> list:
        fault = self._fault(items)
        self._wait(items)
        self._before(fault)
        samples = int(decoding["samples"])
        if fault == "garbage":
            return [["The edit is fine I suppose, hard to say."] * samples for _ in items]
        out = []
        for item in items:
            score = LATE if fault == "hang" else SCORES[item["dimension"]]
            reasoning = "fixed score"
            if fault == "echo":
                reasoning = f"I read: {item['prompt']} <script>window.pwnedJudge=1</script>"
            out.append([json.dumps({"score": score, "reasoning": reasoning})] * samples)
        return out
