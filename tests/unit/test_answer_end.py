"""Stop-at-answer: the judge stops writing where the answer's format says it is complete, and
stopping there never cuts off (or changes) a score the whole answer gives."""

from __future__ import annotations

import pytest

from editbench.judging.parsing import JSON_KEYS, parse_score
from editbench.judging.remote import answer_end
from editbench.judging.scoring import answer_end as protocol_answer_end

JSON_STOP = {"json": [list(JSON_KEYS)]}
FINAL_STOP = {"lines": [["Final Score"]]}

ANSWERS = [
    (JSON_STOP, '{"score": 10, "reasoning": "done"}'),
    (JSON_STOP, 'Sure.\n```json\n{"score": 1}\n```\n'),
    (JSON_STOP, '{"reasoning": "a } and { inside", "score": 7}'),
    (JSON_STOP, '{"note": {"score": 3}, "x": 1} then {"score": 4}'),  # nested: the outer object
    (JSON_STOP, '{"Score": 9.5}'),
    (JSON_STOP, '{"a": 1}\n{"score": 6}'),  # an object without a score key does not end it
    (FINAL_STOP, "The edit is good.\nFinal Score: 10\n"),
    (FINAL_STOP, "Step 1: fine.\n**Final Score:** 1\n"),
    (FINAL_STOP, "Final Score: 8/10\n"),
]


def cut_at_first_stop(text: str, stop: dict) -> str | None:
    """The text the judge keeps when it checks after every character it writes."""
    for n in range(1, len(text) + 1):
        end = answer_end(text[:n], stop)
        if end is not None:
            return text[:end]
    return None


@pytest.mark.parametrize(("stop", "text"), ANSWERS)
def test_stopping_keeps_the_whole_score(stop, text):
    kept = cut_at_first_stop(text, stop)
    assert kept is not None, "a complete answer must stop the judge"
    whole, short = parse_score(text), parse_score(kept)
    assert short.ok
    if whole.ok:  # (an answer with two objects of two scores is ambiguous whole: see README)
        assert (short.score, short.status) == (whole.score, whole.status)


@pytest.mark.parametrize(
    "prefix",
    [
        '{"score": 1',
        '{"score": 1}',  # not yet: "1" with no closing brace would be a different test
        "Final Score: 1",
        "Final Score: 1\n",
    ],
)
def test_a_one_that_may_still_become_ten_never_stops(prefix):
    stop = JSON_STOP if prefix.startswith("{") else FINAL_STOP
    complete = prefix.endswith(("}", "\n"))
    assert (answer_end(prefix, stop) is not None) == complete
    assert answer_end(prefix.rstrip("}\n"), stop) is None


def test_an_unfinished_or_scoreless_answer_runs_to_the_end():
    assert answer_end('{"reasoning": "unfinished", "score": 7', JSON_STOP) is None
    assert answer_end('{"reasoning": "no score"}', JSON_STOP) is None
    assert answer_end("Final Score: seven\n", FINAL_STOP) is None
    assert answer_end("the Final Score: is 7 or 8\n", FINAL_STOP) is None
    assert answer_end("anything", None) is None


def test_every_protocol_answer_format_has_an_end():
    from editbench.protocols import model as m

    class Ask:
        def __init__(self, answer):
            self.answer = answer

    subs = [m.Subscore("a", "Prompt Compliance", "compliance_score"), m.Subscore("b", "PQ", "pq")]
    texts = {
        "score": '{"score": 8, "reasoning": "x"}',
        "list": '{"score": [8, 6], "reasoning": "x"}',
        "keys": '{"compliance_score": 8, "pq": 6, "reasoning": "x"}',
        "lines": "Brief reasoning: x\nPrompt Compliance: 8\nPQ: 6\n",
        "final": "Because.\nFinal Score: 8\n",
    }
    for answer in m.ANSWERS:
        stop = protocol_answer_end(Ask(answer), subs)
        text = texts[answer]
        assert answer_end(text, stop) == len(text), answer
        assert answer_end(text[:-2], stop) is None, answer
