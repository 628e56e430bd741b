"""Protocols as plain code: the default protocol's requests unchanged, loading and its errors,
answers with several scores, logit on a scale, derived dimensions, the gate on headline names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from editbench import protocols
from editbench.cases import case_seed, load_suite
from editbench.config import build_config
from editbench.errors import ConfigError
from editbench.images import sha256
from editbench.judging import JudgeInput
from editbench.judging.derive import derive
from editbench.judging.parsing import Subscore, parse_subscores
from editbench.judging.remote import on_scale
from editbench.judging.scoring import Scorer
from editbench.protocols.loader import BUILTIN, BUILTIN_DIR, read_protocol
from editbench.reporting.gate import parse_thresholds, violations
from editbench.vocabulary import Scale
from support import SAMPLE_B64, SAMPLE_SUITE

GOLDEN = Path(__file__).parent / "data" / "editbench_protocol_requests.json"


# -- the default protocol ------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["logit", "generate"])
def test_default_protocol_sends_the_requests_it_sent_before_protocols(method):
    """Score cache keys (prompt, images, decoding, method) recorded on main before protocols:
    the built-in editbench protocol file asks exactly what the code before it asked."""
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    config = build_config({"judge": {"method": method, "backend": "constant"}})
    for path, fmt in ((SAMPLE_SUITE, "native"), (SAMPLE_B64, "b64")):
        suite = load_suite(path, fmt, "en", None, None, None)
        protocol = protocols.run_protocol(config, suite)
        assert protocol.source == "builtin:editbench"
        scorer = Scorer(config.judge, protocol, {"fixed": "judge"}, None, None)
        for case in suite.cases:
            png = case.source.load()[1]
            instruction, description = case.text("en")
            item = JudgeInput(
                case, png, png[::-1], instruction, description, case_seed(0, case), (png,)
            )
            requests, _ = scorer.requests(item)
            digests = {id(p): sha256(p) for p in (png, item.edited_png)}
            keys = {r.id: scorer.request_key(r, item.seed, digests) for r in requests}
            assert keys == golden[f"{fmt}/{method}/{case.id}"], case.id
            # generate adds where its JSON answer ends (judge.stop_at_answer), not in the key
            sent = {"dimension", "prompt", "images"} | ({"stop"} if method == "generate" else set())
            assert all(set(r.item) == sent for r in requests)


def test_the_editbench_protocol_words_what_the_golden_keys_do_not_cover_as_before():
    """The retry's reminder and several input images: the words used before protocols (the golden
    keys above cover the first prompt of one-source cases)."""
    from editbench.protocols.prompts import IMAGE_NAMES, describe_images, reminder

    protocol = protocols.builtin("editbench")
    assert reminder(protocol.asks[0]) == (
        "\n\nYour previous answer could not be read as a score. Reply with exactly one JSON object "
        'and nothing else, for example {"score": 6, "reasoning": "..."}; the score is a number '
        "from 0 to 10."
    )
    names = {**IMAGE_NAMES, **protocol.image_names}
    assert describe_images(["source", "source", "edited"], names) == (
        "Images 1-2 are the 2 source images before editing (the inputs of the edit, in the order "
        "the instruction refers to them). Image 3 is the edited image."
    )


def editbench_scorer(tmp_path, scores: dict, dimensions=("SC", "PQ", "criterion")):
    """The editbench protocol's Scorer with a judge that answers logit `scores` per dimension."""
    config = build_config(
        {"judge": {"backend": "constant", "dimensions": list(dimensions), "min_digit_mass": 0}}
    )
    suite = load_suite(SAMPLE_SUITE)

    def send(items, method, decoding):
        out = [{"dimension": i["dimension"], "score": scores[i["dimension"]], "mass": 1.0}
               for i in items]  # fmt: skip
        return {"results": [o | {"probs": [0.0] * 11} for o in out], "seconds": 0.0}

    scorer = Scorer(config.judge, protocols.run_protocol(config, suite), {}, send)
    png = suite.cases[0].source.load()[1]
    return scorer, JudgeInput(suite.cases[0], png, png, "edit", "", 0, (png,))


