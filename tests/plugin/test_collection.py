"""Collection of the real benchmark: one test per case, selectable by category name, key or marker."""

from __future__ import annotations

import pytest
from PIL import Image

from support import constant_judge, read_results, run_bench, write_config

pytestmark = pytest.mark.timeout(300)


def collected(result) -> list[str]:
    return [
        line.split("[", 1)[1].rstrip("]")
        for line in result.stdout.splitlines()
        if "::test_edit[" in line
    ]


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["no-xdist", "n2"])
@pytest.mark.parametrize(
    ("selection", "prefixes"),
    [
        (["-k", "物理"], {"物理"}),
        (["-k", "physical"], {"物理"}),
        (["-m", "physical"], {"物理"}),
        (["-m", "物理"], {"物理"}),
        (["-k", "物理 or 因果"], {"物理", "因果"}),
        (["-k", "not 指代"], {"物理", "环境", "社会", "因果"}),
    ],
)
def test_category_selection(tmp_path, xdist, selection, prefixes):
    config = write_config(tmp_path)
    result = run_bench(config, "--collect-only", "-q", "--strict-markers", *selection, *xdist)
    assert result.returncode == 0, result.stdout + result.stderr
    ids = collected(result)
    assert len(ids) == 5 * len(prefixes)
    assert {i.split("-")[0] for i in ids} == prefixes


def test_tags_become_markers(tmp_path):
    result = run_bench(
        write_config(tmp_path), "--collect-only", "-q", "--strict-markers", "-m", "sample"
    )
    assert len(collected(result)) == 25


def test_base64_suite_collects_with_category_prefix(tmp_path):
    from support import SAMPLE_B64

    config = write_config(tmp_path, suite={"path": str(SAMPLE_B64), "language": "zh"})
    result = run_bench(config, "--collect-only", "-q", "-k", "社会")
    assert collected(result) == ["社会-birthday"]


def test_identity_run_writes_every_case(tmp_path):
    run_dir = tmp_path / "run"
    result = run_bench(write_config(tmp_path), "-n", "2", "-k", "物理", run_dir=run_dir)
    assert result.returncode == 0, result.stdout[-3000:]
    records = read_results(run_dir)
    assert sorted(r["test_id"] for r in records) == [f"物理-{i:03d}" for i in range(1, 6)]
    assert all(r["status"] == "ok" and r["category"] == "physical" for r in records)
    for record in records:
        edited = Image.open(run_dir / record["images"]["edited"])
        source = Image.open(run_dir / record["images"]["source"])
        assert edited.tobytes() == source.convert("RGB").tobytes()
    assert "editbench run folder" in result.stdout


@pytest.mark.parametrize(
    ("setting", "needle"),
    [
        ("editor.stepz=2", "unknown config key editor.stepz; did you mean editor.steps?"),
        ("editor.steps=many", "editor.steps: expected an int"),
        ("editor.backend=difusers", "unknown backend 'difusers'; did you mean 'diffusers'?"),
        ("suite.path=/nonexistent/suite", "suite /nonexistent/suite: does not exist"),
    ],
)
def test_startup_errors_are_one_line_without_traceback(tmp_path, setting, needle):
    result = run_bench(write_config(tmp_path), "--eb-set", setting)
    assert result.returncode == 4  # pytest's usage error
    assert needle in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "reports").exists()


def test_each_worker_gets_its_own_slot(tmp_path):
    """Workers are told their slot through the spawn spec (their judge GPU follows it)."""
    import json

    run_dir = tmp_path / "run"
    result = run_bench(write_config(tmp_path), "-n", "2", "-k", "物理 or 因果", run_dir=run_dir)
    assert result.returncode == 0, result.stdout[-3000:]
    workers = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))["workers"]
    slots = sorted(
        w["devices"]["slot"] for w in (workers.values() if isinstance(workers, dict) else workers)
    )
    assert slots == ["0", "1"]


@pytest.mark.timeout(180)
def test_n_auto_starts_one_worker_per_gpu_group_not_one_per_cpu(tmp_path):
    """`-n auto` under a GPU list (a Slurm job's CUDA_VISIBLE_DEVICES) counts groups, not CPUs."""
    config = write_config(tmp_path)
    done = run_bench(
        config,
        "-n",
        "auto",
        "-k",
        "物理-001",
        run_dir=tmp_path / "run",
        env={"CUDA_VISIBLE_DEVICES": "0,1,2"},
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "created: 3/3 workers" in done.stdout


def test_a_case_without_the_run_language_fails_alone_and_a_preference_list_runs_it(tmp_path):
    import json

    from support import SAMPLE_B64

    items = json.loads(SAMPLE_B64.read_text(encoding="utf-8"))
    only_zh = items[0]
    only_zh.pop("edit_instruction_en")
    only_zh.pop("original_description_en", None)
    suite = tmp_path / "b64.json"
    suite.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    config = write_config(tmp_path, suite={"path": str(suite), "language": "en"})
    result = run_bench(config, "-n", "2", run_dir=tmp_path / "en")
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-2000:]
    records = {r["case_id"]: r for r in read_results(tmp_path / "en")}
    assert len(records) == len(items)  # the others ran: only the whole suite stops startup
    failed = records["物理-glass_edge"]
    assert failed["status"] == "case-error"
    assert "case 物理-glass_edge has no en instruction (has zh)" in failed["reason"]
    assert {r["status"] for k, r in records.items() if k != "物理-glass_edge"} == {"ok"}
    assert {r["language"] for k, r in records.items() if k != "物理-glass_edge"} == {"en"}

    both = run_bench(
        config, "-n", "2", "--eb-set=suite.language=[en, zh]", run_dir=tmp_path / "both"
    )
    assert both.returncode == 0, both.stdout[-3000:] + both.stderr[-2000:]
    records = {r["case_id"]: r for r in read_results(tmp_path / "both")}
    assert records["物理-glass_edge"]["language"] == "zh"
    assert records["物理-glass_edge"]["instruction"]["zh"] in (
        tmp_path / "both" / "report.html"
    ).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("setting", "needle"),
    [
        (
            "editor.steps=four",
            "--eb-set=editor.steps=four: editor.steps: expected an int, got str 'four'; "
            "give an int after the =, as --eb-set=editor.steps=...",
        ),
        (
            "editor.stepz=2",
            "--eb-set=editor.stepz=2: unknown config key editor.stepz; did you mean editor.steps?",
        ),
        (
            "judge.scores={SC: 7, PQ: 8}",
            "--eb-set=judge.scores={SC: 7, PQ: 8}: judge.scores has no criterion; the constant "
            "backend needs a number in [0, 10] for each of judge.dimensions (SC, PQ, criterion): "
            "e.g. --eb-set='judge.scores={SC: 7, PQ: 8, criterion: 6}'",
        ),
    ],
)
def test_an_eb_set_error_blames_the_eb_set_item_not_the_config_file(
    tmp_path, judge_python, setting, needle
):
    config = write_config(tmp_path, judge=constant_judge(judge_python))
    result = run_bench(config, f"--eb-set={setting}", "--collect-only")
    assert result.returncode == 4, result.stdout[-2000:]
    assert needle in result.stderr
    assert str(config) not in result.stderr and "--eb-set " not in result.stderr
