"""`editbench validate` and the config messages, through the real command lines.

- validate exits as the README says: 4 for a refused config (as pytest does for the same config),
  1 for a missing image whether or not `--images` is given, 0 when all is well;
- its missing-config message names `editbench validate CONFIG`;
- `judge.scores` refuses an unknown dimension; `{SC:7}` in `--eb-set` gets a message that says
  how YAML read it and how to write it; `--eb-gpus 0,1` on a machine without a GPU warns.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from support import REPO, SAMPLE_SUITE, run_bench, write_config


def validate(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "editbench.cli", "validate", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **env},
    )


def test_validate_passes_a_good_config_with_exit_0(tmp_path):
    result = validate(str(write_config(tmp_path)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "suite    editbench-sample" in result.stdout and "problem" not in result.stdout


@pytest.mark.parametrize("images", [[], ["--images"]], ids=["exists-check", "opened"])
def test_validate_reports_a_missing_image_with_or_without_images(tmp_path, images):
    suite = tmp_path / "suite"
    shutil.copytree(SAMPLE_SUITE, suite)
    first = json.loads((suite / "cases.jsonl").read_text(encoding="utf-8").splitlines()[0])
    (suite / first["source"]).unlink()
    result = validate(str(write_config(tmp_path, suite={"path": str(suite)})), *images)
    assert result.returncode == 1, result.stdout + result.stderr
    problems = [line for line in result.stdout.splitlines() if "problem:" in line]
    assert len(problems) == 1 and first["id"] in problems[0]
    assert str(suite / first["source"]) in problems[0] or first["source"] in problems[0]


@pytest.mark.parametrize(
    ("config_text", "needle"),
    [
        ("editor:\n  stepz: 3\n", "did you mean editor.steps?"),
        ("judge:\n  backend: constant\n  scores: {SC: 7, PQ: 8, criterion: 6, XX: 1}\n", "XX"),
    ],
)
def test_a_config_error_exits_4_in_validate_as_under_pytest(tmp_path, config_text, needle):
    config = tmp_path / "bad.yaml"
    config.write_text(
        f"suite:\n  path: {SAMPLE_SUITE}\nrun:\n  dir: {tmp_path / 'reports'}\n" + config_text,
        encoding="utf-8",
    )
    checked = validate(str(config))
    ran = run_bench(config, "--collect-only", timeout=120)
    assert checked.returncode == ran.returncode == 4, checked.stderr + ran.stderr
    assert needle in checked.stderr and needle in ran.stderr


def test_a_missing_config_names_the_validate_form_too(tmp_path):
    result = validate(str(tmp_path / "nope.yaml"))
    assert result.returncode == 4
    assert "editbench validate CONFIG" in result.stderr and "--eb-config=PATH" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.timeout(120)
def test_gpus_asked_for_on_a_machine_without_one_warn(tmp_path):
    config = write_config(tmp_path)
    no_gpu = {"CUDA_VISIBLE_DEVICES": ""}
    result = run_bench(config, "--eb-gpus=0,1", "--collect-only", "-q", env=no_gpu)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "--eb-gpus 0,1: no GPU is visible on this machine" in result.stdout + result.stderr
    checked = validate(str(config), "--gpus", "0,1", **no_gpu)
    assert checked.returncode == 0 and "warning: --eb-gpus 0,1: no GPU is visible" in checked.stdout


@pytest.mark.parametrize("missing", ["editor", "judge"])
def test_a_config_without_editor_or_judge_stops_in_one_line(tmp_path, missing):
    """Never the no-edit editor and no judge in silence: the config must name both."""
    config = tmp_path / "my.yaml"
    kept = {"editor": "editor:\n  backend: identity\n", "judge": "judge:\n  backend: none\n"}
    kept.pop(missing)
    config.write_text(f"suite:\n  path: {SAMPLE_SUITE}\n" + "".join(kept.values()), "utf-8")
    checked = validate(str(config))
    ran = run_bench(config, "--collect-only", timeout=120)
    assert checked.returncode == ran.returncode == 4, checked.stdout + ran.stdout
    line = f"{config}: no {missing}: section; a run config names its editor and its judge"
    assert line in checked.stderr and line in ran.stderr
    assert f"--eb-set={missing}.backend=" in ran.stderr and "Traceback" not in ran.stderr


def test_a_config_without_run_keeps_its_run_folder_beside_it(tmp_path):
    """run.dir left out: reports/ beside the config, not under the config's parent's parent."""
    folder = tmp_path / "project" / "configs"
    folder.mkdir(parents=True)
    config = folder / "my.yaml"
    config.write_text(
        f"suite:\n  path: {SAMPLE_SUITE}\neditor:\n  backend: identity\njudge:\n  backend: none\n",
        "utf-8",
    )
    result = validate(str(config))
    assert result.returncode == 0, result.stderr
    run_dir = next(line for line in result.stdout.splitlines() if line.startswith("run dir"))
    assert run_dir.split()[-1].startswith(str(folder / "reports") + os.sep)


def collect_with_default_config(tmp_path, *args: str) -> subprocess.CompletedProcess:
    """`pytest benchmarks --eb-set=... --collect-only` with the checkout's default run config."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "benchmarks", "-p", "no:cacheprovider", *args]
        + ["--collect-only", "-q", f"--eb-run-dir={tmp_path / 'run'}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )


def test_a_published_suite_under_the_default_config_names_its_protocol(tmp_path):
    from benchdata import write_gedit

    gedit = write_gedit(tmp_path / "gedit")
    args = (f"--eb-set=suite.path={gedit}", "--eb-set=suite.format=gedit")
    refused = collect_with_default_config(tmp_path, *args)
    assert refused.returncode == 4, refused.stdout[-2000:]
    assert "--eb-set=judge.protocol=gedit or --eb-config=benchmarks/gedit.yaml" in refused.stderr
    fixed = collect_with_default_config(tmp_path, *args, "--eb-set=judge.protocol=gedit")
    assert fixed.returncode == 0 and "5 tests collected" in fixed.stdout, fixed.stderr


def test_a_base64_category_without_criterion_names_the_suite_file(tmp_path):
    items = json.loads((REPO / "fixtures" / "sample_b64.json").read_text(encoding="utf-8"))
    items[0]["subset"] = "光照"
    suite = tmp_path / "my_suite.json"
    suite.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    refused = collect_with_default_config(tmp_path, f"--eb-set=suite.path={suite}")
    assert refused.returncode == 4, refused.stdout[-2000:]
    assert f"suite {suite}: category 光照 (光照) has no criterion" in refused.stderr


def test_an_imgedit_suite_with_a_wrong_image_folder_stops_naming_suite_images(tmp_path):
    """Without suite.images every image is looked for beside the JSON file: stop at startup."""
    from benchdata import write_imgedit

    file, root = write_imgedit(tmp_path / "imgedit")
    config = write_config(tmp_path, suite={"path": str(file)})
    refused = run_bench(config, run_dir=tmp_path / "run", timeout=120)
    assert refused.returncode == 4, refused.stdout[-3000:]
    assert f"suite.images not set, so they are looked for beside {file}" in refused.stderr
    assert "--eb-set=suite.images=DIR" in refused.stderr and "passed" not in refused.stdout
    ran = run_bench(config, f"--eb-set=suite.images={root}", run_dir=tmp_path / "ok", timeout=120)
    assert ran.returncode == 0 and "5 passed" in ran.stdout, ran.stdout[-3000:]


def test_the_default_judge_interpreter_is_found_from_the_project_not_the_working_folder(tmp_path):
    """`pytest -c PROJECT/pytest.ini --rootdir=PROJECT PROJECT/benchmarks` from another folder."""
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    for name in ("benchmarks", "fixtures"):
        shutil.copytree(REPO / name, project / name)
    for name in ("pytest.ini", "conftest.py"):
        shutil.copy2(REPO / name, project / name)
    python = project / ".tox" / "judge" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\nexit 1\n", encoding="utf-8")  # only found, never started here
    python.chmod(0o755)
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "EDITBENCH_JUDGE_PYTHON"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", f"-c={project / 'pytest.ini'}", f"--rootdir={project}"]
        + [str(project / "benchmarks"), "--collect-only", "-q", "-p", "no:cacheprovider"]
        + [f"--eb-run-dir={tmp_path / 'run'}"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=300,
        env={**env, "HF_HUB_OFFLINE": "1"},
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "25 tests collected" in done.stdout


def test_an_unreadable_image_is_named_by_its_file_never_by_a_buffer(tmp_path):
    suite = tmp_path / "suite"
    shutil.copytree(SAMPLE_SUITE, suite)
    first = json.loads((suite / "cases.jsonl").read_text(encoding="utf-8").splitlines()[0])
    (suite / first["source"]).write_bytes(b"not an image at all")
    result = validate(str(write_config(tmp_path, suite={"path": str(suite)})), "--images")
    assert result.returncode == 1, result.stdout + result.stderr
    problem = next(line for line in result.stdout.splitlines() if "problem:" in line)
    assert str(suite / first["source"]) in problem and "not a readable image" in problem
    assert "BytesIO" not in result.stdout


def test_a_mistyped_option_gets_the_closest_one(tmp_path):
    result = run_bench(write_config(tmp_path), f"--eb-confg={tmp_path / 'x.yaml'}", timeout=120)
    assert result.returncode == 4, result.stdout[-2000:]
    assert "unknown option --eb-confg; did you mean --eb-config?" in result.stderr


def editbench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "editbench.cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )


def test_a_mistyped_command_gets_the_closest_one_and_version_answers():
    typo = editbench("compar", "a", "b")
    assert (
        typo.returncode == 2 and "unknown command 'compar'; did you mean 'compare'?" in typo.stderr
    )
    from editbench import __version__

    version = editbench("--version")
    assert version.returncode == 0 and version.stdout.startswith(f"editbench {__version__} (")