def test_the_editbench_protocol_derives_o_from_sc_and_pq(tmp_path):
    scorer, item = editbench_scorer(tmp_path, {"SC": 9.0, "PQ": 4.0, "criterion": 5.0})
    results = scorer.score(item)
    assert list(results) == ["SC", "PQ", "criterion", "O"]  # asked, then derived
    assert results["O"]["score"] == 6.0 and results["O"]["reasoning"] == "sqrt(SC*PQ)"


def test_o_is_missing_input_when_sc_or_pq_has_no_score(tmp_path):
    scorer, item = editbench_scorer(tmp_path, {"SC": 9.0, "PQ": 11.0, "criterion": 5.0})
    results = scorer.score(item)
    assert results["PQ"]["status"] == "out-of-range"
    assert (results["O"]["status"], results["O"]["score"]) == ("missing-input", None)


def test_without_pq_asked_there_is_no_o(tmp_path):
    scorer, item = editbench_scorer(tmp_path, {"SC": 9.0, "criterion": 5.0}, ("criterion", "SC"))
    assert list(scorer.score(item)) == ["criterion", "SC"]  # judge.dimensions' order, no O


# -- loading -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", BUILTIN)
def test_builtin_protocols_load_and_hash_their_templates(name):
    protocol = read_protocol(BUILTIN_DIR / f"{name}.yaml", f"builtin:{name}")
    assert len(protocol.sha256) == 64
    assert protocol.has_headline == (name != "editbench")  # its table is the per-category one
    if protocol.has_headline:
        assert protocol.aggregate.headline_row in [r.label for r in protocol.aggregate.rows]


def write_protocol(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mine.yaml"
    path.write_text(text, encoding="utf-8")
    return path


MINIMAL = """
name: mine
asks:
  - {id: SC, template: sc.txt, images: [source, edited]}
aggregate:
  rows: [{label: all}]
  columns: [{name: Mean, of: [SC]}]
"""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("asks:", "askz: []\nasks:"), "unknown key 'askz'"),
        (
            ("of: [SC]", "of: [SCC]"),
            "aggregate.columns[0].of: unknown dimension 'SCC'; did you mean SC?",
        ),
        (("images: [source, edited]", "images: [sauce]"), "unknown image kind 'sauce'"),
        (("{label: all}", "{by: colour}"), "unknown row key 'colour'"),
    ],
)
def test_a_bad_protocol_file_is_one_error_naming_file_and_key(tmp_path, change, message):
    (tmp_path / "sc.txt").write_text("Rate {instruction}. {answer_format}", encoding="utf-8")
    path = write_protocol(tmp_path, MINIMAL.replace(*change))
    with pytest.raises(ConfigError) as error:
        read_protocol(path)
    assert str(path) in str(error.value) and message in str(error.value)


def test_a_template_variable_is_checked_at_load(tmp_path):
    (tmp_path / "sc.txt").write_text("Rate {instrction}. {answer_format}", encoding="utf-8")
    with pytest.raises(
        ConfigError, match=r"unknown variable \{instrction\}; did you mean \{instruction\}"
    ):
        read_protocol(write_protocol(tmp_path, MINIMAL))


def test_an_unmapped_placeholder_in_a_benchmark_prompt_file_is_refused(tmp_path):
    (tmp_path / "prompts.json").write_text(
        json.dumps({"replace": "Edit: <edit_prompt>. Images: <images>."}), encoding="utf-8"
    )
    path = write_protocol(
        tmp_path,
        "extends: imgedit\ntemplates:\n  replace: {file: prompts.json, key: replace, "
        "placeholders: {'<edit_prompt>': instruction}}\n",
    )
    with pytest.raises(ConfigError) as error:
        read_protocol(path)
    text = str(error.value)
    assert "unknown placeholder <images>" in text and "prompts.json key 'replace'" in text
    assert "asks[0] (replace).template.placeholders" in text


def test_protocol_and_judge_dimensions_cannot_both_choose(tmp_path):
    config = build_config({"judge": {"protocol": "gedit", "dimensions": ["SC"]}}, "cfg.yaml")
    suite = load_suite(SAMPLE_SUITE)
    with pytest.raises(ConfigError, match="judge.dimensions applies to the editbench protocol"):
        protocols.run_protocol(config, suite)


