"""A run's edits written where each benchmark's official scorer reads them (`editbench export`).

GEdit-Bench: `DIR/fullset/<task type>/<en|cn>/<key>.png` and the source copy `<key>_SRCIMG.png`
beside it (the official scorer reads both; point its --save_path/--model_name at DIR).
ImgEdit-Bench: `DIR/<key>.png` (its --result_img_folder). KRIS-Bench: `DIR/<category>/<id>.png`,
or with `--jpeg` `DIR/<category>/<id>.jpg` as the published KRIS scripts read (JPEG is lossy, so
a replay of those files is not byte-identical). RISEBench: `DIR/images/<category>/<index>.png`
(its --output). The edits are copied byte for byte from the run folder, so exporting and then
replaying them (`editor.backend: replay`, `editor.replay_layout`) gives the same edits.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from editbench.errors import CaseError, ConfigError
from editbench.images import decode_png, encode_png
from editbench.suites.layouts import NAMES, SOURCE_COPY

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_QUALITY = 95


def check(run_dir: Path, meta: dict[str, Any], layout: str, jpeg: bool) -> None:
    """Refuse an export the run cannot give: a suite read in another layout, or JPEG outside KRIS."""
    fmt = (meta.get("suite") or {}).get("format")
    if fmt != layout:
        raise ConfigError(
            f"{run_dir}: the run's suite was read as {fmt or 'an unknown format'}; "
            f"--layout {layout} needs a run of a {NAMES[layout]} suite "
            f"(suite.format: {layout})"
        )
    if jpeg and layout != "kris":
        raise ConfigError(
            f"--jpeg: only KRIS-Bench's scripts read JPEG edits; the {NAMES[layout]} "
            "scorer reads PNG, so leave --jpeg out"
        )


def export(
    run_dir: Path, records: list[dict[str, Any]], layout: str, out: Path, jpeg: bool = False
) -> tuple[int, list[tuple[str, str]]]:
    """Write every edit of the run into `out`; returns (edits written, [(test id, status)] without one)."""
    written, missing = 0, []
    for record in records:
        images = record.get("images") or {}
        stem, edited = record.get("output_stem"), images.get("edited")
        test_id = str(record.get("test_id") or record.get("case_id"))
        if not stem or not edited:
            missing.append((test_id, str(record.get("status"))))
            continue
        data = _read(run_dir, edited)
        target = _target(out, stem, ".jpg" if jpeg else ".png")
        _write(target, _as_jpeg(data, test_id) if jpeg else data)
        if layout == "gedit":
            _write(
                _target(out, stem, SOURCE_COPY), _as_png(_read(run_dir, images["source"]), test_id)
            )
        written += 1
    return written, missing


def _read(run_dir: Path, relative: str) -> bytes:
    path = run_dir / relative
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read it ({exc.strerror}); the run folder is incomplete"
        ) from None


def _target(out: Path, stem: str, suffix: str) -> Path:
    target = (out / f"{stem}{suffix}").resolve()
    if not target.is_relative_to(out.resolve()):
        raise ConfigError(f"output path {stem!r} leaves {out}; the run's results.jsonl was altered")
    return target


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _as_png(data: bytes, test_id: str) -> bytes:
    """PNG bytes: unchanged when they already are PNG (a source image may be a JPEG file)."""
    if data.startswith(PNG_SIGNATURE):
        return data
    return encode_png(_decode(data, test_id))


def _as_jpeg(data: bytes, test_id: str) -> bytes:
    buffer = io.BytesIO()
    _decode(data, test_id).convert("RGB").save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def _decode(data: bytes, test_id: str):
    try:
        return decode_png(data, f"case {test_id}")
    except CaseError as exc:
        raise ConfigError(str(exc)) from None
