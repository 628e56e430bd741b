"""How long compare.html of a 600-case compare takes to render in headless Chromium.

    python scripts/compare_render_time.py [--cases=600] [--window=1280,2000] [--embed] [--work=DIR]

Writes two synthetic run folders (results.jsonl, run.json and a 256x256 PNG per source and edit,
as a run writes them) under DIR, runs `editbench compare` on them, and opens the page in
headless Chromium three times. It prints, per load, the milliseconds from navigation to the
page's script having ordered and filtered every card and laid the page out (`ready`), to the
first contentful paint, and to the load event (which waits for the images of the first screen;
the others load as their cards near the viewport), and the browser process's wall time from
start to exit. A measurement, not a test.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

from editbench.cli import main as editbench
from editbench.images import encode_png

CATEGORIES = [("physical", "物理"), ("environmental", "环境"), ("social", "社会"),
              ("causal", "因果"), ("referential", "指代")]  # fmt: skip
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage"]


def write_run(folder: Path, cases: int, seed: int, shift: float) -> None:
    """A run folder of `cases` scored cases (a few failed), its images real PNGs."""
    rng = random.Random(seed)
    records = []
    for i in range(cases):
        key, name = CATEGORIES[i % len(CATEGORIES)]
        case_id = f"{name}-{i:03d}"
        images = {}
        for kind in ("source", "edited"):
            relative = f"images/{key}/{case_id}.{kind}.png"
            noise = Image.effect_noise((256, 256), 40 + (i * 7 + (kind == "edited") * seed) % 80)
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            (folder / relative).write_bytes(encode_png(noise.convert("RGB")))
            images[kind] = relative
        failed = rng.random() < 0.03
        sc, pq = min(10.0, max(0.0, rng.gauss(6 + shift, 2))), min(10.0, rng.gauss(7, 1.5))
        scores = {} if failed else {"SC": sc, "PQ": pq, "O": (sc * max(pq, 0.0)) ** 0.5}
        records.append({
            "case_id": case_id, "test_id": case_id, "category": key, "category_name": name,
            "status": "edit-error" if failed else "ok",
            "reason": "RuntimeError: synthetic" if failed else "",
            "instruction": {"en": f"synthetic instruction {i}"},
            "scores": scores, "statuses": {d: "ok" for d in scores}, "images": images,
        })  # fmt: skip
    with open(folder / "results.jsonl", "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    meta = {
        "run_id": folder.name,
        "suite": {"name": "synthetic", "version": "1", "categories": [list(c) for c in CATEGORIES]},
        "config": {"editor": {"backend": "identity"}, "judge": {"backend": "constant"}},
    }
    (folder / "run.json").write_text(json.dumps(meta), encoding="utf-8")


def load(chromium: str, url: str, profile: Path, window: str) -> tuple[dict[str, str], float]:
    started = time.perf_counter()
    result = subprocess.run(
        [chromium, *FLAGS, f"--user-data-dir={profile}", f"--window-size={window}", "--dump-dom", url],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    wall = time.perf_counter() - started
    tag = re.search(r"<body([^>]*)>", result.stdout).group(1)
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', tag)), wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=600)
    parser.add_argument("--work", type=Path, help="where the run folders go (default: a temp dir)")
    parser.add_argument("--window", default="1280,2000", help="the browser window, WIDTH,HEIGHT")
    parser.add_argument("--embed", action="store_true", help="measure the page of compare --embed")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="compare-render-"))
    for name, seed, shift in (("a", 1, 0.0), ("b", 2, -0.3)):
        (work / name).mkdir(parents=True, exist_ok=True)
        write_run(work / name, args.cases, seed, shift)
    editbench(["compare", str(work / "a"), str(work / "b"), *(["--embed"] if args.embed else [])])
    page = work / "b" / "compare.html"
    size = page.stat().st_size / 1e6
    print(f"\n{page} ({size:.1f} MB), {args.cases} cases, window {args.window}:")
    for attempt in range(3):
        state, wall = load(args.chromium, page.as_uri(), work / f"profile-{attempt}", args.window)
        print(
            f"  load {attempt + 1}: ready {state.get('ready-ms')} ms, first contentful paint "
            f"{state.get('paint-ms', '-')} ms, load event {state.get('load-ms')} ms, "
            f"{state.get('shown')} cards, images loaded {state.get('images-loaded')} of "
            f"{state.get('images-total')}; chromium process {wall:.2f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
