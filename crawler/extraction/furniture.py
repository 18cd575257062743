"""Site furniture learned per host: lines and whole blocks that recur across its pages.

Why learned: a site grows furniture nobody listed (a footer line, a "Follow us" box inside
the article, a "Latest news" box whose links change on every page), and its menus drift.
What recurs on a share of a host's pages is not content.  Two kinds of evidence:

* **lines**: a short text block (at most :data:`MAX_BLOCK_CHARS`) seen on many pages;
* **boxes**: a structural block whose *heading* recurs while what is inside may differ
  from page to page: the block is the largest element that starts with the heading and
  holds no long paragraph (or, when the heading stands alone, the link lines after it).

Long paragraphs are never furniture, however often a site republishes them.

Why data: :class:`FurnitureModel` is frozen, versioned by a hash of its content and
stored as JSON, and extraction takes it as an argument: a record is a pure function of
(page, address, listing entry, model) and names the model that made it.

The crawl-time API::

    learner = Learner(host, default=profile.default_furniture())
    learner.add(url, html)              # or add_page(url, page) with a parsed page
    model = learner.model(keep=previous)   # hysteresis against the stored model
    model.version, model.to_json(), FurnitureModel.from_json(...)
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lxml import etree

from crawler.extraction.page import Line, Page, norm_key, parse

#: Blocks longer than this are never furniture (they are paragraphs, republished or not).
MAX_BLOCK_CHARS = 300
#: A box heading is short.
MAX_HEADING_CHARS = 80
#: A line is furniture when seen on at least this share of a host's pages ...
MIN_SHARE = 0.05
#: ... and on at least this many of them; below this many pages nothing is learned.
MIN_PAGES = 5
#: A learner keeps counting up to this many pages (a bounded sample).
MAX_SAMPLE = 3000
#: What a box holds besides its heading: links mostly, or short lines.
BOX_LINK_DENSITY = 0.5
BOX_SHORT_LINE = 120


@dataclass(frozen=True)
class FurnitureModel:
    """Normalised lines and box headings that are furniture on one host."""

    lines: frozenset[str] = frozenset()
    boxes: frozenset[str] = frozenset()
    host: str | None = None
    pages: int = 0
    #: Set when the learner had too few pages and handed back the bundled default.
    fallback: bool = False

    @property
    def version(self) -> str:
        """A content hash: the same blocks give the same version, whoever learned them."""
        payload = json.dumps(
            {"lines": sorted(self.lines), "boxes": sorted(self.boxes)}, ensure_ascii=False
        )
        if not self.boxes:  # models of the first round (lines only) keep their version
            payload = json.dumps(sorted(self.lines), ensure_ascii=False)
        return "fm-" + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]

    def is_furniture(self, text: str) -> bool:
        key = norm_key(text)
        return len(key) <= MAX_BLOCK_CHARS and (key in self.lines or key in self.boxes)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "host": self.host,
            "pages": self.pages,
            "fallback": self.fallback,
            "blocks": sorted(self.lines),
            "boxes": sorted(self.boxes),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FurnitureModel:
        def keys(name: str) -> frozenset[str]:
            values = data.get(name) or []
            if not isinstance(values, list):
                raise ValueError(f"furniture model: {name!r} is not a list")
            return frozenset(k for k in (norm_key(str(v)) for v in values) if k)

        pages = data.get("pages")
        host = data.get("host")
        return cls(
            lines=keys("blocks") | keys("lines"),
            boxes=keys("boxes"),
            host=str(host) if host else None,
            pages=pages if isinstance(pages, int) else 0,
            fallback=bool(data.get("fallback")),
        )

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=1) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> FurnitureModel:
        """A model saved by :meth:`save` (``ValueError`` when the file is not one)."""
        data = json.loads(Path(path).read_text("utf-8"))
        if not isinstance(data, dict):
            raise ValueError(f"{path}: not a furniture model")
        return cls.from_json(data)

    @classmethod
    def from_texts(cls, texts: Iterable[str], host: str | None = None) -> FurnitureModel:
        """Learn from pages saved as plain text (one block a line, list marks dropped).

        Used to build a profile's bundled default from saved captures: a line seen on at
        least half of them (and on two) is furniture.
        """
        counts: Counter[str] = Counter()
        total = 0
        for text in texts:
            total += 1
            keys = (norm_key(line.strip().lstrip("-").strip()) for line in text.splitlines())
            counts.update({k for k in keys if k and len(k) <= MAX_BLOCK_CHARS})
        need = max(2, math.ceil(0.5 * total))
        return cls(lines=frozenset(k for k, n in counts.items() if n >= need), host=host)


# --------------------------------------------------------------------------- page structure


def next_long(page: list[Line]) -> list[int]:
    """For each line, the index of the first line from it on that is a long paragraph."""
    out = [len(page)] * (len(page) + 1)
    for i in range(len(page) - 1, -1, -1):
        out[i] = i if len(page[i].text) > MAX_BLOCK_CHARS else out[i + 1]
    return out


def box_of(
    page: list[Line],
    i: int,
    extent: dict[int, tuple[int, int]],
    long_at: list[int] | None = None,
) -> tuple[int, int] | None:
    """The line range of the box headed by line ``i``, or ``None`` when it heads none.

    ``long_at``: :func:`next_long` of the page (computed here when not given).
    """
    head = page[i]
    if not head.text or len(head.text) > MAX_HEADING_CHARS or head.link_density >= 0.5:
        return None
    long_at = next_long(page) if long_at is None else long_at
    box: etree._Element | None = None
    node: etree._Element | None = head.owner
    while node is not None and extent.get(id(node), (-1, -1))[0] == i:
        first, last = extent[id(node)]
        if long_at[first] <= last:  # holds a long paragraph: not a box
            break
        box = node
        node = node.getparent()
    if box is not None and extent[id(box)][1] > i:
        first, last = extent[id(box)]
    else:  # a heading alone: the link lines after it
        last = i
        while last + 1 < len(page) and page[last + 1].link_density >= BOX_LINK_DENSITY:
            last += 1
        first = i
    inside = [page[j] for j in range(first + 1, last + 1) if page[j].text]
    if not inside or not _furniture_like(inside):
        return None
    return first, last


def _furniture_like(inside: list[Line]) -> bool:
    chars = sum(len(ln.text) for ln in inside)
    links = sum(min(ln.link_chars, len(ln.text)) for ln in inside)
    return links >= BOX_LINK_DENSITY * chars or all(len(ln.text) <= BOX_SHORT_LINE for ln in inside)


@dataclass
class PageFeatures:
    """What one page contributes to a host's model (each key once per page)."""

    lines: set[str] = field(default_factory=set)
    boxes: set[str] = field(default_factory=set)


