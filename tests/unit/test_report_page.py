"""report.html escapes every string that came from a suite or a judge: a script in them never runs."""

from __future__ import annotations

from support import record, sample_records, write_run


def test_script_from_the_suite_and_the_judge_is_escaped_and_never_runs(tmp_path):
    """The instruction from the suite; the description reaches the page only inside the judge's
    reasoning (a judge that quotes its prompt), with the judge's own text beside it."""
    evil = record(
        "物理-009",
        "physical",
        7,
        8,
        instruction="<script>window.pwnedInstruction=1</script> Tilt it",
    )
    evil["reasoning"]["SC"] = (
        "You asked about <script>window.pwnedDescription=1</script> a glass. "
        "<script>window.pwnedJudge=1</script>"
    )
    write_run(tmp_path, [*sample_records(), evil])
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert page.count("<script") == 1  # the page's own filter script, nothing else
    for name in ("Instruction", "Description", "Judge"):
        assert f"&lt;script&gt;window.pwned{name}=1&lt;/script&gt;" in page
        assert f"<script>window.pwned{name}" not in page
