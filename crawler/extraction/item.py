"""``extract(body, url, listing, furniture, site=...) -> Record``: one page to one record.

A pure function: the same page, address, listing entry, furniture model and site profile
give the same record, whatever was crawled before.  It never raises: a page that is not
an item (a static page, a listing, binary junk, an empty body) comes back as a record of
kind ``page``, with a warning when something could not be read.

The steps, each in its own module: ``page`` (parse once), ``header`` (title, kind,
byline) and ``details`` (labelled values), ``body`` (structural boundaries, furniture
model), ``dates`` (candidates and precedence), ``language``, ``attachments`` (the files
the item links to); the body text is the body's lines, each paragraph once, joined with
one blank line.
"""

from __future__ import annotations

import logging
from typing import Protocol
from urllib.parse import urljoin, urlsplit

from archive.records import DateCandidate, ListingEntry, Record
from crawler.extraction import dates, text
from crawler.extraction.attachments import find_attachments
from crawler.extraction.body import find_body
from crawler.extraction.details import find_labels, split_values
from crawler.extraction.furniture import FurnitureModel
from crawler.extraction.header import ItemHeader, read_header
from crawler.extraction.language import language
from crawler.extraction.page import Page, canonical_link, html_language, norm_key, parse
from crawler.extraction.vocabulary import Vocabulary

log = logging.getLogger(__name__)

#: Bump whenever a change may change any record (reextract compares it).
EXTRACTOR_VERSION = f"osce-extract-3+trafilatura-{text.TRAFILATURA_VERSION}"


class ItemSite(Protocol):
    """What extraction needs of a site profile (``crawler.sites.SiteProfile`` has it)."""

    @property
    def vocabulary(self) -> Vocabulary: ...

    def canonical_url(self, url: str) -> str: ...

    def document_id(self, canonical: str, url: str) -> str: ...

    def is_item_url(self, url: str) -> bool: ...

    def address_language(self, url: str) -> str | None: ...

    def default_furniture(self) -> FurnitureModel: ...


def extract(
    body: bytes | str | None,
    url: str,
    listing: ListingEntry | None = None,
    furniture: FurnitureModel | None = None,
    *,
    site: ItemSite,
) -> Record:
    """The record of one fetched page (kind ``page`` when it is not an item)."""
    model = furniture if furniture is not None else site.default_furniture()
    url = url or ""
    try:
        page = parse(body)
        if page is None:
            return _page_record(None, url, site, model, ["no HTML in the body"])
        return extract_page(page, url, listing, model, site)
    except Exception as exc:  # noqa: BLE001 - never raise: a bad page is a "page"
        log.warning("extraction failed for %s: %s: %s", url, type(exc).__name__, exc)
        return _page_record(None, url, site, model, [f"extraction failed: {type(exc).__name__}"])


def extract_page(
    page: Page, url: str, listing: ListingEntry | None, model: FurnitureModel, site: ItemSite
) -> Record:
    """The record of a parsed page."""
    vocab = site.vocabulary
    header = read_header(page, vocab)
    kind = header.kind if header else None
    if header is not None and kind is None and listing is not None and listing.kind_label:
        kind = vocab.slug_type(listing.kind_label)
    if header is None or kind is None:
        return _page_record(page, url, site, model, _unread(page, vocab, header))
    body = find_body(page, header, vocab, model)
    paragraphs = _paragraphs(page, header, body.lines)
    body_text = "\n\n".join(paragraphs)
    candidates = _date_candidates(page, header, listing, paragraphs[0] if paragraphs else None)
    canonical = _canonical(page, url, site)
    chosen, conflict = dates.resolve(candidates, where=canonical)
    owners = [page.lines[i].owner for i in [header.title_at, *body.lines]]
    attachments = find_attachments(page, owners, canonical, vocab)
    values = header.details.values
    warnings = _model_warnings(model) + header.details.warnings + body.warnings
    if not paragraphs:
        warnings.append("no body paragraphs found")
    return Record(
        id=site.document_id(canonical, url),
        url=canonical,
        kind=kind,
        title=header.title,
        published=chosen.value if chosen else None,
        date_source=chosen.source if chosen else None,
        place=", ".join(split_values(values.get("place", []))) or None,
        sources=split_values(values.get("sources", [])),
        fields_of_work=split_values(values.get("fields_of_work", [])),
        byline=header.byline,
        language=language(_declared_language(page, canonical, site), body_text),
        text=body_text,
        attachments=attachments,
        language_versions=language_versions(page, canonical, site),
        date_candidates=candidates,
        date_conflict=conflict,
        extractor_version=EXTRACTOR_VERSION,
        furniture_version=model.version if body.model_applied else None,
        warnings=warnings,
    )


