"""Run the sample suite and the four benchmark configs on tiny models; keep what must not change.

    python scripts/same_results.py OUT            # runs into OUT/runs, comparable copies in OUT/kept
    python scripts/same_results.py OUT --keep     # only the copies, from the runs already in OUT
    diff -r BEFORE/kept AFTER/kept                # empty when a change kept the results the same

Each run uses the tiny editor and judge (`editbench make-tiny`), the small copies of the
benchmarks that tests/benchdata.py writes, `-n 2`, and a fresh cache, so every case is edited and
judged again. `results.jsonl` and `summary.json` are kept with what differs between any two runs
of the same code taken out: timings, worker names, run ids and the run's own folder. Records are
sorted by case id, as workers finish in any order. Run it with the tests environment's python
(HF_HUB_OFFLINE=1, EDITBENCH_JUDGE_PYTHON set as for the tests).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from benchdata import TINY_MODELS, write_all  # noqa: E402

VARYING = {"worker", "run_id", "run", "started", "finished", "judge_load_s", "rss_mb", "duration"}


def varies(key: str) -> bool:
    """A key whose value changes from one run of the same code to the next."""
    return key in VARYING or key == "seconds" or key.endswith("_s") or key.endswith("_at")


def kept(value, run_dir: str):
    if isinstance(value, dict):
        return {k: kept(v, run_dir) for k, v in sorted(value.items()) if not varies(k)}
    if isinstance(value, list):
        return [kept(v, run_dir) for v in value]
    if isinstance(value, str):
        return value.replace(run_dir, "<run>")
    return value


def runs(data: Path) -> dict[str, list[str]]:
    judge = [f"--eb-set={o}" for o in TINY_MODELS]
    out = {"sample": ["--eb-config=benchmarks/default.yaml"]}
    for name, overrides in write_all(data).items():
        out[name] = [f"--eb-config=benchmarks/{name}.yaml", *(f"--eb-set={o}" for o in overrides)]
        out[name] += judge
    return out


def main(out: Path, keep_only: bool = False) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUTF8": "1"}
    for name, args in runs(out / "data").items():
        run_dir = out / "runs" / name
        command = [
            sys.executable, "-m", "pytest", "benchmarks", "-q", "-n", "2", "-p", "no:cacheprovider",
            f"--eb-run-dir={run_dir}", f"--eb-set=run.cache_dir={out / 'cache' / name}", *args,
        ]  # fmt: skip
        if not keep_only:
            done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
            lines = done.stdout.strip().splitlines() or done.stderr.strip().splitlines() or [""]
            print(f"{name}: exit {done.returncode}: {lines[-1]}", flush=True)
        if not (run_dir / "summary.json").is_file():  # a run that stopped before its reports
            print(f"{name}: no summary.json in {run_dir}", flush=True)
            continue
        keep(run_dir, out / "kept" / name)


def keep(run_dir: Path, folder: Path) -> None:
    """results.jsonl (sorted by case id) and summary.json of a run, without what varies."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = (run_dir / "results.jsonl").read_text(encoding="utf-8").splitlines()
    records = sorted((json.loads(x) for x in lines if x.strip()), key=lambda r: r["case_id"])
    text = "".join(
        json.dumps(kept(r, str(run_dir)), ensure_ascii=False, sort_keys=True) + "\n"
        for r in records
    )
    (folder / "results.jsonl").write_text(text, encoding="utf-8")
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    (folder / "summary.json").write_text(
        json.dumps(kept(summary, str(run_dir)), ensure_ascii=False, indent=1, sort_keys=True),
        encoding="utf-8",
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve(), keep_only="--keep" in sys.argv[2:])
