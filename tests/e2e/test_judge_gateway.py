"""The gateway into the judge interpreter: constant backend, startup checks, faults, score cache.

Everything crosses a real execnet gateway into the real judge virtualenv (no editbench, no
pytest there); fault injectors are backend files loaded by path on the judge side.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from editbench.cases import load_suite
from editbench.config import build_config
from editbench.errors import ConfigError
from editbench.judging import JudgeInput, WorkerInfo
from editbench.judging.modes import open_judge
from editbench.protocols import run_protocol
from editbench.settings import check_judge as check
from support import REPO

SUITE = load_suite(REPO / "fixtures" / "sample_suite")
SCORES = {"SC": 7, "PQ": 8.5, "criterion": 6}
WORKER = WorkerInfo(index=0, id="gw0", gpus=[])


@pytest.fixture
def config(judge_python):
    """A config of the constant judge in the real judge interpreter, plus `judge` overrides."""

    def make(tmp_path: Path, **judge):
        data = {"backend": "constant", "python": judge_python, "scores": SCORES, **judge}
        return build_config(
            {"judge": data, "run": {"cache_dir": str(tmp_path / "cache"), "cache": False}},
            base_dir=str(tmp_path),
        )

    return make


def item(index: int = 0, instruction: str | None = None) -> JudgeInput:
    case = SUITE.cases[index]
    _, png = case.source.load()
    text, description = case.text("en")
    return JudgeInput(
        case=case,
        source_png=png,
        edited_png=png,
        instruction=instruction or text,
        description=description,
        seed=index,
    )


def backend_file(tmp_path: Path, body: str) -> str:
    path = tmp_path / "faulty.py"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return f"{path}:Faulty"


@pytest.fixture
def opened():
    judges = []

    def make(cfg):
        judge = open_judge(cfg, run_protocol(cfg, SUITE), WORKER)
        judges.append(judge)
        return judge

    yield make
    for judge in judges:
        judge.close()


@pytest.mark.timeout(120)
def test_constant_backend_over_the_gateway(tmp_path, opened, config, judge_python):
    judge = opened(config(tmp_path))
    results = judge.score(item())
    scores = {d: r["score"] for d, r in results.items()}
    assert scores == {"SC": 7.0, "PQ": 8.5, "criterion": 6.0, "O": (7.0 * 8.5) ** 0.5}
    assert all(r["status"] == "ok" for r in results.values())
    described = judge.describe()
    assert described["versions"]["executable"] == judge_python
    assert described["versions"]["transformers"].startswith("5.")
    generated = opened(config(tmp_path, method="generate")).score(item(1))
    assert generated["PQ"]["score"] == 8.5 and generated["PQ"]["reasoning"] == "constant backend"


@pytest.mark.timeout(60)
def test_missing_judge_python_is_one_line(tmp_path, config):
    with pytest.raises(ConfigError) as info:
        check(config(tmp_path, python=str(tmp_path / "nope" / "python")), SUITE)
    message = str(info.value)
    assert "\n" not in message and "tox -e judge" in message and "judge.python" in message


@pytest.mark.parametrize(
    ("judge", "expected"),
    [
        ({"backend": "qwen_vl"}, "did you mean 'qwen-vl'"),
        ({"backend": "constant", "scores": {"SC": 7}}, "judge.scores has no PQ"),
        ({"backend": "qwen-vl"}, "judge.model is required"),
        ({"backend": "qwen-vl", "model": "./no/such/folder"}, "not a checkpoint folder"),
        ({"dimensions": ["SC", "aesthetics"]}, "judge.dimensions"),
        ({"samples": 3}, "judge.temperature > 0"),
    ],
)
def test_check_rejects_bad_judge_config(tmp_path, judge, expected, config):
    with pytest.raises(ConfigError, match=expected):
        check(config(tmp_path, **judge), SUITE)


@pytest.mark.timeout(120)
def test_garbage_answer_is_unparseable_with_raw_text(tmp_path, opened, config):
    backend = backend_file(
        tmp_path,
        """
        class Faulty:
            def __init__(self, options):
                self.calls = 0
            def info(self):
                return {}
            def generate(self, items, decoding):
                self.calls += 1
                return [[f"no idea, call {self.calls}"] for _ in items]
    """,
    )
    results = opened(config(tmp_path, backend=backend, method="generate")).score(item())
    assert (results.pop("O")["status"], results["SC"]["score"]) == ("missing-input", None)
    for result in results.values():
        assert result["status"] == "unparseable" and result["score"] is None
        assert (
            '"no idea, call 1"' in result["raw"] and '"no idea, call 2"' in result["raw"]
        )  # one retry


@pytest.mark.timeout(120)
def test_retry_with_reminder_recovers(tmp_path, opened, config):
    backend = backend_file(
        tmp_path,
        """
        class Faulty:
            def __init__(self, options):
                pass
            def info(self):
                return {}
            def generate(self, items, decoding):
                return [['{"score": 4, "reasoning": "ok"}' if "could not be read" in i["prompt"] else "hmm"]
                        for i in items]
    """,
    )
    results = opened(config(tmp_path, backend=backend, method="generate")).score(item())
    assert {r["score"] for r in results.values()} == {4.0}


@pytest.mark.timeout(120)
def test_exception_in_judge_is_judge_error_and_channel_stays_usable(tmp_path, opened, config):
    backend = backend_file(
        tmp_path,
        """
        class Faulty:
            def __init__(self, options):
                pass
            def info(self):
                return {}
            def logit(self, items):
                if "EXPLODE" in items[0]["prompt"]:
                    raise ZeroDivisionError("judge blew up")
                return [{"score": 5.0, "mass": 1.0, "probs": []} for _ in items]
    """,
    )
    judge = opened(config(tmp_path, backend=backend))
    failed = judge.score(item(0, instruction="EXPLODE"))
    assert {r["status"] for d, r in failed.items() if d != "O"} == {"judge-error"}
    assert failed["O"]["status"] == "missing-input"  # derived from SC and PQ, never filled
    assert "ZeroDivisionError: judge blew up" in failed["SC"]["reasoning"]
    assert "Traceback" in failed["SC"]["raw"]
    pid = judge.conn.pid
    assert {r["score"] for r in judge.score(item(1)).values()} == {5.0}
    assert judge.conn.pid == pid and judge.restarts == 0


HANG = """
    import time
    class Faulty:
        def __init__(self, options):
            pass
        def info(self):
            return {}
        def logit(self, items):
            if "HANG" in items[0]["prompt"]:
                time.sleep(%s)
            return [{"score": 9.0 if "HANG" in items[0]["prompt"] else 2.0, "mass": 1.0, "probs": []}
                    for _ in items]
