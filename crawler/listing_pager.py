"""What a listing page says about itself: its entries and the way to the next page.

Pure functions from a page (bytes and its URL) to plain data; no Scrapy, no archive. The
crawl never assumes a page size or computes the next page from the ``rows=`` it asked
for: the site chooses both (SITE.md: a capture that asked for 50 rows got 10). The next
page is the one the page's own pager links to, found in this order:

1. a link (``<a>`` or ``<link>``) whose ``rel`` says ``next``;
2. a link inside a pager element marked as "next" (``pager-next``, ``pager__item--next``,
   any class token containing ``next``), or whose text says "Next", ``›`` or ``>``;
3. a page number: a link to the same listing whose ``page`` parameter is one more than
   this page's.

A link that points back (its ``page`` no later than this page's) is no way forward.
Whether the listing ends (no next link, an empty page, a page repeating the previous
one, a 404) is the frontier's decision; this module only reads what the page shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urljoin, urlsplit

import lxml.html
from lxml import etree

from archive.records import ListingEntry
from crawler.site_profile import parse_listing

__all__ = ["ListingPage", "Pager", "page_number", "read_listing", "read_pager"]

#: Link texts that mean "the next page" (compared lowercased, without surrounding spaces).
NEXT_TEXTS = re.compile(r"^(next\b.*|›|>|→)$", re.IGNORECASE)


@dataclass(frozen=True)
class Pager:
    """The pager of one listing page, as the page shows it."""

    next_url: str | None  # absolute address of the next page; None: the page links none
    has_pager: bool  # the page links other pages of the same listing at all


@dataclass(frozen=True)
class ListingPage:
    """A listing page read: its entries (every kind, in page order) and its pager."""

    entries: list[ListingEntry]
    pager: Pager

    @property
    def fingerprint(self) -> tuple[str, ...]:
        """The page's entries as addresses: two pages with the same are the same page."""
        return tuple(entry.url for entry in self.entries)


def page_number(url: str) -> int | None:
    """The ``page`` query parameter of ``url`` as an integer (None without one)."""
    values = parse_qs(urlsplit(url).query).get("page")
    if not values:
        return None
    try:
        return int(values[0])
    except ValueError:
        return None


def read_listing(body: bytes | str, url: str) -> ListingPage:
    """Entries and pager of the listing page ``body`` fetched from ``url``."""
    return ListingPage(parse_listing(body, url), read_pager(body, url))


def read_pager(body: bytes | str, url: str) -> Pager:
    """The pager links of a listing page (see the module docstring for the order)."""
    tree = _tree(body)
    if tree is None:
        return Pager(None, False)
    here = urlsplit(url)
    current = page_number(url) or 0
    same_listing: list[tuple[etree._Element, str]] = []
    flagged: list[str] = []  # rel=next, "next" classes and texts, in document order
    for element in tree.iter("a", "link"):
        href = (element.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        target = urljoin(url, href)
        parts = urlsplit(target)
        if parts.path.rstrip("/") != here.path.rstrip("/") or target == url:
            continue
        same_listing.append((element, target))
        if _says_next(element):
            flagged.append(target)
    # a link to this very page under another spelling (its canonical link) is no pager
    has_pager = any(page_number(target) not in (None, current) for _, target in same_listing)
    for target in flagged:
        number = page_number(target)
        if number is None or number > current:
            return Pager(target, True)
    for _, target in same_listing:
        if page_number(target) == current + 1:
            return Pager(target, True)
    return Pager(None, has_pager or bool(flagged))


def _tree(body: bytes | str) -> etree._Element | None:
    if not body or not body.strip():
        return None
    try:
        return lxml.html.document_fromstring(body)
    except (etree.ParserError, ValueError):
        return None


def _says_next(element: etree._Element) -> bool:
    if "next" in (element.get("rel") or "").lower().split():
        return True
    text = " ".join(element.text_content().split()) if element.tag == "a" else ""
    if text and NEXT_TEXTS.match(text):
        return True
    node: etree._Element | None = element
    for _ in range(3):  # the link, its item, the item's list
        if node is None:
            break
        classes = (node.get("class") or "").lower().split()
        if any("next" in token for token in classes):
            return True
        node = node.getparent()
    return False
