"""A listing page: its entries and its pager, read from what the page shows.

Entries are driven by the site's listing labels (``Publishing date:``, ``Content
type:``, ...): an entry is the linked item line above a run of those labels.  The pager
is read, never assumed: the next page is a ``rel=next`` link, else a link that says it is
the next one (``pager-next``, "Next", "›"), else the link numbered one past the current
page; the page size is the number of entries the page shows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin

from lxml import etree

from archive.records import ListingEntry
from crawler.extraction import dates
from crawler.extraction.page import Line, collapse, parse
from crawler.extraction.vocabulary import Vocabulary

_NEXT_TEXT = frozenset({"next", "next page", "next ›", "next »", "›", "»", ">", "next >"})
_NUMBER = re.compile(r"^\d{1,5}$")


@dataclass
class ListingPage:
    """What one listing page shows."""

    entries: list[ListingEntry] = field(default_factory=list)
    next_url: str | None = None  # the pager's next page, when the page has one
    page_size: int = 0  # entries shown on this page
    pager: bool = False  # the page has a pager at all

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
    entries = _entries(page.lines, url, vocab, is_item)
    next_url, pager = read_pager(page.tree, url)
    return ListingPage(entries=entries, next_url=next_url, page_size=len(entries), pager=pager)


def _entries(
    page: list[Line], url: str, vocab: Vocabulary, is_item: Callable[[str], bool]
) -> list[ListingEntry]:
    entries: list[ListingEntry] = []
    current: ListingEntry | None = None
    pending: str | None = None  # a label whose value is on the next line
    last_link: tuple[str, str] | None = None
    for ln in page:
        if ln.chrome or not ln.text:
            continue
        hit = _listing_label(ln.text, vocab)
        if hit:
            if current is None and last_link is not None:
                current = ListingEntry(url=urljoin(url, last_link[0]), title=last_link[1])
                entries.append(current)
                last_link = None
            pending = None
            if current is not None and hit[1]:
                _set(current, hit[0], hit[1])
            elif current is not None:
                pending = hit[0]
            continue
        if pending and current is not None:
            _set(current, pending, ln.text)
            pending = None
            continue
        item_links = [h for h in ln.links if is_item(urljoin(url, h))]
        if item_links:
            last_link = (item_links[0], ln.text)
            current = None
    return entries


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


def read_pager(tree: etree._Element, url: str) -> tuple[str | None, bool]:
    """``(next page address or None, whether the page has a pager)``."""
    links = [el for el in tree.iter("a", "link") if el.get("href")]
    for el in links:
        if "next" in (el.get("rel") or "").lower().split():
            return urljoin(url, el.get("href") or ""), True
    for el in links:
        hint = " ".join((el.get("class") or "", el.getparent().get("class") or "")).lower()
        text = collapse(el.text_content()).lower()
        if "pager-next" in hint or "pager__item--next" in hint or text in _NEXT_TEXT:
            return urljoin(url, el.get("href") or ""), True
    return _numbered_next(tree, url, links)


def _numbered_next(
    tree: etree._Element, url: str, links: list[etree._Element]
) -> tuple[str | None, bool]:
    """The link numbered one past the current page, in a row of numbered links."""
    numbered = {}
    for el in links:
        text = collapse(el.text_content())
        if _NUMBER.match(text):
            numbered[int(text)] = el
    if not numbered:
        return None, False
    current = None
    for el in tree.iter():
        if not isinstance(el.tag, str):
            continue
        is_current = (el.get("aria-current") or "").lower() in ("page", "true")
        text = collapse(el.text_content()) if is_current or el.tag == "strong" else ""
        if is_current and _NUMBER.match(text):
            current = int(text)
            break
    if current is None:
        missing = [n for n in range(1, max(numbered) + 1) if n not in numbered]
        current = missing[0] if missing else None
    if current is None or current + 1 not in numbered:
        return None, True
    return urljoin(url, numbered[current + 1].get("href") or ""), True
