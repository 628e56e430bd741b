"""Each benchmark's scoring protocol through the real benchmark: a scripted judge, small suites.

Every test writes a small copy of one benchmark (tests/benchdata.py), replays edits the test
drew itself (one solid colour per case), and runs it with the scripted judge backend
(tests/faults/scripted_judge.py) in the real judge interpreter: in this process
(`support.run_in_process`), and for GEdit-Bench in a fresh `pytest -n 2` with JUnit XML. The
headline numbers in summary.json must equal the values computed here, from the benchmark's
formulas written out below, never by calling the harness's aggregation; cases with failed
sub-scores are among them and must be counted, not filled.
"""

from __future__ import annotations

import json
import math
import statistics
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import pytest
from benchdata import write_gedit, write_imgedit, write_kris, write_rise
from PIL import Image

from editbench.errors import EditbenchError
from editbench.images import encode_png
from editbench.settings import load_settings
from support import FAULTS, run_bench, run_in_process, write_config

pytestmark = pytest.mark.timeout(300)


def colour(index: int) -> tuple[int, int, int]:
    return (250, (7 * index + 3) % 256, 90)


def hex_colour(rgb: tuple[int, int, int]) -> str:
    return "#" + bytes(rgb).hex()


def benchdata_colour(index: int) -> str:
    """The colour of tests/benchdata.png(index)."""
    return hex_colour(((index * 53) % 256, (index * 97) % 256, (index * 151 + 40) % 256))


class ProtocolRun:
    """One benchmark run: replayed edits, a script for the judge, the run's outputs."""

    def __init__(self, tmp_path: Path, judge_python: str, case_ids: list[str]) -> None:
        self.tmp, self.python = tmp_path, judge_python
        self.edits = tmp_path / "edits"
        self.edits.mkdir()
        self.colour = {}
        for index, case_id in enumerate(case_ids):
            rgb = colour(index)
            (self.edits / f"{case_id}.png").write_bytes(encode_png(Image.new("RGB", (40, 30), rgb)))
            self.colour[case_id] = hex_colour(rgb)

    def run(
        self,
        suite: dict,
        protocol: str,
        rules: list[dict],
        *args: str,
        method="generate",
        select=None,
    ):
        """The run in this process (`support.run_in_process`, the summary lines as its output),
        or, given pytest options (`args`), in a real pytest process."""
        script = self.tmp / "script.json"
        script.write_text(json.dumps(rules), encoding="utf-8")
        config = write_config(
            self.tmp,
            suite=suite,
            editor={"backend": "replay", "replay_dir": str(self.edits)},
            judge={
                "backend": f"{FAULTS / 'scripted_judge.py'}:ScriptedJudge",
                "python": self.python,
                "protocol": protocol,
                "method": method,
            },
        )
        self.log = self.tmp / "judge-log.jsonl"
        self.run_dir = self.tmp / "run"
        env = {"EB_SCRIPT": str(script), "EB_SCRIPT_LOG": str(self.log)}
        if args:  # pytest's own options: a real pytest process
            self.result = run_bench(config, *args, run_dir=self.run_dir, env=env)
        else:
            done = run_in_process(config, run_dir=self.run_dir, select=select, env=env)
            self.result = SimpleNamespace(
                returncode=done.returncode, stdout="\n".join(done.summary_lines)
            )
        return self.result

    @property
    def block(self) -> dict:
        summary = json.loads((self.run_dir / "summary.json").read_text(encoding="utf-8"))
        return summary["protocol"]

    def number(self, column: str, row: str) -> dict:
        found = [n for n in self.block["numbers"] if n["column"] == column and n["row"] == row]
        assert len(found) == 1, f"{column}@{row}: {found}"
        return found[0]

    def requests(self) -> list[dict]:
        lines = self.log.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def records(self) -> dict[str, dict]:
        lines = (self.run_dir / "results.jsonl").read_text(encoding="utf-8").splitlines()
        return {r["case_id"]: r for r in map(json.loads, lines) if r}