def test_a_protocol_that_asks_nothing_of_a_case_stops_the_run():
    config = build_config({"judge": {"protocol": "imgedit", "backend": "qwen-vl"}}, "cfg.yaml")
    with pytest.raises(ConfigError, match="asks nothing of 25 case"):
        protocols.run_protocol(config, load_suite(SAMPLE_SUITE))


# -- answers with several scores -----------------------------------------------------------------

TWO = [Subscore("a", "Editing success", "a"), Subscore("b", "Over-editing", "b")]
KEYS = [
    Subscore("IF", "Instruction", "instruction_score"),
    Subscore("KP", "Knowledge", "knowledge_score"),
]
ONE = [Subscore("r", "Reasoning", "r")]


def scores(parsed: dict) -> dict:
    return {k: (p.score if p.ok else p.status.value) for k, p in parsed.items()}


@pytest.mark.parametrize(
    ("text", "subs", "scale", "expected"),
    [
        ('{"score": [7, 5], "reasoning": "x"}', TWO, (0, 10), {"a": 7.0, "b": 5.0}),
        ("The scores are [7, 5].", TWO, (0, 10), {"a": 7.0, "b": 5.0}),
        ('{"score": [7]}', TWO, (0, 10), {"a": "unparseable", "b": "unparseable"}),
        ("Editing success: 7\n**Over-editing**: 12", TWO, (0, 10), {"a": 7.0, "b": "out-of-range"}),
        (
            "Editing success: 7\nEditing success: 8\nOver-editing: 1",
            TWO,
            (0, 10),
            {"a": "unparseable", "b": 1.0},
        ),
        (
            '```json\n{"instruction_score": 4, "knowledge_score": "3"}\n```',
            KEYS,
            (1, 5),
            {"IF": 4.0, "KP": 3.0},
        ),
        ('{"instruction_score": 4}', KEYS, (1, 5), {"IF": 4.0, "KP": "unparseable"}),
        ("instruction score: 4\nknowledge_score: 2", KEYS, (1, 5), {"IF": 4.0, "KP": 2.0}),
        ("Reasoning: 2 clues.\n**Final Score:** **4**", ONE, (1, 5), {"r": 4.0}),
        ("**Final Score**: **1**", ONE, (0, 1), {"r": 1.0}),
        ("I would say 4/10.", ONE, (1, 5), {"r": "out-of-range"}),  # never read on another scale
        ("3.5", ONE, (1, 5), {"r": "out-of-range"}),  # whole numbers only on this scale
        # the shapes parse_score refuses are refused per sub-score too
        ("Editing success: 7-8\nOver-editing: 2", TWO, (0, 10), {"a": "unparseable", "b": 2.0}),
        ("Editing success: 7,5\nOver-editing: 2", TWO, (0, 10), {"a": "unparseable", "b": 2.0}),
        ("Editing success: 7/10\nOver-editing: 4/5", TWO, (0, 10), {"a": 7.0, "b": "out-of-range"}),
        (
            '{"instruction_score": 4, "instruction_score": 5, "knowledge_score": 3}',
            KEYS,
            (1, 5),
            {"IF": "unparseable", "KP": 3.0},
        ),
        (
            '{"score": [7, 5], "score": [7, 5]}',
            TWO,
            (0, 10),
            {"a": "unparseable", "b": "unparseable"},
        ),
        (
            '{"instruction_score": "4-5", "knowledge_score": "3/5"}',
            KEYS,
            (1, 5),
            {"IF": "unparseable", "KP": 3.0},
        ),
        ("Final Score: 4/10", ONE, (1, 5), {"r": "out-of-range"}),
        ("Final Score: 4,5", ONE, (1, 5), {"r": "unparseable"}),
        ("Score: 3. Final Score: 4", ONE, (1, 5), {"r": "unparseable"}),  # two readings disagree
    ],
)
def test_several_scores_in_one_answer(text, subs, scale, expected):
    parsed = parse_subscores(text, subs, Scale(*scale, integer_only=True))
    assert scores(parsed) == expected


