"""Small copies of the four published benchmarks, written in each one's exact layout.

GEdit-Bench through `datasets.Dataset.from_dict(...).save_to_disk(...)` (and as parquet) with
Image features; ImgEdit-Bench, KRIS-Bench and RISEBench as JSON files and image files. Every
image is a distinct solid colour, so a test can tell which image went where.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from PIL import Image


def png(index: int, size: tuple[int, int] = (32, 32)) -> bytes:
    colour = ((index * 53) % 256, (index * 97) % 256, (index * 151 + 40) % 256)
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg(index: int) -> bytes:
    buffer = io.BytesIO()
    Image.open(io.BytesIO(png(index))).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


# -- GEdit-Bench ---------------------------------------------------------------------------------

# (task_type, key, language, intersection): 5 en rows (3 in the intersection), 3 cn rows.
GEDIT_ROWS = [
    ("text_change", "t01", "en", True),
    ("text_change", "t02", "en", False),
    ("subject-add", "a01", "en", True),
    ("background_change", "b01", "en", True),
    ("ps_human", "p01", "en", False),
    ("text_change", "t01", "cn", True),
    ("subject-add", "a01", "cn", False),
    ("tone_transfer", "o01", "cn", True),
]


def gedit_columns(rows=GEDIT_ROWS, image_size: tuple[int, int] = (32, 32)) -> dict[str, list]:
    """The GEdit-Bench columns of `rows`, images as {"bytes", "path"} cells."""
    columns: dict[str, list] = {
        "task_type": [],
        "key": [],
        "instruction": [],
        "instruction_language": [],
        "input_image": [],
        "input_image_raw": [],
        "Intersection_exist": [],
    }
    for number, (task, key, language, intersection) in enumerate(rows):
        columns["task_type"].append(task)
        columns["key"].append(key)
        text = f"do {task} on {key}" if language == "en" else f"对{key}做{task}"
        columns["instruction"].append(text)
        columns["instruction_language"].append(language)
        columns["input_image"].append({"bytes": png(number, image_size), "path": None})
        columns["input_image_raw"].append({"bytes": png(number + 100, image_size), "path": None})
        columns["Intersection_exist"].append(intersection)
    return columns


def gedit_dataset(columns: dict[str, list]):
    import datasets

    features = datasets.Features(
        {
            "task_type": datasets.Value("string"),
            "key": datasets.Value("string"),
            "instruction": datasets.Value("string"),
            "instruction_language": datasets.Value("string"),
            "input_image": datasets.Image(),
            "input_image_raw": datasets.Image(),
            "Intersection_exist": datasets.Value("bool"),
        }
    )
    return datasets.Dataset.from_dict(columns, features=features)


def write_gedit(folder: Path, rows=GEDIT_ROWS) -> Path:
    """A save_to_disk folder of the GEdit-Bench rows (how `datasets` stores a downloaded copy)."""
    gedit_dataset(gedit_columns(rows)).save_to_disk(str(folder))
    return folder


def write_gedit_parquet(folder: Path, rows=GEDIT_ROWS) -> Path:
    """A folder with one parquet file of the rows (the hub's parquet conversion)."""
    folder.mkdir(parents=True, exist_ok=True)
    gedit_dataset(gedit_columns(rows)).to_parquet(str(folder / "train-00000-of-00001.parquet"))
    return folder


# -- ImgEdit-Bench -------------------------------------------------------------------------------

# key -> (image id under the image root, edit type)
IMGEDIT_ENTRIES = {
    "1082": ("animal/000342021.jpg", "adjust"),
    "673": ("style/000278574.jpg", "style"),
    "628": ("daily object/000276684.jpg", "replace"),
    "510": ("transport/000351716.jpg", "remove"),
    "17": ("for_add/000000017.jpg", "add"),
}


def write_imgedit(folder: Path, entries=IMGEDIT_ENTRIES) -> tuple[Path, Path]:
    """(basic_edit.json, image root): the JSON kept apart from the images, as published."""
    root = folder / "Benchmark" / "singleturn"
    data = {}
    for number, (key, (image_id, edit_type)) in enumerate(entries.items()):
        path = root / image_id
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(jpeg(number + 10))
        data[key] = {
            "id": image_id,
            "prompt": f"{edit_type} the thing in {key}",
            "edit_type": edit_type,
        }
    file = folder / "basic_edit.json"
    file.write_text(json.dumps(data, indent=4), encoding="utf-8")
    return file, root


# -- KRIS-Bench ----------------------------------------------------------------------------------


def kris_entries() -> dict[str, dict[str, dict]]:
    """category -> annotation.json content: multi-image, ground-truth and explained cases."""
    return {
        "multi-element_composition": {
            "1": {
                "ori_img": ["1-1.jpg", "1-2.jpg"],
                "gt_img": "",
                "ins_en": "Place the cat from the second image on the sofa in the first image.",
                "explain_en": "",
            }
        },
        "temporal_prediction": {
            "1": {
                "ori_img": ["1-2.jpg", "1-3.jpg", "1-4.jpg"],
                "gt_img": "1-1.jpg",
                "ins_en": "Predict frame 1 from frames 2, 3 and 4.",
                "explain_en": "",
            }
        },
        "viewpoint_change": {
            "1": {
                "ori_img": "1.jpg",
                "gt_img": "1_gt.jpg",
                "ins_en": "Show it from the left.",
                "explain_en": "",
            }
        },
        "physics": {
            "1": {
                "ori_img": "1.jpg",
                "gt_img": "",
                "ins_en": "Show the ice after an hour in the sun.",
                "explain_en": "Ice melts above 0 degrees Celsius.",
            },
            "2": {
                "ori_img": "2.png",
                "gt_img": "",
                "ins_en": "Drop the ball.",
                "explain_en": "Gravity pulls it down.",
            },
        },
        "count_change": {
            "1": {
                "ori_img": "1.jpg",
                "gt_img": "",
                "ins_en": "Make it three apples.",
                "explain_en": "",
            }
        },
    }


def write_kris(folder: Path, entries: dict | None = None) -> Path:
    entries = kris_entries() if entries is None else entries
    number = 0
    for category, annotation in entries.items():
        target = folder / category
        target.mkdir(parents=True, exist_ok=True)
        (target / "annotation.json").write_text(json.dumps(annotation, indent=2), encoding="utf-8")
        for entry in annotation.values():
            names = entry["ori_img"] if isinstance(entry["ori_img"], list) else [entry["ori_img"]]
            for name in [*names, entry.get("gt_img")]:
                if name:
                    number += 1
                    (target / name).write_bytes(
                        png(number) if name.endswith(".png") else jpeg(number)
                    )
    return folder


# -- RISEBench -----------------------------------------------------------------------------------


def rise_items(release: int = 64) -> list[dict]:
    """Entries of the 64-case file (no subtask, no reasoning_img) or of the 360-case release."""
    items = [
        {
            "index": "temporal_reasoning_1",
            "category": "temporal_reasoning",
            "instruction": "Draw it a year later.",
            "image": "temporal_reasoning_images/1.png",
            "reference": "Rotten, blackened banana.",
        },
        {
            "index": "causal_reasoning_1",
            "category": "causal_reasoning",
            "instruction": "Draw it after the glass falls.",
            "image": "causal_reasoning_images/1.png",
            "reference": "Shattered glass on the floor.",
        },
        {
            "index": "spatial_reasoning_1",
            "category": "spatial_reasoning",
            "instruction": "Assemble the parts.",
            "image": "spatial_reasoning_images/1.png",
            "reference_img": "spatial_reasoning_images/1_ref.png",
        },
        {
            "index": "logical_reasoning_1",
            "category": "logical_reasoning",
            "instruction": "Draw the path through the maze in blue.",
            "image": "logical_reasoning_images/1.jpg",
            "reference_img": "logical_reasoning_images/1_ref.png",
        },
        {
            "index": "logical_reasoning_2",
            "category": "logical_reasoning",
            "instruction": "Draw the shortest path in red.",
            "image": "logical_reasoning_images/2.png",
            "reference_txt": "Node 1 to node 2 to node 4.",
        },
    ]
    if release == 360:
        extra = [
            ("Life Progression", 1.0, None),
            ("State Transition", None, True),
            ("Component Assembly", None, None),
            ("Puzzle Solving", None, None),
            ("Mathematical Derivation", None, None),
        ]
        for item, (subtask, reasoning_img, free) in zip(items, extra, strict=True):
            item.update(subtask=subtask, reasoning_img=reasoning_img, consistency_free=free)
    return items


def write_rise(folder: Path, release: int = 64, items: list[dict] | None = None) -> Path:
    items = rise_items(release) if items is None else items
    folder.mkdir(parents=True, exist_ok=True)
    for number, item in enumerate(items):
        for key in ("image", "reference_img"):
            if isinstance(item.get(key), str) and item[key]:
                path = folder / item[key]
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(jpeg(number + 30) if path.suffix == ".jpg" else png(number + 30))
    file = folder / ("data_total.json" if release == 64 else "data_360.json")
    file.write_text(json.dumps(items, indent=1), encoding="utf-8")
    return file


# -- all four, for trying a benchmark config on the tiny models ----------------------------------

TINY_MODELS = (
    "editor.backend=diffusers",
    "editor.model=tiny:qwen-image-edit",
    "editor.pipeline=QwenImageEditPlusPipeline",
    "editor.dtype=float32",
    "editor.steps=2",
    "editor.true_cfg_scale=1.0",
    "editor.max_pixels=65536",
    "judge.model=tiny:qwen3-vl",
    "judge.dtype=float32",
    "judge.max_pixels=65536",
    "judge.min_digit_mass=0",  # random weights put little probability on score tokens
)


# two English cases per task type, two per type in the intersection subset: enough for intervals
# The demo sets are large enough for intervals (5 cases per category; see stats.MIN_N): GEdit's
# four English task types with 6 keys each, 5 of them in the intersection; ImgEdit's five edit
# types with 5 entries each.
GEDIT_DEMO_ROWS = [
    *(
        (task, f"{task[:1]}{number:02d}", "en", number <= 5)
        for task in ("text_change", "subject-add", "background_change", "ps_human")
        for number in range(1, 7)
    ),
    *(row for row in GEDIT_ROWS if row[2] == "cn"),
]
IMGEDIT_DEMO_ENTRIES = {
    f"{copy}{key}": (f"copy{copy}/{image}", kind)
    for copy in range(1, 6)
    for key, (image, kind) in IMGEDIT_ENTRIES.items()
}


def write_all(folder: Path) -> dict[str, list[str]]:
    """The four small data sets under `folder`; per benchmark, the `--eb-set` overrides that point
    its config (benchmarks/<name>.yaml) at them."""
    imgedit, images = write_imgedit(folder / "imgedit", IMGEDIT_DEMO_ENTRIES)
    return {
        "gedit": [f"suite.path={write_gedit(folder / 'gedit', GEDIT_DEMO_ROWS)}"],
        "imgedit": [f"suite.path={imgedit}", f"suite.images={images}"],
        "kris": [f"suite.path={write_kris(folder / 'kris')}"],
        "rise": [f"suite.path={write_rise(folder / 'rise', release=360)}"],
    }


def tiny_commands(folder: Path, gpus: int = 2) -> list[str]:
    """One command per benchmark: its own config, the small data set, the tiny models."""
    lines = []
    for name, overrides in write_all(folder).items():
        sets = " ".join(f"--eb-set={o}" for o in (*overrides, *TINY_MODELS))
        lines.append(
            f"python3 -m tox -e bench -- -n {gpus} --eb-config=benchmarks/{name}.yaml {sets}"
        )
    return lines


if __name__ == "__main__":  # python tests/benchdata.py DIR: write them, print the commands
    import sys

    print("\n".join(tiny_commands(Path(sys.argv[1]).resolve())))
