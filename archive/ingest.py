"""The ingest transaction: one fetch (a capture and, for an item, its record) stored.

``docs/interfaces.md`` section 3 is the contract with the crawler. Each ingest is a
handful of indexed statements inside the caller's transaction: the raw body (once per
distinct sha256, ``archive.bodies``), the addresses, the capture, then the versioning
rule (``archive.versioning``) with the version's compressed text (``archive.texts``),
its search-index entry, deduplication and the change-log entry.

Imports: ``archive.bodies``, ``archive.texts``, ``archive.versioning``,
``archive.languages``, the schema,
``archive.records``,
``archive.urls`` and ``archive.errors``; never the read side (``archive.query``).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, func, insert, select, update
from sqlalchemy.orm import Session

from archive.bodies import REFETCH_OUTCOMES, BodyStore, Prefix, body_hash
from archive.errors import ArchiveError
from archive.languages import link_versions
from archive.listings import VersionLabels, to_store
from archive.records import Capture, Record
from archive.schema import (
    ADDRESS_STATE_SAID,
    Address,
    Document,
    FetchSaid,
    Version,
    answers_to_store,
    own_listing,
    state_read,
    state_to_store,
    to_header_column,
)
from archive.schema import Capture as CaptureRow
from archive.texts import FirstPage, TextStore
from archive.urls import normalise_address
from archive.versioning import mark_deleted, record_version

_CAPTURES = cast(Table, CaptureRow.__table__)

OUTCOMES = ("new_document", "new_version", "unchanged", "not_modified", "deleted", "failed", "page")


@dataclass(frozen=True)
class IngestResult:
    outcome: str  # one of OUTCOMES
    document_id: str | None = None
    version: int | None = None  # the version number created or confirmed
    capture_id: int | None = None
    duplicate_of: str | None = None


@dataclass
class _Effect:
    """What one fetch did to the archive's documents (filled step by step)."""

    outcome: str
    document_id: str | None = None
    version: Version | None = None
    duplicate_of: str | None = None
    #: What the version made or confirmed from the fetch's record says (its listing entry
    #: is kept against it, ``archive.listings``); None for a fetch without a record.
    labels: VersionLabels | None = None


def category(capture: Capture, item: Record | None) -> str:
    """What a fetch means: item, page, not_modified, deleted or failed."""
    status = capture.status
    if capture.error or status == 0 or status >= 500:
        return "failed"
    if status == 304:
        return "not_modified"
    if status in (404, 410):
        return "deleted"
    if 200 <= status < 300:
        return "item" if item is not None else "page"
    return "failed"  # 403, 429, an unfollowed 3xx...: retried next run


def ingest(
    s: Session,
    capture: Capture,
    record: Record | None,
    store: BodyStore | None = None,
    texts: TextStore | None = None,
) -> IngestResult:
    """Store one fetch in ``s``'s transaction (the caller commits). ``store`` and
    ``texts`` keep the archive's dictionaries between calls."""
    now = capture.fetched_at
    if now.tzinfo is None:
        raise ArchiveError("capture.fetched_at must be timezone-aware UTC")
    store = store or BodyStore()
    item = record if record is not None and record.is_item else None
    kind = category(capture, item)
    effect = _Effect(kind)
    body, sha = capture.body, body_hash(capture.body) if capture.body is not None else None
    offered: list[FirstPage] = []

    def page() -> FirstPage | None:
        # the page read, should it be a new document's first: its text may follow it
        if body is None or sha is None:
            return None
        found = store.page(s, body, sha)
        if found is not None:
            offered.append(found)
        return found

    if kind == "item":
        assert item is not None
        result = record_version(s, item, now, run_id=capture.run_id, texts=texts, page=page)
        link_versions(s, item.id, item.language_versions, now)
        effect = _Effect(result.outcome, result.document.id, result.version)
        effect.duplicate_of = result.document.duplicate_of
        effect.labels = VersionLabels.of(result.content)
    addresses = _link_addresses(
        s,
        capture,
        item if kind == "item" else None,
        now,
        kind,
        new_document=effect.outcome == "new_document",
    )
    requested = addresses[normalise_address(capture.url)]
    answered = addresses[normalise_address(capture.answered_url)]
    if kind == "not_modified":
        _confirm(s, effect, requested.document_id or answered.document_id, now)
    elif kind == "deleted":
        document_id = _deleted_document(s, capture, record, requested, answered)
        _delete(s, effect, document_id, now, capture.run_id)
    body_sha = None
    if capture.body is not None:
        # Stored once the version is known: a page fetched again is compressed against
        # an earlier page and its version's text (``archive.bodies``).
        def prefix() -> Prefix | None:
            if effect.outcome not in REFETCH_OUTCOMES or effect.version is None:
                return None  # a document's first page, or a page of none
            s.flush()
            return store.prefix(s, effect.document_id, effect.version.id)

        first = offered[0] if offered else None
        body_sha = store.store(s, capture.body, now, sha=sha, prefix=prefix, page=first)
    capture_id = _insert_capture(s, capture, requested.id, body_sha, effect)
    return IngestResult(
        outcome=effect.outcome,
        document_id=effect.document_id,
        version=effect.version.number if effect.version is not None else None,
        capture_id=capture_id,
        duplicate_of=effect.duplicate_of,
    )


