"""`editbench agree` end to end: rescore a run's edits with another judge (no edit made), rate them, compare."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from scipy import stats as sps

from editbench.cli import main as cli
from support import (
    REPO,
    TINY_EDITOR,
    contains,
    read_results,
    row,
    tiny_logit_judge,
    write_config,
    write_ratings,
)

# -- end to end: rescore a run's edits with another judge, rate them, run agree -------------------


def bench(config: Path, run_dir: Path, *args: str, env: dict | None = None) -> None:
    """The real benchmark in a fresh pytest process, on the sample suite's 10 物理 and 环境 cases."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(REPO / "benchmarks"),
        "-p",
        "no:cacheprovider",
        "-n",
        "2",
        "-k",
        "物理 or 环境",
        f"--eb-config={config}",
        f"--eb-run-dir={run_dir}",
        *args,
    ]
    result = subprocess.run(
        command,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=800,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def refusing_diffusers(folder: Path, marker: Path) -> dict:
    """PYTHONPATH with a `diffusers` first on it that leaves `marker` behind if anything imports it."""
    package = folder / "diffusers"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        f"open({str(marker)!r}, 'w').close()\n"
        "raise ImportError('diffusers was imported by a run that must not edit')\n",
        encoding="utf-8",
    )
    return {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")]))
    }


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_rescoring_a_runs_edits_makes_no_edit_and_agree_compares_the_judges(
    tmp_path, capsys, judge_python, tiny_judge
):
    judge = tiny_logit_judge(judge_python, tiny_judge)
    editor = {**TINY_EDITOR, "size": "64x64"}  # small edits: fast
    config = write_config(tmp_path, editor=editor, judge=judge)
    j1, j2, marker = tmp_path / "j1", tmp_path / "j2", tmp_path / "diffusers-was-imported"
    bench(config, j1)
    bench(
        config,
        j2,
        "--eb-set=editor.backend=replay",
        f"--eb-set=editor.replay_dir={j1}",
        "--eb-set=judge.max_pixels=16384",
        env=refusing_diffusers(tmp_path / "shadow", marker),
    )

    assert not marker.exists()  # the rescoring run never imported diffusers: no pipeline, no edit
    first, second = ({r["case_id"]: r for r in read_results(run)} for run in (j1, j2))
    assert len(first) == 10 and set(first) == set(second)
    describe = json.loads((j2 / "run.json").read_text(encoding="utf-8"))["editor"]["describe"]
    assert describe["backend"] == "replay" and describe["layout"] == "run folder"
    for case, rec in first.items():
        edited = (j1 / rec["images"]["edited"]).read_bytes()
        assert (j2 / second[case]["images"]["edited"]).read_bytes() == edited, case
    assert any(
        (j1 / r["images"]["edited"]).read_bytes() != (j1 / r["images"]["source"]).read_bytes()
        for r in first.values()
    )  # the first run really edited
    assert any(first[c]["scores"]["SC"] != second[c]["scores"]["SC"] for c in first)  # re-judged

    ordered = sorted(first, key=lambda c: (first[c]["category"], c))
    by_rank = sorted(ordered, key=lambda c: first[c]["scores"]["SC"])
    ann = {c: float(min(10, 1 + i)) for i, c in enumerate(by_rank)}  # follows J1's ranking
    bo = {
        c: float(max(0, min(10, ann[c] + (1 if i % 3 == 0 else -1)))) for i, c in enumerate(by_rank)
    }
    ratings = write_ratings(
        tmp_path / "ratings.csv",
        [
            {"case_id": first[c]["test_id"], "dimension": "SC", "score": scores[c], "rater": rater}
            for rater, scores in (("ann", ann), ("bo", bo))
            for c in ordered
        ],
    )
    assert cli(["agree", str(j1), str(j2), "--ratings", str(ratings)]) == 0
    out = capsys.readouterr().out
    print(out)  # the demonstration's table, shown with -s
    assert "edits (J2 replays J1's edits): edited images identical in 10 of 10 cases" in out
    assert "ρ J2-J1 [95% CI]" in out
    result = json.loads((j1 / "agree.json").read_text(encoding="utf-8"))
    overall = row(result)
    human = [(ann[c] + bo[c]) / 2 for c in ordered]
    rho_1 = sps.spearmanr([first[c]["scores"]["SC"] for c in ordered], human).statistic
    rho_2 = sps.spearmanr([second[c]["scores"]["SC"] for c in ordered], human).statistic
    assert overall["n"] == 10 and overall["spearman"]["j1"] == pytest.approx(rho_1)
    assert overall["spearman"]["value"] == pytest.approx(rho_2 - rho_1)
    assert contains(overall["spearman"]) and result["warnings"] == []