def macro(groups: list[list[float]]) -> float:
    """GEdit's and ImgEdit's headline: the mean over groups of each group's mean."""
    return statistics.fmean(statistics.fmean(g) for g in groups if g)


def percent(score: float) -> float:
    """KRIS's and RISE's normalisation of a 1-5 score: (s - 1) * 25."""
    return (score - 1) * 25


def assert_number(number: dict, value: float, n: int, failures: dict | None = None) -> None:
    assert number["value"] == pytest.approx(value, abs=1e-9), number
    assert number["n"] == n, number
    assert number["failures"] == (failures or {}), number


# -- GEdit-Bench ---------------------------------------------------------------------------------

GEDIT_EN = ["text_change-t01", "text_change-t02", "subject-add-a01", "background_change-b01"]
GEDIT_EN.append("ps_human-p01")


def test_gedit_headline_per_language_and_subset(tmp_path, judge_python):
    data = write_gedit(tmp_path / "gedit")
    run = ProtocolRun(tmp_path, judge_python, GEDIT_EN)
    c = run.colour

    def case(task: str, key: str, sc: str, pq: str, retry: str | None = None) -> list[dict]:
        first = {"match": f"do {task} on {key}", "request": "SC", "text": sc}
        if retry is not None:
            first["retry"] = retry
        return [first, {"image": c[f"{task}-{key}"], "request": "PQ", "text": pq}]

    rules = [
        *case("text_change", "t01", '{"score": [8, 6], "reasoning": "fine"}', "[7, 9]"),
        *case("text_change", "t02", '{"score": [5, 9]}', '{"score": [4, 4]}'),
        *case("subject-add", "a01", "I cannot tell.", '{"score": [9, 8]}', "Still no idea."),
        *case("background_change", "b01", '{"score": [10, 10]}', '{"score": [3, 6]}'),
        *case("ps_human", "p01", '{"score": [2, 7]}', '{"score": [6, 11]}'),
    ]
    xml = tmp_path / "junit.xml"
    result = run.run(
        {"path": str(data), "format": "gedit"},
        "gedit",
        rules,
        "--eb-fail-under=G_O=6",
        "--eb-fail-under=G_SC@intersection=7.5",
        "-n",
        "2",
        f"--junitxml={xml}",
    )
    assert result.returncode == 1, result.stdout[-3000:]  # two cases failed, and G_O < 6

    # VIEScore: SC = min(success, over-editing), PQ = min(naturalness, artifacts), O = sqrt(SC*PQ)
    sc = {"t01": min(8, 6), "t02": min(5, 9), "b01": min(10, 10), "p01": min(2, 7)}  # a01 failed
    pq = {"t01": min(7, 9), "t02": min(4, 4), "a01": min(9, 8), "b01": min(3, 6)}  # p01: 11 > 10
    o = {k: math.sqrt(sc[k] * pq[k]) for k in sc if k in pq}
    types = {"text_change": ["t01", "t02"], "subject-add": ["a01"]}
    types |= {"background_change": ["b01"], "ps_human": ["p01"]}
    intersection = {"t01", "a01", "b01"}

    def headline(scores: dict, subset: set | None = None) -> float:
        return macro(
            [
                [scores[k] for k in ks if k in scores and (subset is None or k in subset)]
                for ks in types.values()
            ]
        )

    assert_number(run.number("G_SC", "full"), headline(sc), 4, {"unparseable": 1})
    assert_number(run.number("G_PQ", "full"), headline(pq), 4, {"out-of-range": 1})
    failed_o = {"out-of-range": 1, "unparseable": 1}
    assert_number(run.number("G_O", "full"), headline(o), 3, failed_o)
    assert_number(
        run.number("G_SC", "intersection"), headline(sc, intersection), 2, {"unparseable": 1}
    )
    assert_number(run.number("G_PQ", "intersection"), headline(pq, intersection), 3)
    assert_number(
        run.number("G_O", "intersection"), headline(o, intersection), 2, {"unparseable": 1}
    )
    assert_number(run.number("G_SC", "text_change"), statistics.fmean([6, 5]), 2)
    assert run.block["languages"] == ["en"]
    assert run.block["official"]["counts"] == {"filled": 1, "kept": 1}
    # the official arithmetic (calculate_statistics.py): the same macro mean over what was read;
    # the answer it would fill at random and the off-scale PQ it would use as written are counted
    for column, filled, off_scale in (("G_SC", 1, 0), ("G_PQ", 0, 1), ("G_O", 1, 1)):
        official = run.number(column, "full")["official"]
        assert official["value"] == run.number(column, "full")["value"], column
        assert (official["filled"], official["off_scale"]) == (filled, off_scale), column

    # SC sees source and edit, the edit resized to the source's 32x32; PQ the edit alone, as made
    for request in run.requests():
        if request["request"] == "SC":
            assert request["sizes"] == [[32, 32], [32, 32]], request
        else:
            assert request["sizes"] == [[40, 30]] and len(request["colours"]) == 1, request
    out = result.stdout
    assert "GEdit-Bench (VIEScore) headline numbers (protocol gedit, language en):" in out
    assert f"FAILED --eb-fail-under G_O=6: G_O at full is {headline(o):.3f} < 6" in out
    assert "G_SC@intersection" not in out.split("editbench: FAILED", 1)[-1]  # 8 >= 7.5 passes

    # under xdist, sub-scores and case facts reach the records, and the JUnit file (xunit2)
    record = run.records()["text_change-t01"]
    assert record["facts"] == {"language": "en", "intersection": True}
    assert (record["scores"]["SC.success"], record["scores"]["SC.overediting"]) == (8.0, 6.0)
    assert run.records()["ps_human-p01"]["statuses"]["PQ.artifacts"] == "out-of-range"
    suite = ET.parse(xml).getroot().find("testsuite")
    case = next(c for c in suite.iter("testcase") if "text_change-t01" in c.get("name"))
    assert case.find("properties") is None  # xunit2 allows none per testcase
    assert case.find("system-out").text.splitlines()[:4] == [
        "case text_change-t01 (text_change): ok",
        "SC: 6.000",
        "SC.overediting: 6.000",
        "SC.success: 8.000",
    ]
    properties = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert properties["editbench.gedit.full.G_SC"] == f"{headline(sc):.4f}"
    assert properties["editbench.gedit.full.G_O.failed"] == "2"


