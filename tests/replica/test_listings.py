"""Listings, sitemap, RSS and robots.txt: what a crawler discovers items from."""

from __future__ import annotations

import re
import urllib.robotparser
import xml.etree.ElementTree as ET

import pytest

from replica import Site
from replica.generator import format_day
from replica.textview import visible_lines
from replica.vocab import KIND_LABELS

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture(scope="module")
def site() -> Site:
    return Site(items=400, seed=4, epoch=1, sitemap_size=150)


def _entries(site: Site, target: str) -> list[list[str]]:
    """Listing entries as their visible lines, split at each 'Publishing date:' title."""
    lines = visible_lines(site.render(target).body)
    starts = [i - 1 for i, line in enumerate(lines) if line.startswith("Publishing date: ")]
    ends = starts[1:] + [starts[-1] + 7]
    return [lines[a:b] for a, b in zip(starts, ends, strict=True)]


def test_press_release_entries_are_labelled_like_the_site(site: Site) -> None:
    entries = _entries(site, "/press-releases")
    expected = site.listing_order["press-releases"][:10]
    assert len(entries) == 10
    for lines, item in zip(entries, expected, strict=True):
        c = site.content(item)
        assert lines[0] == c.title
        assert lines[1] == f"Publishing date: {format_day(item.published)}"
        assert lines[2] == "Content type: Press release"
        rest = lines[3:]
        if item.source >= 0 and site.render(item.path).status == 200:
            where = [x for x in rest if x.startswith("Where we are: ")]
            what = [x for x in rest if x.startswith("What we do: ")]
            assert bool(what) == bool(c.fields_of_work)
            if what:
                assert what[0] == "What we do: " + ", ".join(c.fields_of_work)
            assert len(where) <= 1
        teaser = [x for x in rest if not x.startswith(("Where we are", "What we do"))][0]
        assert c.paragraphs[0].startswith(teaser.removesuffix(" ...").rstrip())


def test_listings_are_newest_first_and_page(site: Site) -> None:
    first = site.listing_order["press-releases"]
    days = [it.published for it in first]
    assert days == sorted(days, reverse=True)
    titles = [e[0] for e in _entries(site, "/press-releases?page=0")]
    titles += [e[0] for e in _entries(site, "/press-releases?page=1")]
    assert titles == [site.content(it).title for it in first[:20]]
    fifty = _entries(site, "/press-releases?page=0&rows=50&solrsort=ds_date%20desc")
    assert len(fifty) == 50
    assert len(_entries(site, "/press-releases?rows=500")) == 50
    html = site.render("/press-releases?page=1").text
    assert 'href="?page=2"' in html and 'href="?page=0"' in html
    assert "No content found." in site.render("/press-releases?page=999").text


def test_each_listing_holds_its_kinds(site: Site) -> None:
    stories = _entries(site, "/stories?rows=50")
    assert stories and all(e[2] == "Content type: Story" for e in stories)
    labels = {e[2] for p in range(8) for e in _entries(site, f"/newsroom?page={p}&rows=50")}
    assert labels == {f"Content type: {label}" for label in KIND_LABELS.values()}


def test_listing_links_use_address_variants(site: Site) -> None:
    hrefs = []
    for p in range(8):
        html = site.render(f"/newsroom?page={p}&rows=50").text
        hrefs += re.findall(r'<h3 class="teaser-title"><a href="([^"]+)"', html)
    assert any(h.startswith("/node/") for h in hrefs)
    assert any("utm_source=" in h for h in hrefs)
    assert any(h.endswith("/") for h in hrefs)
    assert sum(1 for h in hrefs if re.fullmatch(r"/[a-z/-]+/\d+", h)) > len(hrefs) * 0.7


def test_unlisted_items_are_only_in_the_sitemap(site: Site) -> None:
    unlisted = [it for it in site.items_live() if not it.listed]
    assert unlisted
    listed_ids = {it.item_id for it in site.listing_order["newsroom"]}
    assert not {it.item_id for it in unlisted} & listed_ids


def test_sitemap_index_and_files(site: Site) -> None:
    index = ET.fromstring(site.render("/sitemap.xml").body)
    files = index.findall(f"{SM}sitemap")
    assert len(files) >= 3
    locs: list[str] = []
    for entry in files:
        loc = entry.find(f"{SM}loc").text  # type: ignore[union-attr]
        target = loc.split("127.0.0.1", 1)[1]  # type: ignore[union-attr]
        urlset = ET.fromstring(site.render(target).body)
        urls = urlset.findall(f"{SM}url")
        assert 0 < len(urls) <= site.sitemap_size
        mods = [u.findtext(f"{SM}lastmod") or "" for u in urls]
        assert entry.find(f"{SM}lastmod").text == max(mods)  # type: ignore[union-attr]
        locs += [u.find(f"{SM}loc").text.split("127.0.0.1", 1)[1] for u in urls]  # type: ignore
    items = [p for p in locs if re.search(r"/\d+$", p)]
    assert sorted(items) == sorted(site.item_paths())
    assert "/partnerships" in locs
    assert site.render("/sitemap.xml?page=99").status == 404


def test_rss_lists_the_newest_press_releases(site: Site) -> None:
    answer = site.render("/press-releases/rss")
    assert answer.headers["Content-Type"].startswith("application/rss+xml")
    channel = ET.fromstring(answer.body).find("channel")
    assert channel is not None
    items = channel.findall("item")
    expected = site.listing_order["press-releases"][: len(items)]
    assert len(items) == 20
    assert [i.findtext("link").split("127.0.0.1", 1)[1] for i in items] == [  # type: ignore
        it.path for it in expected
    ]
    assert items[0].findtext("pubDate").endswith("+0000")  # type: ignore[union-attr]
    assert "/press-releases/rss" in site.render("/press-releases").text


def test_robots_disallows_paths_that_pages_link_to(site: Site) -> None:
    robots = urllib.robotparser.RobotFileParser()
    robots.parse(site.render("/robots.txt").text.splitlines())
    html = site.render(site.item_paths()[50]).text
    linked = set(re.findall(r'href="(/(?:search|user|print)[^"]*)"', html))
    assert {"/search?keys=", "/user/login"} <= linked and any(
        p.startswith("/print/") for p in linked
    )
    for path in linked:
        assert not robots.can_fetch("osce-archive", "http://127.0.0.1" + path), path
    assert robots.can_fetch("osce-archive", "http://127.0.0.1" + site.item_paths()[50])
    assert robots.can_fetch("osce-archive", "http://127.0.0.1/press-releases?page=3")
    assert "Sitemap: http://127.0.0.1/sitemap.xml" in site.render("/robots.txt").text


def test_some_pages_link_to_pdfs_and_other_hosts(site: Site) -> None:
    pages = [site.render(p).text for p in site.item_paths()[::10]]
    assert any(".pdf" in p for p in pages)
    assert all("https://www.facebook.com/sharer" in p for p in pages)
    pdf = re.search(r'href="(/files/[^"]+\.pdf)"', next(p for p in pages if ".pdf" in p))
    assert pdf
    answer = site.render(pdf.group(1))
    assert answer.status == 200 and answer.headers["Content-Type"] == "application/pdf"
    assert answer.body.startswith(b"%PDF")


def test_static_pages_are_not_items(site: Site) -> None:
    for path in ("/partnerships", "/about-us", "/", "/arms-control", "/fsc"):
        answer = site.render(path)
        assert answer.status == 200, path
        assert "<time datetime" not in answer.text.split("<main")[1] or path == "/"
        assert "Content type:" not in answer.text
