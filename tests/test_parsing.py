"""The written-answer parser: what counts as a score, and what is a failure (never a default)."""

from __future__ import annotations

import pytest

from editbench.judging.parsing import parse_score

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
