"""The generic profile: any site we have no profile for, read by trafilatura and htmldate.

No labels, no kinds: the title, the date and the body come from the libraries' own
readings of the page (trafilatura's metadata and main text, htmldate's publication
date).  A page with no readable body is a ``page`` record with a warning.
"""

from __future__ import annotations

from urllib.parse import urljoin

from archive.records import DateCandidate, ListingEntry, Record
from crawler.extraction import dates, text
from crawler.extraction.furniture import FurnitureModel
from crawler.extraction.item import EXTRACTOR_VERSION
from crawler.extraction.language import language
from crawler.extraction.page import canonical_link, head_title, html_language, load
from crawler.sites.profile import SiteProfile


class GenericProfile(SiteProfile):
    """Any host: trafilatura for the body, htmldate for the date."""

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
        tree = load(body)
        href = canonical_link(tree)
        canonical = self.canonical_url(urljoin(url, href) if href else url)
        found = text.main_text(tree) if tree is not None else None
        body_text = found.text if found else ""
        candidates: list[DateCandidate] = []
        if tree is not None:
            candidates += dates.meta_candidates(tree) + dates.jsonld_candidates(tree)
            candidates += dates.listing_candidates(listing)
            candidates += dates.heuristic_candidates(tree)
        chosen, conflict = dates.resolve(candidates, where=canonical)
        title = (found.title if found else None) or (head_title(tree) if tree is not None else "")
        warnings = [] if body_text else ["generic: no main text found"]
        return Record(
            id=self.document_id(canonical, url),
            url=canonical,
            kind="article" if body_text else "page",
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
            extractor_version=EXTRACTOR_VERSION + "+generic",
            furniture_version=None,
            warnings=warnings,
        )


GENERIC = GenericProfile(name="generic")
