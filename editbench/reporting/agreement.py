"""A judge's agreement with people's ratings of the same edits: the rows of agree.json.

Three questions, one function each: one judge against absolute ratings (`agree_ratings`), two
judges on the same edits (`agree_judges`, J2 - J1 with a paired interval), and a judge's pairwise
accuracy on people's preferences between two runs' edits (`agree_preferences`). Per dimension,
per category and overall; a case that failed in a run (its status, or the dimension's, is not ok)
is counted beside the row and left out of it, never scored. The coefficients and their intervals
are `coefficients`'; the text table is `agreement_table`'s.
"""

from __future__ import annotations

import hashlib
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from editbench.reporting import coefficients
from editbench.reporting.coefficients import Bootstrap
from editbench.reporting.ratings import CaseNames, Matched, Ratings, case_names, match
from editbench.reporting.records import canonical_order, score
from editbench.reporting.rundir import categories_of, load_run
from editbench.vocabulary import REPORTED_DIMENSIONS, Status

SCHEMA = 1
HUMAN = "the mean of its raters' scores"
CEILING = (
    "Krippendorff's alpha (interval metric) among the raters, and the mean over raters of "
    "Spearman's rho between one rater and the mean of the others, on the row's cases"
)
JUDGE_KEYS = ("backend", "model", "revision", "method", "max_pixels", "temperature", "samples")


@dataclass
class Run:
    path: Path
    records: dict[str, dict[str, Any]]
    meta: dict[str, Any]

    @classmethod
    def load(cls, path: Path) -> Run:
        records, meta = load_run(path)
        return cls(path, {str(r["case_id"]): r for r in canonical_order(records)}, meta)

    def categories(self) -> list[tuple[str, str]]:
        names = dict(categories_of(self.meta))
        for record in self.records.values():
            names.setdefault(record["category"], record.get("category_name") or record["category"])
        return list(names.items())

    def dimensions(self) -> list[str]:
        found = {
            d for r in self.records.values() for d in (*r.get("scores", {}), *r.get("statuses", {}))
        }
        return [
            *(d for d in REPORTED_DIMENSIONS if d in found),
            *sorted(found - set(REPORTED_DIMENSIONS)),
        ]

    def judge(self) -> dict[str, Any]:
        section = self.meta.get("judge") or {}
        return {
            k: section[k]
            for k in JUDGE_KEYS
            if section.get(k) not in (None, "", 0) and not (k == "samples" and section[k] == 1)
        }

    def describe(self) -> dict[str, Any]:
        return {"path": str(self.path.resolve()), "judge": self.judge()}


# -- judge vs people ------------------------------------------------------------------------------


def agree_ratings(run: Run, ratings: Ratings, boot: Bootstrap) -> dict[str, Any]:
    """One judge against absolute ratings: rho, tau-b (with CIs) and r per dimension and category."""
    matched = match(ratings, _names(run.records, run), run.dimensions())
    rows = []
    for dimension, key, name, ids in _groups(run, matched):
        values = matched.values[dimension]
        scored = [c for c in ids if score(run.records[c], dimension) is not None]
        judge = [score(run.records[c], dimension) for c in scored]
        human = [_mean(values[c]) for c in scored]
        rows.append(
            {
                **_head(key, name, dimension, ids, scored, values),
                "failures": _failures({"": run}, ids, dimension),
                "spearman": coefficients.correlation("spearman", judge, human, boot),
                "kendall": coefficients.correlation("kendall", judge, human, boot),
                "pearson": {"value": coefficients.pearson(judge, human)},
                "ceiling": _ceiling(values, scored),
            }
        )
    return _result("ratings", [run], ratings, matched, run.records, boot, rows)


def agree_judges(first: Run, second: Run, ratings: Ratings, boot: Bootstrap) -> dict[str, Any]:
    """Two judges on the same edits: each one's rho and tau-b, and J2 - J1 with a paired CI."""
    shared = {c: r for c, r in first.records.items() if c in second.records}
    dimensions = list(dict.fromkeys([*first.dimensions(), *second.dimensions()]))
    matched = match(ratings, _names(shared, first, f"{first.path} and {second.path}"), dimensions)
    rows = []
    for dimension, key, name, ids in _groups(first, matched):
        values = matched.values[dimension]
        scored = [
            c
            for c in ids
            if None not in (score(first.records[c], dimension), score(second.records[c], dimension))
        ]
        j1, j2 = ([score(run.records[c], dimension) for c in scored] for run in (first, second))
        human = [_mean(values[c]) for c in scored]
        rows.append(
            {
                **_head(key, name, dimension, ids, scored, values),
                "failures": _failures({"J1 ": first, "J2 ": second}, ids, dimension),
                "spearman": coefficients.correlation_difference("spearman", j1, j2, human, boot),
                "kendall": coefficients.correlation_difference("kendall", j1, j2, human, boot),
                "ceiling": _ceiling(values, scored),
            }
        )
    result = _result("judges", [first, second], ratings, matched, shared, boot, rows)
    edits = same_edits(first, second)
    return {**result, "edits": edits, "warnings": edit_warnings(edits)}