def _confirm(s: Session, effect: _Effect, document_id: str | None, now: datetime) -> None:
    """A 304: the document (and its newest version) was seen unchanged at ``now``."""
    effect.document_id = document_id
    if document_id is None:
        return
    document = s.get(Document, document_id)
    assert document is not None
    document.last_seen = max(document.last_seen, now)
    effect.version = _newest(s, document)
    if effect.version is not None:
        effect.version.last_seen = max(effect.version.last_seen, now)
    effect.duplicate_of = document.duplicate_of


def _delete(
    s: Session, effect: _Effect, document_id: str | None, now: datetime, run_id: int | None
) -> None:
    """A 404/410 at a document's canonical address: the document is tombstoned."""
    effect.document_id = document_id
    if document_id is None:
        return
    document = s.get(Document, document_id)
    assert document is not None
    mark_deleted(s, document, now, run_id)
    effect.version = _newest(s, document)


def capture_row(
    capture: Capture,
    body_sha: str | None,
    document_id: str | None,
    version_id: int | None,
    outcome: str,
    labels: VersionLabels | None,
) -> dict[str, Any]:
    """The ``captures`` row of one fetch, less its address id: what the server said, the
    body's hash and what the fetch did to the archive. One builder for the per-page
    ingest here and the batched one (``archive.batch``), so the two write the same row.
    ``labels``: what the version ``version_id`` says, read from the fetch's record (its
    listing entry is kept as what the version does not say, ``archive.listings``)."""
    return dict(
        url=capture.url,
        final_url=capture.final_url,
        redirects=list(capture.redirects),
        fetched_at=capture.fetched_at,
        status=capture.status,
        etag=to_header_column(capture.etag, capture.answers, "etag"),
        last_modified=to_header_column(capture.last_modified, capture.answers, "last_modified"),
        content_type=to_header_column(capture.content_type, capture.answers, "content_type"),
        body_sha256=body_sha,
        run_id=capture.run_id,
        document_id=document_id,
        version_id=version_id,
        outcome=outcome,
        error=capture.error,
        listing=(
            to_store(capture.listing.to_json(), capture.url, labels) if capture.listing else None
        ),
        http=answers_to_store(capture.answers, capture.url, capture.fetched_at),
    )


def _insert_capture(
    s: Session, capture: Capture, address_id: int, body_sha: str | None, effect: _Effect
) -> int:
    # One plain INSERT: the capture is never read back in this transaction, and a
    # flush of the ORM's unit of work for it cost more than the statement itself.
    s.flush()  # what the capture refers to (addresses, version) exists first
    row = capture_row(
        capture,
        body_sha,
        effect.document_id,
        effect.version.id if effect.version is not None else None,
        effect.outcome,
        effect.labels,
    )
    row["address_id"] = address_id
    inserted = s.connection().execute(insert(_CAPTURES), row)
    key = inserted.inserted_primary_key
    assert key is not None
    return int(key[0])


def _newest(s: Session, document: Document) -> Version | None:
    if not document.current_version:
        return None
    return s.scalars(
        select(Version).where(
            Version.document_id == document.id, Version.number == document.current_version
        )
    ).one_or_none()


def _deleted_document(
    s: Session, capture: Capture, record: Record | None, requested: Address, answered: Address
) -> str | None:
    """The document a 404/410 removes: only when the gone address is its canonical one.

    A dead alias (an old path of a moved item that now answers 404) does not delete a
    document that still lives at its canonical address.
    """
    candidates = [answered.document_id, requested.document_id]
    if record is not None and record.is_item:
        candidates.append(record.id)
    gone = {requested.url, answered.url}
    for document_id in candidates:
        if document_id is None:
            continue
        document = s.get(Document, document_id)
        if document is not None and normalise_address(document.url) in gone:
            return document_id
    return None


def _address_roles(capture: Capture, item: Record | None, category: str) -> dict[str, str]:
    """Each normalised address the capture involved, with what it is (``Address.how``)."""
    requested = normalise_address(capture.url)
    answered = normalise_address(capture.answered_url)
    hops = [normalise_address(h) for h in capture.redirects]
    how: dict[str, str] = {}
    for url in [requested, *hops]:
        how[url] = "redirect" if url != answered else "alias"
    how[answered] = "alias"
    if item is not None:
        how[normalise_address(item.url)] = "canonical"
    else:
        how = {url: ("page" if category == "page" else h) for url, h in how.items()}
    return how


