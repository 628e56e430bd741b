"""The no-edit baseline: returns the source image unchanged.

Every judge should score it low on instruction following; a judge that does not is broken.
For a case with several inputs it returns the first one unchanged, as documented: it is the
baseline "nothing was done", not an editor that read the other inputs.
"""

from __future__ import annotations

from typing import Any

from editbench.editors import EditRequest


class IdentityEditor:
    name = "identity"
    max_images = None  # the baseline of any case: the first input, unchanged

    def __init__(self, config, device: str) -> None:
        self.device = device

    def describe(self) -> dict[str, Any]:
        return {"backend": "identity", "model": None}

    def edit(self, request: EditRequest):
        return request.image.copy()