def agree_preferences(run_a: Run, run_b: Run, ratings: Ratings, boot: Bootstrap) -> dict[str, Any]:
    """The judge's pairwise accuracy on people's preferences between two runs' edits."""
    shared = {c: r for c, r in run_a.records.items() if c in run_b.records}
    dimensions = list(dict.fromkeys([*run_a.dimensions(), *run_b.dimensions()]))
    matched = match(ratings, _names(shared, run_a, f"{run_a.path} and {run_b.path}"), dimensions)
    rows = []
    for dimension, key, name, ids in _groups(run_a, matched):
        values = matched.values[dimension]
        prefer = {c: _judge_prefers(run_a.records[c], run_b.records[c], dimension) for c in ids}
        scored = [c for c in ids if prefer[c] is not None]
        rows.append(
            {
                **_head(key, name, dimension, ids, scored, values),
                "failures": _failures({"A ": run_a, "B ": run_b}, ids, dimension),
                **_preference_stats([values[c] for c in scored], [prefer[c] for c in scored], boot),
            }
        )
    return _result("preferences", [run_a, run_b], ratings, matched, shared, boot, rows)


def _judge_prefers(a: dict[str, Any], b: dict[str, Any], dimension: str) -> str | None:
    score_a, score_b = score(a, dimension), score(b, dimension)
    if score_a is None or score_b is None:
        return None
    return "a" if score_a > score_b else "b" if score_b > score_a else "tie"


def _preference_stats(
    votes: list[dict[str, str]], judge: list[str], boot: Bootstrap
) -> dict[str, Any]:
    """Accuracy with ties (three classes, exact match) and without (votes where neither side ties)."""
    with_ties = [sum(v == j for v in case.values()) for case, j in zip(votes, judge, strict=True)]
    totals = [len(case) for case in votes]
    no_tie_agree = [
        0 if j == "tie" else sum(v == j for v in case.values())
        for case, j in zip(votes, judge, strict=True)
    ]
    no_tie_total = [
        0 if j == "tie" else sum(v != "tie" for v in case.values())
        for case, j in zip(votes, judge, strict=True)
    ]
    return {
        "votes": sum(totals),
        "human_ties": sum(v == "tie" for case in votes for v in case.values()),
        "judge_ties": sum(j == "tie" for j in judge),
        "accuracy_with_ties": coefficients.accuracy(with_ties, totals, boot),
        "accuracy_without_ties": coefficients.accuracy(no_tie_agree, no_tie_total, boot),
    }


# -- shared pieces --------------------------------------------------------------------------------


def _names(records: dict[str, dict[str, Any]], run: Run, label: str | None = None) -> CaseNames:
    return case_names(list(records.values()), run.meta, label or str(run.path))


def _groups(run: Run, matched: Matched):
    """(dimension, category key, name, rated case ids) per category with ratings, then overall."""
    order = [
        *(d for d in REPORTED_DIMENSIONS if d in matched.values),
        *sorted(set(matched.values) - set(REPORTED_DIMENSIONS)),
    ]
    for dimension in order:
        rated = matched.values[dimension]
        ordered = [c for c in run.records if c in rated]
        for key, name in run.categories():
            ids = [c for c in ordered if run.records[c]["category"] == key]
            if ids:
                yield dimension, key, name, ids
        yield dimension, "overall", "overall", ordered