# -- ImgEdit-Bench -------------------------------------------------------------------------------

IMGEDIT_IDS = ["adjust-1082", "style-673", "replace-628", "remove-510", "add-17"]


def test_imgedit_overall_is_the_mean_of_type_scores(tmp_path, judge_python):
    file, images = write_imgedit(tmp_path / "imgedit")
    run = ProtocolRun(tmp_path, judge_python, IMGEDIT_IDS)
    answers = {
        "adjust the thing in 1082": "Brief reasoning: close.\nPrompt Compliance: 4\n"
        "Visual Seamlessness: 3\nPhysical & Detail Fidelity: 2",
        "style the thing in 673": "Style Fidelity: 5\n**Content Preservation**: 4\n"
        "Rendering Quality: 4",
        "replace the thing in 628": "Prompt Compliance: 4\nVisual Naturalness: 3",
        "remove the thing in 510": "Prompt Compliance: 2\nVisual Naturalness: 2\n"
        "Physical & Detail Integrity: 1",
        "add the thing in 17": "Prompt Compliance: 5\nVisual Naturalness: 5\n"
        "Physical & Detail Coherence: 5",
    }
    rules = [{"match": match, "text": text} for match, text in answers.items()]
    result = run.run(
        {"path": str(file), "images": str(images), "format": "imgedit"}, "imgedit", rules
    )
    assert result.returncode == 1, result.stdout[-3000:]  # replace-628 lacks a sub-score

    # case = mean of its three sub-scores; type = mean over its cases; Overall = mean of types
    case = {
        "adjust": statistics.fmean([4, 3, 2]),
        "style": statistics.fmean([5, 4, 4]),
        "remove": statistics.fmean([2, 2, 1]),
        "add": statistics.fmean([5, 5, 5]),
    }
    assert_number(
        run.number("Score", "Overall"), macro([[v] for v in case.values()]), 4, {"unparseable": 1}
    )
    assert_number(run.number("Score", "style"), case["style"], 1)
    replace = run.number("Score", "replace")
    assert replace["value"] is None and replace["failures"] == {"unparseable": 1}
    assert run.block["official"]["counts"] == {"dropped": 1}
    # the official arithmetic: step1_get_avgscore.py `extract_scores_and_average` (the lines
    # found, averaged, round(., 2): replace-628's two lines count), step2_typescore.py
    # `compute_edit_type_averages` (round(mean, 2)), Overall the mean of the type scores
    found = {"adjust": [4, 3, 2], "style": [5, 4, 4], "replace": [4, 3], "remove": [2, 2, 1]}
    found["add"] = [5, 5, 5]
    types = {k: round(round(sum(v) / len(v), 2), 2) for k, v in found.items()}
    official = run.number("Score", "Overall")["official"]
    assert official["value"] == pytest.approx(sum(types.values()) / len(types))
    assert (official["n"], official["partly_read"]) == (5, 1)
    assert run.number("Score", "replace")["official"]["value"] == 3.5
    assert run.number("Score", "style")["official"]["value"] == 4.33
    record = run.records()["adjust-1082"]
    assert record["scores"]["score.visual_seamlessness"] == 3.0
    failed = run.records()["replace-628"]
    assert failed["statuses"]["score"] == "unparseable"
    assert "no Physical & Detail Integrity score" in failed["reason"]
    assert "ImgEdit-Bench headline numbers" in result.stdout


