"""Temporary native suites for `editbench perf`: the sample suite replicated to N cases at one size."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from PIL import Image

from editbench.images import encode_png

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "sample_suite"


def replicate(folder: Path, cases: int, size: int, sample: Path = SAMPLE) -> Path:
    """Write `folder` as a native suite of `cases` cases, sources resized to size x size.

    Copy k of sample case `物理-001` is `物理-001-rk`, so categories (and the ids' category prefix)
    are kept; each distinct source image is resized and written once.
    """
    base = [
        json.loads(line)
        for line in (sample / "cases.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(sample / "suite.yaml", folder / "suite.yaml")
    if (sample / "templates").is_dir():
        shutil.copytree(sample / "templates", folder / "templates", dirs_exist_ok=True)
    written: dict[str, str] = {}
    lines = []
    for index in range(cases):
        item = dict(base[index % len(base)])
        source = item["source"]
        if source not in written:
            written[source] = _resized(sample / source, folder, size)
        item.update(id=f"{item['id']}-r{index // len(base):02d}", source=written[source])
        item.pop("reference", None)
        lines.append(json.dumps(item, ensure_ascii=False))
    (folder / "cases.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def _resized(path: Path, folder: Path, size: int) -> str:
    relative = f"images/{path.stem}-{size}.png"
    target = folder / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(path) as image:
        target.write_bytes(
            encode_png(image.convert("RGB").resize((size, size), Image.Resampling.LANCZOS))
        )
    return relative
