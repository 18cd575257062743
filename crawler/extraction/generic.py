"""Reading a page of a site we have no profile for: what general tools see, plus furniture.

No labels, no kinds, no structure known in advance.  The body is trafilatura's main
text (``text.main_text``: its precise reading unless that one cut into the article),
less what the host's learned furniture model says recurs on its pages, which a
general tool cannot know from one page.  The date is htmldate's (``original_date``),
named after the page's own statement of the same day when there is one
(``dates.choose_led``).  The site profile (``crawler.sites.generic``) makes the record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from lxml import html as lxml_html

from archive.records import DateCandidate, ListingEntry
from crawler.extraction import dates, text
from crawler.extraction.attachments import _absolute, _base
from crawler.extraction.furniture import FurnitureModel, furniture_paragraphs
from crawler.extraction.page import norm_key, page_of

#: A model that would remove more than this share of the text is wrong for this page.
MAX_FURNITURE_SHARE = 0.5
#: The headline is looked for among this many first paragraphs (a kicker or a date line
#: may come before it).
TITLE_WINDOW = 3
#: A link counts as the article's when the block holding it is one of the body's
#: paragraphs, or a part of the body at least this long (a short block such as a menu's
#: "City" would be found in any text by chance).
LINK_BLOCK_MIN = 30
#: At most this many links are kept of one article, of the first this many anchors.
MAX_LINKS = 100
MAX_ANCHORS = 5000
_BLOCKS = frozenset(
    "p li blockquote dd dt td th h1 h2 h3 h4 h5 h6 figcaption pre div section article".split()
)


@dataclass
class GenericBody:
    """The body of a page read the generic way, and what was said on the way."""

    text: str = ""
    title: str | None = None
    author: str | None = None
    #: trafilatura's reading the text comes from (``precise`` or ``broad``), "" when none.
    reading: str = ""
    #: Paragraphs the furniture model removed.
    removed: int = 0
    model_applied: bool = False
    warnings: list[str] = field(default_factory=list)


def read_body(
    html: str, tree: lxml_html.HtmlElement, model: FurnitureModel | None = None
) -> GenericBody:
    """trafilatura's main text of the page, less the furniture ``model`` finds in it.

    ``html``: the page's text, for trafilatura; ``tree``: the same page parsed
    (``page.load``), where the model's lines and boxes are found.

    The headline is not repeated as the body's first paragraph (:func:`without_title`).
    As for profiled sites, a model that would remove more than half of the text (in
    characters) is not applied to this page, with a warning: a page of the host unlike
    the others it learned from, not a page that is all furniture.
    """
    found = text.main_text(html)
    if found is None:
        return GenericBody(warnings=["generic: no main text found"])
    paragraphs = without_title(found.paragraphs, found.title)
    body = GenericBody("\n\n".join(paragraphs), found.title, found.author, found.reading)
    if not paragraphs:
        body.warnings.append("generic: no main text found")
        return body
    if model is None or not (model.lines or model.boxes):
        return body
    drop = furniture_paragraphs(paragraphs, page_of(tree), model)
    removed = sum(len(paragraphs[i]) for i in drop)
    if removed > MAX_FURNITURE_SHARE * sum(len(p) for p in paragraphs):
        body.warnings.append(
            f"furniture model {model.version} rejected for this page: it would remove "
            f"{len(drop)} of {len(paragraphs)} paragraphs (more than half the text)"
        )
        return body
    body.text = "\n\n".join(p for i, p in enumerate(paragraphs) if i not in drop)
    body.removed = len(drop)
    body.model_applied = True
    return body


def without_title(paragraphs: list[str], title: str | None) -> list[str]:
    """The paragraphs without the headline: trafilatura keeps the article's heading in
    its text, and the record has the title as a field of its own (the body of a
    profiled site does not repeat it either)."""
    key = norm_key(title or "")
    for i, paragraph in enumerate(paragraphs[:TITLE_WINDOW]):
        if key and norm_key(paragraph) == key:
            return paragraphs[:i] + paragraphs[i + 1 :]
    return paragraphs


def read_dates(
    html: str,
    tree: etree._Element,
    url: str | None = None,
    listing: ListingEntry | None = None,
) -> list[DateCandidate]:
    """Every date candidate of the page: a date labelled under the headline
    (``Published: ...``), meta tags, JSON-LD, the listing, htmldate.

    ``html``: the page's text, for htmldate; ``tree``: the same page parsed.  ``url``:
    the page's address, for htmldate (a date in the path); ``None`` when not known.
    :func:`crawler.extraction.dates.resolve` with ``led=True`` chooses.
    """
    candidates = dates.labelled_candidates(tree)
    candidates += dates.meta_candidates(tree) + dates.jsonld_candidates(tree)
    candidates += dates.listing_candidates(listing)
    candidates += dates.heuristic_candidates(html, url=url)
    return candidates


def body_links(tree: lxml_html.HtmlElement, url: str, body_text: str) -> list[str]:
    """The absolute addresses the article's body links to, in page order, each once.

    Which ``<a href>`` belong to the body is decided by the body already read, not by
    markup names: a link counts when the block around it (its nearest paragraph, list
    item, cell or division) is a paragraph of ``body_text``, or a part of it of at least
    :data:`LINK_BLOCK_MIN` characters.  A link in the menu, a "most read" box, an
    advertisement or the comments is not in the body and never counts.  Relative
    addresses resolve against ``<base href>``, else ``url``.
    """
    if not body_text:
        return []
    paragraphs = {norm_key(p) for p in body_text.split("\n\n") if p.strip()}
    whole = norm_key(body_text)
    base = _base(tree, url)
    found: list[str] = []
    seen: set[str] = set()
    in_body: dict[Any, bool] = {}  # per block: a page of many links reads each block once
    for n, link in enumerate(tree.iter("a")):
        if n >= MAX_ANCHORS:
            break
        href = str(link.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        block = next((e for e in link.iterancestors() if e.tag in _BLOCKS), None)
        if block is None:
            continue
        if block not in in_body:
            key = norm_key(block.text_content())
            in_body[block] = key in paragraphs or (len(key) >= LINK_BLOCK_MIN and key in whole)
        if not in_body[block]:
            continue
        address = _absolute(base, href)
        if address is None or address in seen:
            continue
        seen.add(address)
        found.append(address)
        if len(found) >= MAX_LINKS:
            break
    return found