def test_imgedit_with_its_own_prompt_file(tmp_path, judge_python):
    """A protocol may send the benchmark's own prompt file, its <placeholders> mapped."""
    file, images = write_imgedit(tmp_path / "imgedit")
    prompts = {
        "adjust": "Rate this attribute edit on 1-5.\nInstruction: <edit_prompt>.\nAnswer as:\n"
        "Prompt Compliance: N\nVisual Seamlessness: N\nPhysical & Detail Fidelity: N",
        "replace": "Rate this replacement (<edit_prompt>) from 1 to 5, three lines.",
    }
    (tmp_path / "prompts.json").write_text(json.dumps(prompts), encoding="utf-8")
    protocol = tmp_path / "mine.yaml"
    placeholders = {"<edit_prompt>": "instruction"}
    protocol.write_text(
        json.dumps(
            {
                "extends": "imgedit",
                "name": "imgedit-own-prompts",
                "templates": {
                    key: {"file": "prompts.json", "key": key, "placeholders": placeholders}
                    for key in prompts
                },
            }
        ),
        encoding="utf-8",
    )
    run = ProtocolRun(tmp_path, judge_python, ["adjust-1082"])
    rules = [
        {
            "match": "Rate this attribute edit",
            "text": "Prompt Compliance: 3\nVisual Seamlessness: 3\nPhysical & Detail Fidelity: 3",
        }
    ]
    suite = {"path": str(file), "images": str(images), "format": "imgedit"}
    result = run.run(suite, str(protocol), rules, select=lambda c: "adjust" in c.test_id)
    assert result.returncode == 0, result.stdout[-3000:]
    (request,) = run.requests()
    expected = prompts["adjust"].replace("<edit_prompt>", "adjust the thing in 1082")
    assert request["prompt"] == expected  # sent as written, the placeholder filled
    assert run.number("Score", "Overall")["value"] == 3.0
    assert json.loads((run.run_dir / "run.json").read_text())["protocol"]["name"] == (
        "imgedit-own-prompts"
    )

    prompts["replace"] = "Rate this replacement (<edit_promt>) from 1 to 5."
    (tmp_path / "prompts.json").write_text(json.dumps(prompts), encoding="utf-8")
    with pytest.raises(EditbenchError) as refused:  # the plugin's start-up check: no judge started
        load_settings(str(tmp_path / "config.yaml"), [])
    assert "unknown placeholder <edit_promt>; did you mean <edit_prompt>?" in str(refused.value)
    assert f"prompt file {tmp_path / 'prompts.json'} key 'replace'" in str(refused.value)


