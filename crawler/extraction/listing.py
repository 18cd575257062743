"""A listing page: its entries and its pager, read from what the page shows.

An entry is a linked item and the site's listing labels (its date, content type, ...)
in the largest element around its link that links no other item,
whatever their order.  The pager
is read, never assumed: the next page is a ``rel=next`` link, else a link that says it is
the next one (``pager-next``, "Next", "›"), else the link numbered one past the current
page; the page size is the number of entries the page shows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urljoin, urlsplit

from lxml import etree

from archive.records import ListingEntry
from crawler.extraction import dates
from crawler.extraction.page import Line, Page, collapse, parse
from crawler.extraction.vocabulary import Vocabulary

_NUMBER = re.compile(r"^\d{1,5}$")
_NEXT_TEXT = frozenset({"next", "next page", "next ›", "next »", "›", "»", ">", "next >", "→"})


@dataclass
class ListingPage:
    """What one listing page shows."""

    entries: list[ListingEntry] = field(default_factory=list)
    next_url: str | None = None  # the pager's next page, when the page has one
    page_size: int = 0  # entries shown on this page
    pager: bool = False  # the page has a pager at all

    @property
    def fingerprint(self) -> tuple[str, ...]:
        """The page's entries as addresses: two pages with the same are the same page."""
        return tuple(entry.url for entry in self.entries)

    @property
    def last(self) -> bool:
        """No next page: the end of the listing."""
        return self.next_url is None


def read_listing(
    body: bytes | str | None,
    url: str,
    vocab: Vocabulary,
    is_item: Callable[[str], bool],
) -> ListingPage:
    """The entries and pager of a listing page (empty when it is not HTML)."""
    page = parse(body)
    if page is None:
        return ListingPage()
    entries = _entries(page, url, vocab, is_item)
    next_url, pager = read_pager(page.tree, url)
    return ListingPage(entries=entries, next_url=next_url, page_size=len(entries), pager=pager)


def _entries(
    page: Page, url: str, vocab: Vocabulary, is_item: Callable[[str], bool]
) -> list[ListingEntry]:
    """One entry per linked item: the largest element around its link that links no
    other item; the listing labels inside it (before or after the title) are its fields."""
    lines = page.lines
    links: dict[int, str] = {}  # line index -> item address
    for i, ln in enumerate(lines):
        if ln.text and not ln.chrome and _listing_label(ln.text, vocab) is None:
            found = [urljoin(url, h) for h in ln.links if is_item(urljoin(url, h))]
            if found:
                links[i] = found[0]
    entries: list[ListingEntry] = []
    seen: set[str] = set()
    for i, address in links.items():
        if address in seen:
            continue
        seen.add(address)
        first, last = _entry_span(page, i, links, address)
        entry = ListingEntry(url=address, title=lines[i].text)
        _read_fields(lines, first, last, vocab, entry)
        entries.append(entry)
    return entries


def _entry_span(page: Page, i: int, links: dict[int, str], address: str) -> tuple[int, int]:
    """Line range of the largest element around line ``i`` linking no other item."""
    span = (i, i)
    node: etree._Element | None = page.lines[i].owner
    while node is not None:
        got = page.spans.get(id(node))
        if got is None:
            break
        if any(got[0] <= j <= got[1] and a != address for j, a in links.items()):
            break
        span = got
        node = node.getparent()
    return span


def _read_fields(
    lines: list[Line], first: int, last: int, vocab: Vocabulary, entry: ListingEntry
) -> None:
    pending: str | None = None  # a label whose value is on the next line
    for ln in lines[first : last + 1]:
        if not ln.text:
            continue
        hit = _listing_label(ln.text, vocab)
        if hit:
            pending = None if hit[1] else hit[0]
            if hit[1]:
                _set(entry, hit[0], hit[1])
        elif pending:
            _set(entry, pending, ln.text)
            pending = None


