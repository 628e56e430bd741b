"""Fault injection: nothing finished is lost, nothing is invented.

Each test runs the real benchmark (benchmarks/test_edit.py) in a fresh pytest process, with
faults forced by the `fault` editor (tests/faults/eb_faults.py, loaded with `-p eb_faults`) and
the `FaultyJudge` backend (tests/faults/judge_faults.py, loaded by path in the real judge
interpreter). A case picks its fault by a tag in its instruction, e.g. `[judge:hang]`; the
`fault_run` fixture (conftest.py) copies the sample suite and runs the benchmark over it.
"""

from __future__ import annotations

import io
import json
import math
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from PIL import Image

from support import REPO, SAMPLE_B64, bench_command

FIXED = {"SC": 6.0, "PQ": 7.0, "criterion": 5.0, "O": math.sqrt(42.0)}
PHYSICAL = [f"物理-00{i}" for i in range(1, 6)]


# -- helpers -------------------------------------------------------------------------------------


def summary_of(run_dir: Path) -> dict:
    return json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))


def assert_honest(record: dict) -> None:
    """A record is either ok with every score read from the judge, or failed with no score at all."""
    scores = record.get("scores") or {}
    if record["status"] == "ok":
        assert set(record["statuses"].values()) == {"ok"}, record
        assert scores and all(isinstance(v, float) and 0.0 <= v <= 10.0 for v in scores.values()), (
            record
        )
        assert scores == pytest.approx(FIXED), record  # exactly what the judge said, for this case
    else:
        assert all(v is None for v in scores.values()), record
        assert record["reason"], record


