"""-k, -m and --collect-only on the published benchmarks' suites.

Real pytest runs of benchmarks/ in subprocesses: the suite (a GEdit-Bench data set through
`datasets`) becomes the collected cases and their markers. Under --collect-only xdist starts no
worker; workers collecting the same cases as their controller is proven by the -n 2 runs
(test_report_run.py, test_merge.py).
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


@pytest.mark.parametrize(("fmt", "selection", "expected"), CASES, ids=[c[0] for c in CASES])
def test_selection_by_category_and_tag(tmp_path, fmt, selection, expected):
    """Under --collect-only xdist starts no worker, so `-n 2` would collect exactly the same."""
    config = write_config(tmp_path, suite=suite_section(tmp_path, fmt))
    result = run_bench(
        config,
        "--collect-only",
        "-q",
        "--strict-markers",
        *selection,
        env={"HF_DATASETS_CACHE": str(tmp_path / "hf-datasets")},
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert collected(result) == expected
