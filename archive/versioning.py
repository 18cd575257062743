"""THE versioning rule: normalise what a reader sees, hash it, compare, write or touch.

A new version starts only when the content a reader sees changes: title, kind, date,
place, sources, fields of work, byline, body text or attachments (README, *What a record is*;
``archive.records.CONTENT_FIELDS``). Navigation, markup and scripts never reach a
record, and whitespace is normalised away (``archive.normalise``, which the rule applies
to every field), so none of them can make a version.
The raw bytes are never compared: a rotating token or a changed menu changes the raw
body's hash (stored with the capture) but not the content hash.

:func:`record_version` is the one place the rule is applied. It runs inside the
caller's transaction (``Archive.ingest`` or ``Archive.reextract``), so the capture,
the version or the touch, deduplication and the change-log entry commit together.

The version's text is stored compressed (``archive.texts``) and put into the search
index (``archive.search``) in the same transaction: the index cannot read it from SQL.

Imports: ``archive.dedup``, ``archive.lsh`` (the near-duplicate index),
``archive.normalise``, ``archive.search``, ``archive.texts``, the schema and
``archive.records``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from archive import dedup, lsh, search, texts
from archive.normalise import clean as _clean
from archive.normalise import normalise_text, signature_of, text_of
from archive.normalise import optional as _optional
from archive.records import CONTENT_FIELDS, Attachment, Record
from archive.schema import (
    Change,
    Document,
    Sha256,
    Version,
    moving_from,
    same_text,
    version_url,
)
from archive.texts import FirstPage, TextReader, TextStore, remember

#: Content fields added after archives existed: hashed only when they hold something, so
#: a document without them keeps exactly the hash it had before they were added (no
#: version appears on upgrade), and one with them has them in its hash (a changed list
#: is a change a reader sees).
HASHED_WHEN_PRESENT = frozenset({"attachments"})
#: Near-duplicate candidates examined per new document (most shared LSH bands first).
CANDIDATES = 200


def normalise_content(record: Record, text: str | None = None) -> dict[str, Any]:
    """The reader-visible content of ``record``, normalised: exactly ``CONTENT_FIELDS``
    (``text``: its text normalised already, ``normalise.text_of``)."""
    content: dict[str, Any] = {
        "title": _clean(record.title),
        "kind": _clean(record.kind).lower(),
        "published": _optional(record.published),
        "place": _optional(record.place),
        "sources": [s for s in (_clean(x) for x in record.sources or []) if s],
        "fields_of_work": [s for s in (_clean(x) for x in record.fields_of_work or []) if s],
        "byline": _optional(record.byline),
        "text": normalise_text(record.text) if text is None else text,
        "attachments": normalise_attachments(record.attachments),
    }
    assert tuple(content) == CONTENT_FIELDS
    return content


def normalise_attachments(attachments: list[Attachment] | list[Any] | None) -> list[Any]:
    """``[{"title", "url"}, ...]`` in the page's order, each address once (its first
    title), titles with whitespace normalised; entries without an address dropped."""
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for entry in attachments or []:
        attachment = Attachment.from_json(entry)
        url = attachment.url.strip()
        if url and url not in seen:
            seen.add(url)
            out.append({"title": _clean(attachment.title), "url": url})
    return out


def _sha256(data: str) -> str:
    return "sha256:" + hashlib.sha256(data.encode("utf-8")).hexdigest()


def content_hash(content: dict[str, Any]) -> str:
    """``sha256:`` of the normalised content as canonical JSON (sorted keys, UTF-8).

    A field of :data:`HASHED_WHEN_PRESENT` is left out while it is empty (or ``None``,
    as on versions stored before it existed), so adding it changed no stored hash.
    """
    canonical = json.dumps(
        {
            name: content[name]
            for name in CONTENT_FIELDS
            if name not in HASHED_WHEN_PRESENT or content.get(name)
        },
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return _sha256(canonical)


def text_hash(text: str) -> str:
    return _sha256(text)


def version_content(version: Version) -> dict[str, Any]:
    """The stored content of a version, in the form :func:`content_hash` hashes (its
    text read, ``archive.texts.TextReader.load``)."""
    content = {name: getattr(version, name) for name in CONTENT_FIELDS}
    content["attachments"] = content["attachments"] or []
    return content


def unread_before(db: Session, newest: Any, content: dict[str, Any]) -> bool:
    """Is ``content`` the newest version's (a row with its ``id`` and ``content_hash``)
    apart from attachments the archive had not read when it stored that version
    (attachments None: before revision 0006)?  Then the difference is a better reading
    of the same page, not a change at the source. Reads the version's attachments
    (``archive.texts``) only when ``content`` has some and the rest is the same."""
    if not content["attachments"]:
        return False
    if content_hash({**content, "attachments": []}) != newest.content_hash:
        return False
    return TextReader(db).fields_of(newest.id)["attachments"] is None


@dataclass
class VersionOutcome:
    outcome: str  # new_document | new_version | unchanged
    document: Document
    version: Version
    change: str | None  # the change-log kind written, if any
    #: The normalised content the version stores (the fetch's, which hashed the same,
    #: when unchanged): what a listing entry kept beside the fetch is read against.
    content: dict[str, Any]


def record_version(
    session: Session,
    record: Record,
    seen_at: datetime,
    *,
    run_id: int | None = None,
    reextract: bool = False,
    texts: TextStore | None = None,
    page: Callable[[], FirstPage | None] | None = None,
) -> VersionOutcome:
    """Apply the versioning rule for ``record`` seen at ``seen_at``.

    - unknown document: create it with version 1 (then look for what it duplicates);
    - deleted document seen again: a new version, even with the same content, so the
      return is on record (``returned``); re-extraction never revives a document;
    - same content hash as the newest version: only ``last_seen`` moves;
    - otherwise: version n+1; its reason is ``reextracted`` (an extraction correction)
      when re-extracting, or when only attachments differ and the newest version was
      stored before the archive read them (:func:`unread_before`).

    ``texts`` keeps the archive's text dictionary between calls (a fresh one reads it).
    ``page`` offers the page read, should it be a new document's first: the version's
    text then follows it (``archive.texts.FirstPage``).
    """
    texts = texts or TextStore()
    content = normalise_content(record, text_of(record))
    chash = content_hash(content)
    document = session.get(Document, record.id)
    if document is None:
        offered = page() if page is not None else None
        return _new_document(session, record, content, chash, seen_at, run_id, texts, offered)

    newest = None
    if document.current_version:
        newest = session.scalars(
            select(Version).where(
                Version.document_id == document.id, Version.number == document.current_version
            )
        ).one()
    returning = document.deleted and not reextract
    document.last_seen = max(document.last_seen, seen_at)
    if newest is not None and newest.content_hash == chash and not returning:
        newest.last_seen = max(newest.last_seen, seen_at)
        if record.url and record.url != document.url and not reextract:
            # The item moved (a 301 to a new section): same content, new canonical
            # address. Not a version, but downstream feeds must learn the new url.
            _move(session, document, record.url)
            _log(session, document, "moved", newest.number, seen_at, run_id, url=record.url)
            return VersionOutcome("unchanged", document, newest, "moved", content)
        return VersionOutcome("unchanged", document, newest, None, content)

    corrected = reextract or (newest is not None and unread_before(session, newest, content))
    reason = "returned" if returning else "reextracted" if corrected else "changed"
    if returning:
        document.deleted = False
        document.deleted_at = None
    document.kind = content["kind"]
    _move(session, document, record.url)
    version = _write_version(
        session, document, record, content, chash, seen_at, reason, texts, newest
    )
    _log(session, document, reason, version.number, seen_at, run_id)
    return VersionOutcome("new_version", document, version, reason, content)


def _new_document(
    session: Session,
    record: Record,
    content: dict[str, Any],
    chash: str,
    seen_at: datetime,
    run_id: int | None,
    texts: TextStore,
    page: FirstPage | None = None,
) -> VersionOutcome:
    """An unknown document: created with version 1, then linked to what it duplicates."""
    document = Document(
        id=record.id,
        kind=content["kind"],
        url=record.url,
        first_seen=seen_at,
        last_seen=seen_at,
        deleted=False,
        deleted_at=None,
        duplicate_of=None,
        current_version=0,
    )
    session.add(document)
    version = _write_version(
        session, document, record, content, chash, seen_at, "created", texts, None, page
    )
    _log(session, document, "created", version.number, seen_at, run_id)
    with session.no_autoflush:  # only the change-log row is pending: dedup never reads it
        links = dedup_links(session, document, version)
    for other, kind in links:
        _log(session, other, kind, other.current_version or None, seen_at, run_id)
    return VersionOutcome("new_document", document, version, "created", content)


def _write_version(
    session: Session,
    document: Document,
    record: Record,
    content: dict[str, Any],
    chash: str,
    seen_at: datetime,
    reason: str,
    texts: TextStore,
    previous: Version | None,
    page: FirstPage | None = None,
) -> Version:
    """Version n+1 of ``document``: its text stored compressed (a delta of ``previous``
    where that helps), its near-duplicate keys and its entry in the search index."""
    document.current_version += 1
    version = Version(
        document_id=document.id,
        number=document.current_version,
        url_stored=version_url(record.url, document.url),
        date_source=record.date_source,
        language=record.language,
        content_hash=chash,
        text_hash=text_hash(content["text"]),
        first_seen=seen_at,  # and last seen then (``seen_since`` None)
        extractor_version=record.extractor_version or "",
        furniture_version=record.furniture_version,
        provenance=record.provenance_json(),
        reason=reason,
        **content,
    )
    sig = signature_of(record, content["text"])
    version.sketch = sig.packed
    texts.store(session, version, previous, seen_at, page)
    session.add(version)
    session.flush()  # the version's id, for its near-duplicate keys and the index
    remember(session, version.id, page)
    search.index_version(session.connection(), version.id, version.title, version.text, document.id)
    session.info.setdefault("signatures", {})[version.id] = sig  # reused by dedup_links
    lsh.add(session, version.id, sig.keys)  # written when the transaction commits
    return version


def _move(session: Session, document: Document, url: str) -> None:
    """``document``'s address becomes ``url``; its versions that left the old one unsaid
    keep it (``archive.schema.moving_from``)."""
    if url != document.url:
        session.execute(moving_from(document.id, document.url))
        document.url = url


def _log(
    session: Session,
    document: Document,
    kind: str,
    number: int | None,
    at: datetime,
    run_id: int | None,
    url: str | None = None,
) -> None:
    session.add(
        Change(document_id=document.id, kind=kind, version=number, at=at, run_id=run_id, url=url)
    )


def mark_deleted(session: Session, document: Document, at: datetime, run_id: int | None) -> bool:
    """Tombstone ``document`` (its versions stay); False when it already was."""
    if document.deleted:
        return False
    document.deleted = True
    document.deleted_at = at
    document.last_seen = max(document.last_seen, at)
    _log(session, document, "deleted", document.current_version or None, at, run_id)
    return True


def dedup_links(
    session: Session, document: Document, version: Version
) -> list[tuple[Document, str]]:
    """Link a new document to the earlier document carrying the same text.

    Exact text hash first, then near-duplicate candidates from the LSH index,
    confirmed by ``dedup.is_near_duplicate``. The earlier of the two (publication
    date, then node number, then first seen) is the original; when the new document
    turns out to be the earlier one (a crawl meets the republication first), the
    existing document is pointed at it instead. Returns the *other* documents whose
    ``duplicate_of`` changed, with the change-log kind to record for them.
    """
    sig = session.info.get("signatures", {}).pop(version.id, None)
    if sig is None:
        sig = dedup.signature(version.text)
    if sig.n_words < dedup.MIN_WORDS:
        return []
    matched = _exact_matches(session, document, version)
    if sig.keys and not matched:
        matched = _near_matches(session, document, sig)
    if not matched:
        return []
    return _link_to_original(session, document, version, matched)


def _exact_matches(session: Session, document: Document, version: Version) -> dict[str, Version]:
    """Other documents with a version of exactly this text, by document id."""
    matched: dict[str, Version] = {}
    exact = session.scalars(
        select(Version)
        .where(
            same_text(literal(version.text_hash, Sha256())),
            Version.document_id != document.id,
        )
        .limit(20)
    ).all()
    for candidate in exact:
        matched.setdefault(candidate.document_id, candidate)
    return matched


def _near_matches(session: Session, document: Document, sig: dedup.Signature) -> dict[str, Version]:
    """Other documents with a version near this text: LSH candidates, filtered by their
    stored sketches, confirmed on their text."""
    matched: dict[str, Version] = {}
    # Candidates sharing most bands first, so the cap never drops a likely match.
    candidates = lsh.candidates(session, document.id, sig.keys, CANDIDATES)
    to_read = [
        version_id for version_id, _document_id, sketch in candidates if sig.may_match(sketch)
    ]
    if not to_read:
        return matched
    rows = session.execute(
        select(Version.id, Version.document_id, *texts.columns()).where(Version.id.in_(to_read))
    ).all()
    reader = TextReader(session)
    confirmed = [
        row.id
        for row in rows
        if row.document_id not in matched and sig.near_duplicate_of(reader.text(row))
    ]
    if confirmed:
        for candidate in session.scalars(
            select(Version).where(Version.id.in_(confirmed)).order_by(Version.id)
        ):
            matched.setdefault(candidate.document_id, candidate)
    return matched


def _link_to_original(
    session: Session, document: Document, version: Version, matched: dict[str, Version]
) -> list[tuple[Document, str]]:
    """Point the later of ``document`` and its matches at the earliest (see
    :func:`dedup_links`); the other documents changed, with their change-log kind."""
    others = {d.id: d for d in session.scalars(select(Document).where(Document.id.in_(matched)))}
    # Resolve to roots: a match that is itself a duplicate stands for its original.
    roots: dict[str, Document] = {}
    for doc in others.values():
        root = session.get(Document, doc.duplicate_of) if doc.duplicate_of else doc
        if root is not None and root.id != document.id:
            roots[root.id] = root
    mine = _order_key(document.id, version.published, document.first_seen)
    earliest = min(
        roots.values(),
        key=lambda d: _order_key(d.id, (matched.get(d.id) or version).published, d.first_seen),
    )
    earliest_key = _order_key(
        earliest.id, (matched.get(earliest.id) or version).published, earliest.first_seen
    )
    if earliest_key <= mine:
        document.duplicate_of = earliest.id
        return []
    # The new document is the original: every root it matched now points at it, and so
    # do the duplicates that pointed at those roots.
    changed: list[tuple[Document, str]] = []
    for root in roots.values():
        root.duplicate_of = document.id
        changed.append((root, "duplicate"))
        for follower in session.scalars(select(Document).where(Document.duplicate_of == root.id)):
            follower.duplicate_of = document.id
            changed.append((follower, "duplicate"))
    return changed


def _order_key(doc_id: str, published: str | None, first_seen: datetime) -> tuple[Any, ...]:
    node = doc_id.rsplit("/", 1)[-1]
    return (published or "9999-99-99", int(node) if node.isdigit() else 1 << 62, first_seen)
