"""compare.html in a real headless Chromium: the gallery's order, its filters, its images, its viewer."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from test_html import browse

from comparedata import flagged_runs, two_runs, write_pair
from editbench.cli import main as cli
from support import record

TALL = "--window-size=1400,20000"  # every card in view, so every lazy image loads


def shown_ids(dom: str) -> list[str]:
    """The cards' ids in page order, without those the filters hid."""
    cards = re.findall(r'<div class="case([^"]*)" data-id="([^"]+)"', dom)
    return [case_id for classes, case_id in cards if "hidden" not in classes.split()]


def body(dom: str) -> dict[str, str]:
    tag = re.search(r"<body([^>]*)>", dom).group(1)
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', tag))


@pytest.fixture
def page(tmp_path):
    a, b = two_runs()
    write_pair(tmp_path, a, b)
    assert cli(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    return (tmp_path / "b" / "compare.html").as_uri()


def dom_of(tmp_path, url: str) -> str:
    result = browse(tmp_path, url, "--dump-dom", TALL)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.timeout(300)
def test_chromium_orders_the_gallery_and_loads_every_image_by_relative_path(tmp_path, page):
    dom = dom_of(tmp_path, page)
    assert shown_ids(dom) == [
        "物理-003",  # newly failing
        "社会-002",  # newly passing
        "因果-002",  # then |ΔO|, largest first
        "因果-004",
        "因果-001",
        "因果-003",
        "因果-005",
        "物理-002",
        "社会-001",
        "物理-001",
    ]
    state = body(dom)
    assert (state["images-total"], state["images-loaded"], state["images-broken"]) == (
        "30",
        "30",
        "0",
    )
    by_sc = dom_of(tmp_path, page + "#sort=SC")
    assert shown_ids(by_sc)[2:] == [  # ΔSC: causal -4 each (by id), 物理-002 -3, 社会-001 +1
        "因果-001",
        "因果-002",
        "因果-003",
        "因果-004",
        "因果-005",
        "物理-002",
        "社会-001",
        "物理-001",
    ]


@pytest.mark.timeout(300)
def test_chromium_filters_by_category_flag_and_only_changed(tmp_path, page):
    causal = dom_of(tmp_path, page + "#category=causal")
    assert shown_ids(causal) == ["因果-002", "因果-004", "因果-001", "因果-003", "因果-005"]
    assert body(causal)["shown"] == "5"
    assert shown_ids(dom_of(tmp_path, page + "#flag=regression")) == []  # 5 pairs never flag
    changed = dom_of(tmp_path, page + "#changed=1")
    assert "物理-001" not in shown_ids(changed) and len(shown_ids(changed)) == 9
    both = dom_of(tmp_path, page + "#category=physical&changed=1")
    assert shown_ids(both) == ["物理-003", "物理-002"]
    assert '<input type="checkbox" id="filter-changed">' in both  # the state came from the URL


@pytest.mark.timeout(300)
def test_chromium_filters_by_flag(tmp_path):
    a, b = flagged_runs()
    write_pair(tmp_path, a, b)
    assert cli(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    page = (tmp_path / "b" / "compare.html").as_uri()
    flagged = dom_of(tmp_path, page + "#flag=regression")
    assert set(shown_ids(flagged)) == {f"因果-{i:03d}" for i in range(1, 13)}  # causal SC flagged
    assert body(flagged)["shown"] == "12"


@pytest.mark.timeout(300)
def test_a_linked_image_opens_enlarged_in_the_viewer(tmp_path, page):
    dom = dom_of(tmp_path, page + "#zoom=" + quote("物理-002|b"))
    viewer = re.search(r'<div id="viewer"([^>]*)><img alt="" src="([^"]+)"><p>([^<]*)</p>', dom)
    assert viewer is not None and "hidden" not in viewer.group(1)
    assert viewer.group(2).endswith("images/physical/%E7%89%A9%E7%90%86-002.edited.png")
    assert viewer.group(3) == "物理-002: B"
    closed = dom_of(tmp_path, page)
    assert re.search(r'<div id="viewer" hidden=""', closed)


@pytest.mark.timeout(300)
def test_an_embedded_page_shows_every_image_without_its_run_folders(tmp_path):
    a, b = two_runs()
    write_pair(tmp_path, a, b)
    alone = tmp_path / "alone" / "c.json"
    alone.parent.mkdir()
    assert cli(["compare", str(tmp_path / "a"), str(tmp_path / "b"), f"-o={alone}", "--embed"]) == 0
    for run in ("a", "b"):  # the page must not need them any more
        for image in (tmp_path / run / "images").rglob("*.png"):
            image.unlink()
    state = body(dom_of(tmp_path, alone.with_suffix(".html").as_uri()))
    assert (state["images-loaded"], state["images-broken"]) == ("30", "0")


@pytest.mark.timeout(300)
def test_only_the_cards_near_the_viewport_load_their_images(tmp_path):
    """40 cases in a 900-pixel window: the first screen's images load, the rest wait for their
    cards to come near (an eagerly loading page would load all 120)."""
    a = [record(f"物理-{i:03d}", "physical", 5 + i % 3, 7) for i in range(40)]
    b = [record(f"物理-{i:03d}", "physical", 4 + i % 5, 7) for i in range(40)]
    write_pair(tmp_path, a, b)
    assert cli(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    url = (tmp_path / "b" / "compare.html").as_uri()
    result = browse(tmp_path, url, "--dump-dom", "--window-size=1280,900")
    state = body(result.stdout)
    assert state["images-total"] == "120" and state["images-broken"] == "0"
    assert 0 < int(state["images-loaded"]) < 30, state
