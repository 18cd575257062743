"""Every trafilatura call of the project.

Why one module: trafilatura is the body engine, and how it is called decides what a
record's text is.  Two choices matter for an archive:

* ``deduplicate=False``: trafilatura's cross-document duplicate cache depends on what
  was extracted before, so the same page could give different text in a different
  crawl order.  Repeated paragraphs are removed per page, by us, afterwards.
* the site profile hands trafilatura the body *container* it selected (header,
  navigation and promotion already pruned, class and id attributes stripped), so its
  boilerplate heuristics work on content only and never guess from class names.
"""

from __future__ import annotations

import logging
from typing import Any

import trafilatura
from lxml import etree
from lxml import html as lxml_html

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


def container_document(container: etree._Element) -> lxml_html.HtmlElement:
    """A document ``<html><body>container</body></html>`` made of the selected body.

    The container is moved (not copied) into the new document: extraction owns its
    parsed tree and reads everything else it needs before this point.
    """
    root = lxml_html.Element("html")
    body = etree.SubElement(root, "body")
    tail = container.tail
    container.tail = None
    body.append(container)
    container.tail = tail
    for el in root.iter():
        if isinstance(el.tag, str):
            for attr in ("class", "id", "style", "role"):
                if attr in el.attrib:
                    del el.attrib[attr]
    return root


def body_paragraphs(document: etree._Element) -> list[str]:
    """The body's paragraphs, in order, as trafilatura reads them (may repeat)."""
    try:
        text = trafilatura.extract(document, **TRAFILATURA_OPTIONS)
    except Exception as exc:  # noqa: BLE001 - a hostile page must not stop extraction
        log.debug("trafilatura failed: %s", exc)
        return []
    if not text:
        return []
    return [line.strip() for line in text.split("\n") if line.strip()]


def page_text(tree: etree._Element) -> str:
    """Plain text of a whole page (non-item pages), trafilatura's own choice of content."""
    try:
        return trafilatura.extract(tree, **TRAFILATURA_OPTIONS) or ""
    except Exception as exc:  # noqa: BLE001
        log.debug("trafilatura failed: %s", exc)
        return ""


def bare_extract(body: bytes | str) -> str | None:
    """Bare ``trafilatura.extract`` with its defaults: the benchmark's yardstick."""
    return trafilatura.extract(body)
