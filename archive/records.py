"""Plain data that crosses from the crawler into the archive.

These types are the whole interface between ``crawler/`` (which knows the web and
the site) and ``archive/`` (which knows storage and time). They hold no behaviour
beyond conversion to and from JSON, so the archive can be fed by the crawl, by
``reextract`` or by a test, without Scrapy.

All times are timezone-aware UTC ``datetime`` objects.

Imports: the standard library only, so any producer can build records.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

#: Where a publication date can come from, in the order ``CONTRACT.md`` names them.
DATE_SOURCES = ("markup", "meta", "json-ld", "listing", "dateline", "heuristic")

#: The fields of a record that a reader sees: a change in any of them is a new version.
#: ``attachments`` came later: ``archive.versioning`` hashes it only when there are some,
#: so a document without attachments keeps the content hash it always had.
CONTENT_FIELDS = (
    "title",
    "kind",
    "published",
    "place",
    "sources",
    "fields_of_work",
    "byline",
    "text",
    "attachments",
)

#: The extraction fields of ``CONTRACT.md`` in their documented order.
RECORD_FIELDS = (
    "id",
    "url",
    "kind",
    "title",
    "published",
    "date_source",
    "place",
    "sources",
    "fields_of_work",
    "byline",
    "language",
    "text",
    "attachments",
)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class DateCandidate:
    """One place a publication date was found, kept with the record for audit."""

    source: str  # one of DATE_SOURCES
    value: str  # normalised YYYY-MM-DD
    raw: str = ""  # the text or attribute it was parsed from


@dataclass(frozen=True)
class Attachment:
    """A document the item links to for download (mostly a PDF): its title as the page
    shows it and its absolute address on the source site."""

    title: str
    url: str

    def to_json(self) -> dict[str, str]:
        return {"title": self.title, "url": self.url}

    @classmethod
    def from_json(cls, data: Any) -> Attachment:
        """From ``{"title", "url"}`` (what exports and ``to_json`` write) or an Attachment."""
        if isinstance(data, Attachment):
            return data
        return cls(title=str(data.get("title") or ""), url=str(data.get("url") or ""))


def attachments_json(attachments: Any) -> list[dict[str, str]]:
    """Attachments as plain JSON (``[]`` for none, and for ``None``: a version stored
    before the archive kept attachments)."""
    return [Attachment.from_json(a).to_json() for a in attachments or []]


@dataclass
class ListingEntry:
    """What a listing page (or sitemap/RSS entry) said about an item that it linked.

    It travels with the request to extraction (date fallback, cross-check) and is
    stored by the archive so a later revisit of the item can still use it.
    """

    url: str
    title: str | None = None
    published: str | None = None  # YYYY-MM-DD as parsed from "Publishing date:"
    kind_label: str | None = None  # "Content type:" as shown, e.g. "Press release"
    where: str | None = None  # "Where we are:"
    what: str | None = None  # "What we do:"
    lastmod: str | None = None  # sitemap <lastmod>, ISO 8601
    source: str = "listing"  # listing | sitemap | rss

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> ListingEntry | None:
        if not data:
            return None
        known: dict[str, Any] = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


@dataclass
class Record:
    """What a reader sees of one document: the extraction fields of ``CONTRACT.md``.

    ``kind == "page"`` marks a page of the site that is not a newsroom item; such a
    record is never archived as a document.
    """

    id: str
    url: str
    kind: str
    title: str
    published: str | None
    date_source: str | None
    place: str | None
    sources: list[str]
    fields_of_work: list[str]
    byline: str | None
    language: str | None
    text: str
    #: Documents the item links to for download, in page order, each once.
    attachments: list[Attachment] = field(default_factory=list)
    # Provenance, kept by the archive beside the version but not part of the record.
    date_candidates: list[DateCandidate] = field(default_factory=list)
    date_conflict: str | None = None  # set when candidates disagree by more than a day
    extractor_version: str = ""
    furniture_version: str | None = None
    warnings: list[str] = field(default_factory=list)  # what extraction could not read
    #: A third-party article's outgoing links: the absolute addresses its body links to,
    #: in page order, each once (what ``reports_on`` resolves; provenance, not content).
    links: list[str] = field(default_factory=list)
    #: Ids of the same item in other languages that the page links (hreflang, the
    #: language switcher); the archive keeps the links, both ways (not content).
    language_versions: list[str] = field(default_factory=list)
    #: The text normalised, with its near-duplicate signature, where the record was made
    #: (``archive.normalise.prepare``: an extraction worker's work the archive's writer
    #: then skips); used only for the very text it was prepared from. Not the record's.
    prepared: Any = field(default=None, repr=False, compare=False)

    @property
    def is_item(self) -> bool:
        return self.kind != "page"

    def to_json(self) -> dict[str, Any]:
        """The record as ``CONTRACT.md`` prints it (extraction fields only, in order)."""
        out = {name: getattr(self, name) for name in RECORD_FIELDS}
        out["attachments"] = attachments_json(self.attachments)
        return out

    def provenance_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "date_candidates": [asdict(c) for c in self.date_candidates],
            "date_conflict": self.date_conflict,
            "extractor_version": self.extractor_version,
            "furniture_version": self.furniture_version,
            "warnings": list(self.warnings),
        }
        if self.links:  # only articles have them: an item's stored pack stays as it was
            out["links"] = list(self.links)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Record:
        values: dict[str, Any] = {name: data.get(name) for name in RECORD_FIELDS}
        values["sources"] = list(values["sources"] or [])
        values["fields_of_work"] = list(values["fields_of_work"] or [])
        values["text"] = values["text"] or ""
        values["title"] = values["title"] or ""
        values["attachments"] = [Attachment.from_json(a) for a in values["attachments"] or []]
        candidates = [DateCandidate(**c) for c in data.get("date_candidates") or []]
        return cls(
            **values,
            date_candidates=candidates,
            date_conflict=data.get("date_conflict"),
            extractor_version=data.get("extractor_version") or "",
            furniture_version=data.get("furniture_version"),
            warnings=list(data.get("warnings") or []),
            links=list(data.get("links") or []),
            language_versions=list(data.get("language_versions") or []),
        )


@dataclass
class Capture:
    """What the server said for one fetch: address, status, headers, raw body.

    ``url`` is the address requested; ``final_url`` the one that answered after
    redirects (``redirects`` lists the hops in between, first to last). ``body`` is
    ``None`` for a 304 or a fetch that failed before a body arrived.
    """

    url: str
    status: int
    fetched_at: datetime = field(default_factory=utcnow)
    final_url: str | None = None
    redirects: list[str] = field(default_factory=list)
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    body: bytes | None = None
    listing: ListingEntry | None = None
    error: str | None = None  # why a fetch failed for good (status 0 when no answer)
    run_id: int | None = None
    # Every answer as the server gave it, redirects first, the final answer last: each
    # {"url", "status", "reason", "protocol", "headers": [[name, value], ...]} (the WARC).
    answers: list[dict[str, Any]] | None = None

    @property
    def answered_url(self) -> str:
        return self.final_url or self.url
