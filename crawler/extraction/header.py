"""An item's header: its title, its type label (the record's ``kind``) and its byline.

The title is the line the document names as its title (``og:title``, ``<title>`` without
the site suffix), preferring a heading, else the page's ``<h1>``, else the line above the
first detail label.  The type label is a known label near the title, else a short
capitalised line just above it.  Neither depends on where the labelled details sit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from crawler.extraction.details import Details, find_labels, read_details
from crawler.extraction.page import Line, Page, head_title, norm_key
from crawler.extraction.vocabulary import Vocabulary

BYLINE_MAX = 200
#: How far (in lines) from the title the type label and byline are looked for.
TYPE_WINDOW = 3
BYLINE_WINDOW = 40
_SENTENCE_END = re.compile(r"[.!?:;…]['\"”’)]?$")
_SUFFIX = re.compile(r"\s+[|–—-]\s+[^|–—-]{1,40}$")


@dataclass
class ItemHeader:
    """What was read around the body of an item page."""

    title: str
    title_at: int
    type_label: str | None
    kind: str | None
    details: Details
    byline: str | None
    lines: set[int] = field(default_factory=set)  # every header line (title, labels, ...)


def read_header(page: Page, vocab: Vocabulary) -> ItemHeader | None:
    """The header of an item page, or ``None`` when the page has no labelled details."""
    labels = find_labels(page.lines, vocab)
    if not labels:
        return None
    title_at = find_title(page, vocab, labels)
    if title_at is None:
        return None
    details = read_details(page.lines, vocab, title_at, labels)
    lines = {title_at} | details.lines
    type_at = _find_type(page.lines, vocab, title_at, lines)
    type_label = page.lines[type_at].text if type_at is not None else None
    if type_at is not None:
        lines.add(type_at)
    byline_at = _find_byline(page.lines, vocab, title_at, lines)
    byline = None
    if byline_at is not None:
        byline = byline_of(page.lines[byline_at].text, vocab)
        lines.add(byline_at)
    return ItemHeader(
        title=page.lines[title_at].text,
        title_at=title_at,
        type_label=type_label,
        kind=vocab.slug_type(type_label) if type_label else None,
        details=details,
        byline=byline,
        lines=lines,
    )


def title_keys(page: Page) -> set[str]:
    """The keys the document gives for its own title (with and without a site suffix)."""
    head = head_title(page.tree)
    keys = {norm_key(head)} if head else set()
    if head and _SUFFIX.search(head):
        keys.add(norm_key(_SUFFIX.sub("", head)))
    return keys - {""}


def find_title(
    page: Page, vocab: Vocabulary, labels: list[tuple[int, str]] | None = None
) -> int | None:
    """Index of the title line (see the module docstring)."""
    keys = title_keys(page)
    labels = find_labels(page.lines, vocab) if labels is None else labels
    first_label = labels[0][0] if labels else len(page.lines)
    named = [i for i, ln in enumerate(page.lines) if ln.text and ln.key in keys and not ln.chrome]
    if named:
        headings = [i for i in named if page.lines[i].heading]
        pool = headings or named
        return min(pool, key=lambda i: abs(i - first_label))
    for i, ln in enumerate(page.lines):
        if ln.text and not ln.chrome and _tag(ln) == "h1":
            return i
    t = first_label - 1
    while t >= 0 and not page.lines[t].text:
        t -= 1
    if t > 0 and byline_of(page.lines[t].text, vocab):
        t -= 1
    return t if t >= 0 and page.lines[t].text else None


def _tag(ln: Line) -> str:
    tag = ln.owner.tag
    return tag.lower() if isinstance(tag, str) else ""


def type_label_like(text: str, vocab: Vocabulary) -> bool:
    if norm_key(text) in vocab.type_labels:
        return True
    words = text.split()
    return (
        0 < len(words) <= 3
        and len(text) <= 30
        and text[:1].isupper()
        and not _SENTENCE_END.search(text)
    )


def _near(page: list[Line], start: int, step: int, used: set[int], count: int) -> list[int]:
    """Up to ``count`` text lines from ``start`` in direction ``step``, header lines skipped."""
    out: list[int] = []
    i = start + step
    while 0 <= i < len(page) and len(out) < count:
        if page[i].text and i not in used:
            out.append(i)
        i += step
    return out


def _find_type(page: list[Line], vocab: Vocabulary, title_at: int, used: set[int]) -> int | None:
    """A known type label among the lines around the title (header lines skipped), else
    a label-like line just above it."""
    above = _near(page, title_at, -1, used, TYPE_WINDOW)
    below = _near(page, title_at, 1, used, TYPE_WINDOW)
    for i in [x for pair in zip(above, below, strict=False) for x in pair] + above + below:
        if page[i].key in vocab.type_labels:
            return i
    if above and not page[above[0]].chrome and not find_labels([page[above[0]]], vocab):
        if type_label_like(page[above[0]].text, vocab):
            return above[0]
    return None


def byline_of(text: str, vocab: Vocabulary) -> str | None:
    m = vocab.byline_pattern.match(text)
    if not m or len(text) > BYLINE_MAX or text.endswith("."):
        return None
    return " ".join(m.group("name").split())


def _find_byline(page: list[Line], vocab: Vocabulary, title_at: int, used: set[int]) -> int | None:
    """The first byline-like line after the title, before the body's first paragraph."""
    for i in range(title_at + 1, min(len(page), title_at + BYLINE_WINDOW)):
        ln = page[i]
        if i in used or not ln.text or ln.chrome:
            continue
        if byline_of(ln.text, vocab):
            return i
        if len(ln.text) > BYLINE_MAX:
            return None
    return None