def _listing_label(text: str, vocab: Vocabulary) -> tuple[str, str] | None:
    """``(attribute, value)`` when a line is a listing label (value may be empty)."""
    if len(text) >= 400:
        return None
    m = vocab.listing_pattern.match(text)
    if m is None or not (m.group("colon") or (len(text) < 60 and not m.group("value"))):
        return None
    return vocab.listing_labels[collapse(m.group("label")).lower()], m.group("value").strip()


def _set(entry: ListingEntry, name: str, value: str) -> None:
    if name == "published":
        parsed = dates.parse_date(value)
        entry.published = parsed.isoformat() if parsed else None
    else:
        setattr(entry, name, collapse(value))


def page_number(url: str) -> int | None:
    """The ``page`` query parameter of ``url`` as an integer (None without one)."""
    values = parse_qs(urlsplit(url).query).get("page")
    if not values:
        return None
    try:
        return int(values[0])
    except ValueError:
        return None


def read_pager(tree: etree._Element, url: str) -> tuple[str | None, bool]:
    """``(next page address or None, whether the page has a pager)``.

    The next page is, in this order: a link (``<a>`` or ``<link>``) to the same listing
    whose ``rel`` says ``next``, or marked "next" by its text ("Next", "›") or by a class
    token of it, its item or its list; else the link whose ``page`` parameter is one past
    this page's. A link that points back (its ``page`` no later than this one's) is no
    way forward, so a pager that wraps around cannot loop the crawl.
    """
    here = urlsplit(url)
    current = page_number(url) or 0
    same_listing: list[str] = []
    flagged: list[str] = []  # links that say "next", in document order
    for element in tree.iter("a", "link"):
        href = (element.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        target = urljoin(url, href)
        if urlsplit(target).path.rstrip("/") != here.path.rstrip("/") or target == url:
            continue
        same_listing.append(target)
        if _says_next(element):
            flagged.append(target)
    # a link to this very page under another spelling (its canonical link) is no pager
    has_pager = any(page_number(target) not in (None, current) for target in same_listing)
    for target in flagged:
        number = page_number(target)
        if number is None or number > current:
            return target, True
    for target in same_listing:
        if page_number(target) == current + 1:
            return target, True
    if not has_pager and not flagged:  # no page parameter: a row of numbered links?
        links = [el for el in tree.iter("a") if el.get("href")]
        return _numbered_next(tree, url, links)
    return None, has_pager or bool(flagged)


def _says_next(element: etree._Element) -> bool:
    if "next" in (element.get("rel") or "").lower().split():
        return True
    text = collapse(element.text_content()).lower() if element.tag == "a" else ""
    if text in _NEXT_TEXT or text.startswith("next "):
        return True
    node: etree._Element | None = element
    for _ in range(3):  # the link, its item, the item's list
        if node is None:
            break
        if any("next" in token for token in (node.get("class") or "").lower().split()):
            return True
        node = node.getparent()
    return False


def _numbered_next(
    tree: etree._Element, url: str, links: list[etree._Element]
) -> tuple[str | None, bool]:
    """The link numbered one past the current page, in a row of numbered links.

    The current page is the number in that row that is not a link (or is marked
    ``aria-current``).
    """
    numbered = {}
    for el in links:
        text = collapse(el.text_content())
        if _NUMBER.match(text) and el.tag == "a":
            numbered[int(text)] = el
    if not numbered:
        return None, False
    current = _current_number(next(iter(numbered.values())))
    if current is None or current + 1 not in numbered:
        return None, True
    return urljoin(url, numbered[current + 1].get("href") or ""), True


def _current_number(link: etree._Element) -> int | None:
    """The page number shown, not linked, in the row around ``link``."""
    row = link.getparent()
    if row is not None and row.tag == "li" and row.getparent() is not None:
        row = row.getparent()
    if row is None:
        return None
    for el in row.iter():
        if not isinstance(el.tag, str):
            continue
        marked = (el.get("aria-current") or "").lower() in ("page", "true")
        linked = el.tag == "a" or any(True for _ in el.iterancestors("a"))
        if not marked and (linked or el.find(".//a") is not None):
            continue
        text = collapse(el.text_content())
        if _NUMBER.match(text):
            return int(text)
    return None