def _declared_language(page: Page, canonical: str, site: ItemSite) -> str | None:
    """The language the page says it is in: ``<html lang>`` (or a meta tag), else the
    ``hreflang`` of the alternate link to itself, else its address's prefix."""
    declared = html_language(page.tree)
    if declared:
        return declared
    for code, href in hreflang_links(page):
        if site.canonical_url(urljoin(canonical, href)) == canonical and code != "x-default":
            return code.split("-")[0].lower()
    return site.address_language(canonical)


def hreflang_links(page: Page) -> list[tuple[str, str]]:
    """``(hreflang, href)`` of every ``<link rel="alternate" hreflang>`` and every
    language-switcher anchor (``<a hreflang>``) of the page, in page order."""
    found: list[tuple[str, str]] = []
    for el in page.tree.iter("link", "a"):
        code = (el.get("hreflang") or "").strip()
        href = (el.get("href") or "").strip()
        if not code or not href:
            continue
        if el.tag == "link" and "alternate" not in (el.get("rel") or "").lower().split():
            continue
        found.append((code, href))
    return found


def language_versions(page: Page, canonical: str, site: ItemSite) -> list[str]:
    """Ids of the other language versions the page links (hreflang alternates and the
    language switcher): item addresses on the page's own host only, each once, sorted."""
    host = _bare(urlsplit(canonical).netloc)
    own = site.document_id(canonical, canonical)
    ids = set()
    for code, href in hreflang_links(page):
        if code.lower() == "x-default":
            continue
        target = site.canonical_url(urljoin(canonical, href))
        if _bare(urlsplit(target).netloc) != host or not site.is_item_url(target):
            continue
        ids.add(site.document_id(target, target))
    ids.discard(own)
    return sorted(ids)


def _bare(netloc: str) -> str:
    netloc = netloc.lower()
    return netloc[4:] if netloc.startswith("www.") else netloc


def _unread(page: Page, vocab: Vocabulary, header: ItemHeader | None) -> list[str]:
    """Why a page with item labels was read as a page (nothing when it has none)."""
    if header is not None:
        return ["item labels and title found but no content type label: read as a page"]
    if find_labels(page.lines, vocab):
        return ["item labels found but no title: read as a page"]
    return []


def _paragraphs(page: Page, header: ItemHeader, lines: list[int]) -> list[str]:
    """The body's lines as paragraphs: each once, in order, header lines left out."""
    header_keys = {page.lines[i].key for i in header.lines}
    out: list[str] = []
    seen: set[str] = set()
    for i in lines:
        para = page.lines[i].text
        key = norm_key(para)
        if key and key not in seen and key not in header_keys:
            seen.add(key)
            out.append(para)
    return out


def _date_candidates(
    page: Page, header: ItemHeader, listing: ListingEntry | None, first: str | None
) -> list[DateCandidate]:
    candidates: list[DateCandidate] = []
    candidates += dates.markup_candidates(header.details.date_times)
    candidates += dates.visible_candidates(header.details.date_texts)
    candidates += dates.meta_candidates(page.tree)
    candidates += dates.jsonld_candidates(page.tree)
    candidates += dates.listing_candidates(listing)
    candidates += dates.dateline_candidates(first)
    if not candidates:
        candidates += dates.heuristic_candidates(page.tree)
    return candidates


def _model_warnings(model: FurnitureModel) -> list[str]:
    if model.fallback:
        return [
            f"furniture: only {model.pages} page(s) of this host to learn from; "
            "the bundled default model was used"
        ]
    return []


def _canonical(page: Page | None, url: str, site: ItemSite) -> str:
    href = canonical_link(page.tree) if page is not None else None
    if href:
        try:
            return site.canonical_url(urljoin(url, href))
        except ValueError:
            pass
    return site.canonical_url(url)


def _page_record(
    page: Page | None, url: str, site: ItemSite, model: FurnitureModel, warnings: list[str]
) -> Record:
    canonical = _canonical(page, url, site)
    return Record(
        id=site.document_id(canonical, url),
        url=canonical,
        kind="page",
        title=page_title(page) if page is not None else "",
        published=None,
        date_source=None,
        place=None,
        sources=[],
        fields_of_work=[],
        byline=None,
        language=html_language(page.tree) if page is not None else None,
        text=text.page_text(page.tree) if page is not None else "",
        extractor_version=EXTRACTOR_VERSION,
        furniture_version=model.version,
        warnings=warnings,
    )


def page_title(page: Page) -> str:
    """A non-item page's title: its <h1>, else the document <title>."""
    for ln in page.lines:
        tag = ln.owner.tag
        if not ln.chrome and ln.text and isinstance(tag, str) and tag.lower() == "h1":
            return ln.text
    found = page.tree.find(".//title")
    return " ".join(found.text_content().split()) if found is not None else ""
