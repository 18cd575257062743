"""The seed pages read like the captured seeds, and their records are what SITE.md says."""

from __future__ import annotations

import pytest

from replica import Site
from replica.navigation import nav_version, parse_nav, seed_nav_version
from replica.seeds import seed_items, seed_text
from replica.textview import comparable, is_subsequence, visible_lines

SEED_PATHS = {
    0: "/secretary-general/74289",
    1: "/fsc/55436",
    2: "/chairpersonship/568554",
    3: "/partnerships",
}


@pytest.fixture(scope="module")
def site() -> Site:
    return Site(items=50, seed=1)


@pytest.mark.parametrize("number", [0, 1, 2, 3])
def test_seed_page_contains_the_captured_lines_in_order(site: Site, number: int) -> None:
    status, _, body = site.render(SEED_PATHS[number])
    assert status == 200
    page = comparable(visible_lines(body))
    seed = comparable(seed_text(number).split("\n"))
    found = is_subsequence(seed, page)
    assert found == len(seed), f"seed {number:03d} line {found} missing: {seed[found]!r}"


@pytest.mark.parametrize("number", [0, 1, 2])
def test_seed_page_begins_like_the_capture(site: Site, number: int) -> None:
    """Apart from the skip links, the navigation is the first thing on the page."""
    _, _, body = site.render(SEED_PATHS[number])
    page = comparable(visible_lines(body))
    seed = comparable(seed_text(number).split("\n"))
    start = page.index(seed[0])
    assert page[start : start + 140] == seed[:140]


def test_the_order_check_can_fail(site: Site) -> None:
    _, _, body = site.render(SEED_PATHS[1])
    page = comparable(visible_lines(body))
    seed = comparable(seed_text(1).split("\n"))
    swapped = [seed[-1]] + seed[:-1]
    assert is_subsequence(swapped, page) < len(swapped)


def test_seed_records(site: Site) -> None:
    truth = site.ground_truth("http://x")
    story = truth["osce.org/74289"]
    assert story["kind"] == "story"
    assert story["sources"] == ["Summits / Ministerial Councils"]
    assert story["byline"] == "Marc Perrin de Brichambaut, OSCE Secretary General"
    assert story["place"] is None and story["fields_of_work"] == []
    assert story["date_source"] == "listing"
    assert "OSCE Impact" not in story["text"]
    pr = truth["osce.org/55436"]
    assert pr["url"] == "http://x/fsc/55436"
    assert pr["published"] == "2003-06-27" and pr["date_source"] == "markup"
    assert pr["text"].startswith("VIENNA, 26 June 2003 - The OSCE's first-ever")
    assert pr["place"] == "VIENNA"
    assert pr["sources"] == [
        "Forum for Security Co-operation",
        "Permanent Council",
        "OSCE Chairpersonship",
    ]
    assert pr["fields_of_work"] == [
        "Policing",
        "Reform and co-operation in the security sector",
        "Conflict prevention and resolution",
        "Countering terrorism",
        "Border management",
        "Arms control",
        "Combating trafficking in human beings",
    ]
    paragraphs = pr["text"].split("\n\n")
    assert len(paragraphs) == 9 == len(set(paragraphs))  # the capture repeats 2..9
    strasbourg = truth["osce.org/568554"]
    assert strasbourg["place"] == "STRASBOURG" and strasbourg["date_source"] == "meta"
    assert strasbourg["sources"] == ["OSCE Chairpersonship", "OSCE Secretariat"]
    assert all(r["language"] == "en" for r in truth.values())


def test_seed_001_body_is_repeated_on_the_page(site: Site) -> None:
    _, _, body = site.render(SEED_PATHS[1])
    lines = visible_lines(body)
    second = [p for p in seed_items()[1].paragraphs[1:]]
    assert all(lines.count(p) == 2 for p in second)
    assert lines.count(seed_items()[1].paragraphs[0]) == 1


def test_seed_dates_live_where_the_seed_says(site: Site) -> None:
    text = {n: site.render(SEED_PATHS[n]).text for n in (0, 1, 2)}
    assert '<time datetime="2003-06-27' in text[1]
    assert "2010-11-29" not in text[0]  # only the listing dates seed 000
    assert 'content="2024-05-17' in text[2]
    listing = site.render("/stories?rows=50").text
    assert "Publishing date:</span> 29 November 2010" in listing


def test_navigation_versions_match_the_captures() -> None:
    assert [seed_nav_version(n) for n in (0, 1, 2)] == [1, 0, 2]
    assert nav_version(1) == parse_nav(seed_items()[0].nav_lines)
    texts = [e.text for e in nav_version(2)]
    assert "Czechia" in texts and "Gender equality conferences" in texts
    assert "Czech Republic" not in texts


def test_navigation_leaks_into_naive_text(site: Site) -> None:
    """Menu entries that are not links (headings, toggle buttons) show as text lines."""
    status, _, body = site.render(site.item_paths()[40])
    assert status == 200
    html = body.decode()
    assert '<button type="button" class="menu-toggle"' in html
    assert '<span class="menu-heading">Participating States</span>' in html
    assert "Participating States" in visible_lines(body)