def _head(
    key: str,
    name: str,
    dimension: str,
    ids: list[str],
    scored: list[str],
    values: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    return {
        "category": key,
        "name": name,
        "dimension": dimension,
        "rated": len(ids),
        "n": len(scored),
        "failed": len(ids) - len(scored),
        "raters": len({r for c in ids for r in values[c]}),
    }


def _failures(runs: dict[str, Run], ids: list[str], dimension: str) -> dict[str, int]:
    """Why rated cases were left out: per run, the case's status or else the dimension's."""
    counts: dict[str, int] = {}
    for prefix, run in runs.items():
        for case in ids:
            record = run.records[case]
            if score(record, dimension) is None:
                status = (
                    record.get("status")
                    if record.get("status") != Status.OK
                    else (record.get("statuses", {}).get(dimension) or "not scored")
                )
                counts[prefix + str(status)] = counts.get(prefix + str(status), 0) + 1
    return dict(sorted(counts.items()))


def _mean(by_rater: dict[str, Any]) -> float:
    return statistics.fmean(float(v) for v in by_rater.values())


def _ceiling(values: dict[str, dict[str, Any]], cases: list[str]) -> dict[str, Any]:
    raters = {r for c in cases for r in values[c]}
    if len(raters) < 2:
        why = "no rated case was scored" if not cases else "one rater"
        return {
            "raters": len(raters),
            "alpha": None,
            "rater_vs_rest": None,
            "note": f"{why}: no human ceiling",
        }
    by_rater: dict[str, dict[str, float]] = {}
    for case in cases:
        for rater, value in values[case].items():
            by_rater.setdefault(rater, {})[case] = float(value)
    return {
        "raters": len(raters),
        "alpha": coefficients.krippendorff_alpha([list(values[c].values()) for c in cases]),
        "rater_vs_rest": coefficients.rater_vs_rest(by_rater),
    }


def _result(
    kind: str,
    runs: list[Run],
    ratings: Ratings,
    matched: Matched,
    compared: dict[str, Any],
    boot: Bootstrap,
    rows: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "kind": kind,
        "runs": [run.describe() for run in runs],
        "ratings": {
            "path": str(ratings.path.resolve()),
            "shape": ratings.kind,
            "rows": len(ratings.rows),
            "raters": len(matched.raters),
        },
        "overlap": {
            "cases_rated": len(matched.rated),
            "rated_not_in_run": len(matched.not_in_run),
            "run_not_rated": len(set(compared) - matched.rated),
            "suite_checked": matched.suite_checked,
        },
        "method": {
            "intervals": boot.describe(),
            "resamples": boot.resamples,
            "seed": boot.seed,
            "confidence": boot.confidence,
            "min_cases": coefficients.MIN_CASES,
            "kendall": "tau-b",
            "human": HUMAN,
            "ceiling": CEILING,
            "judge_prefers": "the edit with the higher score; equal scores are a tie",
        },
        "warnings": [],
        "rows": rows,
    }


# -- the same edits? ------------------------------------------------------------------------------


def same_edits(first: Run, second: Run) -> dict[str, Any]:
    """Whether two runs scored the same edited images: case ids, replay source, PNG bytes."""
    shared = [c for c in first.records if c in second.records]
    differ, missing = [], 0
    for case in shared:
        digests = [_edited_digest(run, case) for run in (first, second)]
        if None in digests:
            missing += 1
        elif digests[0] != digests[1]:
            differ.append(case)
    return {
        "only_in_j1": len(set(first.records) - set(second.records)),
        "only_in_j2": len(set(second.records) - set(first.records)),
        "images_compared": len(shared) - missing,
        "images_differ": len(differ),
        "differ_examples": differ[:3],
        "images_missing": missing,
        "j2_replays_j1": _replays(second, first),
        "j1_replays_j2": _replays(first, second),
    }


def _edited_digest(run: Run, case: str) -> str | None:
    relative = (run.records[case].get("images") or {}).get("edited")
    path = run.path / relative if relative else None
    if path is None or not path.is_file():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _replays(run: Run, source: Run) -> bool:
    editor = run.meta.get("editor") or {}
    folder = (editor.get("describe") or {}).get("replay_dir") or editor.get("replay_dir")
    return (
        editor.get("backend") == "replay"
        and bool(folder)
        and Path(folder).resolve() == source.path.resolve()
    )


def edit_warnings(edits: dict[str, Any]) -> list[str]:
    out = []
    if edits["only_in_j1"] or edits["only_in_j2"]:
        out.append(
            f"the runs hold different cases ({edits['only_in_j1']} only in J1, "
            f"{edits['only_in_j2']} only in J2): only cases in both are compared"
        )
    if edits["images_differ"]:
        out.append(
            f"the edited images differ in {edits['images_differ']} of "
            f"{edits['images_compared']} cases in both runs (first: "
            f"{edits['differ_examples'][0]}): the runs did not score the same edits, so the "
            "difference mixes editors and judges; rescore J1's edits with the replay editor"
        )
    if edits["images_missing"]:
        out.append(
            f"{edits['images_missing']} cases in both runs lack an edited image in one of "
            "them: those could not be checked for being the same edit"
        )
    return out
