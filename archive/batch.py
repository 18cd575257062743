"""A group of fetches ingested with SQLAlchemy Core: the crawl's hot path.

``Archive.ingest_many`` stores the pages a crawl hands over together (the ones that
finished while the previous group was being written) in one transaction. The rule is
the same as :func:`archive.ingest.ingest`'s, page after page in order, and so are the
rows written, to the column and to the id (``tests/archive/test_group_ingest.py``
ingests the same fetches both ways and compares every table). What differs is the cost
on the archive thread, whose interpreter lock the crawl's reactor waits for: the ORM's
unit of work (identity map, dirty tracking, one flush per page, statement caching per
object) cost more CPU than the rest of the write together. Here each row is a plain
dict and:

- the reads of the whole group come first, one statement each: the addresses every page
  involves and which bodies are stored already;
- what nothing in the group reads back is kept in memory and written once at the end,
  one executemany per table: bodies, new addresses (their ids returned in order), the
  changed addresses, captures, change-log entries and search-index rows;
- what a later page of the group may read is written at once, one statement each:
  documents, versions (their id), language links, and the ``duplicate_of`` links
  deduplication sets;
- near-duplicate keys wait in the session and are appended to their buckets as the
  group commits (``archive.lsh``), where a later page's lookup reads them meanwhile.

A failure anywhere loses the group's transaction; ``ingest_many`` then stores each page
alone through :func:`archive.ingest.ingest`, so one bad page fails alone.

Imports: ``archive.ingest`` (the fetch's category and the roles of its addresses),
``archive.versioning`` (normalisation, hashes, the near-duplicate rule's helpers),
``archive.bodies``, ``archive.texts``, ``archive.search``, ``archive.languages``,
``archive.dedup``, ``archive.lsh``, the schema, ``archive.records`` and ``archive.urls``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from archive import dedup, lsh, search
from archive.bodies import PAGE_OUTCOMES, REFETCH_OUTCOMES, BodyStore, Prefix, body_hash
from archive.errors import ArchiveError
from archive.ingest import (
    IngestResult,
    _address_roles,
    capture_row,
    category,
    fetch_state,
    newest_fetches,
)
from archive.languages import link_versions
from archive.listings import VersionLabels
from archive.normalise import signature_of, text_of
from archive.records import Capture, Record
from archive.schema import (
    Address,
    Body,
    Change,
    Document,
    Sha256,
    Version,
    moving_from,
    own_listing,
    same_text,
    seen_since,
    version_url,
)
from archive.schema import Capture as CaptureRow
from archive.texts import (
    FOLLOWED,
    NAMED_FIELDS,
    PACKED_FIELDS,
    FirstPage,
    TextReader,
    TextStore,
    remember,
)
from archive.texts import columns as text_columns
from archive.urls import normalise_address
from archive.versioning import (
    CANDIDATES,
    _order_key,
    content_hash,
    normalise_content,
    text_hash,
    unread_before,
)

_ADDRESSES = cast(Table, Address.__table__)
_BODIES = cast(Table, Body.__table__)
_CAPTURES = cast(Table, CaptureRow.__table__)
_CHANGES = cast(Table, Change.__table__)
_DOCUMENTS = cast(Table, Document.__table__)
_VERSIONS = cast(Table, Version.__table__)

#: The columns of the newest version the rule reads (not its text).
_NEWEST = (
    _VERSIONS.c.id,
    _VERSIONS.c.number,
    _VERSIONS.c.content_hash,
    _VERSIONS.c.base_id,
    _VERSIONS.c.codec,
    _VERSIONS.c.first_seen,
    func.coalesce(_VERSIONS.c.last_seen, _VERSIONS.c.first_seen).label("last_seen"),
)
# The statements every page runs, built once: building a statement (coercing its
# operands, then its cache key) cost as much as executing it.
_DOCUMENT = select(_DOCUMENTS).where(_DOCUMENTS.c.id == bindparam("id"))
_NEWEST_VERSION = select(*_NEWEST).where(
    _VERSIONS.c.document_id == bindparam("document_id"),
    _VERSIONS.c.number == bindparam("number"),
)
_TOUCH_VERSION = (
    update(_VERSIONS).where(_VERSIONS.c.id == bindparam("_id")).values(last_seen=bindparam("seen"))
)
_EXACT = (
    select(_VERSIONS.c.document_id, _VERSIONS.c.published)
    .where(
        same_text(bindparam("text_hash", type_=Sha256())),
        _VERSIONS.c.document_id != bindparam("document_id"),
    )
    .limit(20)
)
_INSERT_DOCUMENT = insert(_DOCUMENTS)
_INSERT_VERSION = insert(_VERSIONS)
_SAVED: dict[tuple[str, ...], Any] = {}
_ADDRESS_COLUMNS = tuple(c.name for c in _ADDRESSES.c if c.name != "id")
#: An address's key for what its newest capture says (``archive.schema.FetchSaid``, None
#: where it has none): what its fetch state's NULL columns read (revision 0044).
_SAID = "_said"
_UPDATE_ADDRESS = (
    update(_ADDRESSES)
    .where(_ADDRESSES.c.id == bindparam("_id"))
    .values({name: bindparam(name) for name in _ADDRESS_COLUMNS if name != "url"})
)


@dataclass
class _Effect:
    """What one fetch did to the archive's documents (as ``archive.ingest._Effect``)."""

    outcome: str
    document_id: str | None = None
    version_id: int | None = None
    version_number: int | None = None
    duplicate_of: str | None = None
    #: The document's first page as offered to its first version's text (which followed
    #: it when ``page.stored`` is set).
    page: FirstPage | None = None
    #: What the version made or confirmed from the fetch's record says (``archive.listings``).
    labels: VersionLabels | None = None


