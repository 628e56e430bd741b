"""Reading a score from next-token probabilities: the score texts, both modes, the tokenizer check."""

from __future__ import annotations

import math

import pytest

from editbench.judging import chat_api
from editbench.judging.remote import SCORE_TEXTS, expected_score, score_probs, score_token_ids
from support import build_score_tokenizer


def reply(top: dict[str, float]) -> dict:
    """A chat completion whose first token's top_logprobs are `top` (text -> probability)."""
    entries = [{"token": text, "logprob": math.log(p)} for text, p in top.items()]
    return {"choices": [{"logprobs": {"content": [{"top_logprobs": entries}]}}]}


def test_ten_is_read_as_two_tokens():
    # the judge starts with "1", then writes "0" with 0.75 and stops with 0.25
    score, mass, probs = expected_score(score_probs({"1": 1.0}, {"1": {"0": 0.75}}))
    assert probs[10] == pytest.approx(0.75) and probs[1] == pytest.approx(0.25)
    assert score == pytest.approx(0.75 * 10 + 0.25 * 1) and mass == pytest.approx(1.0)
    first = {d: 0.1 for d in "0123456789"}
    score, _, probs = expected_score(score_probs(first, {"1": {}}))  # nothing follows "1"
    assert probs[10] == 0.0 and score == pytest.approx(4.5)


def test_space_digits_and_a_single_ten_token_add_to_their_scores():
    first = {"7": 0.3, " 7": 0.2, "10": 0.1, " 10": 0.05, "1": 0.1, " 1": 0.2}
    after = {"1": {"0": 0.5, "2": 0.5}, " 1": {"0": 0.25}}  # "12" is no score: not a 1
    probs = score_probs(first, after)
    assert probs[7] == pytest.approx(0.5)
    assert probs[10] == pytest.approx(0.1 + 0.05 + 0.1 * 0.5 + 0.2 * 0.25)
    assert probs[1] == pytest.approx(0.1 * 0.0 + 0.2 * 0.75)
    assert sum(probs) == pytest.approx(0.5 + 0.25 + 0.15)


def test_service_reads_exactly_the_texts_the_gateway_reads():
    top = chat_api.top_logprobs(reply({"7": 0.4, " 7": 0.2, "\n7": 0.1, "7 ": 0.1, "x": 0.2}))
    assert chat_api.score_texts(top) == pytest.approx({"7": 0.4, " 7": 0.2})
    assert set(chat_api.score_texts({t: 0.01 for t in SCORE_TEXTS})) == set(SCORE_TEXTS)
    with pytest.raises(ValueError, match="no top_logprobs"):
        chat_api.top_logprobs({"choices": [{"message": {"content": "7"}}]})


def test_scores_outside_the_top_k_are_unseen_and_missing_from_the_mass():
    first = chat_api.score_texts(chat_api.top_logprobs(reply({"7": 0.5, "8": 0.25, "x": 0.25})))
    assert chat_api.unseen_scores(first, {}) == [0, 1, 2, 3, 4, 5, 6, 9, 10]
    score, mass, _ = expected_score(score_probs(first, {}))
    assert mass == pytest.approx(0.75)  # never renormalised into a confident full distribution
    assert score == pytest.approx((7 * 0.5 + 8 * 0.25) / 0.75)
    ones = {"1": 0.5, " 9": 0.5}
    assert chat_api.unseen_scores(ones, {"1": {"3": 1.0}}) == [0, 2, 3, 4, 5, 6, 7, 8, 10]
    assert chat_api.unseen_scores(ones, {"1": {"0": 0.1}}) == [0, 2, 3, 4, 5, 6, 7, 8]


@pytest.mark.parametrize(
    ("shape", "texts"),
    [
        ({}, {str(d) for d in range(10)}),  # Qwen's shape: bare digits, "10" is "1" + "0"
        ({"space_digits": True, "ten": True}, set(SCORE_TEXTS)),
    ],
)
def test_the_tokenizer_check_reads_the_score_tokens_the_vocabulary_has(tmp_path, shape, texts):
    from transformers import AutoTokenizer

    build_score_tokenizer(tmp_path, **shape)
    tokenizer = AutoTokenizer.from_pretrained(tmp_path)
    found = score_token_ids(tokenizer, "m")
    assert set(found) == texts
    for text, token in found.items():
        assert tokenizer.encode(text, add_special_tokens=False) == [token]


def test_the_tokenizer_check_refuses_digits_that_are_not_one_token(tmp_path):
    from transformers import AutoTokenizer

    build_score_tokenizer(tmp_path, prefix_space=True)
    tokenizer = AutoTokenizer.from_pretrained(tmp_path)
    with pytest.raises(ValueError, match=r"judge model my/judge: .* digit\(s\) 0, 1, .* one token"):
        score_token_ids(tokenizer, "my/judge")