# -- logit on a scale; derived dimensions under logit ---------------------------------------------


def test_logit_on_a_scale_renormalises_over_its_own_digits():
    probs = [0.0, 0.1, 0.0, 0.2, 0.0, 0.2, 0.0, 0.0, 0.0, 0.5, 0.0]  # P(9) is off a 1-5 scale
    score, mass, kept = on_scale(probs, 0.8, 1, 5)
    assert score == pytest.approx((1 * 0.1 + 3 * 0.2 + 5 * 0.2) / 0.5)
    assert mass == pytest.approx(0.8 * 0.5) and kept == pytest.approx([0.2, 0, 0.4, 0, 0.4])
    assert on_scale(probs, 1.0, 0, 1)[0] == pytest.approx(1.0)


def rise() -> protocols.Protocol:
    return read_protocol(BUILTIN_DIR / "rise.yaml")


def dims(**scores: float) -> dict:
    return {k: {"score": v, "status": "ok"} for k, v in scores.items()}


def test_rules_read_a_logit_score_rounded_to_the_scale():
    """Under logit RISE's thresholds read the expected score rounded to a score the scale has."""
    protocol = rise()
    score, complete = protocol.derived
    found = dims(consistency=4.6, reasoning=1.4, plausibility=4.5)
    halved = derive(score, found, protocol, "causal_reasoning", {}, "logit")
    assert halved["score"] == pytest.approx(max(1, 0.5 * (0.3 * 4.6 + 0.5 * 1.4 + 0.2 * 4.5)))
    as_given = derive(score, found, protocol, "causal_reasoning", {}, "generate")
    assert as_given["score"] == pytest.approx(0.3 * 4.6 + 0.5 * 1.4 + 0.2 * 4.5)
    at_max = dims(consistency=4.6, reasoning=4.5, plausibility=4.51)
    assert derive(complete, at_max, protocol, "causal_reasoning", {}, "logit")["score"] == 1.0
    assert derive(complete, at_max, protocol, "causal_reasoning", {}, "generate")["score"] == 0.0
    logical = dims(consistency=3.2, reasoning=2.9)  # 0/1 reported as 1/5: 3.2 reads as 5
    assert derive(complete, logical, protocol, "logical_reasoning", {}, "logit")["score"] == 0.0
    failed = {
        **dims(consistency=5, plausibility=5),
        "reasoning": {"score": None, "status": "timeout"},
    }
    assert derive(score, failed, protocol, "causal_reasoning", {}, "generate")["status"] == (
        "missing-input"
    )


# -- the gate on headline names ------------------------------------------------------------------


def test_fail_under_takes_a_protocols_headline_names():
    gedit = read_protocol(BUILTIN_DIR / "gedit.yaml")
    categories = [("text_change", ("text_change",))]
    full, inter = parse_thresholds(["G_O=6", "G_SC@intersection=7"], categories, gedit)
    assert (full.dimension, full.category, full.headline) == ("G_O", "full", True)
    summary = {
        "protocol": {
            "numbers": [
                {"column": "G_O", "row": "full", "value": 5.5},
                {"column": "G_SC", "row": "intersection", "value": None},
            ]
        }
    }
    assert violations(summary, [full, inter]) == [
        "G_O=6: G_O at full is 5.500 < 6",
        "G_SC@intersection=7: no scored G_SC at intersection; the gate cannot pass without scores",
    ]
    with pytest.raises(ConfigError, match="DIM one of SC, PQ, O, criterion, G_SC, G_PQ, G_O"):
        parse_thresholds(["G_Q=6"], categories, gedit)


# -- the scorer with its transport passed in -----------------------------------------------------


def rise_case(tmp_path: Path, index: str):
    from benchdata import write_rise

    suite = load_suite(write_rise(tmp_path / "rise"), "rise")
    return next(c for c in suite.cases if c.id == index)