def _link_addresses(
    s: Session,
    capture: Capture,
    item: Record | None,
    now: datetime,
    category: str,
    *,
    new_document: bool = False,
) -> dict[str, Address]:
    """Upsert every address this capture involved; link them to the item's document.

    ``new_document``: the item's document was created in this transaction, so no other
    address can be its canonical one yet (no demotion to look for)."""
    how = _address_roles(capture, item, category)
    canonical = normalise_address(item.url) if item is not None else None
    with s.no_autoflush:  # nothing pending can be one of these addresses
        existing = {a.url: a for a in s.scalars(select(Address).where(Address.url.in_(list(how))))}
    moved = canonical is not None and (
        canonical not in existing or existing[canonical].how != "canonical"
    )
    for url, kind in how.items():
        address = existing.get(url)
        if address is None:
            address = existing[url] = _new_address(url, kind, now)
            s.add(address)
        address.last_seen = max(address.last_seen, now)
        if item is not None:
            address.how = kind
            address.document_id = item.id
        elif address.document_id is None:
            address.how = kind
    if item is not None and canonical is not None and moved and not new_document:
        _demote_old_canonical(s, item.id, canonical)
    requested = normalise_address(capture.url)
    answered = normalise_address(capture.answered_url)
    fetched = {url: existing[url] for url in (requested, answered)}
    before = newest_fetches(s.connection(), {a.id for a in fetched.values() if a.id is not None})
    for url, address in fetched.items():
        _fetched(address, capture, category, before.get(address.id), url == requested)
    if capture.listing is not None:
        listing = capture.listing.to_json()
        for url in {requested, canonical or answered}:
            existing[url].listing = own_listing(url, requested, listing)
    s.flush()
    return existing


def _new_address(url: str, how: str, now: datetime) -> Address:
    return Address(
        url=url,
        document_id=None,
        how=how,
        first_seen=now,
        seen_since=None,  # first_seen (revision 0042)
        etag=None,
        last_modified=None,
        last_fetched=None,
        last_status=None,
        listing=None,
    )


def newest_fetches(conn: Connection, address_ids: Collection[int]) -> dict[int, FetchSaid]:
    """What the newest capture of each of ``address_ids`` says, by address id (none for
    an address never fetched itself): what its fetch state left NULL reads
    (``archive.schema.ADDRESS_STATE_SAID``, revision 0044)."""
    if not address_ids:
        return {}
    c = CaptureRow.__table__.c
    newest = (
        select(func.max(c.id).label("id"))
        .where(c.address_id.in_(list(address_ids)))
        .group_by(c.address_id)
        .subquery()
    )
    rows = conn.execute(
        select(c.address_id, c.url, c.fetched_at, c.etag, c.last_modified, c.http).join(
            newest, newest.c.id == c.id
        )
    )
    return {
        row.address_id: FetchSaid.of_row(
            row.url, row.fetched_at, row.etag, row.last_modified, row.http
        )
        for row in rows
    }


def fetch_state(
    stored: dict[str, Any], said: FetchSaid | None, capture: Capture, category: str, own: bool
) -> tuple[dict[str, Any], FetchSaid | None]:
    """What the frontier's next conditional request needs of an address that ``capture``
    fetched (``own``: it asked for the address, else was redirected there), from what
    the address stores (``stored``, its :data:`~archive.schema.ADDRESS_STATE_SAID`
    columns) and what its newest capture says (``said``): the columns to store and what
    its newest capture says then. The validators stay where a 304 does not repeat them
    and where the fetch was not of a page."""
    state = {name: state_read(name, stored[name], said) for name in ADDRESS_STATE_SAID}
    state["last_fetched"] = capture.fetched_at
    if category in ("item", "page", "not_modified"):
        if capture.etag is not None or category != "not_modified":
            state["etag"] = capture.etag
        if capture.last_modified is not None or category != "not_modified":
            state["last_modified"] = capture.last_modified
    if own:
        said = FetchSaid(capture.fetched_at, capture.etag, capture.last_modified)
    return {name: state_to_store(name, state[name], said) for name in state}, said


def _fetched(
    address: Address, capture: Capture, category: str, said: FetchSaid | None, own: bool
) -> None:
    """What the frontier's next conditional request needs of a fetched address."""
    stored = {name: getattr(address, name) for name in ADDRESS_STATE_SAID}
    for name, value in fetch_state(stored, said, capture, category, own)[0].items():
        setattr(address, name, value)
    address.last_status = capture.status


def _demote_old_canonical(s: Session, document_id: str, canonical: str) -> None:
    s.execute(
        update(Address)
        .where(
            Address.document_id == document_id,
            Address.how == "canonical",
            Address.url != canonical,
        )
        .values(how="alias")
    )