def page_features(page: Page) -> PageFeatures:
    out = PageFeatures()
    extent = page.spans
    long_at = next_long(page.lines)
    for i, ln in enumerate(page.lines):
        key = ln.key
        # Lines in probable chrome are never body (see ``body``): nothing to learn there.
        if not key or len(key) > MAX_BLOCK_CHARS or ln.chrome:
            continue
        out.lines.add(key)
        if len(key) <= MAX_HEADING_CHARS and box_of(page.lines, i, extent, long_at) is not None:
            out.boxes.add(key)
    return out


def furniture_lines(
    page: list[Line],
    lines: frozenset[str],
    boxes: frozenset[str],
    extent: dict[int, tuple[int, int]],
    protect: set[int] = frozenset(),  # type: ignore[assignment]
) -> set[int]:
    """Indexes of the lines that are furniture: ``lines`` by text, ``boxes`` whole.

    A box that would take a ``protect``-ed line (the title, a label) keeps all but its
    heading; a line longer than :data:`MAX_BLOCK_CHARS` is never furniture.
    """
    out: set[int] = set()
    long_at: list[int] | None = None
    for i, ln in enumerate(page):
        key = ln.key
        if not key or len(key) > MAX_BLOCK_CHARS:
            continue
        if key in boxes:
            long_at = next_long(page) if long_at is None else long_at
            box = box_of(page, i, extent, long_at)
            if box is not None and not any(box[0] <= p <= box[1] for p in protect):
                out.update(range(box[0], box[1] + 1))
        if key in lines or key in boxes:
            out.add(i)
    return {i for i in out if len(page[i].text) <= MAX_BLOCK_CHARS}


_LIST_MARK = re.compile(r"^\s*(?:[-*•·]|\d{1,3}[.)])\s+")


