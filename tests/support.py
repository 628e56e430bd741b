"""What the harness's tests share: paths, run configs in tmp_path, benchmark runs in a fresh pytest.

Imported by the test modules of every tier (`from support import ...`); the fixtures built on it
(the judge interpreter, the tiny judge, fault runs) are in conftest.py.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import yaml
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
SAMPLE_SUITE = REPO / "fixtures" / "sample_suite"
SAMPLE_B64 = REPO / "fixtures" / "sample_b64.json"
FAULTS = Path(__file__).resolve().parent / "faults"
PROBES = Path(__file__).resolve().parent / "probes"
CONSTANT_SCORES = {"SC": 7, "PQ": 8, "criterion": 6}


# -- configs and benchmark runs ------------------------------------------------------------------


# The tiny Qwen-Image-Edit pipeline as the default run config sets it (benchmarks/default.yaml).
TINY_EDITOR = {
    "backend": "diffusers",
    "model": "tiny:qwen-image-edit",
    "pipeline": "QwenImageEditPipeline",
    "dtype": "float32",
    "steps": 2,
    "true_cfg_scale": 1.0,
    "max_pixels": 65536,
}


def write_config(folder: Path, **sections) -> Path:
    """A run config in `folder`: the sample suite, run folder and cache inside `folder`, plus overrides."""
    data = {
        "suite": {"path": str(SAMPLE_SUITE)},
        "run": {"dir": str(folder / "reports"), "cache_dir": str(folder / "cache")},
        "editor": {"backend": "identity"},
        "judge": {"backend": "none"},
    }
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def bench_command(config: Path, *args: str, run_dir: Path | None = None) -> list[str]:
    """`python -m pytest benchmarks/ --eb-config=...`: the real benchmark, as a user runs it."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(REPO / "benchmarks"),
        "-p",
        "no:cacheprovider",
        f"--eb-config={config}",
        *args,
    ]
    if run_dir is not None:
        command.append(f"--eb-run-dir={run_dir}")
    return command


def run_bench(
    config: Path,
    *args: str,
    run_dir: Path | None = None,
    timeout: float = 600,
    env: dict | None = None,
) -> subprocess.CompletedProcess:
    """Run the real benchmark (benchmarks/test_edit.py) in a fresh pytest process."""
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
    return subprocess.run(
        bench_command(config, *args, run_dir=run_dir),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
    )


@dataclass
class InProcessRun:
    """What `run_in_process` leaves: the exit status, the run folder and the controller's lines."""

    returncode: int
    run_dir: Path
    summary_lines: list[str]