"""


@pytest.mark.timeout(120)
def test_timeout_then_late_reply_is_discarded(tmp_path, opened, config):
    judge = opened(config(tmp_path, backend=backend_file(tmp_path, HANG % "1.6"), timeout_s=1.0))
    judge.start()  # the interpreter starts on the first request: time only the request
    hung = judge.score(item(0, instruction="HANG"))
    # a reply waited for would have been the judge's 9.0 with status ok: it timed out instead
    assert {r["status"] for d, r in hung.items() if d != "O"} == {"timeout"}
    assert all(r["score"] is None for r in hung.values())
    after = judge.score(item(1))
    assert {r["score"] for r in after.values()} == {2.0}  # its own reply, never the late 9.0
    assert judge.discarded == 1 and judge.restarts == 0


@pytest.mark.timeout(120)
def test_judge_that_stays_silent_is_replaced(tmp_path, opened, config):
    judge = opened(config(tmp_path, backend=backend_file(tmp_path, HANG % "600"), timeout_s=1.0))
    old = judge.start().pid
    hung = judge.score(item(0, instruction="HANG"))
    assert {r["status"] for d, r in hung.items() if d != "O"} == {"timeout"}
    assert {r["score"] for r in judge.score(item(1)).values()} == {2.0}
    assert judge.restarts == 1 and judge.conn.pid != old
    deadline = time.monotonic() + 60  # the old interpreter is killed; wait until it is gone
    while Path(f"/proc/{old}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{old}").exists()


@pytest.mark.timeout(120)
def test_killed_judge_is_recreated(tmp_path, opened, config):
    judge = opened(config(tmp_path))
    old = judge.start().pid
    os.kill(old, signal.SIGKILL)
    time.sleep(0.3)
    results = judge.score(item())
    scores = {d: r["score"] for d, r in results.items()}
    assert scores == {"SC": 7.0, "PQ": 8.5, "criterion": 6.0, "O": (7.0 * 8.5) ** 0.5}
    assert judge.restarts == 1 and judge.conn.pid != old


@pytest.mark.timeout(120)
def test_judge_exits_when_its_worker_dies(tmp_path, judge_python):
    judge = {"backend": "constant", "python": judge_python, "scores": SCORES}
    script = textwrap.dedent(f"""
        import time
        from editbench.cases import load_suite
        from editbench.config import build_config
        from editbench.judging import WorkerInfo
        from editbench.judging.modes import open_judge
        from editbench.protocols import run_protocol
        config = build_config({{"judge": {judge!r}, "run": {{"cache": False}}}}, base_dir={str(tmp_path)!r})
        suite = load_suite(__import__("pathlib").Path({str(REPO / "fixtures" / "sample_suite")!r}))
        judge = open_judge(config, run_protocol(config, suite), WorkerInfo(index=0, id="gw0", gpus=[]))
        print(judge.start().pid, flush=True)
        time.sleep(600)
    """)
    worker = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    try:
        pid = int(worker.stdout.readline())
        assert Path(f"/proc/{pid}").exists()
        worker.kill()
        worker.wait()
        deadline = time.monotonic() + 10
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        alive = (
            Path(f"/proc/{pid}").exists()
            and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]
        )
        assert not alive
    finally:
        worker.kill()


@pytest.mark.timeout(120)
def test_scores_are_cached_and_a_changed_prompt_rescores(tmp_path, opened, judge_python):
    templates = tmp_path / "templates"
    templates.mkdir()
    for name in ("sc.txt", "pq.txt", "criterion.txt"):
        (templates / name).write_text(
            (SUITE.templates / name).read_text(encoding="utf-8"), encoding="utf-8"
        )
    suite = load_suite(REPO / "fixtures" / "sample_suite")
    object.__setattr__(suite, "templates", templates)
    cfg = build_config(
        {
            "judge": {"backend": "constant", "python": judge_python, "scores": SCORES},
            "run": {"cache_dir": str(tmp_path / "cache")},
        },
        base_dir=str(tmp_path),
    )
    first = open_judge(cfg, run_protocol(cfg, suite), WORKER)
    try:
        assert not any(r["cached"] for r in first.score(item()).values())
        again = first.score(item())
        assert all(r["cached"] for d, r in again.items() if d != "O")  # O is derived, not read
    finally:
        first.close()
    (templates / "pq.txt").write_text(
        "Rate the image. {images}\n{answer_format}\n", encoding="utf-8"
    )
    second = open_judge(cfg, run_protocol(cfg, suite), WORKER)
    try:
        again = second.score(item())
    finally:
        second.close()
    assert again["SC"]["cached"] and again["criterion"]["cached"] and not again["PQ"]["cached"]


@pytest.mark.timeout(120)
def test_the_judge_interpreter_starts_on_the_first_cache_miss_only(tmp_path, judge_python):
    """Opening the judge starts nothing; cached scores start nothing; the first miss starts it."""
    pids = tmp_path / "pids"
    backend = backend_file(
        tmp_path,
        f"""
        import os
        class Faulty:
            def __init__(self, options):
                with open({str(pids)!r}, "a") as log:
                    log.write(f"{{os.getpid()}}\\n")
            def info(self):
                return {{}}
            def logit(self, items):
                return [{{"score": 4.0, "mass": 1.0, "probs": []}} for _ in items]
    """,
    )
    cfg = build_config(
        {
            "judge": {"backend": backend, "python": judge_python},
            "run": {"cache_dir": str(tmp_path / "cache")},
        },
        base_dir=str(tmp_path),
    )
    warm = open_judge(cfg, run_protocol(cfg, SUITE), WORKER)
    try:
        warm.score(item())  # fills the score cache
    finally:
        warm.close()
    assert len(pids.read_text().split()) == 1
    judge = open_judge(cfg, run_protocol(cfg, SUITE), WORKER)
    try:
        assert all(r["cached"] for d, r in judge.score(item()).items() if d != "O")
        assert len(pids.read_text().split()) == 1 and judge.describe()["started"] is False
        assert not any(r["cached"] for r in judge.score(item(1)).values())
        assert len(pids.read_text().split()) == 2 and judge.describe()["started"] is True
        assert judge.describe()["versions"]["executable"] == judge_python
    finally:
        judge.close()


@pytest.mark.timeout(120)
def test_a_judge_that_cannot_start_fails_each_case_once_without_retrying(tmp_path, config):
    cfg = config(tmp_path, python=str(tmp_path / "no-python"))
    judge = open_judge(cfg, run_protocol(cfg, SUITE), WORKER)
    first = judge.score(item(0))
    assert {r["status"] for d, r in first.items() if d != "O"} == {"judge-unavailable"}
    assert "could not start" in first["SC"]["reasoning"]
    second = judge.score(item(1))
    assert {r["reasoning"] for d, r in second.items() if d != "O"} == {first["SC"]["reasoning"]}
    assert judge.restarts == 0 and judge.conn is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Rate {instruction} {colour}\n", "unknown variable {colour}"),
        ("Rate {instrution}\n", "did you mean {instruction}"),
        ('Answer as JSON {"score": 1}\n', "stray brace"),
        ("Rate { instruction\n", "stray"),
        ("Rate the edit }\n", "stray"),
        ("Rate {instruction!r}\n", "format spec or conversion"),
    ],
)
def test_bad_template_rejected_at_startup_naming_the_file(tmp_path, text, expected, config):
    templates = tmp_path / "templates"
    templates.mkdir()
    for name in ("sc.txt", "pq.txt", "criterion.txt"):
        (templates / name).write_text("{images} {answer_format}\n", encoding="utf-8")
    (templates / "sc.txt").write_text(text, encoding="utf-8")
    suite = load_suite(REPO / "fixtures" / "sample_suite")
    object.__setattr__(suite, "templates", templates)
    with pytest.raises(ConfigError, match=expected) as info:
        check(config(tmp_path), suite)
    assert str(templates / "sc.txt") in str(info.value)
