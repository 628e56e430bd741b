"""`editbench agree`: a judge against human ratings, judge against judge, and preferences.

Coefficients are checked against `scipy.stats` called here directly, on synthetic ratings with a
known relation to a run's scores; intervals must contain their estimate; every bad input is one
error line naming the file and row.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import stats as sps

from editbench.cli import main as cli
from editbench.images import encode_png
from editbench.reporting import coefficients
from support import SAMPLE_SUITE, contains, record, row, write_ratings, write_run

CATEGORIES = [
    ["physical", "物理"],
    ["environmental", "环境"],
    ["social", "社会"],
    ["causal", "因果"],
    ["referential", "指代"],
]
CASES = [f"{name}-{i:03d}" for name in ("物理", "环境", "因果") for i in range(1, 6)]
KEYS = {"物理": "physical", "环境": "environmental", "因果": "causal"}
EDIT_FAILED, SC_FAILED = "环境-002", "因果-004"  # a failed case, and a case whose SC failed


def meta(name: str, method: str = "logit") -> dict:
    return {
        "run_id": name,
        "suite": {
            "name": "editbench-sample",
            "version": "1.0",
            "format": "native",
            "language": "en",
            "path": str(SAMPLE_SUITE),
            "categories": CATEGORIES,
        },
        "config": {},
        "editor": {"backend": "identity"},
        "judge": {"backend": "qwen-vl", "model": "tiny:qwen3-vl", "method": method},
    }


def judge_scores(seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    return {
        case: round(float(v), 3)
        for case, v in zip(CASES, rng.uniform(0, 10, len(CASES)), strict=True)
    }


def make_run(folder: Path, sc: dict[str, float], method: str = "logit") -> Path:
    """A run of CASES with the given SC scores (PQ fixed), one failed case and one failed SC."""
    records = []
    for case in CASES:
        if case == EDIT_FAILED:
            records.append(record(case, KEYS[case[:2]], None, None, "edit-error", "boom"))
            continue
        rec = record(case, KEYS[case[:2]], sc[case], 7.0)
        if case == SC_FAILED:
            rec["statuses"]["SC"], rec["scores"]["SC"] = "out-of-range", None
        records.append(rec)
    write_run(folder, records, meta(folder.name, method))
    return folder


SCORED = [c for c in CASES if c not in (EDIT_FAILED, SC_FAILED)]


def agree(*args: str) -> dict:
    assert cli(["agree", *map(str, args)]) == 0
    output = next((Path(b) for a, b in zip(args, args[1:], strict=False) if a == "-o"), None)
    return json.loads(output.read_text(encoding="utf-8")) if output else {}


# -- one judge against absolute ratings -----------------------------------------------------------

RELATIONS = {
    "identical ranks": lambda s, rng: 0.5 * s + 2.0,
    "reversed": lambda s, rng: 10.0 - s,
    "independent": lambda s, rng: rng.uniform(0, 10),
    "ties": lambda s, rng: float(round(s / 3.0)),  # four distinct values: many ties
}


@pytest.mark.parametrize("relation", list(RELATIONS))
def test_coefficients_match_scipy_and_intervals_contain_them(tmp_path, relation, capsys):
    sc = judge_scores(1)
    run = make_run(tmp_path / "run", sc)
    rng = np.random.default_rng(7)
    human = {c: RELATIONS[relation](sc[c], rng) for c in CASES}
    ratings = write_ratings(
        tmp_path / "ratings.csv",
        [{"case_id": c, "dimension": "SC", "score": human[c]} for c in CASES],
    )
    resamples = 2_000 if relation == "independent" else 10_000  # the default
    result = agree(run, ratings, "-o", tmp_path / "agree.json", f"--resamples={resamples}")
    overall = row(result)
    judge, people = [sc[c] for c in SCORED], [human[c] for c in SCORED]
    assert overall["rated"] == 15 and overall["n"] == 13 and overall["failed"] == 2
    assert overall["failures"] == {"edit-error": 1, "out-of-range": 1}
    rho, tau = overall["spearman"], overall["kendall"]
    assert rho["value"] == pytest.approx(sps.spearmanr(judge, people).statistic, abs=1e-12)
    assert tau["value"] == pytest.approx(
        sps.kendalltau(judge, people, variant="b").statistic, abs=1e-12
    )
    assert overall["pearson"]["value"] == pytest.approx(
        sps.pearsonr(judge, people).statistic, abs=1e-12
    )
    assert contains(rho) and contains(tau)
    if relation == "identical ranks":
        assert rho["value"] == pytest.approx(1.0) and tau["value"] == pytest.approx(1.0)
    if relation == "reversed":
        assert rho["value"] == pytest.approx(-1.0) and tau["value"] == pytest.approx(-1.0)
    if relation == "ties":  # tau-b, not tau-c: they differ when there are ties
        assert tau["value"] != pytest.approx(sps.kendalltau(judge, people, variant="c").statistic)
    if relation == "independent":  # scipy's BCa bootstrap, stated seed, cases in canonical order
        ordered = sorted(SCORED, key=lambda c: (KEYS[c[:2]], c))
        data = (np.array([sc[c] for c in ordered]), np.array([human[c] for c in ordered]))
        for stat, function in (
            (rho, lambda x, y: sps.spearmanr(x, y).statistic),
            (tau, lambda x, y: sps.kendalltau(x, y, variant="b").statistic),
        ):
            direct = sps.bootstrap(
                data,
                function,
                paired=True,
                vectorized=False,
                n_resamples=resamples,
                method="BCa",
                rng=np.random.default_rng(12345),
            ).confidence_interval
            assert (stat["ci_low"], stat["ci_high"]) == pytest.approx(tuple(direct))
    category = row(result, category="physical")  # 5 cases: the coefficient, no interval
    assert category["n"] == 5 and "ci_low" not in category["spearman"]
    assert "n too small" in category["spearman"]["note"]
    out = capsys.readouterr().out
    assert f"95% bootstrap BCa over cases, {resamples:,} resamples, seed 12345" in out
    assert "Spearman ρ [95% CI]" in out and "(n<10)" in out
    assert "left out (failed in the run), by status:" in out and "edit-error 1" in out


def test_several_raters_mean_and_human_ceiling(tmp_path):
    sc = judge_scores(2)
    run = make_run(tmp_path / "run", sc)
    rng = np.random.default_rng(3)
    raters = {
        name: {c: float(np.clip(round(sc[c] + rng.normal(0, 1.5)), 0, 10)) for c in CASES}
        for name in ("ann", "bo", "cy")
    }
    rows = [
        {"case_id": c, "dimension": "SC", "score": raters[r][c], "rater": r}
        for r in raters
        for c in CASES
    ]
    result = agree(
        run,
        write_ratings(tmp_path / "r.jsonl", rows),
        "-o",
        tmp_path / "a.json",
        "--resamples=1000",
    )
    overall, ids = row(result), SCORED
    mean = [np.mean([raters[r][c] for r in raters]) for c in ids]
    assert overall["spearman"]["value"] == pytest.approx(
        sps.spearmanr([sc[c] for c in ids], mean).statistic, abs=1e-12
    )
    ceiling = overall["ceiling"]
    assert ceiling["raters"] == 3 and overall["raters"] == 3
    expected_rest = np.mean(
        [
            sps.spearmanr(
                [raters[r][c] for c in ids],
                [np.mean([raters[o][c] for o in raters if o != r]) for c in ids],
            ).statistic
            for r in raters
        ]
    )
    assert ceiling["rater_vs_rest"]["value"] == pytest.approx(expected_rest, abs=1e-12)
    assert ceiling["alpha"] == pytest.approx(
        coefficients.krippendorff_alpha([[raters[r][c] for r in raters] for c in ids])
    )
    assert 0.5 < ceiling["alpha"] < 1.0  # noisy raters of one truth agree well, not perfectly


def test_cases_named_by_test_id_and_partial_overlap_are_counted(tmp_path, capsys):
    sc = judge_scores(4)
    run = make_run(tmp_path / "run", sc)
    rows = [
        {"case_id": c, "dimension": "SC", "score": 5.0 + i % 3} for i, c in enumerate(CASES[:12])
    ]
    rows.append({"case_id": "社会-001", "dimension": "SC", "score": 4})  # in the suite, not run
    records = [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()]
    records[0]["case_id"] = "glass-edge"  # a case id that differs from its test id 物理-001
    (run / "results.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    result = agree(
        run, write_ratings(tmp_path / "r.csv", rows), "-o", tmp_path / "a.json", "--resamples=1000"
    )
    assert result["overlap"] == {
        "cases_rated": 12,
        "rated_not_in_run": 1,
        "run_not_rated": 3,
        "suite_checked": True,
    }
    assert row(result)["rated"] == 12
    assert (
        "12 rated cases in the run, 1 rated cases not in the run, 3 cases in the run not rated"
        in capsys.readouterr().out
    )


def test_without_the_suite_names_outside_the_run_are_counted_and_said_so(tmp_path, capsys):
    run = make_run(tmp_path / "run", judge_scores(13))
    moved = json.loads((run / "run.json").read_text(encoding="utf-8"))
    moved["suite"]["path"] = str(tmp_path / "gone")
    (run / "run.json").write_text(json.dumps(moved, ensure_ascii=False), encoding="utf-8")
    rows = [{"case_id": c, "dimension": "SC", "score": 5} for c in (*CASES[:3], "物理-099")]
    result = agree(run, write_ratings(tmp_path / "r.csv", rows), "-o", tmp_path / "a.json")
    assert (
        result["overlap"]["rated_not_in_run"] == 1 and result["overlap"]["suite_checked"] is False
    )
    assert "the suite in run.json could not be read" in capsys.readouterr().out


def test_krippendorff_alpha_reproduces_krippendorffs_worked_example():
    # Krippendorff, "Computing Krippendorff's Alpha-Reliability": 4 observers, 12 units, values
    # 1-5 with missing data; published interval alpha 0.849 (nominal 0.743).
    table = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    ]
    units = [[v for v in column if v is not None] for column in zip(*table, strict=True)]
    assert coefficients.krippendorff_alpha(units) == pytest.approx(0.849, abs=5e-4)
    assert coefficients.krippendorff_alpha([[3, 3], [5, 5, 5], [1, 1]]) == 1.0
    assert coefficients.krippendorff_alpha([[4, 4], [4, 4]]) is None  # no variation: undefined
    assert coefficients.krippendorff_alpha([[1], [2]]) is None  # nothing pairable


def test_perfect_agreement_interval_is_the_point_and_rater_vs_rest_needs_two_raters():
    x = [float(v) for v in range(12)]
    rho = coefficients.correlation("spearman", x, [2 * v for v in x], coefficients.Bootstrap())
    assert rho["value"] == 1.0 and rho["note"] == "every resample gives the same value"
    assert rho["ci_low"] == pytest.approx(1.0) and rho["ci_high"] == pytest.approx(1.0)
    constant = coefficients.correlation("spearman", x, [3.0] * 12, coefficients.Bootstrap())
    assert constant["value"] is None and "constant" in constant["note"]
    assert coefficients.rater_vs_rest({"only": {"a": 1.0, "b": 2.0, "c": 3.0}})["value"] is None


# -- bad input: one line naming the file and row --------------------------------------------------

GOOD = {"case_id": "物理-001", "dimension": "SC", "score": 6}


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"case_id": "物理-099"}, "unknown case '物理-099'"),
        ({"dimension": "XX"}, "unknown dimension 'XX' (the judge of"),
        ({"dimension": "sc"}, "did you mean 'SC'?"),
        ({"score": 11}, "score 11 is outside the SC scale 0-10"),
        ({"score": -0.5}, "score -0.5 is outside the SC scale 0-10"),
        ({"score": "seven"}, "score 'seven' is not a number"),
        ({"case_id": "物理-002"}, "case 物理-002 is rated on SC again by rater ''"),
        ({"comment": "meh"}, "unknown column 'comment'"),
        ({"score": None}, "`score` is missing or empty"),
    ],
)
def test_a_bad_row_is_one_error_naming_file_and_row(tmp_path, capsys, bad, message):
    run = make_run(tmp_path / "run", judge_scores(5))
    rows = [dict(GOOD), {**GOOD, "case_id": "物理-002"}, {**GOOD, "case_id": "物理-003"}]
    rows[2] = {**rows[2], **bad}
    path = write_ratings(tmp_path / "ratings.jsonl", rows)
    assert cli(["agree", str(run), str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"{path}:3: " in err and message in err, err


def test_no_overlap_and_file_problems_are_one_line_errors(tmp_path, capsys):
    run = make_run(tmp_path / "run", judge_scores(6))
    elsewhere = write_ratings(
        tmp_path / "other.csv",
        [
            {"case_id": "社会-001", "dimension": "SC", "score": 3},
            {"case_id": "指代-002", "dimension": "SC", "score": 4},
        ],
    )
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    text = tmp_path / "ratings.txt"
    text.write_text("case_id,dimension,score\n", encoding="utf-8")
    prefs = write_ratings(tmp_path / "prefs.csv", [{"case_id": "物理-001", "preferred": "a"}])
    expected = [
        (elsewhere, "no rated case is in the run", f"{elsewhere}:2 names '社会-001'"),
        (empty, "no ratings in the file", str(empty)),
        (text, "must be JSON Lines (.jsonl) or CSV (.csv)", str(text)),
        (prefs, "preferences compare two runs' edits", str(prefs)),
    ]
    for path, message, where in expected:
        assert cli(["agree", str(run), str(path)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and message in err and where in err, err


# -- judge against judge --------------------------------------------------------------------------


def test_judge_against_judge_paired_difference(tmp_path, capsys):
    truth = judge_scores(8)
    rng = np.random.default_rng(9)
    close = {c: float(np.clip(v + rng.normal(0, 0.5), 0, 10)) for c, v in truth.items()}
    far = {c: float(np.clip(v + rng.normal(0, 4.0), 0, 10)) for c, v in truth.items()}
    j1, j2 = make_run(tmp_path / "j1", far), make_run(tmp_path / "j2", close, method="generate")
    ratings = write_ratings(
        tmp_path / "r.csv", [{"case_id": c, "dimension": "SC", "score": truth[c]} for c in CASES]
    )
    result = agree(j1, j2, "--ratings", ratings, "-o", tmp_path / "a.json")
    overall, ids = row(result), SCORED
    human = [truth[c] for c in ids]
    rho_1 = sps.spearmanr([far[c] for c in ids], human).statistic
    rho_2 = sps.spearmanr([close[c] for c in ids], human).statistic
    rho = overall["spearman"]
    assert rho["j1"] == pytest.approx(rho_1) and rho["j2"] == pytest.approx(rho_2)
    assert (
        rho["value"] == pytest.approx(rho_2 - rho_1)
        and contains(rho)
        and contains(overall["kendall"])
    )
    assert rho["ci_low"] > 0  # the closer judge is clearly better on 13 cases
    assert result["kind"] == "judges" and result["warnings"] == []
    assert result["edits"]["images_compared"] == 15 and result["edits"]["images_differ"] == 0
    assert overall["failures"] == {
        "J1 edit-error": 1,
        "J1 out-of-range": 1,
        "J2 edit-error": 1,
        "J2 out-of-range": 1,
    }
    out = capsys.readouterr().out
    assert "ρ J2-J1 [95% CI]" in out and "method generate" in out

    edited = j2 / "images" / "physical" / "物理-003.edited.png"
    edited.write_bytes(encode_png(Image.new("RGB", (64, 48), (1, 2, 3))))
    result = agree(j1, j2, "--ratings", ratings, "-o", tmp_path / "b.json", "--resamples=500")
    assert result["edits"]["images_differ"] == 1
    assert any(
        "edited images differ in 1 of 15" in w and "物理-003" in w for w in result["warnings"]
    )
    assert "warning: the edited images differ" in capsys.readouterr().out


# -- preferences between two runs' edits ----------------------------------------------------------


def test_preference_accuracy_with_and_without_ties(tmp_path, capsys):
    a_scores = judge_scores(10)
    b_scores = {c: v + (1.0 if i % 3 else -1.0) for i, (c, v) in enumerate(a_scores.items())}
    b_scores["物理-002"] = a_scores["物理-002"]  # the judge ties on one case
    run_a, run_b = make_run(tmp_path / "a", a_scores), make_run(tmp_path / "b", b_scores)
    judge = {
        c: "a" if a_scores[c] > b_scores[c] else "b" if b_scores[c] > a_scores[c] else "tie"
        for c in CASES
    }
    flip = {"a": "b", "b": "a", "tie": "a"}
    votes = []
    for i, case in enumerate(CASES):  # two raters: one agrees but on every 4th case, one ties often
        votes.append(
            {
                "case_id": case,
                "dimension": "SC",
                "preferred": flip[judge[case]] if i % 4 == 0 else judge[case],
                "rater": "ann",
            }
        )
        votes.append(
            {
                "case_id": case,
                "dimension": "SC",
                "preferred": "tie" if i % 2 else judge[case],
                "rater": "bo",
            }
        )
    prefs = write_ratings(tmp_path / "prefs.csv", votes)
    result = agree(run_a, run_b, prefs, "-o", tmp_path / "p.json")
    overall = row(result)
    used = [v for v in votes if v["case_id"] in SCORED]
    agree_all = sum(v["preferred"] == judge[v["case_id"]] for v in used)
    no_ties = [v for v in used if v["preferred"] != "tie" and judge[v["case_id"]] != "tie"]
    assert overall["n"] == 13 and overall["votes"] == 26 and overall["failed"] == 2
    assert overall["human_ties"] == sum(v["preferred"] == "tie" for v in used)
    assert overall["judge_ties"] == 1
    with_ties, without = overall["accuracy_with_ties"], overall["accuracy_without_ties"]
    assert with_ties["value"] == pytest.approx(agree_all / len(used))
    assert without["value"] == pytest.approx(
        sum(v["preferred"] == judge[v["case_id"]] for v in no_ties) / len(no_ties)
    )
    assert without["votes"] == len(no_ties) and contains(with_ties) and contains(without)
    assert overall["failures"] == {
        "A edit-error": 1,
        "A out-of-range": 1,
        "B edit-error": 1,
        "B out-of-range": 1,
    }
    out = capsys.readouterr().out
    assert "accuracy w/o ties [95% CI]" in out and "judge ties" in out


def test_preference_rows_need_a_known_dimension(tmp_path, capsys):
    sc = judge_scores(11)
    run_a, run_b = make_run(tmp_path / "a", sc), make_run(tmp_path / "b", sc)
    prefs = write_ratings(
        tmp_path / "p.jsonl",
        [{"case_id": "物理-001", "preferred": "b"}, {"case_id": "物理-002", "preferred": "maybe"}],
    )
    assert cli(["agree", str(run_a), str(run_b), str(prefs)]) == 2
    err = capsys.readouterr().err
    assert f"{prefs}:2: preferred 'maybe' is not one of a, b, tie" in err


# -- the replay editor reads a run folder ---------------------------------------------------------


def test_replay_reads_a_run_folders_edits_and_refuses_latest(tmp_path):
    from editbench import editors
    from editbench.cases import load_suite
    from editbench.config import build_config
    from editbench.editors import EditRequest
    from editbench.errors import CaseError, ConfigError

    run = make_run(tmp_path / "reports" / "run-1", judge_scores(12))
    (tmp_path / "reports" / "latest").symlink_to("run-1", target_is_directory=True)
    suite = {c.id: c for c in load_suite(SAMPLE_SUITE).cases}

    def editor(folder: str):
        config = build_config(
            {"editor": {"backend": "replay", "replay_dir": folder}},
            source=str(tmp_path / "c.yaml"),
            base_dir=str(tmp_path),
        )
        editors.check(config)
        return editors.create(config, "cpu")

    def request(case_id: str) -> EditRequest:
        image, data = suite[case_id].source.load()
        return EditRequest(
            case=suite[case_id], image=image, instruction="x", seed=0, source_png=data
        )

    replay = editor("reports/run-1")
    assert replay.describe()["layout"] == "run folder"
    stored = (run / "images" / "physical" / "物理-003.edited.png").read_bytes()
    assert encode_png(replay.edit(request("物理-003"))) == stored
    with pytest.raises(CaseError, match="no edit of it in the run folder"):
        replay.edit(request("社会-001"))  # a suite case the run did not run
    with pytest.raises(ConfigError, match="name the run folder itself"):
        editor("reports/latest")


def test_a_judge_that_failed_everywhere_still_counts_the_raters(tmp_path, capsys):
    """`editbench agree RUN ratings.csv` where every case is unparseable: n 0, raters 2."""
    records = [record(c, KEYS[c[:2]], None, None, "unparseable", "no score") for c in CASES]
    write_run(tmp_path / "run", records, meta("run", "generate"))
    ratings = write_ratings(
        tmp_path / "ratings.csv",
        [
            {"case_id": c, "dimension": "SC", "score": 3 + i % 5, "rater": rater}
            for i, c in enumerate(CASES)
            for rater in ("ann", "bo")
        ],
    )
    result = agree(tmp_path / "run", ratings, "-o", tmp_path / "agree.json")
    overall = row(result)
    assert (overall["rated"], overall["n"], overall["raters"]) == (15, 0, 2)
    assert overall["failures"] == {"unparseable": 15}
    assert overall["ceiling"]["note"] == "no rated case was scored: no human ceiling"
    table = capsys.readouterr().out
    line = next(t for t in table.splitlines() if t.startswith("overall"))
    assert line.split()[:4] == ["overall", "SC", "0", "15"] and " 2 " in f" {line} "
