"""The README's commands, run as written: every fenced shell command of "Quick start" and "Reports".

How each kind of command runs here, and why:

- `python3 -m tox -e bench -- ARGS`: tox's own configuration decides the command. `python -m tox
  config -e bench` (the real tox, reading the checkout's tox.ini, no environment built) gives the
  bench environment's `commands` with every substitution made; the test runs that pytest command
  line plus ARGS with this test environment's python, which holds the same packages as the bench
  environment (envs/editor.txt, plus the test tools). Building `.tox/bench` itself inside the test
  suite would install torch, diffusers and transformers again (minutes on 2 cores, every CI run),
  and tox adds nothing to what is checked here but that build: the command line is tox's own.
  tox's `commands_pre` (`tox -e judge`) is replaced by the judge environment the tests already
  use (`EDITBENCH_JUDGE_PYTHON`).
- `python3 -m pip install tox && ...`: the install half is skipped (tox is installed here).
- `.tox/bench/bin/editbench ARGS`: `python -m editbench.cli ARGS`, the same entry point.
- `python3 -m tox -e tests`: skipped: it is this test suite; CI runs it (`.ci/run`).

The commands run in a copy of the checkout's run files (benchmarks/, fixtures/, pytest.ini,
conftest.py, tox.ini) in tmp_path, so `reports/` and the cache land there; the editbench package
comes from this checkout (PYTHONPATH) and the tiny checkpoints from their usual cache. The models
are the README's: the tiny random Qwen-Image-Edit pipeline and Qwen3-VL judge. A README command
that this test does not know fails it: a new command needs a check here.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from support import REPO

RUN_FILES = ("benchmarks", "fixtures", "pytest.ini", "conftest.py", "tox.ini", "envs")
SECTIONS = ("Quick start", "Reports")
THE_TEST_SUITE = "python3 -m tox -e tests"


# -- reading the README and tox's configuration --------------------------------------------------


def readme_commands(text: str, sections=SECTIONS) -> list[str]:
    """Each command line of the ```bash blocks of the given `## ` sections, in order."""
    commands = []
    for section in re.split(r"^## ", text, flags=re.M)[1:]:
        title = section.splitlines()[0].strip()
        if title not in sections:
            continue
        for block in re.findall(r"```bash\n(.*?)```", section, flags=re.S):
            joined = block.replace("\\\n", " ")
            commands += [line.strip() for line in joined.splitlines() if line.strip()]
    return commands


def tox_bench_command(checkout: Path, workdir: Path) -> tuple[list[str], dict[str, str]]:
    """The bench environment's pytest command and environment, as tox configures them."""
    shown = subprocess.run(
        [sys.executable, "-m", "tox", "-c", str(checkout / "tox.ini"), "--workdir", str(workdir)]
        + ["config", "-e", "bench", "-k", "commands", "set_env"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=checkout,
    )
    assert shown.returncode == 0, shown.stdout + shown.stderr
    lines = shown.stdout.splitlines()
    command = next(line.split("=", 1)[1] for line in lines if line.startswith("commands ="))
    words = shlex.split(command)
    assert words[0] == "pytest", command
    env = dict(line.strip().split("=", 1) for line in lines if line.startswith("  "))
    kept = {k: v for k, v in env.items() if k.startswith(("EDITBENCH_", "PYTHONUTF8"))}
    return [sys.executable, "-m", "pytest", *words[1:]], kept


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    folder = tmp_path / "editbench"
    for name in RUN_FILES:
        source = REPO / name
        copy = shutil.copytree if source.is_dir() else shutil.copy2
        copy(source, folder / name)
    (folder / "reports").mkdir()
    return folder


class Runner:
    """Runs README command lines the way the module docstring says, in the copied checkout."""

    def __init__(self, checkout: Path, judge_python: str) -> None:
        self.checkout = checkout
        self.pytest, tox_env = tox_bench_command(checkout, checkout / ".tox")
        self.env = {**os.environ, **tox_env, "HF_HUB_OFFLINE": "1"}
        self.env["EDITBENCH_JUDGE_PYTHON"] = judge_python
        self.env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(REPO), os.environ.get("PYTHONPATH")])
        )

    def argv(self, line: str) -> list[str]:
        line = line.split("#", 1)[0].strip()
        line = line.removeprefix("python3 -m pip install tox && ")
        words = shlex.split(line)
        if words[:4] == ["python3", "-m", "tox", "-e"] and words[4] == "bench":
            assert words[5] == "--", line
            return [*self.pytest, *words[6:]]
        if words[0] == ".tox/bench/bin/editbench":
            return [sys.executable, "-m", "editbench.cli", *words[1:]]
        raise AssertionError(f"README command without a way to run it here: {line}")

    def run(self, line: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            self.argv(line),
            cwd=self.checkout,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )


