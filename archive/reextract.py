"""Re-extraction: replay stored raw bodies through the current extraction, no fetching.

For each document, the newest successful capture's raw body goes through
``extract_fn`` (the crawl's own ``crawler.sites.extract``, passed in so that the
archive never imports the crawler); the versioning rule then writes a version only
where the record's reader-visible content changed, stamped with the new extractor
version, with reason ``reextracted``. Only the newest capture of a document is
replayed: replaying older ones would resurrect superseded content as new versions.
Captures of addresses that were pages are replayed too, so an item the old
extraction missed becomes a document. It takes the run lock like a crawl.

Imports: ``archive.bodies``, ``archive.runs``, ``archive.texts``, ``archive.versioning``,
the schema,
``archive.records`` and ``archive.urls``; the store calls it, never the other way.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from archive.bodies import BodyReader
from archive.records import ListingEntry, Record
from archive.runs import RunLock
from archive.schema import Address, Capture
from archive.texts import TextStore
from archive.urls import normalise_address
from archive.versioning import record_version

ExtractFn = Callable[..., Record]


def latest_captures(sessions: sessionmaker[Session]) -> list[int]:
    """Ids of the captures to replay: newest 2xx-with-body per document, and per page
    address that never belonged to a document."""
    ok = (Capture.status >= 200, Capture.status < 300, Capture.body_sha256.is_not(None))
    with sessions() as s:
        per_document = s.scalars(
            select(func.max(Capture.id))
            .where(*ok, Capture.document_id.is_not(None))
            .group_by(Capture.document_id)
        ).all()
        per_page = s.scalars(
            select(func.max(Capture.id))
            .join(Address, Address.id == Capture.address_id)
            .where(*ok, Capture.document_id.is_(None), Address.document_id.is_(None))
            .group_by(Capture.address_id)
        ).all()
    return sorted({*per_document, *per_page})


def reextract(
    sessions: sessionmaker[Session],
    runs: RunLock,
    extract_fn: ExtractFn,
    extractor_version: str,
    texts: TextStore | None = None,
) -> dict[str, int]:
    """Run ``extract_fn`` over stored bodies; returns counters of what it did."""
    texts = texts or TextStore()
    counters = {
        "captures": 0,
        "new_documents": 0,
        "new_versions": 0,
        "unchanged": 0,
        "pages": 0,
        "errors": 0,
    }
    run_id = runs.start({"command": "reextract", "extractor_version": extractor_version})
    outcome = "failed"
    try:
        for capture_id in latest_captures(sessions):
            counters["captures"] += 1
            with sessions() as s, s.begin():
                capture = s.get(Capture, capture_id)
                assert capture is not None and capture.body_sha256 is not None
                body = BodyReader(s).read(capture.body_sha256)
                assert body is not None
                url = capture.final_url or capture.url
                try:
                    record = extract_fn(body, url, listing=ListingEntry.from_json(capture.listing))
                except Exception:  # noqa: BLE001 - one bad page must not stop the replay
                    counters["errors"] += 1
                    continue
                if not record.is_item:
                    counters["pages"] += 1
                    continue
                record.extractor_version = extractor_version
                result = record_version(
                    s, record, capture.fetched_at, run_id=run_id, reextract=True, texts=texts
                )
                _count(counters, result.outcome)
                if result.outcome == "new_document":
                    _link(s, capture, record)
        outcome = "ok"
    finally:
        runs.finish(run_id, outcome, counters)
    return counters


def _count(counters: dict[str, int], outcome: str) -> None:
    key = {"new_document": "new_documents", "new_version": "new_versions"}.get(outcome, outcome)
    counters[key] = counters.get(key, 0) + 1


def _link(s: Session, capture: Capture, record: Record) -> None:
    """A page that is now an item: its address (and the capture) join the document."""
    address = s.get(Address, capture.address_id)
    if address is not None:
        address.document_id = record.id
        address.how = "canonical" if address.url == normalise_address(record.url) else "alias"
    capture.document_id = record.id


def newest_capture(
    sessions: Callable[[], Session], document_id: str
) -> tuple[int, str, bytes, ListingEntry | None] | None:
    """The newest successful capture of a document, to read again: (capture id, address,
    raw body, listing entry); None when it has none with a stored body."""
    with sessions() as s:
        capture = s.scalar(
            select(Capture)
            .where(
                Capture.document_id == document_id,
                Capture.status >= 200,
                Capture.status < 300,
                Capture.body_sha256.is_not(None),
            )
            .order_by(Capture.id.desc())
            .limit(1)
        )
        if capture is None or capture.body_sha256 is None:
            return None
        body = BodyReader(s).read(capture.body_sha256)
        if body is None:
            return None
        listing = ListingEntry.from_json(capture.listing)
        return capture.id, capture.final_url or capture.url, body, listing


def record_correction(
    sessions: Callable[[], Session],
    capture_id: int,
    record: Record,
    run_id: int,
    texts: TextStore | None = None,
) -> str:
    """Write what a better reading of a stored capture gives: a version with reason
    ``reextracted`` where the reader-visible content changed (``new_version``); otherwise
    (``unchanged``) the newest version is stamped with the model that read it again, so it
    is not read again. Used by a crawl whose furniture model changed."""
    with sessions() as s, s.begin():
        capture = s.get(Capture, capture_id)
        assert capture is not None
        result = record_version(
            s, record, capture.fetched_at, run_id=run_id, reextract=True, texts=texts
        )
        if result.outcome == "unchanged" and result.version is not None:
            # The same content: the new model reads it so too (and it is not read again).
            result.version.furniture_version = record.furniture_version
        return result.outcome
