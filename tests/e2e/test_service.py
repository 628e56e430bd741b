"""Service mode: one `transformers serve` for the whole run, reached by every worker over HTTP.

The server is the real `transformers serve` of transformers 5.x in the judge environment, on the
stock tiny Qwen3-VL judge. That environment has no torchvision (by design), which Qwen3-VL's stock
video processor needs; the controller starts the server through `judging/launch_remote.py`, which
loads the processor image-only, so any stock Qwen-VL checkpoint serves as it is.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image
from tokenizers import Tokenizer

from editbench.config import build_config
from editbench.errors import ConfigError
from editbench.judging import chat_api, client, launch
from editbench.judging.scoring import JudgeFailure
from support import REPO, SAMPLE_SUITE, find_judge_python, read_results, run_bench, write_config

STATUSES = (
    "ok",
    "unparseable",
    "out-of-range",
    "timeout",
    "judge-error",
    "judge-unavailable",
    "missing-input",
)


@pytest.fixture(scope="module")
def served_judge(tmp_path_factory, tiny_judge, judge_python) -> Path:
    """The stock tiny judge (no custom code) that always answers "7": its generation config
    suppresses every other token, so a run through the service can be required to score every
    case (a random judge's text has no score)."""
    folder = tmp_path_factory.mktemp("served") / "qwen3-vl"
    shutil.copytree(tiny_judge, folder)
    seven = Tokenizer.from_file(str(folder / "tokenizer.json")).token_to_id("7")
    size = json.loads((folder / "config.json").read_text(encoding="utf-8"))["text_config"][
        "vocab_size"
    ]
    generation = json.loads((folder / "generation_config.json").read_text(encoding="utf-8"))
    generation["suppress_tokens"] = [i for i in range(size) if i != seven]
    (folder / "generation_config.json").write_text(json.dumps(generation), encoding="utf-8")
    return folder


def service_judge(model: Path, **extra) -> dict:
    return {
        "backend": "qwen-vl",
        "model": str(model),
        "python": find_judge_python(),
        "method": "generate",
        "mode": "service",
        "device": "cpu",
        "max_pixels": 65536,
        "min_digit_mass": 0,  # random weights: little probability on score tokens
        "max_new_tokens": 1,  # the served judge answers "7" and nothing else
        "timeout_s": 120,
        **extra,
    }


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is gone for our purposes
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"))


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (10, 200, 30)).save(buffer, "PNG")
    return buffer.getvalue()


# -- plain functions -----------------------------------------------------------------------------


def test_chat_body_puts_images_first_as_downscaled_png_data_urls():
    item = {"dimension": "SC", "prompt": "score it", "images": [png(400, 100), png(32, 32)]}
    body = chat_api.chat_body("m", item, max_pixels=10000, max_tokens=8, temperature=0.0, seed=3)
    content = body["messages"][0]["content"]
    assert [c["type"] for c in content] == ["image_url", "image_url", "text"] and content[2][
        "text"
    ] == "score it"
    import base64

    first = Image.open(
        io.BytesIO(base64.b64decode(content[0]["image_url"]["url"].split(",", 1)[1]))
    )
    assert first.width * first.height <= 10000 and first.width == 4 * first.height
    assert content[1]["image_url"]["url"].endswith(
        chat_api.data_url(png(32, 32), 10000).split(",", 1)[1]
    )
    assert body["seed"] == 3 and body["max_tokens"] == 8 and body["stream"] is False


def test_a_request_over_the_size_limit_is_not_sent():
    endpoint = chat_api.Endpoint(url="http://127.0.0.1:9", key=None, model="m", engine="vllm")
    with pytest.raises(JudgeFailure) as info:
        chat_api.post(endpoint, {"blob": "x" * 3_000_000}, timeout=5, max_bytes=2**20)
    assert info.value.status == "judge-error" and "judge.max_request_mb" in info.value.reason


def test_an_unreachable_service_is_judge_unavailable():
    endpoint = chat_api.Endpoint(
        url=f"http://127.0.0.1:{launch.free_port()}", key=None, model="m", engine="vllm"
    )
    with pytest.raises(JudgeFailure) as info:
        chat_api.post(endpoint, {"model": "m"}, timeout=5, max_bytes=2**20)
    assert info.value.status == "judge-unavailable" and "after one retry" in info.value.reason