# -- what each README command must do ------------------------------------------------------------


def records(folder: Path) -> list[dict]:
    lines = (folder / "results.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def meta(folder: Path) -> dict:
    return json.loads((folder / "run.json").read_text(encoding="utf-8"))


def last_line(text: str) -> str:
    return [line for line in text.splitlines() if line.strip()][-1]


def check_quick_start(done, reports: Path) -> None:
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    latest = reports / "latest"
    assert f"editbench run folder: {latest.resolve()}" in done.stdout
    assert any(
        line.startswith("物理") and line.split()[1:3] == ["5", "0"]
        for line in done.stdout.splitlines()
    )
    found = records(latest)
    assert len(found) == 5 and {r["status"] for r in found} == {"ok"}
    assert "tiny randomly initialised checkpoints" in meta(latest)["note"]


def check_base(done, reports: Path) -> None:
    assert done.returncode == 0, done.stdout[-3000:]
    assert len(records(reports / "base")) == 5
    cases = list(ET.parse(reports / "base.xml").getroot().iter("testcase"))
    outputs = [case.findtext("system-out") or "" for case in cases]  # xunit2: scores in system-out
    assert len(outputs) == 5 and all("\nSC: " in text for text in outputs), outputs
    judge = meta(reports / "base")["judge"]["describe"]
    assert judge["started"] is False  # every score from the quick start's cache: no judge loaded
    assert all(r["edit_cached"] for r in records(reports / "base"))


def check_last_failed(done, reports: Path) -> None:
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "unrecognized arguments" not in done.stderr  # pytest's cache provider is on
    ids = [r["case_id"] for r in records(reports / "base")]
    assert len(ids) == len(set(ids)) == 5  # the folder is continued, each case once
    assert len(meta(reports / "base")["continued"]) == 1


def check_gated_rescore(done, reports: Path) -> None:
    summary = json.loads((reports / "small" / "summary.json").read_text(encoding="utf-8"))
    assert summary["run_status"] == "finished"
    if summary["gate_failures"]:  # random weights: the mean may fall either side of 6.5
        assert done.returncode == 1 and last_line(done.stdout).startswith(
            "editbench: FAILED --eb-fail-under (O=6.5"
        ), done.stdout[-2000:]
    else:
        assert done.returncode == 0 and "editbench: passed --eb-fail-under O=6.5" in done.stdout
    assert not any(r["cached"]["SC"] for r in records(reports / "small"))  # rescored


def check_compare(done, reports: Path) -> None:
    assert done.returncode == 0, done.stdout + done.stderr
    compared = json.loads((reports / "small" / "compare.json").read_text(encoding="utf-8"))
    assert compared and "物理" in done.stdout
    assert "物理-001" in (reports / "small" / "compare.html").read_text(encoding="utf-8")


def check_shard(done, reports: Path) -> None:
    assert done.returncode == 0, done.stdout[-3000:]


def check_merge(done, reports: Path) -> None:
    assert done.returncode == 0, done.stdout + done.stderr
    shards = [{r["case_id"] for r in records(reports / f"shard-{k}")} for k in (1, 2)]
    assert sorted(map(len, shards)) == [2, 3] and not shards[0] & shards[1]  # balanced, disjoint
    merged = records(reports / "merged")
    assert {r["case_id"] for r in merged} == shards[0] | shards[1] and len(merged) == 5


CHECKS = [
    (r"tox -e bench -- -n 2 -k 物理$", check_quick_start),
    (r"--eb-run-dir=reports/base --junitxml=reports/base\.xml$", check_base),
    (r"--eb-run-dir=reports/base --lf$", check_last_failed),
    (r"--eb-run-dir=reports/small .*--eb-fail-under=O=6\.5$", check_gated_rescore),
    (r"editbench compare reports/base reports/small$", check_compare),
    (r"--eb-shard=[12]/2 --eb-run-dir=reports/shard-[12]$", check_shard),
    (r"editbench merge reports/shard-1 reports/shard-2 -o reports/merged$", check_merge),
]


def check_for(line: str):
    found = [check for pattern, check in CHECKS if re.search(pattern, line)]
    assert len(found) == 1, f"README command with {len(found)} checks here: {line}"
    return found[0]


# -- the tests -----------------------------------------------------------------------------------


def test_the_readme_sections_hold_the_commands_this_test_knows():
    commands = readme_commands((REPO / "README.md").read_text(encoding="utf-8"))
    assert THE_TEST_SUITE in " ".join(commands)
    for line in commands:
        if THE_TEST_SUITE not in line:
            check_for(line)


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_quick_start_and_reports_commands_work_as_written(checkout, judge_python, tiny_judge):
    runner = Runner(checkout, judge_python)
    reports = checkout / "reports"
    for line in readme_commands((REPO / "README.md").read_text(encoding="utf-8")):
        if THE_TEST_SUITE in line:
            continue  # this suite itself (see the module docstring)
        check = check_for(line)
        start = time.monotonic()
        done = runner.run(line)
        print(f"{time.monotonic() - start:6.1f} s  {line}")  # shown when the test fails
        check(done, reports)
    assert not (checkout / ".pytest_cache").exists()  # pytest's cache stays under .tox/bench
    assert (checkout / ".tox" / "bench" / ".pytest_cache").is_dir()


@pytest.mark.timeout(300)
def test_lf_works_through_the_bench_environment_command(fault_run):
    """Item 1 of issue 20: `tox -e bench -- --lf` was refused (`-p no:cacheprovider`)."""
    fault_run.change("物理-002", tag="[edit:raise]")
    config = fault_run.config(judge={"backend": "none"})
    workdir = fault_run.tmp_path / "tox"
    pytest_command, tox_env = tox_bench_command(REPO, workdir)
    env = {**os.environ, **tox_env, **fault_run.env(), "HF_HUB_OFFLINE": "1"}

    def run(*args: str, name: str) -> subprocess.CompletedProcess:
        argv = [
            *pytest_command,
            str(REPO / "benchmarks"),
            "-p",
            "eb_faults",
            f"--eb-config={config}",
        ]
        argv += [*args, f"--eb-run-dir={fault_run.tmp_path / name}"]
        return subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=240)

    first = run("-k", "物理", name="first")
    assert first.returncode == 1, first.stdout[-3000:] + first.stderr[-3000:]
    again = run("-k", "物理", "--lf", name="again")
    assert again.returncode == 1, again.stdout[-3000:] + again.stderr[-3000:]
    assert "run-last-failure: rerun previous 1 failure" in again.stdout
    assert list(fault_run.records(fault_run.tmp_path / "again")) == ["物理-002"]
    assert (workdir / "bench" / ".pytest_cache" / "v" / "cache" / "lastfailed").is_file()