def pids_alive(pids: list[int], grace: float = 5.0) -> list[int]:
    deadline = time.monotonic() + grace
    while True:
        alive = [p for p in pids if _running(p)]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def _running(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def judge_pids(fault_run) -> list[int]:
    path = fault_run.fault_dir / "judge-pids"
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def bomb_png() -> bytes:
    """A 20000x20000 1-bit PNG: a few dozen kilobytes on disk, 400 megapixels when decoded."""
    buffer = io.BytesIO()
    Image.new("1", (20000, 20000)).save(buffer, format="PNG")
    return buffer.getvalue()


# -- one test per row of the fault table ---------------------------------------------------------


@pytest.mark.timeout(240)
def test_broken_images_fail_their_case_and_the_others_score(fault_run, tmp_path):
    fault_run.image("物理-001").write_bytes(b"\x89PNG\r\n\x1a\n but not really a PNG")
    fault_run.image("物理-002").unlink()
    result, run_dir = fault_run.run(fault_run.config(), "-k", "物理", name="native")
    assert result.returncode == 1, result.stdout[-3000:]
    records = fault_run.records(run_dir)
    assert sorted(records) == PHYSICAL
    assert records["物理-001"]["status"] == "case-error"
    assert (
        "case 物理-001" in records["物理-001"]["reason"]
        and "not a readable image" in records["物理-001"]["reason"]
    )
    assert records["物理-002"]["status"] == "case-error"
    assert (
        "case 物理-002: image file" in records["物理-002"]["reason"]
        and "does not exist" in records["物理-002"]["reason"]
    )
    for record in records.values():
        assert_honest(record)
    assert [r["status"] for r in records.values()].count("ok") == 3
    assert summary_of(run_dir)["overall"]["micro"]["failures"] == {"case-error": 2}
    assert "物理-001: case-error: case 物理-001" in result.stdout

    items = json.loads(SAMPLE_B64.read_text(encoding="utf-8"))
    items[2]["src_img_b64"] = "@@ not base64 @@"
    b64 = tmp_path / "b64.json"
    b64.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    result, run_dir = fault_run.run(fault_run.config(suite={"path": str(b64)}), name="b64")
    assert result.returncode == 1, result.stdout[-3000:]
    records = fault_run.records(run_dir)
    assert len(records) == len(items)
    broken = records["社会-birthday"]
    assert (
        broken["status"] == "case-error"
        and "case 社会-birthday (" in broken["reason"]
        and "b64.json: item 2): invalid base64" in broken["reason"]
    )
    for record in records.values():
        assert_honest(record)
    assert summary_of(run_dir)["overall"]["micro"]["failures"] == {"case-error": 1}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("fault", ["unknown key", "wrong type", "unknown template variable"])
def test_startup_errors_name_the_problem_and_load_nothing(fault_run, fault):
    editor, judge, suite = {"backend": "fault"}, dict(fault_run.judge), fault_run.suite
    if fault == "unknown key":
        editor["stepz"] = 4
        needle = "unknown config key editor.stepz; did you mean editor.steps?"
    elif fault == "wrong type":
        judge["timeout_s"] = "soon"
        needle = "judge.timeout_s: expected a float, got str 'soon'"
    else:
        (suite / "templates" / "sc.txt").write_text(
            "Rate {instruction} in {colour}.\n{answer_format}\n", encoding="utf-8"
        )
        needle = f"prompt template {suite / 'templates' / 'sc.txt'}: unknown variable {{colour}}"
    result, run_dir = fault_run.run(fault_run.config(editor=editor, judge=judge), "-n", "2")
    assert result.returncode == 4, result.stdout[-2000:] + result.stderr[-2000:]
    assert needle in result.stderr
    assert "Traceback" not in result.stderr
    assert not run_dir.exists()
    assert (
        sorted(p.name for p in fault_run.fault_dir.iterdir()) == []
    )  # no editor built, no judge started


@pytest.mark.timeout(240)
def test_killed_judge_is_recreated_and_every_case_scored_or_failed(fault_run):
    fault_run.change("物理-002", tag="[judge:kill-once]")
    fault_run.change("物理-004", tag="[judge:kill]")
    config = fault_run.config()
    result, run_dir = fault_run.run(config, "-k", "物理")
    assert result.returncode == 1, result.stdout[-3000:]
    records = fault_run.records(run_dir)
    assert sorted(records) == PHYSICAL
    assert records["物理-002"]["status"] == "ok"  # killed once, recreated, retried
    assert records["物理-004"]["status"] == "judge-unavailable"
    assert "died twice" in records["物理-004"]["reason"]
    assert {r["status"] for k, r in records.items() if k != "物理-004"} == {"ok"}
    for record in records.values():
        assert_honest(record)
    pids = judge_pids(fault_run)
    assert (
        len(set(pids)) == 4
    )  # first judge, after 002's kill, after 004's first kill, after its second
    assert pids_alive(pids) == []


@pytest.mark.timeout(240)
def test_judge_past_timeout_fails_that_case_and_the_next_gets_its_own_reply(fault_run):
    fault_run.change("物理-002", tag="[judge:hang]")
    config = fault_run.config(judge={**fault_run.judge, "timeout_s": 1.5})
    result, run_dir = fault_run.run(config, "-k", "物理", EB_FAULT_HANG_S="3")
    assert result.returncode == 1, result.stdout[-3000:]
    records = fault_run.records(run_dir)
    hung = records["物理-002"]
    assert hung["status"] == "timeout" and "judge.timeout_s=1.5s" in hung["reason"]
    assert set(hung["statuses"].values()) <= {"timeout", "missing-input"}
    assert (
        records["物理-003"]["status"] == "ok"
    )  # the case after the hang: its own 6/7/5, not the late 9s
    for record in records.values():
        assert_honest(record)
    assert len(set(judge_pids(fault_run))) == 1  # the late reply was drained, the judge kept


@pytest.mark.timeout(240)
def test_garbage_answer_is_unparseable_and_a_failed_retry_keeps_its_status(fault_run):
    fault_run.change("物理-003", tag="[judge:garbage]")
    fault_run.change("物理-004", tag="[judge:retry-hang]")
    config = fault_run.config(judge={**fault_run.judge, "method": "generate", "timeout_s": 1.5})
    result, run_dir = fault_run.run(config, "-k", "物理", EB_FAULT_HANG_S="3")
    assert result.returncode == 1, result.stdout[-3000:]
    records = fault_run.records(run_dir)
    garbage = records["物理-003"]
    assert garbage["status"] == "unparseable"
    assert {d: garbage["statuses"][d] for d in ("SC", "PQ", "criterion")} == dict.fromkeys(
        ("SC", "PQ", "criterion"), "unparseable"
    )
    for dim in ("SC", "PQ", "criterion"):
        assert (
            garbage["raw"][dim].count("hard to say") == 2
        )  # the answer and the retry's, both kept
    hung = records["物理-004"]  # the first answer unreadable, the retry past judge.timeout_s
    assert hung["status"] == "timeout", hung
    assert {hung["statuses"][d] for d in ("SC", "PQ", "criterion")} == {"timeout"}
    assert "in the retry with a format reminder" in hung["reasoning"]["SC"]
    assert "hard to say" in hung["raw"]["SC"]  # the first answer is kept
    for record in records.values():
        assert_honest(record)
    failures = summary_of(run_dir)["overall"]["micro"]["failures"]
    assert failures == {"timeout": 1, "unparseable": 1}
    assert summary_of(run_dir)["overall"]["micro"]["dimensions"]["SC"]["n"] == 3


@pytest.mark.timeout(300)
def test_dead_worker_loses_only_its_case(fault_run):
    fault_run.change("物理-003", tag="[edit:exit]")
    config = fault_run.config()
    result, run_dir = fault_run.run(config, "-n", "2", "-k", "物理")
    assert result.returncode == 1, result.stdout[-3000:]
    assert "crashed" in result.stdout
    records = fault_run.records(run_dir)
    assert sorted(records) == PHYSICAL
    assert records["物理-003"]["status"] == "crashed"
    assert {r["status"] for k, r in records.items() if k != "物理-003"} == {"ok"}
    for record in records.values():
        assert_honest(record)
    summary = summary_of(run_dir)
    assert summary["overall"]["micro"]["failures"] == {"crashed": 1}
    assert summary["overall"]["micro"]["n"] == 5
    assert "物理-003" in (run_dir / "report.html").read_text(encoding="utf-8")
    assert pids_alive(judge_pids(fault_run)) == []  # the dead worker's judge went with it


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    "workers",
    [pytest.param([], id="serial"), pytest.param(["-n", "2"], id="xdist", marks=pytest.mark.slow)],
)
def test_ctrl_c_keeps_what_finished_and_a_rerun_finishes_from_the_cache(fault_run, workers):
    """Ctrl-C arrives while a case is known to be mid-edit (it blocks until the test releases it)."""
    finished_first = PHYSICAL[:2]
    for case_id in PHYSICAL[2:]:
        fault_run.change(case_id, tag="[edit:wait]")
    config = fault_run.config()
    first = fault_run.tmp_path / "first"
    command = [*bench_command(config, "-p", "eb_faults", "-k", "物理", *workers, run_dir=first)]
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **fault_run.env()},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        _wait_until(
            process,
            lambda: (
                _lines(first / "results.jsonl") >= 2 and any(fault_run.fault_dir.glob("waiting.*"))
            ),
        )
        os.killpg(
            process.pid, signal.SIGINT
        )  # what a terminal's Ctrl-C does: the whole process group
        output, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 2, output[-3000:]  # pytest.ExitCode.INTERRUPTED
    finished = fault_run.records(first)
    assert sorted(finished) == finished_first and {r["status"] for r in finished.values()} == {"ok"}
    summary = summary_of(first)
    assert summary["overall"]["micro"]["n"] == 2 and summary["overall"]["micro"]["failed"] == 0
    page = (first / "report.html").read_text(encoding="utf-8")
    assert page.count('<div class="case ') == 2
    assert "Interrupted: these reports cover only the cases that finished" in page
    assert json.loads((first / "run.json").read_text(encoding="utf-8"))["status"] == "interrupted"
    edits_log = fault_run.fault_dir / "edits.log"
    edited_before = edits_log.read_text(encoding="utf-8").split()

    (fault_run.fault_dir / "release").write_text("go\n", encoding="utf-8")
    result, second = fault_run.run(config, "-k", "物理", *workers, name="second")
    assert result.returncode == 0, result.stdout[-3000:]
    rerun = fault_run.records(second)
    assert sorted(rerun) == PHYSICAL and {r["status"] for r in rerun.values()} == {"ok"}
    for case_id in finished:
        assert rerun[case_id]["edit_cached"] is True
        scored = {k: v for k, v in rerun[case_id]["cached"].items() if k != "O"}  # O is computed
        assert scored == dict.fromkeys(("SC", "PQ", "criterion"), True)  # no score asked again
    edited_again = edits_log.read_text(encoding="utf-8").split()[len(edited_before) :]
    assert (
        sorted(edited_again) == PHYSICAL[2:]
    )  # each unfinished case edited once; no finished one redone
    for record in rerun.values():
        assert_honest(record)


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines()) if path.exists() else 0


