"""Hugging Face hub ids: telling one from a local folder, and the cached snapshot it resolves to.

A core module under both sides: the judge's resolution (judging/) and run.json's record of the
models (reporting/runmeta.py) read a hub id the same way without importing each other.
"""

from __future__ import annotations

import re
from pathlib import Path


def is_hub_id(model: str | None) -> bool:
    """A `owner/name` hub id rather than a local folder or a tiny checkpoint."""
    return (
        bool(model)
        and re.fullmatch(r"[\w.-]+/[\w.-]+", model) is not None
        and not (Path(model).exists())
    )


def hub_snapshot(repo: str, revision: str | None, filename: str = "config.json") -> str | None:
    """The commit of the snapshot a hub id (at `revision`, else its default branch) resolves to
    in the local Hugging Face cache; None when it is not cached (or huggingface_hub is missing).

    Keys and run.json use it, so a hub id given without a revision still changes them when the
    cached snapshot changes.
    """
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    found = try_to_load_from_cache(repo, filename, revision=revision)
    return Path(found).parent.name if isinstance(found, str) else None