def run_in_process(
    config: Path,
    *overrides: str,
    run_dir: Path,
    select: Callable | None = None,
    shard: str | None = None,
    fail_under: list[str] | None = None,
    maxfail: int = 0,
    env: dict | None = None,
) -> InProcessRun:
    """The benchmark without a pytest process: the Controller and a CaseRunner in this process.

    Driven as the plugin's hooks and benchmarks/test_edit.py drive them (pytest-xdist tests its
    DSession the same way, against a stand-in node): the controller starts, is told the collected
    cases, gets each case's report as `pytest_runtest_logreport` would, and finishes. `select`
    picks cases (a -k of sorts), `shard` is `--eb-shard`, `fail_under` `--eb-fail-under`,
    `maxfail` `-x`/`--maxfail` (it turns the overlap off, as in the plugin; the run itself goes on);
    `env` is set while the run lasts (a judge interpreter inherits it). What only a real pytest
    process does (collection, -k/-m, xdist, Ctrl-C, crashes, JUnit) is proven in tests/plugin.
    """
    from editbench import editors, overlap
    from editbench.cache import Cache
    from editbench.controller import Controller
    from editbench.judging import WorkerInfo, modes
    from editbench.runner import CaseRunner
    from editbench.settings import load_settings
    from editbench.shard import parse_shard, shard_cases

    with environment(env):
        settings = load_settings(str(config), list(overrides))
        cases = [c for c in settings.suite.cases if select is None or select(c)]
        if shard is not None:
            chosen = shard_cases(settings.suite.cases, parse_shard(shard))
            cases = [c for c in cases if c.id in chosen]
        controller = Controller(
            settings, run_dir, fail_under=fail_under, shard=shard, argv=["in-process"]
        )
        cfg = settings.config
        cache = Cache(cfg.resolve(cfg.run.cache_dir) if cfg.run.cache else None)
        editor = editors.create(cfg, cfg.editor.device)
        worker = WorkerInfo(index=0, id="gw0", gpus=[])
        judge = modes.open_judge(cfg, settings.protocol, worker)
        at = [0]  # the case running now; the plugin's NEXT_CASE is the one after it
        runner = CaseRunner(
            cfg,
            editor,
            judge,
            run_dir,
            cache,
            settings.languages,
            overlap=overlap.enabled(cfg.run.overlap, maxfail, False),
            upcoming=lambda: cases[at[0] + 1] if at[0] + 1 < len(cases) else None,
        )
        controller.start()
        nodeids = [f"benchmarks/test_edit.py::test_edit[{c.test_id}]" for c in cases]
        items = [SimpleNamespace(nodeid=nodeid) for nodeid in nodeids]
        controller.pytest_collection_finish(SimpleNamespace(items=items))
        failed = False
        try:
            for index, (case, nodeid) in enumerate(zip(cases, nodeids, strict=True)):
                at[0] = index
                outcome = runner.run(case)
                failed = failed or outcome.failed
                controller.pytest_runtest_logreport(call_report(nodeid, outcome))
        finally:
            runner.close()
            judge.close()
        status = controller.finish(1 if failed else 0 if cases else 5)
        return InProcessRun(status, run_dir, controller.summary_lines())


@contextmanager
def environment(env: dict | None) -> Iterator[None]:
    """`env` in os.environ while the block runs (a judge interpreter it starts inherits it)."""
    saved = {key: os.environ.get(key) for key in (env or {})}
    os.environ.update(env or {})
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def call_report(nodeid: str, outcome) -> SimpleNamespace:
    """The call report benchmarks/test_edit.py leaves for one case's outcome, as the controller
    reads it (`reporting.records.record_from_report`)."""
    case, failed = outcome.case, outcome.failed
    message = f"{case.test_id}: {outcome.status}: {outcome.reason}" if failed else ""
    return SimpleNamespace(
        nodeid=nodeid,
        when="call",
        outcome="failed" if failed else "passed",
        passed=not failed,
        failed=failed,
        skipped=False,
        duration=outcome.edit_s + outcome.judge_s,
        longrepr=message or None,
        longreprtext=message,
        eb_properties=outcome.properties(),
    )


def command_in_process(capsys, *argv: str) -> SimpleNamespace:
    """`editbench ARGV` in this process (`editbench.cli.main`): its exit status and its output."""
    from editbench.cli import main

    capsys.readouterr()
    code = main(list(argv))
    out = capsys.readouterr()
    return SimpleNamespace(returncode=code, stdout=out.out, stderr=out.err)