# -- KRIS-Bench ----------------------------------------------------------------------------------

KRIS_IDS = [
    "multi-element_composition-1",
    "temporal_prediction-1",
    "viewpoint_change-1",
    "physics-1",
    "physics-2",
    "count_change-1",
]
KRIS_TEXT = {
    "multi-element_composition-1": "Place the cat",
    "temporal_prediction-1": "Predict frame 1",
    "viewpoint_change-1": "Show it from the left",
    "physics-1": "Show the ice",
    "physics-2": "Drop the ball",
    "count_change-1": "Make it three apples",
}


def kris_rules(c: dict, answers: dict) -> list[dict]:
    rules = []
    for case_id, (vc, vq, instruction) in answers.items():
        text = KRIS_TEXT[case_id]
        rules.append(
            {"match": text, "request": "VC", "text": json.dumps({"consistency_score": vc})}
        )
        rules.append(
            {"match": text, "request": "VC-temporal", "text": json.dumps({"consistency_score": vc})}
        )
        rules.append({"image": c[case_id], "request": "VQ", "text": vq})
        rules.append({"match": text, "text": instruction})
    return rules


def test_kris_pooled_normalised_means(tmp_path, judge_python):
    root = write_kris(tmp_path / "kris")
    run = ProtocolRun(tmp_path, judge_python, KRIS_IDS)
    answers = {
        "multi-element_composition-1": (4, '{"quality_score": 5}', '{"instruction_score": 3}'),
        "temporal_prediction-1": (5, '{"quality_score": 4}', '{"instruction_score": 2}'),
        "viewpoint_change-1": (3, '{"quality_score": 3}', '{"instruction_score": 4}'),
        "physics-1": (
            5,
            '{"quality_score": 4}',
            '{"instruction_score": 4, "knowledge_score": 5, "reasoning": "melts"}',
        ),
        "physics-2": (2, '{"quality_score": 2}', '{"instruction_score": 3}'),  # no knowledge_score
        "count_change-1": (4, '{"quality_score": 6}', '{"instruction_score": 5}'),  # 6 > 5
    }
    result = run.run({"path": str(root), "format": "kris"}, "kris", kris_rules(run.colour, answers))
    assert result.returncode == 1, result.stdout[-3000:]

    vc = {k: percent(v[0]) for k, v in answers.items()}
    vq = {k: percent(json.loads(v[1])["quality_score"]) for k, v in answers.items()}
    del vq["count_change-1"]  # out of range: failed, not scored
    if_ = {k: percent(json.loads(v[2])["instruction_score"]) for k, v in answers.items()}
    kp = {"physics-1": percent(5)}  # physics-2's answer has no knowledge score
    complete = ["multi-element_composition-1", "temporal_prediction-1", "viewpoint_change-1"]
    pooled = [x for k in complete for x in (vc[k], vq[k], if_[k])]
    pooled += [vc["physics-1"], vq["physics-1"], if_["physics-1"], kp["physics-1"]]

    assert_number(run.number("VC", "Overall"), statistics.fmean(vc.values()), 6)
    assert_number(
        run.number("VQ", "Overall"), statistics.fmean(vq.values()), 5, {"out-of-range": 1}
    )
    assert_number(run.number("IF", "Overall"), statistics.fmean(if_.values()), 6)
    assert_number(run.number("KP", "Overall"), kp["physics-1"], 1, {"unparseable": 1})
    failed = {"out-of-range": 1, "unparseable": 1}
    assert_number(run.number("Score", "Overall"), statistics.fmean(pooled), 4, failed)
    # the official arithmetic (Bagel's eval/gen/kris/summarize.py): every value read, pooled,
    # count_change-1's VC and IF and physics-2's VC, VQ and IF included
    read = [*vc.values(), *vq.values(), *if_.values(), *kp.values()]
    official = run.number("Score", "Overall")["official"]
    assert official["value"] == pytest.approx(statistics.fmean(read)) and official["n"] == 6
    assert list(official["alternatives"]) == run.block["official_arithmetic"]["kris_orders"]
    factual = ["temporal_prediction-1", "viewpoint_change-1"]  # count_change-1 failed
    values = [x for k in factual for x in (vc[k], vq[k], if_[k])]
    assert_number(
        run.number("Score", "factual_knowledge"), statistics.fmean(values), 2, {"out-of-range": 1}
    )
    assert_number(run.number("KP", "natural_science"), kp["physics-1"], 1, {"unparseable": 1})
    assert_number(
        run.number("IF", "physics"), statistics.fmean([if_["physics-1"], if_["physics-2"]]), 2
    )

    images = {(r["request"], r["colours"][-1]): r for r in run.requests()}
    view = next(r for r in run.requests() if r["request"] == "IF-view")
    assert len(view["images"]) == 3 and view["colours"][1] == run.colour["viewpoint_change-1"]
    temporal = images[("IF-temporal", run.colour["temporal_prediction-1"])]
    assert len(temporal["images"]) == 4  # three frames, then the prediction
    composition = images[("IF", run.colour["multi-element_composition-1"])]
    assert len(composition["images"]) == 3  # both inputs, then the edit
    dual = next(r for r in run.requests() if r["request"] == "IF-KP")
    assert "Ice melts above 0 degrees Celsius." in dual["prompt"]  # explain_en is given
    assert all(r.get("scale") == [1, 5] for r in run.requests())


