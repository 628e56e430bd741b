"""The progress line as plain code: records in, a line out, at times the test gives."""

from __future__ import annotations

import pytest

from editbench.progress import Progress, Throttle, choose_mode, duration


def rec(status="ok", edit_s=10.0, judge_s=2.0, edit_cached=False, cached=None) -> dict:
    return {
        "status": status,
        "edit_s": edit_s,
        "judge_s": judge_s,
        "edit_cached": edit_cached,
        "cached": cached or {"SC": False, "PQ": False},
    }


def test_line_counts_rates_means_failures_and_eta():
    progress = Progress(started=100.0, total=25)
    progress.add(rec(edit_s=10.0, judge_s=2.0))
    progress.add(rec(edit_s=12.0, judge_s=4.0))
    progress.add(rec("edit-error", edit_s=5.0, judge_s=0.0))
    progress.add(rec("timeout", edit_s=9.0, judge_s=30.0))
    # 4 cases in 2 minutes: 2.0 per minute, 21 left: 10m30s
    assert progress.line(now=220.0) == (
        "editbench 4/25 | ETA 10m30s | 2.0 cases/min | edit 9.00s, judge 12.00s"
        " | failed 2: edit-error 1, timeout 1"
    )


def test_cached_steps_are_counted_apart_from_the_means():
    progress = Progress(started=0.0, total=3)
    progress.add(rec(edit_s=8.0, judge_s=1.0))
    progress.add(rec(edit_s=0.001, edit_cached=True, judge_s=0.002, cached={"SC": True}))
    assert "edit 8.00s (1 cached), judge 1.00s (1 cached)" in progress.line(now=60.0)


def test_the_end_says_done_or_stopped():
    progress = Progress(started=0.0, total=2)
    progress.add(rec())
    assert progress.line(now=30.0, final=True).split(" | ")[1] == "stopped after 30s"
    progress.add(rec())
    assert progress.line(now=75.0).split(" | ")[:3] == [
        "editbench 2/2",
        "done in 1m15s",
        "1.6 cases/min",
    ]


def test_without_a_total_there_is_no_eta():
    progress = Progress(started=0.0)
    progress.add(rec())
    assert progress.line(now=10.0).startswith("editbench 1 done | ETA - | 6.0 cases/min")


@pytest.mark.parametrize(
    ("requested", "isatty", "verbosity", "mode"),
    [
        ("auto", True, 0, "line"),
        ("auto", False, 0, "log"),
        ("auto", True, 1, "log"),
        ("auto", True, -1, "off"),
        ("line", False, -1, "line"),
        ("off", True, 0, "off"),
    ],
)
def test_auto_mode_follows_the_terminal_and_verbosity(requested, isatty, verbosity, mode):
    assert choose_mode(requested, isatty, verbosity) == mode


def test_log_lines_are_throttled():
    throttle = Throttle(30.0)
    assert [throttle.due(t) for t in (0.0, 10.0, 29.9, 30.0, 45.0, 61.0)] == [
        True,
        False,
        False,
        True,
        False,
        True,
    ]


def test_durations_read_at_a_glance():
    assert [duration(s) for s in (0.4, 41, 161, 3600, 7325)] == [
        "0s",
        "41s",
        "2m41s",
        "1h00m",
        "2h02m",
    ]


def test_a_narrow_line_drops_detail_first_and_keeps_the_failed_count():
    progress = Progress(started=0.0, total=4)
    for status in ("ok", "edit-error", "timeout", "ok"):
        progress.add(rec(status))
    full = progress.line(now=60.0)
    assert progress.line(now=60.0, width=len(full)) == full
    assert progress.line(now=60.0, width=85).endswith("judge 2.00s | failed 2")
    assert (
        progress.line(now=60.0, width=60)
        == "editbench 4/4 | done in 1m00s | 4.0 cases/min | failed 2"
    )
    assert progress.line(now=60.0, width=40) == "editbench 4/4 | done in 1m00s | failed 2"


def test_the_judge_load_is_shown_apart():
    progress = Progress(started=0.0, total=3)
    progress.add({**rec(judge_s=2.0), "judge_load_s": 18.4})
    progress.add(rec(judge_s=4.0))
    assert "judge 3.00s (load 18.4s)" in progress.line(now=60.0)
