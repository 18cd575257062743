"""Where an item's body starts and ends, found from the page's structure.

No tag or class name decides it.  The steps:

1. *candidates*: the lines after the title that are not header lines (title, type label,
   labels and values, byline), not probable chrome, not furniture (the profile's known
   lines and headed boxes, and the learned model's lines and boxes);
2. *anchors*: the candidates that read as paragraphs (long, sentence-like, few links);
3. *column*: the lowest element holding most of the anchors' text (a "latest news" box
   of teasers elsewhere on the page does not pull it wider);
4. *body*: the candidates inside the column that are not link lists or button rows
   (link density), in document order.

The learned model is applied only when it leaves at least half of the paragraphs the
structure found without it; otherwise it is rejected for that page with a warning.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field

from lxml import etree

from crawler.extraction.furniture import MAX_BLOCK_CHARS, FurnitureModel, furniture_lines
from crawler.extraction.header import ItemHeader
from crawler.extraction.page import Line, Page, ancestors
from crawler.extraction.vocabulary import Vocabulary

#: A paragraph: at least this long, and few of its characters in links.
SHORT_ANCHOR_CHARS = 30
ANCHOR_LINK_DENSITY = 0.3
#: Lines with this much of their text in links are link lists or button rows.
LINK_LINE_DENSITY = 0.5
#: The column holds at least this share of the anchors' text.
COLUMN_SHARE = 0.6
COUNT_SHARE = 0.5
_SENTENCE = re.compile(r"[.!?…]['\"”’)]?(\s|$)")


@dataclass
class Body:
    """The body's lines (indexes into the page) and what was said on the way."""

    lines: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    model_applied: bool = True


def find_body(parsed: Page, header: ItemHeader, vocab: Vocabulary, model: FurnitureModel) -> Body:
    """The body of an item page (see the module docstring)."""
    page, extent = parsed.lines, parsed.spans
    protect = header.lines
    known = furniture_lines(
        page, vocab.furniture_lines, vocab.furniture_headings, extent, protect
    ) | {i for i, ln in enumerate(page) if ln.key and vocab.is_furniture_key(ln.key)}
    structural, paragraphs = _body_lines(page, extent, header, known)
    learned = furniture_lines(page, model.lines, model.boxes, extent, protect)
    if not learned:
        return Body(lines=structural)
    # "More than half" is weighed in characters: three short trailer lines under two
    # long paragraphs are not half of the text.
    removed = [i for i in paragraphs if i in learned]
    total = sum(len(page[i].text) for i in paragraphs)
    if paragraphs and 2 * sum(len(page[i].text) for i in removed) > total:
        warning = (
            f"furniture model {model.version} rejected for this page: it would remove "
            f"{len(removed)} of {len(paragraphs)} body paragraphs (more than half the text)"
        )
        return Body(lines=structural, warnings=[warning], model_applied=False)
    return Body(lines=_body_lines(page, extent, header, known | learned)[0])


def _body_lines(
    page: list[Line],
    extent: dict[int, tuple[int, int]],
    header: ItemHeader,
    excluded: Collection[int],
) -> tuple[list[int], list[int]]:
    """``(body lines, the paragraphs among them)``: the candidates inside the column from
    its first paragraph to its last, without link lines."""
    candidates = [
        i
        for i in range(header.title_at + 1, len(page))
        if page[i].text and not page[i].chrome and i not in header.lines and i not in excluded
    ]
    anchors = _anchors(page, candidates)
    if not anchors:
        return [], []
    column = _column(page, anchors)
    lo, hi = extent.get(id(column), (0, len(page) - 1))
    inside = [i for i in anchors if lo <= i <= hi]
    first, last = min(inside), max(inside)
    lines = [
        i
        for i in candidates
        if first <= i <= last
        and (page[i].link_density < LINK_LINE_DENSITY or len(page[i].text) > MAX_BLOCK_CHARS)
    ]
    return lines, inside


def _anchors(page: list[Line], candidates: list[int]) -> list[int]:
    """The candidates that read as paragraphs (sentences with few links), else any."""
    found = [
        i
        for i in candidates
        if len(page[i].text) >= SHORT_ANCHOR_CHARS
        and page[i].link_density < ANCHOR_LINK_DENSITY
        and _SENTENCE.search(page[i].text)
    ]
    return found or [i for i in candidates if page[i].link_density < ANCHOR_LINK_DENSITY]


def _column(page: list[Line], anchors: list[int]) -> etree._Element:
    """The lowest element above the anchors holding most of their text and most of them."""
    chars: dict[int, int] = {}
    count: dict[int, int] = {}
    element: dict[int, etree._Element] = {}
    depth: dict[int, int] = {}
    total = 0
    for i in anchors:
        size = len(page[i].text)
        total += size
        chain = ancestors(page[i].owner)[1:] or [page[i].owner]  # from the owner's parent
        for d, el in enumerate(reversed(chain)):
            chars[id(el)] = chars.get(id(el), 0) + size
            count[id(el)] = count.get(id(el), 0) + 1
            element[id(el)] = el
            depth[id(el)] = d
    best = max(
        (
            k
            for k in chars
            if chars[k] >= COLUMN_SHARE * total and count[k] >= COUNT_SHARE * len(anchors)
        ),
        key=lambda k: depth[k],
    )
    return element[best]
