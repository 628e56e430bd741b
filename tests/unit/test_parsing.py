"""The written-answer parser: what counts as a score, and what is a failure (never a default)."""

from __future__ import annotations

import pytest

from editbench.judging.parsing import parse_score
from editbench.vocabulary import Scale

ACCEPTED = [
    ('{"score": 7, "reasoning": "three cups are moved"}', 7.0),
    ('```json\n{"score": 8.5, "reasoning": "ok"}\n```', 8.5),
    ('Here you go: {"reasoning": "the 2 balls", "score": "6/10"}', 6.0),
    ("Score: 7.5", 7.5),
    ("**Score:** 4", 4.0),
    ("7.5/10", 7.5),
    ("I would rate it 3 out of 10.", 3.0),
    ("8", 8.0),
    ("10", 10.0),
    ("0", 0.0),
    ("７.５", 7.5),
    ("Ｓｃｏｒｅ：９", 9.0),
    ("评分：8分", 8.0),
    ("这张图片编辑得不错，评分为7分。", 7.0),
    ("Sharpness score: 3. Colour score: 5. Final score: 7", 7.0),
    ("清晰度评分：3分，最终评分：9分", 9.0),
    ("Overall score = 6 (2 objects moved)", 6.0),
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED)
def test_accepted_forms(text, expected):
    parsed = parse_score(text)
    assert parsed.ok, parsed
    assert parsed.score == expected


def test_json_score_beats_numbers_in_reasoning():
    parsed = parse_score('{"reasoning": "Score: 2 for sharpness, 9/10 for colour", "score": 5}')
    assert (parsed.score, parsed.reasoning) == (5.0, "Score: 2 for sharpness, 9/10 for colour")


def test_nested_sub_score_is_not_the_score():
    parsed = parse_score('{"details": {"score": 3}, "comment": "fine"}')
    assert not parsed.ok and parsed.score is None


@pytest.mark.parametrize(
    "text",
    [
        "sharpness score: 3",
        "There are 3 cups on 2 tables",
        "",
        "   ",
        "The edit looks good.",
        '{"score": "high"}',
        '{"score": null}',
    ],
)
def test_unparseable(text):
    parsed = parse_score(text)
    assert parsed.status == "unparseable" and parsed.score is None and parsed.reason


@pytest.mark.parametrize("text", ["Score: 11", "12/10", "-2", '{"score": 42}', "Final score: 10.5"])
def test_out_of_range_is_a_failure(text):
    parsed = parse_score(text)
    assert parsed.status == "out-of-range" and parsed.score is None


def test_conflicting_scores_are_ambiguous():
    parsed = parse_score("Score: 6\nOn reflection, score: 8")
    assert parsed.status == "unparseable" and "ambiguous" in parsed.reason


def test_repeated_equal_scores_are_one():
    assert parse_score("Score: 6. So the score: 6").score == 6.0


# -- on the dimension's scale (issue 15, item 5) ---------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["Score: 3/5", "Score: 8/100", "Score: 5 out of 5", "4/5", '{"score": "3/5"}', "8/100"],
)
def test_a_score_out_of_another_top_is_out_of_range(text):
    parsed = parse_score(text)
    assert parsed.status == "out-of-range" and parsed.score is None, parsed
    assert "out of" in parsed.reason and "[0, 10]" in parsed.reason


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("Score: 7,5", "decimal comma"),
        ("7,5", "decimal comma"),
        ("Score: 7-8", "a range (7-8)"),
        ("Score: 7 to 8", "a range"),
        ("7–8/10", "a range"),
        ('{"score": "7-8"}', "a range"),
        ('{"score": 7, "score": 3}', "names its score 2 times"),
        (
            "I'd rate this 9/10. Score: 4",
            "conflicting scores: 4 (score label), 9 (score out of the top)",
        ),
        ("Score: 6\nFinal score: 8", "conflicting scores"),
        ('Score: 3 {"score": 7}', "conflicting scores"),
        ("SC: 7, PQ score: 5", "several scores (5, 7) by score label"),
    ],
)
def test_ambiguous_answers_are_unparseable_with_the_reason(text, why):
    parsed = parse_score(text)
    assert parsed.status == "unparseable" and parsed.score is None, parsed
    assert "ambiguous" in parsed.reason and why in parsed.reason, parsed.reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("**Score**: 7", 7.0),
        ("**Score:** 7", 7.0),
        ("SC: 7", 7.0),
        ("PQ score: 8", 8.0),
        ("Rating: 6/10", 6.0),
        ("The object covers 2/3 of the frame. Score: 7", 7.0),
        ('{"score": 7, "reasoning": "9/10 for colour"} Score: 7', 7.0),
        ("Score: 7, the cups moved.", 7.0),
        ("Final score: 7/10", 7.0),
    ],
)
def test_common_forms_read_on_the_scale(text, expected):
    parsed = parse_score(text)
    assert parsed.ok and parsed.score == expected, parsed


def test_the_scale_comes_from_the_caller():
    five = Scale(1.0, 5.0, integer_only=True)
    assert parse_score("Score: 4/5", five).score == 4.0
    assert parse_score("4", five).score == 4.0
    assert parse_score("Score: 7/10", five).status == "out-of-range"
    assert parse_score("Score: 0", five).status == "out-of-range"
    off = parse_score("Score: 3.5", five)
    assert off.status == "out-of-range" and "whole numbers" in off.reason
    binary = Scale(0.0, 1.0, integer_only=True)
    assert parse_score('{"score": 1}', binary).score == 1.0
    assert parse_score("Score: 2", binary).status == "out-of-range"
