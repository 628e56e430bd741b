"""`editbench merge RUN... -o OUT`: run folders (shards from several machines) combined into one.

The records are concatenated (a case in two runs is an error), the images copied, and the
summaries recomputed from the merged records, so the merged statistics equal those of a
single run over the same results. Runs must be of the same suite, editor and judge (`must_agree`:
the suite's name, version, manifest hash and templates; the editor and judge settings with each
local model replaced by its content fingerprint and each hub id completed by its cached snapshot,
and a benchmark protocol by its name and the SHA-256 of its file and templates, never the text a
path was written as), and together cover every case their run.json files
expect (`--allow-partial` merges less, marked partial). Runs whose interpreters differ in a
score-moving package or lock still merge, with a warning line per difference and the list in
run.json (`environment_differences`).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from editbench.errors import ConfigError
from editbench.reporting.environments import environment_differences
from editbench.reporting.rundir import RESULTS, RUN_META, load_run, write_reports
from editbench.reporting.runmeta import now, scheduler_meta, write_json
from editbench.shard import parse_shard

# settings that may differ between the machines of one run: they do not change a result
MACHINE_KEYS = {"editor": (), "judge": ("python", "gpus", "url", "api_key_env", "allow_remote")}
# what each side's own description (run.json `describe`, from the workers) adds to what must agree
RESOLVED = {
    "editor": ("revision",),
    "judge": ("fingerprint", "snapshot", "backend_sha256", "device", "dtype"),
}


def merge(run_dirs: list[Path], out: Path, allow_partial: bool = False) -> dict[str, Any]:
    """Write the merged run folder `out`; return its summary.

    Every case a run expected (run.json `expected_cases`) must have a record in one of the runs;
    otherwise the merge is refused with the missing cases, unless `allow_partial`, which writes
    the merged run marked partial (status, note and the missing list in run.json).
    """
    loaded = [(path, *load_run(path)) for path in run_dirs]
    _check_compatible(loaded)
    records = _merged_records(loaded)
    missing = missing_cases(loaded, records)
    lost_shards = missing_shards(loaded)
    if lost_shards and not allow_partial:
        raise ConfigError(_missing_shards_message(lost_shards, loaded))
    if missing and not allow_partial:
        raise ConfigError(_missing_message(missing, loaded))
    if out.exists() and any(out.iterdir()):
        raise ConfigError(
            f"merge output {out} already exists and is not empty; choose a new -o folder"
        )
    (out / "images").mkdir(parents=True, exist_ok=True)
    for path, _, _ in loaded:
        if (path / "images").is_dir():
            shutil.copytree(path / "images", out / "images", dirs_exist_ok=True)
    with open(out / RESULTS, "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    meta = _merged_meta(loaded, out, missing, lost_shards)
    write_json(out / RUN_META, meta)
    return write_reports(out, records, meta)


def must_agree(meta: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What must agree between merged runs, from a run.json: suite, editor and judge."""
    suite = meta.get("suite") or {}
    config = meta.get("config") or {}
    same_suite = {k: suite.get(k) for k in ("name", "version", "format", "language", "templates")}
    if suite.get("manifest_sha256"):
        same_suite["manifest_sha256"] = suite["manifest_sha256"]
    else:  # no manifest to hash: the folder it was read from is all there is
        same_suite["path"] = suite.get("path")
    out = {"suite": same_suite}
    for side in ("editor", "judge"):
        section = dict(config.get(side) or {})
        for key in MACHINE_KEYS[side]:
            section.pop(key, None)
        recorded = meta.get(side) or {}
        if recorded.get("model_fingerprint"):  # a local folder: its content, not its path
            section["model"] = f"folder {recorded['model_fingerprint']}"
        if recorded.get("snapshot"):
            section["snapshot"] = recorded["snapshot"]
        described = recorded.get("describe") or {}
        if isinstance(described, dict):
            section |= {f"resolved {k}": described[k] for k in RESOLVED[side] if k in described}
        out[side] = section
    protocol = meta.get("protocol") or {}
    if protocol.get("sha256"):  # a benchmark protocol: its content, not the path it was named by
        out["judge"]["protocol"] = f"{protocol.get('name')} sha256 {protocol['sha256']}"
    return out


def _check_compatible(loaded: list[tuple[Path, list, dict]]) -> None:
    first_path, _, first = loaded[0]
    reference = must_agree(first)
    for path, _, meta in loaded[1:]:
        other = must_agree(meta)
        for part in ("suite", "editor", "judge"):
            if reference[part] != other[part]:
                raise ConfigError(
                    f"cannot merge {path} with {first_path}: the {part} differs "
                    f"({_first_difference(reference[part], other[part])}); merge only runs "
                    "of the same suite, editor and judge"
                )


def _first_difference(a: dict, b: dict) -> str:
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            return f"{key}: {a.get(key)!r} vs {b.get(key)!r}"
    return "?"


def _merged_records(loaded: list[tuple[Path, list, dict]]) -> list[dict[str, Any]]:
    seen: dict[str, Path] = {}
    records = []
    for path, part, _ in loaded:
        for record in part:
            case_id = record["case_id"]
            if case_id in seen:
                raise ConfigError(
                    f"case {case_id} is in both {seen[case_id]} and {path}; merge "
                    "disjoint runs (e.g. the shards of one --eb-shard K/N split)"
                )
            seen[case_id] = path
            records.append(record)
    return records