def _wait_until(process: subprocess.Popen, condition, limit_s: float = 180) -> None:
    """Poll a condition the run makes true (not a sleep that guesses how long it takes)."""
    deadline = time.monotonic() + limit_s
    while not condition():
        assert process.poll() is None, (
            f"the run ended before the condition held: {process.stdout.read()[-3000:]}"
        )
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.05)


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "fault",
    [
        "source traversal",
        "source absolute",
        "reference traversal",
        "symlink out",
        "templates absolute",
    ],
)
def test_manifest_paths_outside_the_suite_are_refused(fault_run, tmp_path, fault):
    suite, outside = fault_run.suite, tmp_path / "secret.png"
    outside.write_bytes(fault_run.image("物理-002").read_bytes())
    line = "cases.jsonl:2"
    if fault == "source traversal":
        fault_run.change("物理-002", source="images/../../secret.png")
        needle = "path 'images/../../secret.png' leaves the suite folder"
    elif fault == "source absolute":
        fault_run.change("物理-002", source=str(outside))
        needle = f"absolute path {str(outside)!r} refused"
    elif fault == "reference traversal":
        fault_run.change("物理-002", reference="../secret.png")
        needle = "path '../secret.png' leaves the suite folder"
    elif fault == "symlink out":
        (suite / "images" / "link.png").symlink_to(outside)
        fault_run.change("物理-002", source="images/link.png")
        needle = "path 'images/link.png' leaves the suite folder"
    else:
        manifest = suite / "suite.yaml"
        manifest.write_text(
            manifest.read_text(encoding="utf-8").replace(
                "templates: templates", f"templates: {tmp_path}"
            ),
            encoding="utf-8",
        )
        line, needle = "suite.yaml: templates", f"absolute path {str(tmp_path)!r} refused"
    result, run_dir = fault_run.run(fault_run.config(judge={"backend": "none"}))
    assert result.returncode == 4, result.stdout[-2000:] + result.stderr[-2000:]
    error = [ln for ln in result.stderr.splitlines() if "ERROR" in ln]
    assert len(error) == 1 and needle in error[0] and line in error[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not run_dir.exists() and not list(fault_run.fault_dir.iterdir())


@pytest.mark.timeout(240)
def test_script_in_instruction_description_and_reasoning_is_escaped(fault_run):
    fault_run.change(
        "物理-001",
        instruction={"en": "<script>window.pwnedInstruction=1</script> Tilt it [judge:echo]"},
        description={"en": "<script>window.pwnedDescription=1</script> a glass"},
    )
    config = fault_run.config(judge={**fault_run.judge, "method": "generate"})
    result, run_dir = fault_run.run(config, "-k", "物理")
    assert result.returncode == 0, result.stdout[-3000:]
    record = fault_run.records(run_dir)["物理-001"]
    assert (
        "<script>window.pwnedDescription=1</script>" in record["reasoning"]["SC"]
    )  # it did reach the page
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    assert page.count("<script") == 1  # the page's own filter script, nothing else
    for name in ("Instruction", "Description", "Judge"):
        assert f"&lt;script&gt;window.pwned{name}=1&lt;/script&gt;" in page
        assert f"<script>window.pwned{name}" not in page


@pytest.mark.timeout(120)
@pytest.mark.parametrize("where", ["run config", "suite.yaml"])
def test_yaml_python_tags_are_refused(fault_run, where):
    marker = fault_run.tmp_path / "pwned"
    payload = f'!!python/object/apply:os.system ["touch {marker}"]'
    config = fault_run.config(judge={"backend": "none"})
    if where == "run config":
        target = config
        config.write_text(
            config.read_text(encoding="utf-8") + f"\nextra: {payload}\n", encoding="utf-8"
        )
    else:
        target = fault_run.suite / "suite.yaml"
        target.write_text(
            target.read_text(encoding="utf-8").replace(
                "name: editbench-sample", f"name: {payload}"
            ),
            encoding="utf-8",
        )
    result, run_dir = fault_run.run(config)
    assert result.returncode == 4, result.stdout[-2000:] + result.stderr[-2000:]
    assert str(target) in result.stderr and "safe loading only" in result.stderr
    assert "Traceback" not in result.stderr
    assert not marker.exists() and not run_dir.exists()
    assert not list(fault_run.fault_dir.iterdir())


@pytest.mark.timeout(240)
def test_decompression_bomb_is_refused_and_pillow_keeps_its_limit(fault_run):
    default_limit = Image.MAX_IMAGE_PIXELS
    fault_run.image("物理-002").write_bytes(bomb_png())
    config = fault_run.config()
    result, run_dir = fault_run.run(config, "-k", "物理")
    assert result.returncode == 1, result.stdout[-3000:]
    records = fault_run.records(run_dir)
    bomb = records["物理-002"]
    assert bomb["status"] == "case-error"
    assert "case 物理-002" in bomb["reason"] and "refused by the size limit" in bomb["reason"]
    assert f"under {default_limit:,} pixels" in bomb["reason"]
    assert [r["status"] for r in records.values()].count("ok") == 4
    limits = [p.read_text() for p in fault_run.fault_dir.glob("pil.*")]
    assert limits == [repr(default_limit)]  # the benchmark process kept Pillow's protection on
    assert Image.MAX_IMAGE_PIXELS == default_limit is not None


# -- all at once ---------------------------------------------------------------------------------

INJECTED = {
    "物理-001": ("corrupt", "case-error"),
    "物理-002": ("missing", "case-error"),
    "物理-003": ("[edit:exit]", "crashed"),
    "物理-004": ("[edit:raise]", "edit-error"),
    "物理-005": ("[judge:kill-once]", "ok"),  # recovered by the gateway: not a failure
    "环境-001": ("[judge:hang]", "timeout"),
    "环境-002": ("[judge:garbage]", "unparseable"),
    "环境-003": ("[judge:kill]", "judge-unavailable"),
    "环境-004": ("[judge:raise]", "judge-error"),
    "环境-005": ("", "ok"),
}


@pytest.mark.timeout(400)
def test_failures_by_status_equal_the_injected_faults(fault_run):
    for case_id, (fault, _) in INJECTED.items():
        if fault == "corrupt":
            fault_run.image(case_id).write_bytes(fault_run.image(case_id).read_bytes()[:200])
        elif fault == "missing":
            fault_run.image(case_id).unlink()
        elif fault:
            fault_run.change(case_id, tag=fault)
    config = fault_run.config(judge={**fault_run.judge, "method": "generate", "timeout_s": 1.5})
    result, run_dir = fault_run.run(
        config, "-n", "2", "-k", "物理 or 环境", timeout=360, EB_FAULT_HANG_S="3"
    )
    assert result.returncode == 1, result.stdout[-3000:]
    records = fault_run.records(run_dir)
    assert sorted(records) == sorted(INJECTED)  # zero results lost
    assert {k: r["status"] for k, r in records.items()} == {k: s for k, (_, s) in INJECTED.items()}
    for record in records.values():
        assert_honest(record)  # zero scores invented
    expected = {}
    for _, status in INJECTED.values():
        if status != "ok":
            expected[status] = expected.get(status, 0) + 1
    micro = summary_of(run_dir)["overall"]["micro"]
    assert micro["failures"] == expected
    assert (micro["n"], micro["scored"], micro["failed"]) == (10, 2, 8)
    assert micro["dimensions"]["O"]["n"] == 2
    assert pids_alive(judge_pids(fault_run)) == []
