"""Per-case seeds and the edit cache, through real benchmark runs on the tiny pipeline.

`-n 1`, `-n 2` and a `-k` subset give byte-identical edited PNGs for the same case; a rerun with
the same config takes every edit from the cache (the pipeline is never called, nor loaded); a
changed generation parameter misses.
"""

from __future__ import annotations

import pytest

from conftest import read_results, run_bench, write_config

pytest.importorskip("diffusers")

PHYSICAL = ["物理-001", "物理-002", "物理-003", "物理-004", "物理-005"]


def edited_pngs(run_dir) -> dict[str, bytes]:
    return {
        p.name.removesuffix(".edited.png"): p.read_bytes()
        for p in (run_dir / "images" / "physical").glob("*.edited.png")
    }


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_seeds_and_cache_across_worker_counts(tmp_path, tmp_path_factory):
    tiny = tmp_path_factory.getbasetemp() / "tiny-shared"
    env = {"EDITBENCH_TINY_DIR": str(tiny)}
    config = write_config(
        tmp_path, editor={"backend": "diffusers", "model": "tiny:qwen-image-edit", "steps": 2}
    )
    runs = {
        "n1": ("-n", "1", "-k", "物理"),
        "n2": ("-n", "2", "-k", "物理"),
        "subset": ("-n", "1", "-k", "物理-002 or 物理-004"),
    }
    images = {}
    for name, args in runs.items():
        result = run_bench(
            config,
            *args,
            "--eb-set",
            f"run.cache_dir={tmp_path / ('cache-' + name)}",
            run_dir=tmp_path / name,
            env=env,
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert all(not r["edit_cached"] for r in read_results(tmp_path / name))
        images[name] = edited_pngs(tmp_path / name)
    assert sorted(images["n1"]) == PHYSICAL and sorted(images["subset"]) == ["物理-002", "物理-004"]
    assert images["n1"] == images["n2"]
    assert all(images["subset"][case] == images["n1"][case] for case in images["subset"])
    assert len(set(images["n1"].values())) == len(PHYSICAL)  # different cases, different seeds

    # the same config again: every edit from the cache, byte for byte
    again = run_bench(
        config,
        "-n",
        "2",
        "-k",
        "物理",
        "--eb-set",
        f"run.cache_dir={tmp_path / 'cache-n1'}",
        run_dir=tmp_path / "again",
        env=env,
    )
    assert again.returncode == 0, again.stdout[-3000:]
    records = read_results(tmp_path / "again")
    assert len(records) == 5 and all(r["edit_cached"] for r in records)
    assert all(r["edit_s"] == 0.0 for r in records)
    assert edited_pngs(tmp_path / "again") == images["n1"]

    # any generation parameter changed: every edit misses
    changed = run_bench(
        config,
        "-n",
        "1",
        "-k",
        "物理-001",
        "--eb-set",
        "editor.true_cfg_scale=2.0",
        "--eb-set",
        f"run.cache_dir={tmp_path / 'cache-n1'}",
        run_dir=tmp_path / "changed",
        env=env,
    )
    assert changed.returncode == 0, changed.stdout[-3000:]
    assert [r["edit_cached"] for r in read_results(tmp_path / "changed")] == [False]
    assert edited_pngs(tmp_path / "changed")["物理-001"] != images["n1"]["物理-001"]