def check_judge_run(done, reports: Path, name: str) -> None:
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    found = records(reports / name)
    assert len(found) == 10 and {r["status"] for r in found} == {"ok"}  # every case scored


def check_agree(done, reports: Path) -> None:
    assert done.returncode == 0, done.stdout + done.stderr
    overall = [line for line in done.stdout.splitlines() if line.startswith("overall")]
    assert overall and overall[0].split()[1:3] == ["SC", "10"], done.stdout  # 10 cases compared


JUDGE_STEPS = [
    (
        r"--eb-run-dir=reports/judge-a$",
        lambda done, reports: check_judge_run(done, reports, "judge-a"),
    ),
    (
        r"--eb-run-dir=reports/judge-b .*judge\.max_pixels",
        lambda d, r: check_judge_run(d, r, "judge-b"),
    ),
    (r"editbench agree reports/judge-a fixtures/sample_ratings\.csv$", check_agree),
    (r"agree reports/judge-a reports/judge-b --ratings=fixtures/sample_ratings\.csv$", check_agree),
]


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_choosing_a_judge_runs_as_written_on_the_tiny_models(checkout, judge_python, tiny_judge):
    """The section's commands, in order: edit and score, rescore with a second judge that scores
    every case, then `agree` with the shipped sample ratings (issue 27: `judge.method=generate`
    ran 10 minutes on the tiny judge and left nothing to agree on)."""
    runner = Runner(checkout, judge_python)
    reports = checkout / "reports"
    lines = readme_commands((REPO / "README.md").read_text(encoding="utf-8"), ("Choosing a judge",))
    assert len(lines) == len(JUDGE_STEPS), lines
    for line, (pattern, check) in zip(lines, JUDGE_STEPS, strict=True):
        assert re.search(pattern, line.split("#")[0].strip()), line
        start = time.monotonic()
        done = runner.run(line)
        print(f"{time.monotonic() - start:6.1f} s  {line}")  # shown when the test fails
        check(done, reports)