def test_kris_logit_reads_one_sub_score_per_request_on_the_scale(tmp_path, judge_python):
    root = write_kris(tmp_path / "kris")
    run = ProtocolRun(tmp_path, judge_python, KRIS_IDS)
    rules = [
        {"request": "VC", "probs": {"3": 1, "5": 1, "9": 2}},  # 9 is off the 1-5 scale
        {"request": "VQ", "probs": {"4": 1}},
        {"request": "IF-KP.IF", "probs": {"2": 1, "4": 1}},
        {"request": "IF-KP.KP", "probs": {"5": 3, "1": 1}},
    ]
    result = run.run(
        {"path": str(root), "format": "kris"},
        "kris",
        rules,
        method="logit",
        select=lambda c: c.test_id.startswith("physics"),
    )
    assert result.returncode == 0, result.stdout[-3000:]
    # the expected score over the scale's own digits: P renormalised over 1..5
    expected = {"VC": (3 + 5) / 2, "VQ": 4.0, "IF": (2 + 4) / 2, "KP": (5 * 3 + 1) / 4}
    for column, score in expected.items():
        assert_number(run.number(column, "Overall"), percent(score), 2)
    assert_number(
        run.number("Score", "Overall"), statistics.fmean(map(percent, expected.values())), 2
    )
    asked = sorted({r["request"] for r in run.requests()})
    assert asked == ["IF-KP.IF", "IF-KP.KP", "VC", "VQ"]
    prompts = {r["request"]: r["prompt"] for r in run.requests()}
    assert "Give only the Knowledge plausibility score now." in prompts["IF-KP.KP"]
    assert (
        prompts["VC"].rstrip().endswith("Answer with the score alone: a whole number from 1 to 5.")
    )


# -- RISEBench -----------------------------------------------------------------------------------

RISE_IDS = [
    "temporal_reasoning_1",
    "causal_reasoning_1",
    "spatial_reasoning_1",
    "logical_reasoning_1",
    "logical_reasoning_2",
]


