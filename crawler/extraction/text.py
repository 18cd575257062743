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


@dataclass
class MainText:
    """trafilatura's reading of a page: its main text (paragraphs, one blank line apart)."""

    text: str
    title: str | None
    author: str | None


def main_text(tree: etree._Element) -> MainText | None:
    """The main text, title and author of any page (the generic profile's reading)."""
    options = {**TRAFILATURA_OPTIONS, "with_metadata": True}
    options.pop("output_format")
    try:
        doc = trafilatura.bare_extraction(tree, **options)
    except Exception as exc:  # noqa: BLE001 - a hostile page must not stop extraction
        log.debug("trafilatura failed: %s", exc)
        return None
    if doc is None or isinstance(doc, dict):
        return None
    paragraphs = [line.strip() for line in (doc.text or "").split("\n") if line.strip()]
    return MainText("\n\n".join(paragraphs), doc.title or None, doc.author or None)


def bare_extract(body: bytes | str) -> str | None:
    """Bare ``trafilatura.extract`` with its defaults: the benchmark's yardstick."""
    return trafilatura.extract(body)
