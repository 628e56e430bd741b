"""Where each published benchmark's official scorer looks for edits (its output layout).

A case read from a benchmark knows its place there (`Case.output_stem`, relative to the output
folder, without extension). `export` writes a run's edits there; the `replay` editor reads
another tool's edits from there.
"""

from __future__ import annotations

from pathlib import Path

LAYOUTS = ("gedit", "imgedit", "kris", "rise")
# The extensions each official scorer accepts, in the order the replay editor tries them.
READ_EXTENSIONS = {
    "gedit": (".png",),
    "imgedit": (".png",),
    "kris": (".png", ".jpg", ".jpeg"),
    "rise": (".png", ".jpg", ".jpeg"),
}
NAMES = {
    "gedit": "GEdit-Bench",
    "imgedit": "ImgEdit-Bench",
    "kris": "KRIS-Bench",
    "rise": "RISEBench",
}
SOURCE_COPY = "_SRCIMG.png"  # GEdit's scorer reads the source next to the edit: <key>_SRCIMG.png


def candidates(root: Path, stem: str, layout: str) -> list[Path]:
    """The files an edit may be in, in the order they are tried."""
    return [root / f"{stem}{ext}" for ext in READ_EXTENSIONS[layout]]
