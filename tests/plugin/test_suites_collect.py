"""-k, -m and --collect-only on the published benchmarks' suites, with and without xdist.

Real pytest runs of benchmarks/ in subprocesses: the controller and each worker load the suite
(a GEdit-Bench data set through `datasets`) and must agree on the cases and their markers.
"""

from __future__ import annotations

import pytest
from benchdata import write_gedit, write_gedit_parquet, write_imgedit, write_kris, write_rise

from support import run_bench, write_config

pytestmark = pytest.mark.timeout(300)


def collected(result) -> list[str]:
    return sorted(
        line.split("[", 1)[1].rstrip("]")
        for line in result.stdout.splitlines()
        if "::test_edit[" in line
    )


def suite_section(tmp_path, fmt: str) -> dict:
    if fmt == "gedit":
        return {"path": str(write_gedit(tmp_path / "gedit")), "format": "gedit"}
    if fmt == "gedit-parquet":
        return {"path": str(write_gedit_parquet(tmp_path / "gedit")), "format": "auto"}
    if fmt == "imgedit":
        file, root = write_imgedit(tmp_path)
        return {"path": str(file), "images": str(root), "format": "imgedit"}
    if fmt == "kris":
        return {"path": str(write_kris(tmp_path / "KRIS_Bench")), "format": "auto"}
    return {"path": str(write_rise(tmp_path / "data", release=360)), "format": "rise"}


CASES = [
    (
        "gedit",
        ["-m", "intersection", "-k", "text_change or subject-add"],
        ["subject-add-a01", "text_change-t01"],
    ),
    (
        "gedit-parquet",
        ["-m", "intersection and not text_change"],
        ["background_change-b01", "subject-add-a01"],
    ),
    ("imgedit", ["-k", "replace or remove"], ["remove-510", "replace-628"]),
    (
        "kris",
        ["-m", "natural_science or procedural_knowledge"],
        ["multi-element_composition-1", "physics-1", "physics-2"],
    ),
    (
        "rise",
        ["-m", "life_progression or logical_reasoning", "-k", "not logical_reasoning_2"],
        ["logical_reasoning_1", "temporal_reasoning_1"],
    ),
]


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["no-xdist", "n2"])
@pytest.mark.parametrize(("fmt", "selection", "expected"), CASES, ids=[c[0] for c in CASES])
def test_selection_by_category_and_tag(tmp_path, fmt, selection, expected, xdist):
    config = write_config(tmp_path, suite=suite_section(tmp_path, fmt))
    result = run_bench(
        config,
        "--collect-only",
        "-q",
        "--strict-markers",
        *selection,
        *xdist,
        env={"HF_DATASETS_CACHE": str(tmp_path / "hf-datasets")},
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert collected(result) == expected
