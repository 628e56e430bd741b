"""A judge backend that answers from a script, loaded by path inside the judge interpreter.

Standard library only (the judge environment has no editbench and no pytest). Configure it as
`judge.backend: tests/faults/scripted_judge.py:ScriptedJudge` with `EB_SCRIPT` naming a JSON
file: a list of rules `{"match": text, "image": "#rrggbb", "request": id, "text": answer,
"retry": answer, "probs": {score: p}}`. A request gets the first rule whose `match` (when given)
is in its prompt, whose `image` (when given) is the colour of one of its images (the top-left
pixel: the tests' images are solid colours) and whose `request` (when given) is the item's id; `text` answers `generate` (`retry` answers the retry
after a format reminder, default `text`), `probs` answers `logit` as P(0..10) (unnormalised,
scores not named have 0). A request no rule matches raises, naming it: a test never passes on
an answer it did not script.

Every request is appended to `$EB_SCRIPT_LOG` (JSON Lines): its id, method, prompt, the
SHA-256 and size of each image, and its `scale` field when it has one.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import zlib

RETRY_MARK = "could not be read"


class ScriptedJudge:
    def __init__(self, options: dict) -> None:
        with open(os.environ["EB_SCRIPT"], encoding="utf-8") as handle:
            self.rules = json.load(handle)
        self.log = os.environ.get("EB_SCRIPT_LOG")

    def info(self) -> dict:
        return {"backend": "scripted", "rules": len(self.rules)}

    def _rule(self, item: dict) -> dict:
        colours = {_colour(png) for png in item["images"]}
        for rule in self.rules:
            if rule.get("match", "") not in item["prompt"]:
                continue
            if rule.get("image", next(iter(colours), None)) not in colours:
                continue
            if rule.get("request") in (None, item["dimension"]):
                return rule
        raise LookupError(f"no scripted answer for request {item['dimension']!r}")

    def _record(self, item: dict, method: str) -> None:
        if not self.log:
            return
        entry = {
            "request": item["dimension"],
            "method": method,
            "prompt": item["prompt"],
            "images": [hashlib.sha256(png).hexdigest() for png in item["images"]],
            "colours": [_colour(png) for png in item["images"]],
            "sizes": [_png_size(png) for png in item["images"]],
        }
        if "scale" in item:
            entry["scale"] = item["scale"]
        with open(self.log, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")

    def logit(self, items: list) -> list:
        out = []
        for item in items:
            self._record(item, "logit")
            given = {int(k): float(v) for k, v in self._rule(item)["probs"].items()}
            raw = [given.get(score, 0.0) for score in range(11)]
            mass = sum(raw)
            probs = [p / mass for p in raw]
            expected = sum(score * p for score, p in enumerate(probs))
            out.append({"score": expected, "mass": mass, "probs": probs})
        return out

    def generate(self, items: list, decoding: dict) -> list:
        out = []
        for item in items:
            self._record(item, "generate")
            rule = self._rule(item)
            text = rule.get("retry", rule["text"]) if RETRY_MARK in item["prompt"] else rule["text"]
            out.append([text] * int(decoding["samples"]))
        return out


PNG = b"\x89PNG\r\n\x1a\n"


def _png_size(data: bytes) -> list[int] | None:
    """(width, height) from a PNG header, without Pillow; None for another format (a JPEG)."""
    if not data.startswith(PNG):
        return None
    stream = io.BytesIO(data)
    stream.seek(16)
    return list(struct.unpack(">II", stream.read(8)))


def _colour(data: bytes) -> str:
    """The top-left pixel of an 8-bit RGB(A) PNG as #rrggbb (row 0's first pixel is stored raw
    under every PNG filter), read with zlib alone; "#other" for another format."""
    if not data.startswith(PNG):
        return "#other"
    stream, idat = io.BytesIO(data[8:]), b""
    kind = b""
    while kind != b"IEND":
        length, kind = struct.unpack(">I4s", stream.read(8))
        chunk = stream.read(length)
        stream.read(4)
        if kind == b"IHDR" and (chunk[8], chunk[9]) not in ((8, 2), (8, 6)):
            return "#unsupported"
        if kind == b"IDAT":
            idat += chunk
    row = zlib.decompressobj().decompress(idat, 4)
    return "#" + row[1:4].hex()
