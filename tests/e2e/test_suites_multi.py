"""Cases with several input images, end to end: editor, run folder, judge and reports.

A multi-image KRIS-Bench case is edited by the tiny checkpoint loaded as
QwenImageEditPlusPipeline and judged over the real gateway by a judge backend (in the judge
interpreter) that answers with what it received: the number of images and their hashes.
"""

from __future__ import annotations

import hashlib
import json
import textwrap
from pathlib import Path

import pytest
from benchdata import write_kris
from PIL import Image

from editbench.config import build_config
from editbench.editors import EditRequest, create
from editbench.images import encode_png
from support import read_results, run_bench, write_config

MULTI = "multi-element_composition-1"
PLUS = {
    "backend": "diffusers",
    "model": "tiny:qwen-image-edit",
    "pipeline": "QwenImageEditPlusPipeline",
    "steps": 2,
    "size": "64x64",
}  # a small output halves the CPU time of an edit

# Runs inside the judge interpreter (standard library only): score = number of images received;
# reasoning = their sha256 prefixes and the prompt's line that says which image is which.
ECHO_JUDGE = """
import hashlib, json

class EchoJudge:
    def __init__(self, options):
        pass

    def info(self):
        return {"backend": "echo"}

    def generate(self, items, decoding):
        out = []
        for item in items:
            digests = ",".join(hashlib.sha256(png).hexdigest()[:12] for png in item["images"])
            said = next(line for line in item["prompt"].splitlines() if line.startswith(("Image", "The image")))
            reasoning = digests + " | " + said
            out.append([json.dumps({"score": len(item["images"]), "reasoning": reasoning})] * decoding["samples"])
        return out
"""


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


@pytest.mark.timeout(600)
def test_multi_image_kris_case_end_to_end(tmp_path, judge_python):
    root = write_kris(tmp_path / "KRIS_Bench")
    judge_file = tmp_path / "echo_judge.py"
    judge_file.write_text(textwrap.dedent(ECHO_JUDGE), encoding="utf-8")
    config = write_config(
        tmp_path,
        suite={"path": str(root), "format": "kris"},
        editor=PLUS,
        judge={
            "backend": f"{judge_file}:EchoJudge",
            "python": judge_python,
            "method": "generate",
            "dimensions": ["SC", "PQ"],
        },
    )
    run_dir = tmp_path / "run"
    result = run_bench(config, "-k", MULTI, run_dir=run_dir)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    (record,) = read_results(run_dir)
    images = record["images"]
    assert list(images) == ["source", "source2", "edited"]
    folder = root / "multi-element_composition"
    assert (run_dir / images["source"]).read_bytes() == (folder / "1-1.jpg").read_bytes()
    assert (run_dir / images["source2"]).read_bytes() == (folder / "1-2.jpg").read_bytes()
    assert Image.open(run_dir / images["edited"]).size == (64, 64)
    # SC saw both inputs then the edit, in order, and was told so; PQ saw the edit alone
    assert record["scores"] == {"SC": 3.0, "PQ": 1.0, "O": pytest.approx(3.0**0.5)}
    hashes = [digest(run_dir / images[k]) for k in ("source", "source2", "edited")]
    sc_reasoning = record["reasoning"]["SC"]
    assert sc_reasoning.startswith(",".join(hashes) + " | Images 1-2 are the 2 source images")
    assert "Image 3 is the edited image." in sc_reasoning
    assert record["reasoning"]["PQ"].startswith(hashes[2] + " | The image is the edited image.")
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert html.count("<figcaption>source 2</figcaption>") == 1
    markdown = (run_dir / "report.md").read_text(encoding="utf-8")
    assert f"| {MULTI} | ok | [1]({images['source']}), [2]({images['source2']}) |" in markdown


@pytest.mark.timeout(300)
def test_single_image_pipeline_fails_a_multi_image_case_with_case_error(tmp_path):
    root = write_kris(tmp_path / "KRIS_Bench")
    config = write_config(
        tmp_path,
        suite={"path": str(root), "format": "kris"},
        editor={**PLUS, "pipeline": "QwenImageEditPipeline"},
    )
    result = run_bench(config, "-k", MULTI, run_dir=tmp_path / "run")
    assert result.returncode == 1
    (refused,) = read_results(tmp_path / "run")
    assert refused["status"] == "case-error" and "edited" not in refused["images"]
    assert (
        f"case {MULTI} has 2 input images but the editor (QwenImageEditPipeline) takes 1"
        in refused["reason"]
    )
    assert "QwenImageEditPlusPipeline" in refused["reason"]  # the fix


@pytest.mark.timeout(300)
def test_every_input_reaches_the_plus_pipeline(tmp_path):
    """Same seed and first image, a different second image: a different edit (edits are
    deterministic per seed: tests/test_seeds.py)."""
    editor = create(build_config({"editor": PLUS}), "cpu")
    assert editor.max_images is None
    red, green, blue = (
        Image.new("RGB", (48, 48), c) for c in ((200, 0, 0), (0, 200, 0), (0, 0, 200))
    )

    def edit(images) -> bytes:
        request = EditRequest(
            case=None,
            image=images[0],
            instruction="put them together",
            seed=3,
            source_png=b"",
            images=tuple(images),
        )
        return encode_png(editor.edit(request))

    assert edit([red, green]) != edit([red, blue])
    assert json.loads(json.dumps(editor.describe()))["pipeline"] == "QwenImageEditPlusPipeline"
