"""The no-edit baseline: returns the source image unchanged.

Every judge should score it low on instruction following; a judge that does not is broken.
"""

from __future__ import annotations

from typing import Any

from editbench.editors import EditRequest


class IdentityEditor:
    name = "identity"

    def __init__(self, config, device: str) -> None:
        self.device = device

    def describe(self) -> dict[str, Any]:
        return {"backend": "identity", "model": None}

    def edit(self, request: EditRequest):
        return request.image.copy()