@pytest.mark.parametrize(
    ("judge", "message"),
    [
        ({"method": "logit"}, "transformers serve does not return them"),
        ({"url": "http://10.1.2.3:8000", "method": "generate"}, "judge.allow_remote"),
        ({"url": "ftp://127.0.0.1", "method": "generate"}, "expected http"),
    ],
)
def test_service_config_errors_at_startup(judge, message):
    config = build_config(
        {
            "judge": {
                "backend": "qwen-vl",
                "model": "Qwen/Qwen3-VL-8B-Instruct",
                "mode": "service",
                **judge,
            }
        }
    )
    with pytest.raises(ConfigError, match=message):
        client.check_endpoint(config)


def test_remote_url_is_allowed_when_asked_and_recorded_as_not_loopback():
    config = build_config(
        {
            "judge": {
                "backend": "qwen-vl",
                "mode": "service",
                "method": "generate",
                "url": "http://10.1.2.3:8000",
                "allow_remote": True,
            }
        }
    )
    client.check_endpoint(config)
    assert not chat_api.is_loopback("http://10.1.2.3:8000") and chat_api.is_loopback(
        "http://[::1]:8000"
    )


# -- a real transformers serve -------------------------------------------------------------------


@pytest.mark.timeout(300)
def test_transformers_serve_ignores_logprobs_so_logit_on_its_url_fails_at_startup(
    tmp_path, served_judge
):
    config = build_config(
        {
            "suite": {"path": str(SAMPLE_SUITE)},
            "judge": service_judge(served_judge, method="generate"),
        }
    )
    server = launch.start_server(config, tmp_path)
    try:
        endpoint = server.endpoint
        assert endpoint.engine_version and endpoint.key and endpoint.key_checked is False
        assert chat_api.is_loopback(endpoint.url)
        assert chat_api.probe_logprobs(endpoint, 60) is False
        folder = tmp_path / "bench"
        folder.mkdir()
        url_config = write_config(
            folder, judge={**service_judge(served_judge, method="logit"), "url": endpoint.url}
        )
        result = run_bench(url_config, "-k", "物理-001", timeout=240)
        assert result.returncode == 4, result.stdout[-2000:] + result.stderr[-2000:]
        assert (
            "carried no top_logprobs" in result.stderr
            and "transformers serve does not return them" in result.stderr
        )
    finally:
        server.stop()
    assert server.process.poll() is not None


@pytest.mark.timeout(240)
def test_logit_with_engine_transformers_is_refused_before_any_server_starts(tmp_path, served_judge):
    config = write_config(tmp_path, judge=service_judge(served_judge, method="logit"))
    result = run_bench(config, "-k", "物理-001", run_dir=tmp_path / "run", timeout=200)
    assert result.returncode == 4 and "logprobs" in result.stderr, result.stderr[-2000:]
    assert not (tmp_path / "run" / launch.LOG_NAME).exists()


@pytest.mark.timeout(300)
def test_service_mode_starts_on_the_stock_tiny_judge_as_the_readme_writes_it(
    tmp_path, judge_python
):
    """`--eb-set=judge.mode=service --eb-set=judge.method=generate` on `tiny:qwen3-vl`, with the
    judge environment as tox builds it (no torchvision): the server starts and scores the case."""
    judge = {"backend": "qwen-vl", "model": "tiny:qwen3-vl", "python": judge_python}
    judge |= {"device": "cpu", "max_pixels": 65536, "max_new_tokens": 16, "timeout_s": 120}
    config = write_config(tmp_path, judge=judge, run={"cache": False})
    run_dir = tmp_path / "run"
    result = run_bench(
        config,
        "-k",
        "物理-001",
        "--eb-set=judge.mode=service",
        "--eb-set=judge.method=generate",
        run_dir=run_dir,
        timeout=280,
    )
    output = result.stdout[-3000:] + result.stderr[-3000:]
    assert "before it was ready" not in output
    (record,) = read_results(run_dir)
    # the served judge answered every request: its text is read or refused by the parser, never
    # unavailable, an error or a timeout (random weights decide which: greedy, so always the same)
    statuses = {record["statuses"][d] for d in ("SC", "PQ", "criterion")}
    assert statuses <= {"ok", "unparseable", "out-of-range"}, record
    assert result.returncode == (0 if record["status"] == "ok" else 1), output
    log = (run_dir / launch.LOG_NAME).read_text(encoding="utf-8")
    assert "torchvision" not in log.lower() and log.count("POST /v1/chat/completions") >= 3