def rise_rules(c: dict[str, str]) -> list[dict]:
    """The scripted judge's answers for the RISE cases (each case's edit has colour c[id])."""
    return [
        {"match": "a year later", "request": "consistency", "text": "Identical.\nFinal Score: 5"},
        {"match": "a year later", "request": "reasoning-input", "text": "**Final Score:** **5**"},
        {"image": c["temporal_reasoning_1"], "request": "plausibility", "text": "Final Score: 5"},
        {"match": "glass falls", "request": "reasoning", "text": "Not at all.\nFinal Score: 1"},
        {"image": c["causal_reasoning_1"], "request": "plausibility", "text": "Final Score: 4"},
        {"match": "Assemble", "request": "consistency-spatial-reference", "text": "Final Score: 4"},
        {"match": "Assemble", "request": "reasoning-spatial-reference", "text": "Final Score: 5"},
        {
            "image": c["spatial_reasoning_1"],
            "request": "plausibility-spatial",
            "text": "Final Score: 5",
        },
        {
            "match": "maze",
            "request": "consistency-logical-reference",
            "text": "**Final Score**: **1**",
        },
        {"match": "maze", "request": "reasoning-logical-reference", "text": "Final Score: 1"},
        {"match": "shortest path", "request": "consistency-logical", "text": "Final Score: 1"},
        {
            "image": c["logical_reasoning_2"],
            "request": "reasoning-logical",
            "text": "Hmm.",
            "retry": "Still unsure.",
        },
    ]


def test_rise_accuracy_scores_and_the_official_rule(tmp_path, judge_python):
    file = write_rise(tmp_path / "rise", release=360)
    run = ProtocolRun(tmp_path, judge_python, RISE_IDS)
    c = run.colour
    result = run.run({"path": str(file), "format": "rise"}, "rise", rise_rules(c))
    assert result.returncode == 1, result.stdout[-3000:]

    binary = {0: 1, 1: 5}  # a logical 0/1 judgement reported as 1 or 5
    consistency = {"temporal_reasoning_1": 5, "spatial_reasoning_1": 4}
    consistency |= {"logical_reasoning_1": binary[1], "logical_reasoning_2": binary[1]}
    reasoning = {"temporal_reasoning_1": 5, "causal_reasoning_1": 1, "spatial_reasoning_1": 5}
    reasoning |= {"logical_reasoning_1": binary[1]}  # logical_reasoning_2: unreadable
    plausibility = {"temporal_reasoning_1": 5, "causal_reasoning_1": 4, "spatial_reasoning_1": 5}

    def weighted(case: str) -> float:
        if case.startswith("logical"):
            score = 0.3 * consistency[case] + 0.7 * reasoning[case]
        elif case not in consistency:  # consistency_free
            score = 0.2 * plausibility[case] + 0.8 * reasoning[case]
        else:
            score = 0.3 * consistency[case] + 0.5 * reasoning[case] + 0.2 * plausibility[case]
        return max(score * 0.5, 1) if reasoning[case] == 1 else score

    scored = list(reasoning)
    complete = [
        all(d[k] == 5 for d in (consistency, reasoning, plausibility) if k in d) for k in scored
    ]
    hits = sum(complete)
    accuracy = run.number("Accuracy", "Overall")
    assert_number(accuracy, 100 * hits / len(scored), 4, {"unparseable": 1})
    assert (accuracy["ci_low"], accuracy["ci_high"]) == (None, None)  # 4 cases: below min n
    # gpt_eval.py: the unreadable case is None (not complete), and so is the consistency_free
    # causal case's consistency, so calculate_completion never counts it
    official = accuracy["official"]
    assert official["value"] == pytest.approx(100 * hits / 5) and official["n"] == 5
    assert "ci_low" not in official and official["label"] == "official arithmetic"
    assert run.block["interval"]["min_n"] == 5 and "betting" in run.block["interval"]["share"]
    # calculate_score with the consistency_free column present: 0.2 P + 0.8 R for every
    # non-logical case, halved (not below 1) at reasoning 1; logical_reasoning_2 is None
    column_quirk = [0.2 * plausibility[k] + 0.8 * reasoning[k] for k in scored[:3]]
    column_quirk = [
        max(v * 0.5, 1) if reasoning[k] == 1 else v
        for k, v in zip(scored[:3], column_quirk, strict=True)
    ]
    column_quirk.append(0.3 * consistency["logical_reasoning_1"] + 0.7 * 5)
    official_score = run.number("Score", "Overall")["official"]
    assert official_score["value"] == pytest.approx(statistics.fmean(column_quirk))
    assert official_score["left_out"] == 1
    summary = json.loads((run.run_dir / "summary.json").read_text(encoding="utf-8"))
    scales = summary["interval"]["scales"]  # each dimension's floor sized by its own scale
    assert (scales["reasoning"], scales["complete"]) == ([1.0, 5.0], [0.0, 1.0])
    logical = run.number("Accuracy", "logical_reasoning")
    assert logical["value"] == 100.0 and logical["official"]["value"] == 50.0
    assert_number(
        run.number("Consistency", "Overall"),
        statistics.fmean(map(percent, consistency.values())),
        4,
    )
    assert_number(
        run.number("Reasoning", "Overall"),
        statistics.fmean(map(percent, reasoning.values())),
        4,
        {"unparseable": 1},
    )
    assert_number(
        run.number("Plausibility", "Overall"),
        statistics.fmean(map(percent, plausibility.values())),
        3,
    )
    assert_number(
        run.number("Score", "Overall"),
        statistics.fmean(map(weighted, scored)),
        4,
        {"unparseable": 1},
    )
    assert weighted("causal_reasoning_1") == 1  # halved, then held at 1
    assert run.block["official"]["counts"] == {"counted-wrong": 1}
    assert run.number("Accuracy", "Life Progression")["value"] == 100.0  # subtask rows

    asked = {(r["request"], r["colours"][-1]): r for r in run.requests()}
    reference = asked[("consistency-logical-reference", c["logical_reasoning_1"])]
    assert reference["colours"][0] == benchdata_colour(3 + 30)  # its reference image, not its input
    assert reference["scale"] == [0, 1]
    assert not any(
        r["request"].startswith("consistency") and c["causal_reasoning_1"] in r["colours"]
        for r in run.requests()
    )  # consistency_free: never asked
    assert len(asked[("reasoning-input", c["temporal_reasoning_1"])]["images"]) == 2
    assert "Accuracy (official arithmetic)" in result.stdout