def read_results(run_dir: Path) -> list[dict]:
    path = run_dir / "results.jsonl"
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def probe_imports(folder: Path) -> dict:
    """The environment of a benchmark run under `-p eb_imported` (tests/probes), writing into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = os.pathsep.join(p for p in (str(PROBES), os.environ.get("PYTHONPATH")) if p)
    return {"PYTHONPATH": path, "EB_IMPORTED_DIR": str(folder)}


def imported_libraries(folder: Path) -> dict[str, list[str]]:
    """What the probe saw: process ("controller", "gw0", ...) -> the model libraries it imported."""
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in folder.glob("*.json")}


# -- the judge interpreter -----------------------------------------------------------------------


def find_judge_python() -> str | None:
    """$EDITBENCH_JUDGE_PYTHON, else the tox judge environment (`tox -e judge`), else None."""
    for candidate in (
        os.environ.get("EDITBENCH_JUDGE_PYTHON"),
        REPO / ".tox" / "judge" / "bin" / "python",
    ):
        if candidate and Path(candidate).is_file():
            return str(candidate)
    return None


def tiny_logit_judge(python: str, model, **settings) -> dict:
    """The judge section of the tiny random Qwen3-VL judge scoring by logits. Its random weights
    put little probability on score tokens, so the digit-mass floor is off."""
    return {
        "backend": "qwen-vl",
        "model": str(model),
        "python": python,
        "method": "logit",
        "max_pixels": 65536,
        "min_digit_mass": 0,
        **settings,
    }


def constant_judge(python: str, **scores: float) -> dict:
    """The judge section of the `constant` backend (fixed scores, run in the real judge interpreter)."""
    return {"backend": "constant", "python": python, "scores": {**CONSTANT_SCORES, **scores}}


# -- stand-ins ----------------------------------------------------------------------------------


def stand_in_nvidia_smi(folder, count: int = 8) -> str:
    """An `nvidia-smi` that lists `count` GPUs, as on an 8-GPU node (no driver here)."""
    folder.mkdir(exist_ok=True)
    script = folder / "nvidia-smi"
    script.write_text(
        "#!/bin/sh\n" + "".join(f"echo {i}\n" for i in range(count)), encoding="utf-8"
    )
    script.chmod(0o755)
    return str(folder)


# -- synthetic records and run folders for the report tests (real PNGs, real report writers) -----

CATEGORIES = [("physical", "物理"), ("social", "社会"), ("causal", "因果")]


def record(
    case_id: str,
    category: str,
    sc: float | None,
    pq: float | None,
    status: str = "ok",
    reason: str = "",
    instruction: str = "do it",
) -> dict:
    name = dict(CATEGORIES).get(category, category)
    rec = {
        "case_id": case_id,
        "test_id": case_id,
        "category": category,
        "category_name": name,
        "status": status,
        "reason": reason,
        "instruction": {"en": instruction},
        "scores": {},
        "statuses": {},
        "reasoning": {},
        "images": {
            "source": f"images/{category}/{case_id}.source.png",
            "edited": f"images/{category}/{case_id}.edited.png",
        },
    }
    for dim, value in (("SC", sc), ("PQ", pq)):
        if value is None:
            rec["statuses"][dim] = "unparseable" if status != "ok" else "ok"
            rec["scores"][dim] = None
        else:
            rec["statuses"][dim], rec["scores"][dim] = "ok", value
            rec["reasoning"][dim] = f"{dim} reasoning for {case_id}"
    if sc is not None and pq is not None:
        rec["statuses"]["O"], rec["scores"]["O"] = "ok", (sc * pq) ** 0.5
    return rec


def sample_records() -> list[dict]:
    return [
        record("物理-001", "physical", 6, 8),
        record("物理-002", "physical", 7, 9),
        record("物理-003", "physical", 5, 7),
        record("物理-004", "physical", None, 6, "unparseable", "SC: no score in the answer"),
        record("社会-001", "social", 2, 4),
        record("社会-002", "social", 3, 5),
        record("因果-001", "causal", 9, 9),
        record("因果-002", "causal", None, None, "edit-error", "RuntimeError: boom"),
        record("因果-003", "causal", 8, 7),
        record("因果-004", "causal", 7, 8),
        record("因果-005", "causal", 9, 8),
    ]


def write_run(run_dir: Path, records: list[dict], meta: dict | None = None) -> dict:
    """A complete run folder: images, results.jsonl, run.json and every report."""
    from editbench.images import encode_png
    from editbench.reporting.rundir import write_reports
    from editbench.reporting.runmeta import write_json

    for i, rec in enumerate(records):
        for kind, relative in rec["images"].items():
            path = run_dir / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            colour = (40 * i % 256, 200 if kind == "edited" else 60, 90)
            path.write_bytes(encode_png(Image.new("RGB", (64, 48), colour)))
    with open(run_dir / "results.jsonl", "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    meta = meta or {
        "run_id": run_dir.name,
        "suite": {
            "name": "synthetic",
            "version": "1",
            "language": "en",
            "categories": [list(c) for c in CATEGORIES],
        },
        "config": {
            "suite": {},
            "editor": {"backend": "identity"},
            "judge": {"backend": "constant"},
        },
    }
    write_json(run_dir / "run.json", meta)
    return write_reports(run_dir, records, meta)


# -- ratings for `editbench agree` ---------------------------------------------------------------


def write_ratings(path: Path, rows: list[dict]) -> Path:
    if path.suffix == ".csv":
        with open(path, "w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    else:
        path.write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
        )
    return path


def row(result: dict, dimension: str = "SC", category: str = "overall") -> dict:
    return next(
        r for r in result["rows"] if r["dimension"] == dimension and r["category"] == category
    )


def contains(stat: dict) -> bool:
    return stat["ci_low"] - 1e-12 <= stat["value"] <= stat["ci_high"] + 1e-12


# -- tokenizers of other shapes, for the logit reading's startup check -----------------------------


def build_score_tokenizer(
    folder: Path, space_digits: bool = False, ten: bool = False, prefix_space: bool = False
) -> dict[str, int]:
    """The tiny judge's tokenizer with another digit shape; returns the special token ids.

    `space_digits`: " 7" is one token (a pre-tokenizer that keeps a space with its digits, and a
    merge per digit); `ten`: "10" and " 10" are one token; `prefix_space`: a space is put in
    front of every text (as SentencePiece-style tokenizers do), so a bare digit is two tokens.
    Special tokens follow the merges, as in the tiny tokenizer (`editbench.tiny.tokenizer`).
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers
    from tokenizers import pre_tokenizers as pre

    from editbench.tiny import tokenizer as tiny

    merges = list(tiny.learn_merges())
    if ten:  # before the space digits, so " 10" merges whole rather than as " 1" + "0"
        merges += [("1", "0"), ("Ġ", "10")]
    if space_digits:
        merges += [("Ġ", d) for d in "0123456789"]
    digits = r" ?\p{N}+" if (space_digits or ten) else r"\p{N}"
    pattern = tiny.SPLIT_PATTERN.replace(r"|\p{N}", "|" + digits)
    alphabet = sorted(pre.ByteLevel.alphabet())
    vocab = {symbol: index for index, symbol in enumerate(alphabet)}
    for left, right in merges:
        vocab.setdefault(left + right, len(vocab))
    built = Tokenizer(models.BPE(vocab=vocab, merges=merges, fuse_unk=False))
    built.normalizer = normalizers.NFC()
    built.pre_tokenizer = pre.Sequence(
        [
            pre.Split(Regex(pattern), behavior="isolated", invert=False),
            pre.ByteLevel(add_prefix_space=prefix_space, use_regex=False),
        ]
    )
    built.decoder = decoders.ByteLevel()
    built.add_special_tokens(
        [AddedToken(t, special=True, normalized=False) for t in tiny.SPECIAL_TOKENS]
    )
    folder.mkdir(parents=True, exist_ok=True)
    built.save(str(folder / "tokenizer.json"))
    ids = {t: built.token_to_id(t) for t in tiny.SPECIAL_TOKENS}
    config = {  # a generic fast tokenizer: Qwen2Tokenizer would rebuild Qwen's own pre-tokenizer
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": None,
        "eos_token": "<|im_end|>",
        "pad_token": "<|endoftext|>",
        "unk_token": None,
        "padding_side": "left",
        "clean_up_tokenization_spaces": False,
        "chat_template": tiny.CHAT_TEMPLATE,
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    return ids


def build_score_judge(folder: Path, **shape: bool) -> Path:
    """A tiny random Qwen3-VL judge (the tiny judge's architecture) with `build_score_tokenizer`."""
    import torch
    from transformers import Qwen3VLConfig, Qwen3VLForConditionalGeneration

    from editbench.tiny import judge as tiny_judge

    ids = build_score_tokenizer(folder, **shape)
    config = tiny_judge._config(Qwen3VLConfig, ids)
    config.text_config.vocab_size = ((max(ids.values()) + 1 + 7) // 8) * 8
    torch.manual_seed(0)
    Qwen3VLForConditionalGeneration(config).eval().save_pretrained(folder)
    tiny_judge._write_image_processor(folder)
    tiny_judge._write_generation_config(folder, ids)
    return folder
