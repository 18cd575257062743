"""Reading a listing page's pager, and the frontier's rules for a listing's end.

Markup below is written in several styles on purpose (rel=next, a ``pager-next`` item,
bare page numbers, a "Last" link only, a next link pointing back): the crawl follows the
site's pager, whatever it looks like, and never computes pages from the rows it asked.
"""

from __future__ import annotations

from typing import NamedTuple

import pytest

from crawler.extraction.listing import ListingPage, page_number
from crawler.extraction.listing import read_pager as read_tree_pager
from crawler.extraction.page import load
from crawler.frontier import ChainState, Frontier, Site
from crawler.sites import DEFAULT as SITE


class Pager(NamedTuple):
    next_url: str | None
    has_pager: bool


def read_pager(body: bytes, url: str) -> Pager:
    """The pager of a listing page, as the site profile's listing reader sees it."""
    tree = load(body)
    return Pager(None, False) if tree is None else Pager(*read_tree_pager(tree, url))


def read_listing(body: bytes, url: str) -> ListingPage:
    return SITE.read_listing(body, url)


BASE = "https://www.osce.org"
HERE = f"{BASE}/press-releases?page=2"


def page(pager: str, head: str = "") -> bytes:
    return f"<html><head>{head}</head><body><h1>News</h1>{pager}</body></html>".encode()


@pytest.mark.parametrize(
    ("markup", "head", "expected"),
    [
        ('<div><a href="?page=1">prev</a> <a rel="next" href="?page=3">go</a></div>', "", 3),
        ("", '<link rel="next" href="/press-releases?page=3">', 3),
        (
            '<ul class="pager"><li class="pager-previous"><a href="?page=1">‹</a></li>'
            '<li class="pager-next"><a href="?page=3">›</a></li>'
            '<li class="pager-last"><a href="?page=40">last »</a></li></ul>',
            "",
            3,
        ),
        ('<p><a href="?page=40">Last</a> <a href="?page=3">Next page</a></p>', "", 3),
        (
            '<nav><a href="?page=0">1</a> <a href="?page=1">2</a> <b>3</b> '
            '<a href="?page=3">4</a> <a href="?page=4">5</a></nav>',
            "",
            3,
        ),
    ],
)
def test_the_next_page_is_the_one_the_pager_links(markup: str, head: str, expected: int) -> None:
    pager = read_pager(page(markup, head), HERE)
    assert pager.has_pager
    assert pager.next_url is not None and page_number(pager.next_url) == expected


def test_no_next_link_a_backward_next_link_and_no_pager() -> None:
    last_only = read_pager(page('<a href="?page=0">First</a> <a href="?page=1">Prev</a>'), HERE)
    assert last_only == Pager(None, True)
    backwards = read_pager(page('<a rel="next" href="?page=0">next</a>'), HERE)
    assert backwards == Pager(None, True)
    skips_ahead = read_pager(page('<a href="?page=40">Last »</a>'), HERE)
    assert skips_ahead == Pager(None, True), "a Last link is not the next page"
    assert read_pager(page("<p>No content found.</p>"), HERE) == Pager(None, False)
    canonical = '<link rel="canonical" href="/press-releases?page=2&amp;rows=10">'
    assert read_pager(page("<p>Rows</p>", canonical), HERE) == Pager(None, False)
    assert read_pager(b"", HERE) == Pager(None, False)


def test_a_cursor_next_link_without_page_numbers_is_followed() -> None:
    pager = read_pager(page('<a class="next" href="/press-releases?after=xyz">More</a>'), HERE)
    assert pager.next_url == f"{BASE}/press-releases?after=xyz"


def test_read_listing_gives_entries_and_pager() -> None:
    body = page(
        '<div><h3><a href="/fsc/55436">A title</a></h3><p>Publishing date: 13 March 2006</p>'
        "<p>Content type: Press release</p></div>"
        '<ul><li class="pager__item--next"><a href="?page=3">Next</a></li></ul>'
    )
    listing = read_listing(body, HERE)
    assert listing.fingerprint == (f"{BASE}/fsc/55436",)
    assert listing.next_url == f"{BASE}/press-releases?page=3"


def chain() -> tuple[Frontier, ChainState]:
    f = Frontier(Site(BASE), frozenset({"press-release"}), full=True, rows=50)
    return f, ChainState("press-release", "/press-releases", frozenset({"press-release"}))


def fp(*nodes: int) -> tuple[str, ...]:
    return tuple(f"{BASE}/fsc/{n}" for n in nodes)


def test_the_listing_follows_the_pager_and_learns_the_page_size() -> None:
    f, c = chain()
    assert f.listing_url(c) == f"{BASE}/press-releases?page=0&rows=50"
    nxt = f"{BASE}/press-releases?page=1"  # the site dropped rows=: it shows ten
    assert f.next_page(c, 10, True, next_url=nxt, has_pager=True, fingerprint=fp(*range(10)))
    assert f.listing_url(c) == nxt and c.page == 1
    assert f.page_size("press-release") == 10
    assert c.ended is None


@pytest.mark.parametrize(
    ("n", "next_url", "has_pager", "nodes", "why"),
    [
        (0, None, False, (), "empty page"),
        (10, f"{BASE}/press-releases?page=2", True, range(10), "page repeats the previous one"),
        (10, None, True, range(10, 20), "no next link"),
        (4, None, False, range(10, 14), "no next link"),
        (10, "https://elsewhere.example/press-releases?page=2", True, range(10, 20), "leaves"),
        (10, f"{BASE}/press-releases?page=0&rows=10", True, range(10, 20), "points back"),
    ],
)
def test_the_end_of_a_listing_is_read_from_the_site(
    n: int, next_url: str | None, has_pager: bool, nodes: range, why: str
) -> None:
    f, c = chain()
    f.rows = 10  # the site honours the rows asked for, and shows no pager on page 0
    f.listing_url(c)
    assert f.next_page(c, 10, True, next_url=None, has_pager=False, fingerprint=fp(*range(10)))
    assert c.page == 1 and c.url is None  # no pager, every row asked for: by number
    f.listing_url(c)
    assert not f.next_page(
        c, n, True, next_url=next_url, has_pager=has_pager, fingerprint=fp(*nodes)
    )
    assert c.ended is not None and why in c.ended
    assert f.listings_complete and f.complete, "the end of a listing is not a failure"


def test_fewer_rows_than_asked_and_no_pager_is_the_last_page() -> None:
    f, c = chain()  # asks for 50
    f.listing_url(c)
    assert not f.next_page(c, 10, True, next_url=None, has_pager=False, fingerprint=fp(1))
    assert c.ended == "no next link"


def test_a_404_past_the_last_page_ends_the_listing_without_failing() -> None:
    f, c = chain()
    f.listing_gone(c, 404)
    assert c.ended == "HTTP 404"
    assert f.listings_complete and f.complete