def test_a_rise_replay_report_draws_each_scale_names_it_and_keeps_case_order(
    tmp_path, judge_python
):
    """report.html of a protocol run: each dimension on its own scale in its own colour, readable
    category labels, scales named in both tables, cards in case order, the replayed folder named."""
    import re

    file = write_rise(tmp_path / "rise", release=360)
    run = ProtocolRun(tmp_path, judge_python, RISE_IDS)
    result = run.run({"path": str(file), "format": "rise"}, "rise", rise_rules(run.colour))
    assert result.returncode == 1, result.stdout[-3000:]
    page = (run.run_dir / "report.html").read_text(encoding="utf-8")
    chart = page[page.index('<svg id="chart"') : page.index("</svg>")]
    fills = dict(re.findall(r'data-dimension="([^"]+)"[^>]*fill="(#[0-9a-f]+)"', chart))
    assert {"reasoning", "consistency", "plausibility"} <= set(fills)
    assert len(set(fills.values())) == len(fills)  # a colour per dimension, none grey
    assert "each dimension as % of its own scale" in chart  # 1-5 and 0/1 dimensions: no 0-10 axis
    assert "reasoning (1–5)" in chart and "complete (0–1)" in chart
    reasoning = re.search(
        r'data-dimension="reasoning" x="[^"]+" y="([^"]+)"[^>]*height="([^"]+)"', chart
    )
    assert reasoning  # the top of a 1-5 mean sits on its own scale, not on 0-10
    labels = re.findall(r'<text class="xlabel"[^>]*transform="rotate\(-35', chart)
    assert len(labels) == 5  # four long category names and the overall bar, slanted apart
    summary_head = page[page.index('<table id="summary">') : page.index("</thead>")]
    assert "reasoning (1–5)" in summary_head
    protocol = page[page.index('<table id="protocol">') :]
    assert "Reasoning (0–100)" in protocol[: protocol.index("</thead>")]
    assert "Accuracy (%)" in protocol[: protocol.index("</thead>")]
    cards = re.findall(r'<div class="case [^"]*" data-category="([^"]+)"', page)
    order = [
        row["key"] for row in json.loads((run.run_dir / "summary.json").read_text())["categories"]
    ]
    assert cards == sorted(cards, key=order.index)
    assert f"replay of {run.edits}" in page[: page.index("<h2>")]