@pytest.mark.timeout(600)
def test_two_workers_share_one_server_that_stops_at_the_end(tmp_path, served_judge):
    config = write_config(tmp_path, judge=service_judge(served_judge), run={"cache": False})
    run_dir = tmp_path / "run"
    result = run_bench(config, "-n", "2", "-k", "物理", run_dir=run_dir, timeout=500)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    records = read_results(run_dir)
    assert len(records) == 5 and {r["category"] for r in records} == {"physical"}
    for record in records:  # every answer "7", read through the service unchanged
        assert record["status"] == "ok", record
        assert record["scores"] == {"SC": 7.0, "PQ": 7.0, "criterion": 7.0, "O": 7.0}
    meta = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    endpoint = meta["judge"]["service"]
    assert (
        endpoint["engine"] == "transformers" and endpoint["engine_version"] and endpoint["started"]
    )
    assert (
        endpoint["key"] == "set" and endpoint["loopback"] and endpoint["model"] == str(served_judge)
    )
    workers = meta["workers"]
    assert set(workers) == {"gw0", "gw1"}
    assert {w["judge"]["server_pid"] for w in workers.values()} == {
        endpoint["pid"]
    }  # one server for both
    assert not alive(endpoint["pid"])
    judge_side = meta["versions"]["judge"]  # the server's own interpreter, as the gateway's
    assert judge_side["engine"] == "transformers"
    assert judge_side["transformers"] == endpoint["engine_version"] and judge_side["tokenizers"]
    assert judge_side["executable"] == str(find_judge_python())
    if os.environ.get("EDITBENCH_REQUIRE_LOCKED") == "1":  # tox: installed from the judge lock
        assert judge_side["lock"]["lock"] == "envs/lock/cpu/judge.txt"
    log = (run_dir / launch.LOG_NAME).read_text(encoding="utf-8")
    assert log.count("POST /v1/chat/completions") >= 15  # 5 cases x 3 dimensions, all through it


@pytest.mark.timeout(600)
def test_server_killed_mid_run_fails_the_rest_as_unavailable_and_keeps_what_finished(
    tmp_path, served_judge
):
    config = write_config(tmp_path, judge=service_judge(served_judge), run={"cache": False})
    run_dir = tmp_path / "run"
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(REPO / "benchmarks"),
        "-p",
        "no:cacheprovider",
        "--eb-config",
        str(config),
        "--eb-run-dir",
        str(run_dir),
        "-k",
        "物理",
    ]
    bench = subprocess.Popen(
        command,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    try:
        results = run_dir / "results.jsonl"
        deadline = time.monotonic() + 300
        while not (results.is_file() and results.read_text(encoding="utf-8").strip()):
            assert bench.poll() is None and time.monotonic() < deadline, "no case finished"
            time.sleep(0.2)
        finished_before = read_results(run_dir)
        pid = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))["judge"]["service"][
            "pid"
        ]
        os.kill(pid, signal.SIGKILL)
        output, _ = bench.communicate(timeout=280)
    finally:
        if bench.poll() is None:
            bench.kill()
    records = {r["case_id"]: r for r in read_results(run_dir)}
    assert len(records) == 5, output[-3000:]
    for early in finished_before:  # nothing finished is lost or changed
        assert records[early["case_id"]] == early
    later = [
        r for r in records.values() if r["case_id"] not in {e["case_id"] for e in finished_before}
    ]
    assert later and any(r["status"] == "judge-unavailable" for r in later), output[-3000:]
    for record in later:  # scored in full before the kill reached it, or failed as unavailable
        assert record["status"] in ("judge-unavailable", "ok"), record
        if record["status"] == "ok":
            assert set(record["scores"].values()) == {7.0}
        assert all(s is None for d, s in record["scores"].items() if record["statuses"][d] != "ok")
    assert "is unreachable" in json.dumps(
        [r["reason"] for r in later if r["status"] == "judge-unavailable"]
    )


@pytest.mark.timeout(300)
def test_ctrl_c_stops_the_server(tmp_path, served_judge):
    config = write_config(tmp_path, judge=service_judge(served_judge), run={"cache": False})
    run_dir = tmp_path / "run"
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(REPO / "benchmarks"),
        "-p",
        "no:cacheprovider",
        "--eb-config",
        str(config),
        "--eb-run-dir",
        str(run_dir),
        "-k",
        "物理",
    ]
    bench = subprocess.Popen(
        command,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    try:
        meta, deadline = {}, time.monotonic() + 200
        while "service" not in meta.get("judge", {}):
            assert bench.poll() is None and time.monotonic() < deadline, "the server never started"
            time.sleep(0.2)
            if (run_dir / "run.json").is_file():
                meta = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
        pid = meta["judge"]["service"]["pid"]
        assert alive(pid)
        bench.send_signal(signal.SIGINT)
        bench.communicate(timeout=120)
    finally:
        if bench.poll() is None:
            bench.kill()
    deadline = time.monotonic() + 15
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(pid)
