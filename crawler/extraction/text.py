"""Every trafilatura call of the project.

Why one module: trafilatura reads the pages we have no structure for (pages that are not
items, sites read through the generic profile), and how it is called decides what those
records say.  ``deduplicate=False`` always: trafilatura's cross-document duplicate cache
depends on what was extracted before, so the same page could give different text in a
different crawl order.  (Item bodies of profiled sites are found structurally by
``crawler.extraction.body``; no trafilatura there.)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import trafilatura
from lxml import etree

log = logging.getLogger(__name__)

#: Options of every body extraction (kept together so EXTRACTOR_VERSION covers them).
TRAFILATURA_OPTIONS: dict[str, Any] = {
    "output_format": "txt",
    "fast": True,  # no readability/justext fallback: faster and one deterministic path
    "favor_recall": True,  # the container is already the body: keep short paragraphs
    "include_comments": False,
    "include_tables": True,
    "include_images": False,
    "include_links": False,
    "include_formatting": False,
    "deduplicate": False,  # never let crawl order decide a record's text
    "with_metadata": False,
}
TRAFILATURA_VERSION = getattr(trafilatura, "__version__", "?")


def page_text(tree: etree._Element) -> str:
    """Plain text of a whole page (non-item pages), trafilatura's own choice of content."""
    try:
        return trafilatura.extract(tree, **TRAFILATURA_OPTIONS) or ""
    except Exception as exc:  # noqa: BLE001
        log.debug("trafilatura failed: %s", exc)
        return ""


#: The generic profile's two readings of a page (``main_text``): trafilatura's precise
#: mode, with its fallback extractors, and its recall mode.  Comments are never the article.
GENERIC_OPTIONS: dict[str, Any] = {
    "include_comments": False,
    "include_tables": True,
    "include_images": False,
    "include_links": False,
    "include_formatting": False,
    "deduplicate": False,
}
PRECISE_OPTIONS: dict[str, Any] = {**GENERIC_OPTIONS, "favor_precision": True}
BROAD_OPTIONS: dict[str, Any] = {**GENERIC_OPTIONS, "favor_recall": True, "fast": True}
#: The precise reading is kept unless it holds less than this share of the broad one's
#: text: then it cut into the article (a body split by ad slots, a list it took for a
#: menu) rather than trimmed a few stray lines, and the broad reading is the article.
SHORTFALL = 0.5


@dataclass
class MainText:
    """trafilatura's reading of a page: its main text (paragraphs, one blank line apart)."""

    text: str
    title: str | None
    author: str | None
    #: Which reading the text is: ``precise`` or ``broad`` (see :data:`SHORTFALL`).
    reading: str = "precise"

    @property
    def paragraphs(self) -> list[str]:
        return [p for p in self.text.split("\n\n") if p]


def _paragraphs(text: str | None) -> str:
    return "\n\n".join(line.strip() for line in (text or "").split("\n") if line.strip())


def main_text(page: str | etree._Element) -> MainText | None:
    """The main text, title and author of any page (the generic profile's reading).

    ``page``: the page's text (trafilatura parses it its own way, as it was measured)
    or a parsed tree.

    Why two readings: trafilatura's precise mode scores best on articles of all kinds
    but now and then drops most of an article; its recall mode keeps the article whole
    with more boilerplate.  The precise text wins unless it is under :data:`SHORTFALL`
    of the broad one.  Title and author come from trafilatura's metadata.
    """
    try:
        doc = trafilatura.bare_extraction(page, with_metadata=True, **PRECISE_OPTIONS)
        broad = trafilatura.extract(page, output_format="txt", **BROAD_OPTIONS)
    except Exception as exc:  # noqa: BLE001 - a hostile page must not stop extraction
        log.debug("trafilatura failed: %s", exc)
        return None
    if isinstance(doc, dict):
        return None
    precise = _paragraphs(doc.text if doc is not None else None)
    wide = _paragraphs(broad)
    title = (doc.title or None) if doc is not None else None
    author = (doc.author or None) if doc is not None else None
    if len(precise) < SHORTFALL * len(wide):
        return MainText(wide, title, author, reading="broad")
    if not precise and doc is None:
        return None
    return MainText(precise, title, author)


def bare_extract(body: bytes | str) -> str | None:
    """Bare ``trafilatura.extract`` with its defaults: the benchmark's yardstick."""
    return trafilatura.extract(body)
