"""``extract(body, url, listing, furniture) -> Record``: one page to one record.

A pure function: the same page, address, listing entry and furniture model give the
same record, whatever was crawled before.  It never raises: a page that is not a
newsroom item (a static page, a listing, binary junk, an empty body) comes back as a
record of kind ``page``.

The steps, each in its own module:

1. ``site_profile`` parses the page and reads the item header by its visible labels
   (type label, title, Date/Place/Source/Fields of work, byline) and where the body
   starts and ends (the promotion block);
2. ``dates`` collects every date candidate and picks one by precedence;
3. ``text`` runs trafilatura on the body container the profile selected, with the
   header, navigation and promotion pruned;
4. here: drop the lines the profile knows as furniture and the learned furniture
   model's blocks, keep each paragraph once in order, join with one blank line.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

from lxml import etree

from archive.records import DateCandidate, ListingEntry, Record
from crawler import dates, site_profile, text
from crawler.furniture import FurnitureModel
from crawler.site_profile import ItemHeader, Line

log = logging.getLogger(__name__)

#: Bump whenever a change may change any record (reextract compares it).
EXTRACTOR_VERSION = f"osce-extract-1+trafilatura-{text.TRAFILATURA_VERSION}"

#: Bodies beyond this are cut before parsing: no newsroom page comes near, and a hostile
#: one must not stall a crawl.
MAX_BODY_BYTES = 8 * 1024 * 1024

__all__ = ["EXTRACTOR_VERSION", "extract"]


def extract(
    body: bytes | str | None,
    url: str,
    listing: ListingEntry | None = None,
    furniture: FurnitureModel | None = None,
) -> Record:
    """The record of one fetched page (kind ``page`` when it is not an item)."""
    model = furniture if furniture is not None else FurnitureModel.default()
    try:
        return _extract(body, url or "", listing, model)
    except Exception as exc:  # noqa: BLE001 - never raise: a bad page is a "page"
        log.warning("extraction failed for %s: %s: %s", url, type(exc).__name__, exc)
        return _page_record(None, url or "", "", "", model)


def _extract(
    body: bytes | str | None, url: str, listing: ListingEntry | None, model: FurnitureModel
) -> Record:
    if body is None:
        return _page_record(None, url, "", "", model)
    if len(body) > MAX_BODY_BYTES:
        body = body[:MAX_BODY_BYTES]
    tree = site_profile.load(body)
    if tree is None:
        return _page_record(None, url, "", "", model)
    canonical = site_profile.canonical_url(tree, url)
    page = site_profile.lines(tree)
    header = site_profile.read_item(page)
    kind = header.kind if header else None
    if header is not None and kind is None and listing is not None and listing.kind_label:
        kind = site_profile.slug_type(listing.kind_label)
    if header is None or kind is None:
        title = site_profile.page_title(tree, page)
        return _page_record(tree, url, canonical, title, model)

    body_lines = [
        ln
        for ln in page[header.body_start : header.body_end]
        if not ln.chrome and ln.text and not _is_furniture(ln.text, model)
    ]
    first = body_lines[0].text if body_lines else None

    candidates: list[DateCandidate] = []
    candidates += dates.markup_candidates(header.date_times)
    candidates += dates.visible_candidates(header.date_texts)
    candidates += dates.meta_candidates(tree)
    candidates += dates.jsonld_candidates(tree)
    candidates += dates.listing_candidates(listing)
    candidates += dates.dateline_candidates(first)
    if not candidates:
        candidates += dates.heuristic_candidates(tree)
    chosen, conflict = dates.resolve(candidates, where=canonical)

    language_markup = site_profile.html_language(tree)
    paragraphs = _body(page, header, body_lines, model)
    body_text = "\n\n".join(paragraphs)
    details = header.details
    place_values = site_profile.split_values(details.get("place", []))
    return Record(
        id=site_profile.document_id(canonical, url),
        url=canonical,
        kind=kind,
        title=header.title,
        published=chosen.value if chosen else None,
        date_source=chosen.source if chosen else None,
        place=", ".join(place_values) or None,
        sources=site_profile.split_values(details.get("sources", [])),
        fields_of_work=site_profile.split_values(details.get("fields_of_work", [])),
        byline=header.byline,
        language=_language(language_markup, body_text),
        text=body_text,
        date_candidates=candidates,
        date_conflict=conflict,
        extractor_version=EXTRACTOR_VERSION,
        furniture_version=model.version,
    )


def _is_furniture(line: str, model: FurnitureModel) -> bool:
    return site_profile.is_furniture_line(line) or model.is_furniture(line)


def _body(
    page: list[Line], header: ItemHeader, body_lines: list[Line], model: FurnitureModel
) -> list[str]:
    """Trafilatura over the body container, then furniture out and each paragraph once."""
    if not body_lines:
        return []
    container = site_profile.common_ancestor(ln.owner for ln in body_lines)
    if container is None:
        return []
    keep = {id(ln.owner) for ln in body_lines}
    body_ancestors: set[int] = set()
    for ln in body_lines:
        node: etree._Element | None = ln.owner
        while node is not None and id(node) not in body_ancestors:
            body_ancestors.add(id(node))
            if node is container:
                break
            node = node.getparent()
    # Prune every block of the container that holds no body line (header rows, byline,
    # promotion block, share links, menus), so trafilatura sees the body alone.
    drop: list[etree._Element] = []
    for i, ln in enumerate(page):
        owner = ln.owner
        if id(owner) in keep or id(owner) in body_ancestors:
            continue
        if header.body_start <= i < header.body_end and not ln.chrome and ln.text:
            if not _is_furniture(ln.text, model):
                continue
        if site_profile._descends(owner, container):
            drop.append(owner)
    for el in container.iter():
        if not isinstance(el.tag, str):
            continue
        tag = el.tag.lower()
        if tag in site_profile.PRUNE_TAGS or (
            tag in site_profile.CHROME_TAGS and id(el) not in body_ancestors
        ):
            drop.append(el)
    seen_drop: set[int] = set()
    for el in drop:
        if id(el) in seen_drop or el is container or el.getparent() is None:
            continue
        seen_drop.add(id(el))
        el.drop_tree()

    header_keys = {site_profile.norm_key(page[i].text) for i in header.header_lines}
    document = text.container_document(container)
    raw = text.body_paragraphs(document)
    out: list[str] = []
    seen: set[str] = set()
    for para in raw:
        para = site_profile.collapse(para)
        key = site_profile.norm_key(para)
        if not key or key in seen or key in header_keys or _is_furniture(para, model):
            continue
        seen.add(key)
        out.append(para)
    return out


def _page_record(
    tree: etree._Element | None, url: str, canonical: str, title: str, model: FurnitureModel
) -> Record:
    canonical = canonical or site_profile.normalise_url(url)
    page_text = text.page_text(tree) if tree is not None else ""
    return Record(
        id=site_profile.document_id(canonical, url),
        url=canonical,
        kind="page",
        title=title,
        published=None,
        date_source=None,
        place=None,
        sources=[],
        fields_of_work=[],
        byline=None,
        language=site_profile.html_language(tree) if tree is not None else None,
        text=page_text,
        extractor_version=EXTRACTOR_VERSION,
        furniture_version=model.version,
    )


# --------------------------------------------------------------------------- language

#: Frequent function words of the site's languages: enough to check a declared language.
STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset("the of and to in a is that for on with as by are was it be at from".split()),
    "ru": frozenset("и в не на что с по как для это от из к о а то же за".split()),
    "fr": frozenset("le la les de des et en un une du est que pour dans par sur au".split()),
    "de": frozenset("der die das und in den von zu mit sich des auf für ist im dem nicht".split()),
    "es": frozenset("el la de que y en los del se las por un para con una es al".split()),
    "it": frozenset("il di che e la per in un del della è con non una le si da".split()),
    "uk": frozenset("і в не на що з по як для це від до та у й за".split()),
}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def detect_language(body: str) -> str | None:
    """The language whose stopwords cover most of the text's first words, if clear."""
    words = [w.lower() for w in _WORD.findall(body[:4000])][:600]
    if len(words) < 20:
        return None
    scores = {lang: sum(w in sw for w in words) / len(words) for lang, sw in STOPWORDS.items()}
    best = max(scores, key=lambda k: scores[k])
    ranked = sorted(scores.values(), reverse=True)
    if ranked[0] < 0.08 or ranked[0] < 1.5 * ranked[1]:
        return None
    return best


def _language(declared: str | None, body: str) -> str | None:
    """The declared language, unless the text clearly reads as another one."""
    detected = detect_language(body)
    if declared and detected and detected != declared:
        log.info("language: markup says %s, text reads as %s", declared, detected)
        return detected
    return declared or detected


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""