def ingest_group(
    s: Session,
    pairs: Sequence[tuple[Capture, Record | None]],
    bodies: BodyStore,
    texts: TextStore,
) -> list[IngestResult]:
    """Store every fetch of ``pairs`` in ``s``'s transaction (the caller commits), each
    as :func:`archive.ingest.ingest` stores it, in order."""
    return _Group(s, bodies, texts).ingest(pairs)


class _Group:
    def __init__(self, s: Session, bodies: BodyStore, texts: TextStore) -> None:
        self.s = s
        self.conn: Connection = s.connection()
        self.bodies = bodies
        self.texts = texts
        #: Every address the group involves, by normalised url: its row as a dict (``id``
        #: None until inserted at the end).
        self.addresses: dict[str, dict[str, Any]] = {}
        self.new_addresses: list[dict[str, Any]] = []
        self.changed_addresses: dict[str, dict[str, Any]] = {}
        self.body_rows: list[dict[str, Any]] = []
        self.capture_rows: list[tuple[dict[str, Any], dict[str, Any]]] = []
        self.change_rows: list[dict[str, Any]] = []
        self.search_rows: list[dict[str, Any]] = []
        #: Pages of documents stored in this group: the latest one's body (key, base) by
        #: document, bases of the group's bodies, and the raw bytes of those that may
        #: serve as a base (have none), by key.
        self.pages: dict[str, tuple[str, str | None]] = {}
        self.bases: dict[str, str | None] = {}
        self.raw: dict[str, bytes] = {}

    # -- the group ----------------------------------------------------------------------

    def ingest(self, pairs: Sequence[tuple[Capture, Record | None]]) -> list[IngestResult]:
        shas = [body_hash(c.body) if c.body is not None else None for c, _ in pairs]
        self.bodies.known(self.s, [sha for sha in shas if sha is not None])
        self._read_addresses(pairs)
        effects = [
            self._page(capture, record, sha)
            for (capture, record), sha in zip(pairs, shas, strict=True)
        ]
        capture_ids = self._write()
        return [
            IngestResult(
                outcome=effect.outcome,
                document_id=effect.document_id,
                version=effect.version_number,
                capture_id=capture_id,
                duplicate_of=effect.duplicate_of,
            )
            for effect, capture_id in zip(effects, capture_ids, strict=True)
        ]

    def _read_addresses(self, pairs: Sequence[tuple[Capture, Record | None]]) -> None:
        urls: set[str] = set()
        fetched: set[str] = set()  # whose fetch state a fetch of the group sets
        for capture, record in pairs:
            fetched.add(normalise_address(capture.url))
            fetched.add(normalise_address(capture.answered_url))
            urls.update(normalise_address(h) for h in capture.redirects)
            if record is not None and record.is_item:
                urls.add(normalise_address(record.url))
        urls |= fetched
        if urls:
            loaded = []
            for row in self.conn.execute(select(_ADDRESSES).where(_ADDRESSES.c.url.in_(urls))):
                address = self.addresses[row.url] = dict(row._mapping)
                address["last_seen"] = address["last_seen"] or address["first_seen"]
                if row.url in fetched:
                    loaded.append(address)
            said = newest_fetches(self.conn, [address["id"] for address in loaded])
            for address in loaded:
                address[_SAID] = said.get(address["id"])

    def _write(self) -> list[int]:
        """The group's deferred rows, one executemany per table, in the order their
        references need; the captures' ids, in order."""
        conn = self.conn
        if self.body_rows:
            conn.execute(insert(_BODIES), self.body_rows)
        if self.new_addresses:
            inserted = conn.execute(
                insert(_ADDRESSES).returning(_ADDRESSES.c.id, sort_by_parameter_order=True),
                [_address_row(row) for row in self.new_addresses],
            )
            for row, (address_id,) in zip(self.new_addresses, inserted.all(), strict=True):
                row["id"] = address_id
        if self.changed_addresses:
            conn.execute(
                _UPDATE_ADDRESS,
                [
                    {"_id": row["id"], **_address_row(row, "url")}
                    for row in self.changed_addresses.values()
                ],
            )
        ids: list[int] = []
        if self.capture_rows:
            rows = [{**row, "address_id": address["id"]} for row, address in self.capture_rows]
            inserted = conn.execute(
                insert(_CAPTURES).returning(_CAPTURES.c.id, sort_by_parameter_order=True), rows
            )
            ids = [int(capture_id) for (capture_id,) in inserted.all()]
        if self.change_rows:
            conn.execute(insert(_CHANGES), self.change_rows)
        search.index_versions(conn, self.search_rows)
        return ids

    # -- one page (archive.ingest.ingest) --------------------------------------------------

    def _page(self, capture: Capture, record: Record | None, sha: str | None) -> _Effect:
        now = capture.fetched_at
        if now.tzinfo is None:
            raise ArchiveError("capture.fetched_at must be timezone-aware UTC")
        item = record if record is not None and record.is_item else None
        kind = category(capture, item)
        effect = _Effect(kind)
        if kind == "item":
            assert item is not None
            body = capture.body

            def page() -> FirstPage | None:
                if body is None or sha is None:
                    return None
                return self.bodies.page(self.s, body, sha, pending=True)

            effect = self._version(item, now, capture.run_id, page)
            link_versions(self.s, item.id, item.language_versions, now)
        addresses = self._link_addresses(
            capture,
            item if kind == "item" else None,
            now,
            kind,
            new_document=effect.outcome == "new_document",
        )
        requested = addresses[normalise_address(capture.url)]
        answered = addresses[normalise_address(capture.answered_url)]
        if kind == "not_modified":
            self._confirm(effect, requested["document_id"] or answered["document_id"], now)
        elif kind == "deleted":
            document_id = self._deleted_document(capture, record, requested, answered)
            self._delete(effect, document_id, now, capture.run_id)
        if capture.body is not None and sha is not None:
            self._body(capture.body, sha, effect, now)
        self.capture_rows.append(
            (
                capture_row(
                    capture,
                    sha,
                    effect.document_id,
                    effect.version_id,
                    effect.outcome,
                    effect.labels,
                ),
                requested,
            )
        )
        return effect

    def _body(self, body: bytes, sha: str, effect: _Effect, now: datetime) -> None:
        """Store a page's body once its version is known (``archive.ingest.ingest`` says
        why), against the document's latest page as the per-page ingest sees it: this
        group's, not written yet, before the database's."""
        document_id = effect.document_id if effect.outcome in PAGE_OUTCOMES else None
        latest = self.pages.get(document_id) if document_id is not None else None

        def prefix() -> Prefix | None:
            if document_id is None or effect.outcome not in REFETCH_OUTCOMES:
                return None  # a document's first page, or a page of none
            return self.bodies.prefix(
                self.conn,
                document_id,
                effect.version_id,
                latest=latest,
                raw=self.raw,
                followed=self.s.info.get(FOLLOWED),
            )

        self.bodies.store(
            self.s, body, now, pending=self.body_rows, sha=sha, prefix=prefix, page=effect.page
        )
        if self.body_rows and self.body_rows[-1]["sha256"] == sha:  # a new body
            self.bases[sha] = self.body_rows[-1]["base"]
        if document_id is not None:
            if sha not in self.bases:  # stored before this group
                self.bases[sha] = self.conn.execute(
                    select(_BODIES.c.base).where(_BODIES.c.sha256 == sha)
                ).scalar()
            self.pages[document_id] = (sha, self.bases[sha])
            if self.bases[sha] is None:  # only a body without a base becomes one
                self.raw[sha] = body

    # -- documents and versions (archive.versioning.record_version) ----------------------

    def _document(self, document_id: str) -> dict[str, Any] | None:
        row = self.conn.execute(_DOCUMENT, {"id": document_id}).one_or_none()
        return dict(row._mapping) if row is not None else None

    def _newest(self, document: dict[str, Any]) -> Any:
        if not document["current_version"]:
            return None
        return self.conn.execute(
            _NEWEST_VERSION,
            {"document_id": document["id"], "number": document["current_version"]},
        ).one_or_none()

    def _touch(self, newest: Any, seen_at: datetime) -> None:
        """The newest version seen again at ``seen_at``: its last sighting moves, kept
        as ``Version.last_seen`` keeps it (``seen_since``)."""
        seen = seen_since(newest.first_seen, max(newest.last_seen, seen_at))
        self.conn.execute(_TOUCH_VERSION, {"_id": newest.id, "seen": seen})

    def _move(self, document: dict[str, Any], url: str) -> None:
        """As ``archive.versioning._move``: the document's versions that left its old
        address unsaid keep it (``archive.schema.moving_from``)."""
        if url != document["url"]:
            self.conn.execute(moving_from(document["id"], document["url"]))
            document["url"] = url

    def _save_document(self, document: dict[str, Any], *names: str) -> None:
        statement = _SAVED.get(names)
        if statement is None:
            statement = _SAVED[names] = (
                update(_DOCUMENTS)
                .where(_DOCUMENTS.c.id == bindparam("_id"))
                .values({name: bindparam(name) for name in names})
            )
        self.conn.execute(
            statement, {"_id": document["id"], **{name: document[name] for name in names}}
        )

    def _version(
        self,
        record: Record,
        seen_at: datetime,
        run_id: int | None,
        page: Callable[[], FirstPage | None],
    ) -> _Effect:
        """The versioning rule (``record_version``, never re-extracting); ``page`` offers
        the page read, should it be a new document's first (``archive.texts.FirstPage``)."""
        content = normalise_content(record, text_of(record))
        chash = content_hash(content)
        document = self._document(record.id)
        labels = VersionLabels.of(content)  # what a listing entry is kept against
        if document is None:
            effect = self._new_document(record, content, chash, seen_at, run_id, page())
            effect.labels = labels
            return effect
        newest = self._newest(document)
        returning = bool(document["deleted"])
        document["last_seen"] = max(document["last_seen"], seen_at)
        if newest is not None and newest.content_hash == chash and not returning:
            self._touch(newest, seen_at)
            if record.url and record.url != document["url"]:
                # Moved (a 301 to a new section): not a version, but feeds learn the url.
                self._move(document, record.url)
                self._log(document["id"], "moved", newest.number, seen_at, run_id, record.url)
            self._save_document(document, "last_seen", "url")
            return _Effect(
                "unchanged",
                document["id"],
                newest.id,
                newest.number,
                document["duplicate_of"],
                labels=labels,
            )
        corrected = newest is not None and unread_before(self.s, newest, content)
        reason = "returned" if returning else "reextracted" if corrected else "changed"
        if returning:
            document["deleted"] = False
            document["deleted_at"] = None
        document["kind"] = content["kind"]
        self._move(document, record.url)
        version_id, number, _sig, _thash = self._write_version(
            document, record, content, chash, seen_at, reason, newest
        )
        self._save_document(
            document, "last_seen", "deleted", "deleted_at", "kind", "url", "current_version"
        )
        self._log(document["id"], reason, number, seen_at, run_id)
        duplicate = document["duplicate_of"]
        return _Effect("new_version", document["id"], version_id, number, duplicate, labels=labels)

    def _new_document(
        self,
        record: Record,
        content: dict[str, Any],
        chash: str,
        seen_at: datetime,
        run_id: int | None,
        page: FirstPage | None,
    ) -> _Effect:
        document: dict[str, Any] = dict(
            id=record.id,
            kind=content["kind"],
            url=record.url,
            first_seen=seen_at,
            last_seen=seen_at,
            deleted=False,
            deleted_at=None,
            duplicate_of=None,
            current_version=1,
        )
        self.conn.execute(_INSERT_DOCUMENT, document)
        document["current_version"] = 0  # the version written next is number 1
        version_id, number, sig, thash = self._write_version(
            document, record, content, chash, seen_at, "created", None, page
        )
        self._log(document["id"], "created", number, seen_at, run_id)
        links = self._dedup_links(document, content["published"], sig, thash)
        for other_id, other_version, kind in links:
            self._log(other_id, kind, other_version or None, seen_at, run_id)
        return _Effect(
            "new_document", document["id"], version_id, number, document["duplicate_of"], page
        )

    def _write_version(
        self,
        document: dict[str, Any],
        record: Record,
        content: dict[str, Any],
        chash: str,
        seen_at: datetime,
        reason: str,
        previous: Any,
        page: FirstPage | None = None,
    ) -> tuple[int, int, dedup.Signature, str]:
        """Version n+1 (as ``archive.versioning._write_version``): its id and number,
        its text's near-duplicate signature and text hash; its text follows ``page``
        where it can (``TextStore.store``)."""
        document["current_version"] += 1
        number = document["current_version"]
        sig = signature_of(record, content["text"])
        stored = SimpleNamespace(
            text=content["text"],
            provenance=record.provenance_json(),
            **{name: content[name] for name in (*PACKED_FIELDS, *NAMED_FIELDS)},
            furniture_version=record.furniture_version,
            source_ids=None,
            field_ids=None,
            furniture_id=None,
            packed=None,
            codec=None,
            dict_id=None,
            base_id=None,
        )
        self.texts.store(self.s, cast(Version, stored), previous, seen_at, page)
        row = dict(
            document_id=document["id"],
            number=number,
            url=version_url(record.url, document["url"]),
            kind=content["kind"],
            published=content["published"],
            date_source=record.date_source,
            place=content["place"],
            sources=stored.source_ids,
            fields_of_work=stored.field_ids,
            language=record.language,
            content_hash=chash,
            text_hash=text_hash(content["text"]),
            first_seen=seen_at,
            last_seen=None,  # first_seen (revision 0037)
            extractor_version=record.extractor_version or "",
            furniture=stored.furniture_id,
            reason=reason,
            sketch=sig.packed,
            packed=stored.packed,
            codec=stored.codec,
            dict_id=stored.dict_id,
            base_id=stored.base_id,
        )
        key = self.conn.execute(_INSERT_VERSION, row).inserted_primary_key
        assert key is not None
        version_id = int(key[0])
        remember(self.s, version_id, page)  # its page is written with the group's bodies
        self.search_rows.append(
            {
                "id": version_id,
                "title": content["title"],
                "body": content["text"],
                "document_id": document["id"],
            }
        )
        lsh.add(self.s, version_id, sig.keys)  # written when the group commits
        return version_id, number, sig, str(row["text_hash"])

    def _log(
        self,
        document_id: str,
        kind: str,
        number: int | None,
        at: datetime,
        run_id: int | None,
        url: str | None = None,
    ) -> None:
        self.change_rows.append(
            dict(document_id=document_id, kind=kind, version=number, at=at, run_id=run_id, url=url)
        )

    # -- deduplication (archive.versioning.dedup_links) -----------------------------------

    def _dedup_links(
        self, document: dict[str, Any], published: str | None, sig: dedup.Signature, thash: str
    ) -> list[tuple[str, int | None, str]]:
        """As ``dedup_links``: the other documents whose ``duplicate_of`` changed, each
        with its current version and the change-log kind."""
        if sig.n_words < dedup.MIN_WORDS:
            return []
        matched: dict[str, str | None] = {}  # document id -> the matching version's date
        for other, other_published in self.conn.execute(
            _EXACT, {"text_hash": thash, "document_id": document["id"]}
        ):
            matched.setdefault(other, other_published)
        if sig.keys and not matched:
            matched = self._near_matches(document["id"], sig)
        if not matched:
            return []
        return self._link_to_original(document, published, matched)

    def _near_matches(self, document_id: str, sig: dedup.Signature) -> dict[str, str | None]:
        matched: dict[str, str | None] = {}
        candidates = lsh.candidates(self.s, document_id, sig.keys, CANDIDATES)
        to_read = [
            version_id for version_id, _document_id, sketch in candidates if sig.may_match(sketch)
        ]
        if not to_read:
            return matched
        rows = self.conn.execute(
            select(Version.id, Version.document_id, *text_columns()).where(Version.id.in_(to_read))
        ).all()
        reader = TextReader(self.conn, followed=self.s.info.get(FOLLOWED))
        confirmed = [
            row.id
            for row in rows
            if row.document_id not in matched and sig.near_duplicate_of(reader.text(row))
        ]
        if confirmed:
            for other, other_published in self.conn.execute(
                select(_VERSIONS.c.document_id, _VERSIONS.c.published)
                .where(_VERSIONS.c.id.in_(confirmed))
                .order_by(_VERSIONS.c.id)
            ):
                matched.setdefault(other, other_published)
        return matched

    def _link_to_original(
        self, document: dict[str, Any], published: str | None, matched: dict[str, str | None]
    ) -> list[tuple[str, int | None, str]]:
        """As ``_link_to_original``: every read first, then the writes (the ORM's
        version reads with autoflush off, so none of its reads sees its own links)."""
        docs = _DOCUMENTS.c
        # Whole rows, as the ORM reads them: the same query, so the same order of roots
        # (and of the change-log entries written for them).
        others = self.conn.execute(select(_DOCUMENTS).where(docs.id.in_(list(matched)))).all()
        roots: dict[str, Any] = {}
        for other in others:
            root: Any = other
            if other.duplicate_of:
                root = self.conn.execute(
                    select(_DOCUMENTS).where(docs.id == other.duplicate_of)
                ).one_or_none()
            if root is not None and root.id != document["id"]:
                roots[root.id] = root

        def date_of(doc_id: str) -> str | None:
            return matched[doc_id] if doc_id in matched else published

        mine = _order_key(document["id"], published, document["first_seen"])
        earliest = min(roots.values(), key=lambda d: _order_key(d.id, date_of(d.id), d.first_seen))
        if _order_key(earliest.id, date_of(earliest.id), earliest.first_seen) <= mine:
            document["duplicate_of"] = earliest.id
            self._save_document(document, "duplicate_of")
            return []
        changed: list[tuple[str, int | None, str]] = []
        for root in roots.values():
            changed.append((root.id, root.current_version, "duplicate"))
            followers = self.conn.execute(select(_DOCUMENTS).where(docs.duplicate_of == root.id))
            for follower in followers:
                changed.append((follower.id, follower.current_version, "duplicate"))
        self.conn.execute(
            update(_DOCUMENTS)
            .where(docs.id.in_([doc_id for doc_id, _, _ in changed]))
            .values(duplicate_of=document["id"])
        )
        return changed

    # -- 304 and 404 (archive.ingest._confirm, _delete) -----------------------------------

    def _confirm(self, effect: _Effect, document_id: str | None, now: datetime) -> None:
        effect.document_id = document_id
        if document_id is None:
            return
        document = self._document(document_id)
        assert document is not None
        document["last_seen"] = max(document["last_seen"], now)
        self._save_document(document, "last_seen")
        newest = self._newest(document)
        if newest is not None:
            effect.version_id, effect.version_number = newest.id, newest.number
            self._touch(newest, now)
        effect.duplicate_of = document["duplicate_of"]

    def _delete(
        self, effect: _Effect, document_id: str | None, now: datetime, run_id: int | None
    ) -> None:
        effect.document_id = document_id
        if document_id is None:
            return
        document = self._document(document_id)
        assert document is not None
        if not document["deleted"]:
            document["deleted"] = True
            document["deleted_at"] = now
            document["last_seen"] = max(document["last_seen"], now)
            self._save_document(document, "deleted", "deleted_at", "last_seen")
            self._log(document_id, "deleted", document["current_version"] or None, now, run_id)
        newest = self._newest(document)
        if newest is not None:
            effect.version_id, effect.version_number = newest.id, newest.number

    def _deleted_document(
        self,
        capture: Capture,
        record: Record | None,
        requested: dict[str, Any],
        answered: dict[str, Any],
    ) -> str | None:
        """As ``archive.ingest._deleted_document``: only a gone canonical address."""
        candidates = [answered["document_id"], requested["document_id"]]
        if record is not None and record.is_item:
            candidates.append(record.id)
        gone = {requested["url"], answered["url"]}
        for document_id in candidates:
            if document_id is None:
                continue
            document = self._document(document_id)
            if document is not None and normalise_address(document["url"]) in gone:
                return str(document_id)
        return None

    # -- addresses (archive.ingest._link_addresses) ----------------------------------------

    def _link_addresses(
        self,
        capture: Capture,
        item: Record | None,
        now: datetime,
        kind_of_fetch: str,
        *,
        new_document: bool = False,
    ) -> dict[str, dict[str, Any]]:
        how = _address_roles(capture, item, kind_of_fetch)
        canonical = normalise_address(item.url) if item is not None else None
        known = self.addresses
        moved = canonical is not None and (
            canonical not in known or known[canonical]["how"] != "canonical"
        )
        for url, kind in how.items():
            address = known.get(url)
            if address is None:
                address = known[url] = dict(
                    id=None,
                    url=url,
                    document_id=None,
                    how=kind,
                    first_seen=now,
                    last_seen=now,
                    etag=None,
                    last_modified=None,
                    last_fetched=None,
                    last_status=None,
                    listing=None,
                    **{_SAID: None},
                )
                self.new_addresses.append(address)
            address["last_seen"] = max(address["last_seen"], now)
            if item is not None:
                address["how"] = kind
                address["document_id"] = item.id
            elif address["document_id"] is None:
                address["how"] = kind
            self._changed(address)
        if item is not None and canonical is not None and moved and not new_document:
            self._demote_old_canonical(item.id, canonical)
        requested = normalise_address(capture.url)
        answered = normalise_address(capture.answered_url)
        for url in {requested, answered}:
            _fetched(known[url], capture, kind_of_fetch, url == requested)
        if capture.listing is not None:
            listing = capture.listing.to_json()
            for url in {requested, canonical or answered}:
                known[url]["listing"] = own_listing(url, requested, listing)
        return known

    def _changed(self, address: dict[str, Any]) -> None:
        if address["id"] is not None:
            self.changed_addresses[address["url"]] = address

    def _demote_old_canonical(self, document_id: str, canonical: str) -> None:
        """The document's other canonical addresses become aliases: in the database and
        in the group's rows, which are written after."""
        a = _ADDRESSES.c
        self.conn.execute(
            update(_ADDRESSES)
            .where(a.document_id == document_id, a.how == "canonical", a.url != canonical)
            .values(how="alias")
        )
        for address in self.addresses.values():
            if (
                address["document_id"] == document_id
                and address["how"] == "canonical"
                and address["url"] != canonical
            ):
                address["how"] = "alias"


def _address_row(address: dict[str, Any], *leaving: str) -> dict[str, Any]:
    """An address of the group as its row keeps it: ``last_seen`` only where it moved on
    from ``first_seen`` (revision 0042, as ``Address.last_seen`` keeps it)."""
    row = {name: address[name] for name in _ADDRESS_COLUMNS if name not in leaving}
    row["last_seen"] = seen_since(address["first_seen"], address["last_seen"])
    return row


def _fetched(address: dict[str, Any], capture: Capture, kind: str, own: bool) -> None:
    """As ``archive.ingest._fetched``: the validators of the next conditional request,
    kept against what the address's newest capture says (``_SAID``: the group's own
    captures are written after its addresses, in the order they were met)."""
    stored, address[_SAID] = fetch_state(address, address[_SAID], capture, kind, own)
    address.update(stored)
    address["last_status"] = capture.status
