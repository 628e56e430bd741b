"""compare.html's data and markup: the gallery's order, the images' paths, escaping, settings notes."""

from __future__ import annotations

import copy
import json
import re

from comparedata import EVIL, flagged_runs, meta, rise_meta, rise_record, two_runs, write_pair
from editbench.cli import main as cli
from editbench.reporting.compare_page import order
from support import write_run


def test_newly_failing_then_newly_passing_then_largest_change_first():
    cases = [
        {"case_id": "c", "change": "", "scores": {"O": {"delta": -0.5}}},
        {"case_id": "d", "change": "", "scores": {"O": {"delta": 2.0}}},
        {"case_id": "e", "change": "", "scores": {}},
        {"case_id": "f", "change": "newly passing", "scores": {}},
        {"case_id": "g", "change": "newly failing", "scores": {}},
        {"case_id": "b", "change": "", "scores": {"O": {"delta": -2.0}}},
    ]
    assert [c["case_id"] for c in order(cases, "O")] == ["g", "f", "b", "d", "c", "e"]


def test_compare_writes_the_page_beside_compare_json_with_relative_lazy_images(tmp_path, capsys):
    a, b = two_runs()
    write_pair(tmp_path, a, b)
    assert cli(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    page = (tmp_path / "b" / "compare.html").read_text(encoding="utf-8")
    assert f"{tmp_path / 'b' / 'compare.html'}" in capsys.readouterr().out
    ids = re.findall(r'<div class="case[^"]*" data-id="([^"]+)"', page)
    assert ids[:2] == ["物理-003", "社会-002"] and len(ids) == 10
    # then by |ΔO|: causal 8→4 (2.34) before 9→5 (2.16), 物理-002 7→4 (1.94), ...
    assert ids[2:8] == ["因果-002", "因果-004", "因果-001", "因果-003", "因果-005", "物理-002"]
    assert ids[-1] == "物理-001"  # unchanged
    # A's images from the other run folder, B's beside the page, all by relative URL, lazily
    assert 'class="a" decoding="async" alt="A" data-src="../a/images/causal/' in page
    assert 'alt="B" data-src="images/causal/' in page
    assert len(re.findall(r'<img [^>]* data-src="', page)) == 30  # set when in view
    assert "data:image" not in page and not re.search(r"<img [^>]* src=", page)
    assert 'id="differences"' not in page  # the same settings: no note


def test_every_string_from_a_suite_or_a_judge_is_escaped(tmp_path):
    a, b = two_runs()
    write_pair(tmp_path, a, b)
    assert cli(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    page = (tmp_path / "b" / "compare.html").read_text(encoding="utf-8")
    assert EVIL not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "<b>boom</b>" not in page and "RuntimeError: &lt;b&gt;boom&lt;/b&gt;" in page
    assert not re.search(r'(src|href)="(https?:)?//', page), "nothing may load from a network"


def test_embed_makes_one_self_contained_file(tmp_path):
    a, b = two_runs()
    write_pair(tmp_path, a, b)
    out = tmp_path / "elsewhere" / "c.json"
    out.parent.mkdir()
    assert cli(["compare", str(tmp_path / "a"), str(tmp_path / "b"), f"-o={out}", "--embed"]) == 0
    page = (tmp_path / "elsewhere" / "c.html").read_text(encoding="utf-8")
    assert page.count('src="data:image/jpeg;base64,') == 30
    assert "images/" not in re.sub(r"<script>.*?</script>", "", page, flags=re.S)


def test_the_page_names_the_settings_that_differ_and_explains_intervals_and_flags(tmp_path):
    a, b = flagged_runs()
    write_pair(tmp_path, a, b, meta("b", max_pixels=16384, python="/elsewhere/python"))
    assert cli(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    page = (tmp_path / "b" / "compare.html").read_text(encoding="utf-8")
    note = re.search(r'<div id="differences".*?</div>', page, re.S).group(0)
    assert "judge.max_pixels</code>: A 65536, B 16384" in note
    assert "python" not in note  # where the judge interpreter lives is no setting of the judge
    assert "95% betting interval for a bounded mean" in page and "Holm" in page and "McNemar" in page
    result = json.loads((tmp_path / "b" / "compare.json").read_text(encoding="utf-8"))
    causal = next(r for r in result["rows"] if r["category"] == "causal" and r["dimension"] == "SC")
    assert causal["flag"] == "regression"
    assert '<tr class="flag-regression"><td>因果</td><td>SC</td>' in page


def test_a_protocol_compare_shows_its_headline_numbers_and_no_score_it_never_asked(tmp_path):
    """Two RISE runs: the page adds the headline table, and a consistency-free case's card has
    no consistency row (RISE never asks it), while its asked dimensions show A, B and Δ."""
    free = {"consistency_free": True}
    a = [rise_record(f"free-{i}", "causal_reasoning", free) for i in range(5)]
    a += [rise_record(f"causal-{i}", "causal_reasoning", {}) for i in range(5)]
    b = copy.deepcopy(a)
    b[0]["scores"]["reasoning"] = 3.0
    for name, records in (("a", a), ("b", b)):
        (tmp_path / name).mkdir()
        write_run(tmp_path / name, records, rise_meta(name))
    assert cli(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    page = (tmp_path / "b" / "compare.html").read_text(encoding="utf-8")
    headline = re.search(r'<table id="headline">.*?</table>', page, re.S).group(0)
    assert "<td>Overall</td><td>Accuracy</td>" in headline and "<td>Reasoning</td>" in headline
    card = re.search(r'<div class="case" data-id="free-0".*?</table></div>', page, re.S).group(0)
    assert "<th>reasoning</th><td>5.00</td><td>3.00</td>" in card and ">-2.00<" in card
    assert "<th>consistency</th>" not in card
    assert re.findall(r'<div class="case[^"]*" data-id="([^"]+)"', page)[0] == "free-0"
