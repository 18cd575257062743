"""The generic profile: any site we have no profile for, read by trafilatura and htmldate.

No labels, no kinds: the title, the date and the body come from the libraries' own
readings of the page (trafilatura's metadata and main text, htmldate's publication
date), with the host's learned furniture taken out of the body
(``crawler.extraction.generic``).  A page with no readable body is a ``page`` record
with a warning.

:func:`body_text` and :func:`published` are the profile's body and date of one page,
exactly as :meth:`GenericProfile.extract` reads them (``bench/generic_extraction.py``
scores them on public benchmarks).
"""

from __future__ import annotations

from urllib.parse import urljoin

from archive.records import ListingEntry, Record
from crawler.extraction import dates
from crawler.extraction.furniture import FurnitureModel
from crawler.extraction.generic import body_links, read_body, read_dates
from crawler.extraction.item import EXTRACTOR_VERSION
from crawler.extraction.language import language
from crawler.extraction.page import canonical_link, decode, head_title, html_language, load
from crawler.sites.profile import SiteProfile

#: The generic reading's own version, bumped when it may read a page differently.
GENERIC_VERSION = "generic-2"
#: The ``kind`` of every item the generic profile reads (a third-party article).
ARTICLE_KIND = "article"


class GenericProfile(SiteProfile):
    """Any host: trafilatura for the body, htmldate for the date, learned furniture."""

    def owns(self, url: str) -> bool:
        return True

    def document_id(self, canonical: str, url: str) -> str:
        return super().document_id(canonical, url) if canonical else url

    def extract(
        self,
        body: bytes | str | None,
        url: str,
        listing: ListingEntry | None = None,
        furniture: FurnitureModel | None = None,
    ) -> Record:
        html = decode(body)
        tree = load(html)
        href = canonical_link(tree)
        canonical = self.canonical_url(urljoin(url, href) if href else url)
        if html is None or tree is None:
            found = None
            candidates = dates.listing_candidates(listing)
        else:
            found = read_body(html, tree, furniture)
            candidates = read_dates(html, tree, url=_web_address(canonical), listing=listing)
        chosen, conflict = dates.resolve(candidates, where=canonical, led=True)
        body_text = found.text if found else ""
        title = (found.title if found else None) or (head_title(tree) if tree is not None else "")
        warnings = found.warnings if found else ["generic: no main text found"]
        model = furniture if found and found.model_applied else None
        return Record(
            id=self.document_id(canonical, url),
            url=canonical,
            kind=ARTICLE_KIND if body_text else "page",
            title=title or "",
            published=chosen.value if chosen else None,
            date_source=chosen.source if chosen else None,
            place=None,
            sources=[],
            fields_of_work=[],
            byline=(found.author if found else None) or None,
            language=language(html_language(tree) if tree is not None else None, body_text),
            text=body_text,
            date_candidates=candidates,
            date_conflict=conflict,
            extractor_version=f"{EXTRACTOR_VERSION}+{GENERIC_VERSION}",
            furniture_version=model.version if model else None,
            warnings=warnings,
            links=body_links(tree, canonical, body_text) if tree is not None else [],
        )


def _web_address(url: str) -> str | None:
    """The address htmldate may read a date from: a web address, not a local file
    (``None``: htmldate reads the page's canonical link itself)."""
    return url if url.startswith(("http://", "https://")) else None


GENERIC = GenericProfile(name="generic")


def for_host(netloc: str, name: str = "") -> GenericProfile:
    """The generic profile of one third-party host (``host[:port]``, ``www.`` or not):
    document ids are its bare host and the path (``vindobona.org/article/x``), so a
    record's ``site`` is the host it belongs to."""
    bare = GenericProfile.bare_host(netloc)
    return GenericProfile(name=name or bare, hosts=(netloc.lower(),), id_prefix=bare + "/")


def body_text(html: bytes | str, furniture: FurnitureModel | None = None) -> str:
    """The generic profile's body of one page (no address needed)."""
    text = decode(html)
    tree = load(text)
    return read_body(text, tree, furniture).text if text and tree is not None else ""


def published(html: bytes | str, url: str | None = None) -> str | None:
    """The generic profile's publication date (``YYYY-MM-DD``) of one page, or ``None``."""
    text = decode(html)
    tree = load(text)
    if text is None or tree is None:
        return None
    address = GENERIC.canonical_url(urljoin(url, canonical_link(tree) or "")) if url else ""
    chosen, _ = dates.resolve(read_dates(text, tree, url=_web_address(address)), led=True)
    return chosen.value if chosen else None