def furniture_paragraphs(paragraphs: list[str], page: Page, model: FurnitureModel) -> set[int]:
    """Which of ``paragraphs`` (another reader's text of ``page``, e.g. trafilatura's) are
    furniture by ``model``: a learned line, or a line of a learned box on this page.

    The model speaks of the page's lines, so its boxes are found on the page (their
    extent is structural) and the paragraphs are matched to those lines by text, list
    marks ignored.  Paragraphs over :data:`MAX_BLOCK_CHARS` are never furniture.
    """
    if not (model.lines or model.boxes):
        return set()
    found = furniture_lines(page.lines, model.lines, model.boxes, page.spans)
    keys = {page.lines[i].key for i in found} | model.lines
    out = set()
    for i, paragraph in enumerate(paragraphs):
        key = norm_key(_LIST_MARK.sub("", paragraph))
        if key and len(key) <= MAX_BLOCK_CHARS and key in keys:
            out.add(i)
    return out


# --------------------------------------------------------------------------- learning


class Learner:
    """Counts what recurs on one host's pages; :meth:`model` turns counts into a model.

    Deterministic: the same pages in the same order give the same model.  Pages beyond
    ``max_pages`` are not counted (a bounded sample).
    """

    def __init__(
        self,
        host: str | None = None,
        default: FurnitureModel | None = None,
        max_pages: int = MAX_SAMPLE,
        min_share: float = MIN_SHARE,
        min_pages: int = MIN_PAGES,
    ) -> None:
        self.host = host
        self.default = default if default is not None else FurnitureModel(host=host)
        self.max_pages = max_pages
        self.min_share = min_share
        self.min_pages = min_pages
        self.pages = 0
        self.line_counts: Counter[str] = Counter()
        self.box_counts: Counter[str] = Counter()

    def add(self, url: str, body: bytes | str | None) -> bool:
        """Count one fetched page; ``False`` when it was not HTML or the sample is full."""
        if self.pages >= self.max_pages:
            return False
        page = parse(body)
        return page is not None and self.add_page(url, page)

    def add_page(self, url: str, page: Page) -> bool:
        """Count an already parsed page (``url`` names it; the host is the learner's)."""
        if self.pages >= self.max_pages:
            return False
        features = page_features(page)
        self.pages += 1
        self.line_counts.update(features.lines)
        self.box_counts.update(features.boxes)
        return True

    def add_features(self, features: PageFeatures) -> bool:
        """Count what one page contributes, computed elsewhere (by :func:`features_of`,
        e.g. in an extraction worker); ``False`` when the sample is full."""
        if self.pages >= self.max_pages:
            return False
        self.pages += 1
        self.line_counts.update(features.lines)
        self.box_counts.update(features.boxes)
        return True

    def need(self) -> int:
        return max(self.min_pages, math.ceil(self.min_share * self.pages))

    def model(self, keep: FurnitureModel | None = None) -> FurnitureModel:
        """The model of the pages counted so far.

        Under ``min_pages`` pages: the default, marked ``fallback``.  With ``keep`` (the
        model in use), a block it has stays while seen on half the needed pages, so a
        model does not flip between two versions as the sample grows.
        """
        if self.pages < self.min_pages:
            return replace(self.default, host=self.host, pages=self.pages, fallback=True)
        need = self.need()
        held = max(1, need // 2)

        def chosen(counts: Counter[str], kept: frozenset[str]) -> frozenset[str]:
            return frozenset(k for k, n in counts.items() if n >= need or (k in kept and n >= held))

        return FurnitureModel(
            lines=chosen(self.line_counts, keep.lines if keep else frozenset()),
            boxes=chosen(self.box_counts, keep.boxes if keep else frozenset()),
            host=self.host,
            pages=self.pages,
        )


def features_of(body: bytes | str | None) -> PageFeatures | None:
    """What one fetched page contributes to its host's model (None: not HTML)."""
    page = parse(body)
    return page_features(page) if page is not None else None


def learn(pages: Iterable[tuple[str, bytes | str]], host: str | None = None) -> FurnitureModel:
    """One model from ``(url, body)`` pages of one host."""
    learner = Learner(host)
    for url, body in pages:
        learner.add(url, body)
    return learner.model()
