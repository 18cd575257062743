"""The structure-randomised themes (replica/themes.py, replica/themed.py) and their gold.

Every theme must serve the same site as the default markup (listings, items, feeds and
sitemaps agree with each other), deterministically per theme number, in markup that does
not use osce.org's class names; the gold records come from the generator and match what
the page shows: gold text is on the page, furniture lines are on the page and never in
the gold text.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest
from lxml import html as lxml_html

from replica import Site, make_theme
from replica.textview import visible_lines
from replica.themes import OSCE_CLASS_WORDS, furniture_count

THEMES = tuple(range(1, 13))
ITEMS = 80


@pytest.fixture(scope="module")
def sites() -> dict[int, Site]:
    return {n: Site(ITEMS, seed=3, theme=n) for n in (0, *THEMES)}


def test_theme_zero_is_the_default_markup() -> None:
    default, zero = Site(ITEMS, seed=3), Site(ITEMS, seed=3, theme=0)
    assert zero.theme is None
    for path in default.item_paths()[:20] + ["/press-releases", "/stories?page=1"]:
        assert zero.render(path).body == default.render(path).body


@pytest.mark.parametrize("number", THEMES)
def test_same_theme_same_bytes_other_theme_other_markup(number: int, sites: dict) -> None:
    again = Site(ITEMS, seed=3, theme=number)
    site = sites[number]
    paths = site.item_paths()[::9] + ["/press-releases?rows=50", "/stories?page=1"]
    for path in paths:
        assert again.render(path).body == site.render(path).body, path
    other = sites[THEMES[(THEMES.index(number) + 1) % len(THEMES)]]
    item_path = site.item_paths()[10]
    assert other.render(item_path).body != site.render(item_path).body
    assert make_theme(number) == site.theme


@pytest.mark.parametrize("number", THEMES)
def test_no_osce_class_names(number: int, sites: dict) -> None:
    site = sites[number]
    root = lxml_html.document_fromstring(site.render(site.item_paths()[20]).body)
    main_classes = set()
    for el in root.iter():
        for name in (el.get("class") or "").split():
            main_classes.update(p for p in re.split(r"-+|__", name) if p)
    leaked = main_classes & (OSCE_CLASS_WORDS - {"pager"})
    assert not leaked, leaked


def _record_lines(gold: dict) -> set[str]:
    return {p for p in gold["text"].split("\n\n")}


@pytest.mark.parametrize("number", (0, *THEMES))
def test_gold_text_and_furniture_are_what_the_page_shows(number: int, sites: dict) -> None:
    site = sites[number]
    checked = 0
    for item in site.items_live():
        if item.seed is not None:
            continue
        gold = site.gold(item)
        lines = visible_lines(site.render(item.path).body)
        shown = set(lines)
        assert gold["title"] in shown
        for paragraph in _record_lines(gold):
            assert paragraph in shown, (item.path, paragraph[:60])
        furniture = set(gold["furniture"])
        assert furniture, item.path
        missing = furniture - shown
        assert not missing, (item.path, sorted(missing)[:5])
        assert not furniture & _record_lines(gold)
        assert furniture_count(gold["text"], furniture, gold["text"]) == 0
        for value in gold["sources"] + gold["fields_of_work"]:
            assert value in " ".join(lines), value
        checked += 1
    assert checked > 50


@pytest.mark.parametrize("number", THEMES)
def test_every_furniture_kind_shown_somewhere(number: int, sites: dict) -> None:
    site = sites[number]
    theme = site.theme
    assert theme is not None
    page = site.render(site.item_paths()[40]).text
    for block in theme.blocks:
        assert f'class="{block.cls}"' in page or block.position == "in-body-end"
        for line in block.lines:
            assert line in site.gold(site.items_live()[40])["furniture"]


def test_themes_vary_what_the_issue_asks() -> None:
    themes = [make_theme(n) for n in range(1, 201)]
    assert all(t is not None for t in themes)
    seen = {
        "details_place": {t.details_place for t in themes if t},
        "details_style": {t.details_style for t in themes if t},
        "value_split": {t.value_split for t in themes if t},
        "pager": {t.pager for t in themes if t},
        "end": {t.end for t in themes if t},
        "page_size": {t.page_size for t in themes if t},
        "depth": {t.depth for t in themes if t},
        "block tags": {b.tag for t in themes if t for b in t.blocks},
        "block kinds": {b.kind for t in themes if t for b in t.blocks},
        "positions": {b.position for t in themes if t for b in t.blocks},
    }
    assert seen["details_place"] == {"before-title", "after-title", "after-body", "sidebar"}
    assert seen["details_style"] >= {"table", "dl", "ul", "div", "p"}
    assert seen["value_split"] == {"comma", "elements", "lines"}
    assert seen["pager"] == {"rel-next", "pager-next", "numbers"}
    assert seen["end"] == {"404", "empty", "repeat"}
    assert {10, None} <= seen["page_size"]
    assert seen["block tags"] >= {"div", "aside", "section", "footer", "p"}
    assert len(seen["block kinds"]) == 10
    assert len(seen["positions"]) == 6
    assert len(seen["depth"]) >= 5


def test_long_label_values() -> None:
    site = Site(300, seed=3, theme=4)
    truth = site.ground_truth()
    assert any(len(r["sources"]) == 18 for r in truth.values())
    assert any(len(r["fields_of_work"]) == 10 for r in truth.values())
    plain = Site(300, seed=3).ground_truth()
    assert max(len(r["sources"]) for r in plain.values()) <= 3


def _listing_ids(site: Site, name: str) -> list[int]:
    """Nodes of a listing read by following its pages from page 0 until the end."""
    nodes: list[int] = []
    page = 0
    seen_pages: list[list[int]] = []
    while page < 200:
        answer = site.render(f"/{name}?page={page}&rows=50")
        if answer.status == 404:
            break
        root = lxml_html.document_fromstring(answer.body)
        entries = []
        for link in root.iter("a"):
            href = link.get("href") or ""
            path = urlsplit(href).path.rstrip("/")
            match = re.fullmatch(r"/(?:[a-z-]+/)*(\d+)", path)
            heading = link.getparent()
            if match and heading is not None and heading.tag == "h3":
                entries.append(int(match.group(1)))
        if not entries or (seen_pages and entries == seen_pages[-1]):
            break
        seen_pages.append(entries)
        nodes += entries
        page += 1
    return nodes


@pytest.mark.parametrize("number", THEMES)
def test_listings_list_every_listed_item_once_in_order(number: int, sites: dict) -> None:
    site = sites[number]
    theme = site.theme
    assert theme is not None
    for name in ("press-releases", "stories"):
        expected = [it.node for it in site.listing_order[name]]
        got = _listing_ids(site, name)
        assert got == expected, (name, theme.page_size, theme.end)


@pytest.mark.parametrize("number", THEMES)
def test_page_size_and_end_of_listing(number: int, sites: dict) -> None:
    site = sites[number]
    theme = site.theme
    assert theme is not None
    order = site.listing_order["press-releases"]
    size = theme.page_size or 50
    first = site.render("/press-releases?rows=50").text
    assert first.count(">Publishing date: ") == min(size, len(order))
    pages = -(-len(order) // size)
    past = site.render(f"/press-releases?page={pages}&rows=50")
    last = site.render(f"/press-releases?page={pages - 1}&rows=50")
    if theme.end == "404":
        assert past.status == 404
    elif theme.end == "empty":
        assert past.status == 200 and "Publishing date:" not in past.text
    else:
        assert past.status == 200
        assert past.text.count("Publishing date:") == last.text.count("Publishing date:")
    shows_next = f"page={pages}&" in last.text
    assert shows_next == theme.last_next


@pytest.mark.parametrize("number", THEMES)
def test_feeds_and_sitemaps_agree_with_items(number: int, sites: dict) -> None:
    site = sites[number]
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    index = ET.fromstring(site.render("/sitemap.xml").body)
    locs = []
    for loc in index.findall("s:sitemap/s:loc", ns):
        target = "/sitemap.xml?" + urlsplit(loc.text or "").query
        urlset = ET.fromstring(site.render(target).body)
        locs += [urlsplit(x.text or "").path for x in urlset.findall("s:url/s:loc", ns)]
    assert set(site.item_paths()) <= set(locs)
    for path in site.item_paths():
        assert site.render(path).status == 200
    rss = ET.fromstring(site.render("/press-releases/rss").body)
    links = [urlsplit(x.text or "").path for x in rss.iter("link")][1:]
    assert links == [it.path for it in site.listing_order["press-releases"][: len(links)]]


def test_theme_etag_differs_and_cli_accepts_theme() -> None:
    from replica.__main__ import build_parser

    a, b = Site(ITEMS, seed=3, theme=2), Site(ITEMS, seed=3, theme=0)
    path = a.item_paths()[12]
    assert a.render(path).etag != b.render(path).etag
    args = build_parser().parse_args(["serve", "--theme", "5"])
    assert args.theme == 5