def test_a_failed_retry_keeps_its_status_and_a_scored_request_is_cached(tmp_path):
    from editbench.cache import Cache
    from editbench.judging.scoring import JudgeFailure

    case = rise_case(tmp_path, "causal_reasoning_1")
    png = case.source.load()[1]
    item = JudgeInput(case, png, png, case.text("en")[0], "", 7, (png,))
    calls = []

    def send(items, method, decoding):
        calls.append([i["dimension"] for i in items])
        if len(calls) == 2:  # the retry of the unreadable answer
            raise JudgeFailure("timeout", "no answer within 1s")
        texts = {"consistency": "no score here", "reasoning": "Final Score: 4"}
        texts["plausibility"] = "Final Score: 5"
        return {
            "results": [
                {"dimension": i["dimension"], "texts": [texts[i["dimension"]]]} for i in items
            ]
        }

    config = build_config({"judge": {"method": "generate", "protocol": "rise"}})
    scorer = Scorer(config.judge, rise(), {"j": 1}, send, Cache(tmp_path / "cache"))
    results = scorer.score(item)
    assert calls == [["consistency", "reasoning", "plausibility"], ["consistency"]]
    assert results["consistency"]["status"] == "timeout"  # not "unparseable"
    assert (results["reasoning"]["score"], results["plausibility"]["score"]) == (4.0, 5.0)
    assert results["score"]["status"] == results["complete"]["status"] == "missing-input"
    again = scorer.score(item)
    assert calls[2] == ["consistency"]  # only the failed request is asked again
    assert again["reasoning"]["cached"] and again["reasoning"]["score"] == 4.0


def test_logit_sub_scores_meet_the_digit_mass_floor_on_their_own_scale(tmp_path):
    """The mass that counts is the one on the scale's scores; scores the reply did not report
    (service mode's `unseen`) are missing mass, never probability 0; cached scores are floored
    again (a raised judge.min_digit_mass applies to them)."""
    from editbench.cache import Cache

    case = rise_case(tmp_path, "temporal_reasoning_1")
    png = case.source.load()[1]
    item = JudgeInput(case, png, png, case.text("en")[0], "", 7, (png,))

    def p(**given: float) -> list[float]:
        return [given.get(f"s{s}", 0.0) for s in range(11)]

    replies = {  # renormalised P(0..10), the mass on all eleven scores, the unreported scores
        "consistency": (p(s3=0.5, s5=0.5), 0.9, []),
        "reasoning": (p(s4=0.2, s9=0.8), 0.9, []),  # 0.9 * 0.2 = 0.18 on 1-5
        "plausibility": (p(s4=1.0), 0.6, [2, 3, 5, 7]),  # only 4 of 1-5 reported
    }

    def send(items, method, decoding):
        assert method == "logit"
        out = []
        for i in items:
            probs, mass, unseen = replies[i["dimension"].split("-")[0]]
            expected = sum(s * q for s, q in enumerate(probs))
            out.append(
                {"dimension": i["dimension"], "score": expected, "mass": mass, "probs": probs}
                | {"unseen": unseen}
            )
        return {"results": out, "seconds": 0.1}

    def scorer(floor: float) -> Scorer:
        config = build_config({"judge": {"protocol": "rise", "min_digit_mass": floor}})
        return Scorer(config.judge, rise(), {"j": 1}, send, Cache(tmp_path / "cache"))

    results = scorer(0.5).score(item)
    assert (results["consistency"]["score"], results["consistency"]["mass"]) == (4.0, 0.9)
    assert results["reasoning"]["status"] == "low-digit-mass"
    assert "0.18" in results["reasoning"]["reasoning"] and results["reasoning"]["score"] is None
    plausibility = results["plausibility"]
    assert (plausibility["score"], plausibility["mass"]) == (4.0, 0.6)
    assert "scores 2, 3, 5 outside the returned top-k" in plausibility["reasoning"]
    assert results["score"]["status"] == "missing-input"

    off = scorer(0.0).score(item)  # tiny models: the check turned off
    assert off["reasoning"]["score"] == pytest.approx(4.0) and off["score"]["status"] == "ok"
    raised = scorer(0.7).score(item)  # every request now comes from the cache
    assert raised["plausibility"]["cached"] and raised["plausibility"]["status"] == (
        "low-digit-mass"
    )
    assert raised["consistency"]["status"] == "ok"
