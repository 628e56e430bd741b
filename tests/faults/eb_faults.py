"""A pytest plugin for benchmark runs under test: registers the `fault` editor backend.

Loaded with `-p eb_faults` (tests/faults on PYTHONPATH), so the controller and every xdist
worker import it and register the backend before the editbench plugin validates the config.
Faults are chosen by tags in a case's instruction, so the suite itself says which case breaks:

- `[edit:exit]`  the worker process dies hard (`os._exit`) while editing this case;
- `[edit:raise]` the edit raises, failing this case only;
- `[edit:oom]`   the edit raises what PyTorch raises when CUDA runs out of memory;
- `[edit:slow]`  the edit takes `EB_FAULT_SLOW_S` seconds (default 1), leaving time to interrupt;
- `[edit:wait]`  the edit writes `waiting.<case id>.<pid>`, then waits until the test creates
  `release` (both in `$EB_FAULT_DIR`): the test decides when the edit ends, or kills it first.
  It comes first, so `[edit:wait] [edit:exit]` dies when the test says.

Everything the backend does is logged under `$EB_FAULT_DIR`: `editor-init.<pid>` when a process
constructs it (proof that a model was "loaded"), one line per edit call in `edits.log`, and
Pillow's `MAX_IMAGE_PIXELS` at the end of each process's session in `pil.<pid>`.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from editbench import editors


def fault_dir() -> Path:
    return Path(os.environ["EB_FAULT_DIR"])


class FaultEditor:
    """Returns the source unchanged, except where the instruction asks for a fault."""

    name = "fault"

    def __init__(self, config, device: str) -> None:
        self.device = device
        (fault_dir() / f"editor-init.{os.getpid()}").write_text("constructed\n", encoding="utf-8")

    def describe(self) -> dict[str, Any]:
        return {"backend": "fault", "model": None}

    def edit(self, request):
        with open(fault_dir() / "edits.log", "a", encoding="utf-8") as log:
            log.write(f"{request.case.id}\n")
        if "[edit:wait]" in request.instruction:
            wait_for_release(request.case.id)
        if "[edit:exit]" in request.instruction:
            os._exit(17)
        if "[edit:raise]" in request.instruction:
            raise RuntimeError(f"injected editor failure on {request.case.id}")
        if "[edit:oom]" in request.instruction:
            raise RuntimeError(
                f"CUDA out of memory. Tried to allocate 20.00 GiB (injected on {request.case.id})"
            )
        if "[edit:slow]" in request.instruction:
            time.sleep(float(os.environ.get("EB_FAULT_SLOW_S", "1")))
        return request.image.copy()


def wait_for_release(case_id: str) -> None:
    (fault_dir() / f"waiting.{case_id}.{os.getpid()}").write_text("waiting\n", encoding="utf-8")
    while not (fault_dir() / "release").exists():
        time.sleep(0.05)


editors.register("fault", FaultEditor)


def pytest_sessionfinish(session) -> None:
    from PIL import Image

    (fault_dir() / f"pil.{os.getpid()}").write_text(repr(Image.MAX_IMAGE_PIXELS), encoding="utf-8")