def missing_cases(
    loaded: list[tuple[Path, list, dict]], records: list[dict[str, Any]]
) -> dict[str, Path]:
    """Expected case id -> the run that expected it, for cases no run has a record of.

    A run.json written before `expected_cases` existed says nothing, so adds nothing here.
    """
    present = {record["case_id"] for record in records}
    return {
        case_id: path
        for path, _, meta in loaded
        for case_id in meta.get("expected_cases") or ()
        if case_id not in present
    }


def missing_shards(loaded: list[tuple[Path, list, dict]]) -> list[str]:
    """The shards (`K/N`) of the runs' `--eb-shard` split that no merged run is.

    A shard's run.json expects only its own cases, so a lone shard would otherwise look whole.
    Runs of different splits (1/2 with 1/3) cannot be merged at all.
    """
    shards = [(path, parse_shard(meta.get("shard"))) for path, _, meta in loaded]
    counts = {shard[1] for _, shard in shards if shard}
    if not counts:
        return []
    if len(counts) > 1 or any(shard is None for _, shard in shards):
        listing = ", ".join(
            f"{path}: {meta.get('shard') or 'not a shard'}" for path, _, meta in loaded
        )
        raise ConfigError(
            f"cannot merge shards of different splits ({listing}); merge the K/N shards of one "
            "--eb-shard split"
        )
    (count,) = counts
    present = {shard[0] for _, shard in shards if shard}
    return [f"{k}/{count}" for k in range(1, count + 1) if k not in present]


def _missing_shards_message(lost: list[str], loaded: list[tuple[Path, list, dict]]) -> str:
    given = ", ".join(f"{meta.get('shard')} ({path})" for path, _, meta in loaded)
    return (
        f"shard{'s' if len(lost) > 1 else ''} {', '.join(lost)} of the split missing: given "
        f"{given}; add the missing shards' run folders (`editbench slurm --resume RUN`, or run "
        "`pytest --eb-shard=K/N` for each), or pass --allow-partial to merge what there is, "
        "marked partial"
    )


def _missing_message(missing: dict[str, Path], loaded: list[tuple[Path, list, dict]]) -> str:
    expected = sum(len(meta.get("expected_cases") or ()) for _, _, meta in loaded)
    by_run: dict[Path, list[str]] = {}
    for case_id, path in missing.items():
        by_run.setdefault(path, []).append(case_id)
    listing = "; ".join(f"{path}: {', '.join(ids)}" for path, ids in by_run.items())
    return (
        f"{len(missing)} of the {expected} expected cases have no result ({listing}); finish "
        "them first (`editbench slurm --resume RUN`, or rerun that shard's command), or pass "
        "--allow-partial to merge what there is, marked partial"
    )


def _merged_meta(
    loaded: list[tuple[Path, list, dict]],
    out: Path,
    missing: dict[str, Path],
    lost_shards: list[str],
) -> dict[str, Any]:
    metas = [meta for _, _, meta in loaded]
    expected = [case_id for meta in metas for case_id in meta.get("expected_cases") or ()]
    meta = {
        **metas[0],
        "run_id": out.name,
        "status": "partial" if missing or lost_shards else "merged",
        "merged": now(),
        "shard": None,
        "expected_cases": expected,
        "expected_from": "merge",
        "missing_cases": list(missing),
        "missing_shards": lost_shards,
        "environment_differences": [
            {**difference, "run_a": metas[0].get("run_id"), "run_b": m.get("run_id")}
            for m in metas[1:]
            for difference in environment_differences(metas[0], m)
        ],
        "scheduler": scheduler_meta(os.environ),
        "started": min((m.get("started") or "" for m in metas), default=None),
        "finished": max((m.get("finished") or "" for m in metas), default=None),
        "exit_status": max((m.get("exit_status") or 0 for m in metas), default=0),
        "workers": {
            f"{m.get('run_id', i)}/{w}": v
            for i, m in enumerate(metas)
            for w, v in (m.get("workers") or {}).items()
        },
        "merged_from": [
            {
                "run_dir": str(path.resolve()),
                "run_id": m.get("run_id"),
                "shard": m.get("shard"),
                "host": m.get("host"),
                "started": m.get("started"),
                "finished": m.get("finished"),
                "exit_status": m.get("exit_status"),
                "cases": len(part),
                "scheduler": m.get("scheduler"),
                "git": m.get("git"),
            }
            for path, part, m in loaded
        ],
    }
    notes = [meta.get("note")]
    if missing:
        notes.append(partial_note(len(missing), len(expected)))
    if lost_shards:
        notes.append(
            f"Partial: shard{'s' if len(lost_shards) > 1 else ''} {', '.join(lost_shards)} "
            "of the split missing (run.json missing_shards); their cases are not in these reports."
        )
    meta["note"] = " ".join(filter(None, notes)) or None
    return meta


def partial_note(missing: int, expected: int) -> str:
    return (
        f"Partial: {missing} of the {expected} expected cases have no result (run.json "
        "missing_cases); these reports cover only the cases present."
    )
