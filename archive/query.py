"""Reading the archive back: the one door every reader goes through.

Exports, the change feed and the Python API (``archive.api``) read records from a
:class:`Snapshot`; the ``history`` command reads a document's versions with diffs
(:func:`history`); the frontier reads what the archive knows of addresses
(:func:`address_states`); ``status`` reads a summary (:func:`summary`). Raw bodies are
read through ``archive.bodies.BodyReader``, version texts through
``archive.texts.TextReader``. Nothing here writes.

Snapshot
    A read transaction pinned to one point of the change log (its *head*, the largest
    sequence number committed when the snapshot began). An export's cursor is that
    head, so the records written and the cursor printed describe the same state even
    while a crawl is writing (SQLite: one WAL read transaction; PostgreSQL:
    ``REPEATABLE READ``).

Cursors
    A cursor is ``<seq>.<check>``: the change log's strictly increasing sequence number
    and 8 hex digits of a hash of that change-log row. The number is what ``--since``
    compares; the check makes a cursor from another archive (or a rebuilt one) an error
    instead of a silent gap. ``0`` is the cursor before the first change, and a bare
    number is accepted too. ``--since C`` writes every document with a change-log entry
    after ``C`` (created, changed, returned or deleted) in its state at the head:
    a deleted one is a tombstone (its last version with ``deleted: true``).

As of T
    A query over rows that carry times, never a copy: the newest version first seen by
    T, and deleted when the last deletion-or-return logged by T was a deletion.

Order
    Records come by document id (byte order on both databases), then version number;
    captures by fetch time, then capture id. The same archive always exports the same
    bytes in the same order.

Rows stream from the database in batches (server-side cursors on PostgreSQL), and the
aliases of each batch are read with one query per batch, so memory stays flat.

Imports: the schema, ``archive.bodies``, ``archive.texts``, ``archive.records``, ``archive.urls``,
``archive.errors`` and the record/capture shapes of ``archive.export``; never the
write side (ingest, runs, versioning).
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import cached_property
from typing import Any, NamedTuple

from sqlalchemy import (
    Connection,
    Engine,
    LargeBinary,
    Select,
    and_,
    case,
    collate,
    exists,
    func,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from archive import compression, languages, texts
from archive.bodies import BodyReader
from archive.errors import ArchiveError, UnknownDocument
from archive.export import FETCH_SIZE, Record, StoredCapture, iso_time
from archive.listings import ListingReader
from archive.records import CONTENT_FIELDS, RECORD_FIELDS, ListingEntry, attachments_json
from archive.schema import (
    Address,
    Body,
    Change,
    Document,
    FetchSaid,
    Lock,
    Report,
    Run,
    Version,
    answers_read_back,
    from_header_column,
    listed_capture,
    newest_capture,
    state_read,
    version_url_read,
)
from archive.schema import Capture as CaptureRow
from archive.texts import TextReader
from archive.urls import normalise_address

DELETED = "deleted"
RETURNED = "returned"
MOVED = "moved"
#: The reason of a version written by reading a stored page again (``extraction``).
REEXTRACTED = "reextracted"
DELETION_KINDS = (DELETED, RETURNED)
#: Fields compared between versions: what a reader sees, plus the canonical address.
DIFF_FIELDS = (*CONTENT_FIELDS, "url", "date_source", "language")
_TOKEN = re.compile(r"^(?P<seq>[0-9]{1,18})(?:\.(?P<check>[0-9a-f]{8}))?$")

docs = Document.__table__
vers = Version.__table__
addrs = Address.__table__
changes = Change.__table__
caps = CaptureRow.__table__
reps = Report.__table__

Db = Connection | Session


# ================================================================== shared look-ups


def head(db: Db) -> int:
    """The newest sequence number of the change log (0 when empty)."""
    return int(db.execute(select(func.coalesce(func.max(Change.seq), 0))).scalar_one() or 0)


def resolve(db: Db, target: str) -> str | None:
    """The document id behind an id, a bare node number or any address it was seen at."""
    target = target.strip()
    if db.execute(select(Document.id).where(Document.id == target)).scalar():
        return target
    if target.isdigit():
        # The document whose id ends in this node number, whatever its host (when
        # exactly one does).
        found = db.execute(select(Document.id).where(Document.id.like(f"%/{target}")).limit(2))
        ids = list(found.scalars())
        if len(ids) == 1:
            return str(ids[0])
    linked = Address.document_id.is_not(None)
    found_id = db.execute(select(Address.document_id).where(Address.url == target, linked))
    if (document_id := found_id.scalar()) is not None:
        return str(document_id)
    if "/" not in target:
        return None
    schemes = [""] if "://" in target else ["https://", "http://"]
    for scheme in schemes:
        try:
            url = normalise_address(scheme + target)
        except Exception:  # noqa: BLE001 - not an address at all
            return None
        found_id = db.execute(select(Address.document_id).where(Address.url == url, linked))
        if (document_id := found_id.scalar()) is not None:
            return str(document_id)
    return None


# ================================================================== snapshots: records


@dataclass(frozen=True)
class Selection:
    """What an export asks for (the export command's options, parsed)."""

    history: bool = False
    as_of: datetime | None = None
    kinds: tuple[str, ...] | None = None
    since: str | None = None  # a cursor token


@dataclass
class Stats:
    """What a stream of records held, for the manifest (filled while iterating)."""

    count: int = 0
    extractor_versions: set[str] = field(default_factory=set)


def _check(seq: int, document_id: str, kind: str, at: datetime | None) -> str:
    key = f"{seq}|{document_id}|{kind}|{iso_time(at)}".encode()
    return hashlib.sha256(key).hexdigest()[:8]


class Snapshot:
    """One consistent read of the archive; see the module docstring."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"
        self.head: int = head(conn)
        self.bodies = BodyReader(conn)
        self.texts = TextReader(conn)

    # ------------------------------------------------------------------ cursors

    @property
    def cursor(self) -> str:
        """The token of this snapshot's head: where the next ``--since`` starts."""
        return self.token(self.head)

    def token(self, seq: int) -> str:
        if seq == 0:
            return "0"
        row = self.conn.execute(
            select(changes.c.document_id, changes.c.kind, changes.c.at).where(changes.c.seq == seq)
        ).one()
        return f"{seq}.{_check(seq, row.document_id, row.kind, row.at)}"

    def parse_cursor(self, token: str) -> int:
        """The sequence number of ``token``, or an :class:`ArchiveError` saying why not."""
        match = _TOKEN.match((token or "").strip())
        if not match:
            raise ArchiveError(f"unknown cursor {token!r}: expected a token printed by export")
        seq = int(match.group("seq"))
        if seq > self.head:
            raise ArchiveError(
                f"unknown cursor {token!r}: this archive's change log ends at {self.head}"
            )
        if seq and match.group("check") and self.token(seq) != token.strip():
            raise ArchiveError(f"unknown cursor {token!r}: it was not issued by this archive")
        return seq

    def check_as_of(self, as_of: datetime | None) -> None:
        """An :class:`ArchiveError` when ``as_of`` is before the first capture or to come."""
        if as_of is None:
            return
        from datetime import timezone

        now = datetime.now(timezone.utc)
        if as_of > now:
            raise ArchiveError(f"--as-of {iso_time(as_of)} is in the future (now {iso_time(now)})")
        first = self.conn.execute(select(func.min(caps.c.fetched_at))).scalar()
        if first is None:
            raise ArchiveError("--as-of: this archive holds no capture yet; crawl first")
        if first.tzinfo is None:
            first = first.replace(tzinfo=timezone.utc)
        if as_of < first:
            raise ArchiveError(
                f"--as-of {iso_time(as_of)} is before the archive's first capture "
                f"({iso_time(first)})"
            )

    # ------------------------------------------------------------------ records

    def _order(self, column: Any) -> Any:
        # Byte order on PostgreSQL too, so both databases export in the same order.
        return collate(column, "C") if self.postgres else column

    def records(
        self, selection: Selection, stats: Stats | None = None, only: str | None = None
    ) -> Iterator[Record]:
        """The records ``selection`` asks for, in a stable order, streamed in batches."""
        if selection.since is not None and selection.as_of is not None:
            raise ArchiveError("--since and --as-of cannot be combined")
        stats = stats if stats is not None else Stats()
        query = self._records_query(selection, only)
        result = self.conn.execution_options(stream_results=True, yield_per=FETCH_SIZE).execute(
            query
        )
        for batch in result.partitions(FETCH_SIZE):
            ids = {row.id for row in batch}
            aliases = self._aliases(ids, selection.as_of)
            links = report_links(self.conn, ids, selection.as_of)
            versions = languages.versions_of(self.conn, ids, selection.as_of)
            for row in batch:
                stats.count += 1
                if row.extractor_version:
                    stats.extractor_versions.add(row.extractor_version)
                text, _provenance, fields = self.texts.read_all(row)
                fields.update(self.texts.names(row))
                fields["furniture_version"] = self.texts.name(row.furniture_id)
                record = _record(row, aliases.get(row.id, ()), text, fields)
                record["reports_on"] = links.reports_on.get(row.id, [])
                record["reported_by"] = links.reported_by.get(row.id, [])
                record["language_versions"] = versions.get(row.id, [])
                yield record

    def _records_query(self, selection: Selection, only: str | None) -> Select[Any]:
        """One statement for the whole selection: documents joined to the versions wanted,
        with the state (url, deleted, last_seen) at the head or as of a time."""
        as_of = selection.as_of
        conditions: list[ColumnElement[bool]] = [docs.c.current_version > 0]
        if as_of is not None:
            conditions.append(docs.c.first_seen <= as_of)
            conditions.append(vers.c.first_seen <= as_of)
        if selection.kinds:
            conditions.append(vers.c.kind.in_(selection.kinds))
        if selection.since is not None:
            conditions.extend(self._since(selection))
        if only is not None:
            conditions.append(docs.c.id == only)
        url, last_seen, deleted = _state_at(as_of)
        return (
            select(
                docs.c.id,
                url.label("url"),
                vers.c.kind,
                vers.c.published,
                vers.c.date_source,
                vers.c.place,
                vers.c.language,
                # the text, the title, byline and attachments, the sources and fields of work
                *texts.columns(vers),
                vers.c.number.label("version"),
                vers.c.first_seen.label("version_seen"),
                vers.c.reason.label("version_reason"),
                vers.c.furniture.label("furniture_id"),
                vers.c.content_hash,
                docs.c.first_seen,
                last_seen.label("last_seen"),
                deleted.label("deleted"),
                docs.c.duplicate_of,
                vers.c.extractor_version,
            )
            .select_from(docs.join(vers, _versions_wanted(selection)))
            .where(*conditions)
            .order_by(self._order(docs.c.id), vers.c.number)
        )

    def _since(self, selection: Selection) -> list[ColumnElement[bool]]:
        """Documents with a change-log entry after the cursor (and, with history, only
        the versions created after it plus each one's current version)."""
        since = self.parse_cursor(selection.since or "0")
        in_range = and_(changes.c.seq > since, changes.c.seq <= self.head)
        # A link found or removed after the cursor (its row's ``seq``: the change log's
        # head then) brings both its documents, as a new version would.
        linked = reps.c.seq >= since
        conditions: list[ColumnElement[bool]] = [
            or_(
                docs.c.id.in_(select(changes.c.document_id).where(in_range)),
                docs.c.id.in_(select(reps.c.article_id).where(linked)),
                docs.c.id.in_(select(reps.c.item_id).where(linked)),
            )
        ]
        if selection.history:
            # Every version created after the cursor, plus each changed document's
            # current version (which carries a deletion as a tombstone).
            created_after = exists(
                select(changes.c.seq).where(
                    in_range,
                    changes.c.document_id == vers.c.document_id,
                    changes.c.version == vers.c.number,
                )
            )
            conditions.append(or_(vers.c.number == docs.c.current_version, created_after))
        return conditions

    def _aliases(self, ids: set[str], as_of: datetime | None) -> dict[str, list[str]]:
        query = select(addrs.c.document_id, addrs.c.url).where(addrs.c.document_id.in_(ids))
        if as_of is not None:
            query = query.where(addrs.c.first_seen <= as_of)
        found: dict[str, list[str]] = {}
        for document_id, url in self.conn.execute(query):
            found.setdefault(document_id, []).append(url)
        # Sorted here, not in SQL: stored addresses are coded (revision 0019), and a
        # coded address and one not coded sort otherwise than the addresses themselves.
        return {document_id: sorted(urls) for document_id, urls in found.items()}

    def history(self, document_id: str) -> list[Record]:
        """Every version of one document, oldest first, as records."""
        return list(self.records(Selection(history=True), only=document_id))

    def resolve(self, id_or_url: str) -> str | None:
        """The document id behind an id, a node number or any address it was seen at."""
        return resolve(self.conn, id_or_url)

    # ------------------------------------------------------------------ captures

    def captures(
        self, as_of: datetime | None = None, kinds: tuple[str, ...] | None = None
    ) -> Iterator[StoredCapture]:
        """Every stored fetch (up to ``as_of``), oldest first, bodies loaded on demand."""
        query = select(
            caps.c.id,
            caps.c.url,
            caps.c.final_url,
            caps.c.fetched_at,
            caps.c.status,
            caps.c.etag,
            caps.c.last_modified,
            caps.c.content_type,
            caps.c.body_sha256,
            caps.c.document_id,
            caps.c.redirects,
            caps.c.http,
        )
        if as_of is not None:
            query = query.where(caps.c.fetched_at <= as_of)
        if kinds:
            query = query.where(
                caps.c.document_id.in_(select(docs.c.id).where(docs.c.kind.in_(kinds)))
            )
        query = query.order_by(caps.c.fetched_at, caps.c.id)
        result = self.conn.execution_options(stream_results=True, yield_per=500).execute(query)
        for batch in result.partitions(500):
            for row in batch:
                answers = answers_read_back(row.http, row.url, row.fetched_at)
                yield StoredCapture(
                    url=row.final_url or row.url,
                    fetched_at=row.fetched_at,
                    status=row.status,
                    etag=from_header_column(row.etag, answers, "etag"),
                    last_modified=from_header_column(row.last_modified, answers, "last_modified"),
                    content_type=from_header_column(row.content_type, answers, "content_type"),
                    body_sha256=row.body_sha256,
                    body=self._body_loader(row.body_sha256),
                    document_id=row.document_id,
                    requested=row.url,
                    redirects=list(row.redirects or []),
                    answers=answers,
                )

    def _body_loader(self, sha256: str | None) -> Any:
        def load() -> bytes | None:
            return None if sha256 is None else self.bodies.read(sha256)

        return load

    def schema_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        revision: str | None = MigrationContext.configure(self.conn).get_current_revision()
        return revision


def _versions_wanted(selection: Selection) -> ColumnElement[bool]:
    """How documents join their versions: every version, or the newest (by ``as_of``)."""
    if selection.history:
        return vers.c.document_id == docs.c.id
    newest: Any = docs.c.current_version
    if selection.as_of is not None:
        newest = (
            select(func.max(vers.c.number))
            .where(vers.c.document_id == docs.c.id, vers.c.first_seen <= selection.as_of)
            .correlate(docs)
            .scalar_subquery()
        )
    return and_(vers.c.document_id == docs.c.id, vers.c.number == newest)


def _state_at(as_of: datetime | None) -> tuple[Any, Any, Any]:
    """A record's ``url``, ``last_seen`` and ``deleted`` now, or as they were at ``as_of``."""
    if as_of is None:
        url = case(
            (vers.c.number == docs.c.current_version, docs.c.url),
            else_=version_url_read(vers, docs),
        )
        return url, docs.c.last_seen, docs.c.deleted
    # Deleted at T: the last deletion or return logged by T was a deletion (other
    # entries, such as a later duplicate_of link, do not revive it).
    last_kind = (
        select(changes.c.kind)
        .where(
            changes.c.document_id == docs.c.id,
            changes.c.at <= as_of,
            changes.c.kind.in_(DELETION_KINDS),
        )
        .order_by(changes.c.seq.desc())
        .limit(1)
        .correlate(docs)
        .scalar_subquery()
    )
    deleted = func.coalesce(last_kind == DELETED, False)
    fetched = (
        select(func.max(caps.c.fetched_at))
        .where(caps.c.document_id == docs.c.id, caps.c.fetched_at <= as_of)
        .correlate(docs)
        .scalar_subquery()
    )
    last_seen = case((docs.c.last_seen <= as_of, docs.c.last_seen), else_=fetched)
    newest = (
        select(func.max(vers.c.number))
        .where(vers.c.document_id == docs.c.id, vers.c.first_seen <= as_of)
        .correlate(docs)
        .scalar_subquery()
    )
    # The canonical address at T: a move logged by T after the version was first seen
    # (same content, new address) names it; else the version's own.
    moved_to = (
        select(changes.c.url)
        .where(
            changes.c.document_id == docs.c.id,
            changes.c.kind == MOVED,
            changes.c.at <= as_of,
            changes.c.at >= vers.c.first_seen,
            changes.c.url.is_not(None),
        )
        .order_by(changes.c.seq.desc())
        .limit(1)
        .correlate(docs, vers)
        .scalar_subquery()
    )
    url = case(
        (
            and_(vers.c.number == docs.c.current_version, docs.c.last_seen <= as_of),
            docs.c.url,
        ),
        (vers.c.number == newest, func.coalesce(moved_to, version_url_read(vers, docs))),
        else_=version_url_read(vers, docs),
    )
    return url, last_seen, deleted


def _record(row: Any, aliases: Sequence[str], text: str, fields: dict[str, Any]) -> Record:
    return {
        "id": row.id,
        "url": row.url,
        "kind": row.kind,
        "title": fields["title"],
        "published": row.published,
        "date_source": row.date_source,
        "place": row.place,
        "sources": fields["sources"],
        "fields_of_work": fields["fields_of_work"],
        "byline": fields["byline"],
        "language": row.language,
        "text": text,
        "attachments": attachments_json(fields["attachments"]),
        "aliases": [url for url in aliases if url != row.url and url != normalise_address(row.url)],
        "version": int(row.version),
        "version_seen": iso_time(row.version_seen),
        "content_hash": row.content_hash,
        "first_seen": iso_time(row.first_seen),
        "last_seen": iso_time(row.last_seen or row.version_seen),
        "deleted": bool(row.deleted),
        "duplicate_of": row.duplicate_of,
        "site": str(row.id).split("/", 1)[0],
        "reason": "extraction" if row.version_reason == REEXTRACTED else "source",
        "furniture_version": fields["furniture_version"],
    }


@dataclass
class ReportLinks:
    """The links of some documents (``archive.reports``): each article's items with their
    evidence, each item's articles."""

    reports_on: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    reported_by: dict[str, list[str]] = field(default_factory=dict)


def report_links(db: Db, ids: Iterable[str], as_of: datetime | None = None) -> ReportLinks:
    """The links in force (at ``as_of``: found by then and not yet removed) of the
    documents ``ids``, as articles and as items, ordered by id."""
    ids = list(ids)
    out = ReportLinks()
    if not ids:
        return out
    if as_of is None:
        live: ColumnElement[bool] = reps.c.removed_at.is_(None)
    else:
        live = and_(
            reps.c.found_at <= as_of,
            or_(reps.c.removed_at.is_(None), reps.c.removed_at > as_of),
        )
    rows = db.execute(
        select(reps.c.article_id, reps.c.item_id, reps.c.evidence, reps.c.detail)
        .where(live, or_(reps.c.article_id.in_(ids), reps.c.item_id.in_(ids)))
        .order_by(reps.c.article_id, reps.c.item_id)
    )
    wanted = set(ids)
    for article_id, item_id, evidence, detail in rows:
        if article_id in wanted:
            out.reports_on.setdefault(article_id, []).append(
                {"id": item_id, "evidence": evidence, "detail": detail}
            )
        if item_id in wanted:
            out.reported_by.setdefault(item_id, []).append(article_id)
    for links in out.reports_on.values():
        links.sort(key=lambda link: link["id"])  # byte order on both databases
    for articles in out.reported_by.values():
        articles.sort()
    return out


def current_titles(db: Db, ids: Iterable[str]) -> dict[str, str]:
    """The newest version's title of each of the documents ``ids`` (those archived)."""
    ids = sorted(set(ids))
    if not ids:
        return {}
    reader = TextReader(db)
    rows = db.execute(
        select(docs.c.id, *texts.columns(vers))
        .select_from(
            docs.join(
                vers,
                and_(vers.c.document_id == docs.c.id, vers.c.number == docs.c.current_version),
            )
        )
        .where(docs.c.id.in_(ids))
    )
    return {row.id: reader.fields(row)["title"] for row in rows}


def read_texts(db: Db, versions: Iterable[Version]) -> list[Version]:
    """``versions`` with their text and provenance read (``archive.texts``), in order."""
    return TextReader(db).load(versions)


def read_body(conn: Connection, sha256: str) -> bytes | None:
    """The raw bytes of a stored body (decompressed by the archive's own codecs)."""
    return BodyReader(conn).read(sha256)


@contextmanager
def snapshot(engine: Engine) -> Iterator[Snapshot]:
    """A read-only :class:`Snapshot` of the archive behind ``engine``."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin() as tx:
            yield Snapshot(conn)
            tx.rollback()  # read-only: nothing to commit


# ================================================================== history with diffs


@dataclass
class VersionView:
    """One version with what changed since the previous one."""

    number: int
    first_seen: datetime
    last_seen: datetime
    reason: str  # created | changed | returned | reextracted
    content_hash: str
    extractor_version: str
    record: dict[str, Any]
    changes: dict[str, Any] = field(default_factory=dict)  # field -> {"old","new"} or text diff

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.number,
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "reason": self.reason,
            "content_hash": self.content_hash,
            "extractor_version": self.extractor_version,
            "changes": self.changes,
            "record": self.record,
        }


@dataclass
class History:
    document_id: str
    url: str
    deleted: bool
    duplicate_of: str | None
    addresses: list[str]
    versions: list[VersionView]
    events: list[dict[str, Any]]  # the document's change-log entries, oldest first

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.document_id,
            "url": self.url,
            "deleted": self.deleted,
            "duplicate_of": self.duplicate_of,
            "addresses": self.addresses,
            "versions": [v.to_json() for v in self.versions],
            "events": self.events,
        }


def version_record(version: Version, document_id: str) -> dict[str, Any]:
    """A version (its text read: :func:`read_texts`) as the extraction fields of
    ``CONTRACT.md``."""
    values = {name: getattr(version, name, None) for name in RECORD_FIELDS if name != "id"}
    values["attachments"] = attachments_json(values["attachments"])
    return {"id": document_id, **values}


def _field(version: Version | None, name: str) -> Any:
    """A version's field for a diff; attachments never read (NULL) compare as none."""
    if version is None:
        return None
    value = getattr(version, name)
    return attachments_json(value) if name == "attachments" else value


def diff_versions(old: Version | None, new: Version) -> dict[str, Any]:
    """Field-by-field changes from ``old`` to ``new`` (all fields when ``old`` is None)."""
    changes: dict[str, Any] = {}
    for name in DIFF_FIELDS:
        before = _field(old, name)
        after = _field(new, name)
        if before == after or (old is None and name == "attachments" and not after):
            continue
        if name == "text" and old is not None:
            changes[name] = text_diff(before or "", after or "")
        else:
            changes[name] = {"old": before, "new": after}
    return changes


def text_diff(before: str, after: str) -> dict[str, Any]:
    """A paragraph-level unified diff: what a reader would see added and removed."""
    old_paras, new_paras = before.split("\n\n"), after.split("\n\n")
    lines = list(difflib.unified_diff(old_paras, new_paras, "before", "after", n=0, lineterm=""))
    return {
        "added": sum(1 for x in lines if x.startswith("+") and not x.startswith("+++")),
        "removed": sum(1 for x in lines if x.startswith("-") and not x.startswith("---")),
        "diff": lines[2:],
    }


def history(session: Session, target: str) -> History:
    """A document's versions, oldest first, with field-by-field diffs; UnknownDocument if
    ``target`` names none."""
    document_id = resolve(session, target)
    document = session.get(Document, document_id) if document_id is not None else None
    if document_id is None or document is None:
        raise UnknownDocument(f"no document with id or address {target!r}")
    versions = read_texts(
        session,
        session.scalars(
            select(Version).where(Version.document_id == document_id).order_by(Version.number)
        ),
    )
    views: list[VersionView] = []
    previous: Version | None = None
    for version in versions:
        views.append(
            VersionView(
                number=version.number,
                first_seen=version.first_seen,
                last_seen=version.last_seen,
                reason=version.reason,
                content_hash=version.content_hash,
                extractor_version=version.extractor_version,
                record=version_record(version, document_id),
                changes=diff_versions(previous, version),
            )
        )
        previous = version
    events = [
        {"seq": c.seq, "kind": c.kind, "version": c.version, "at": c.at.isoformat()}
        for c in session.scalars(
            select(Change).where(Change.document_id == document_id).order_by(Change.seq)
        )
    ]
    addresses = list(
        session.scalars(
            select(Address.url).where(Address.document_id == document_id).order_by(Address.id)
        )
    )
    return History(
        document_id=document_id,
        url=document.url,
        deleted=document.deleted,
        duplicate_of=document.duplicate_of,
        addresses=addresses,
        versions=views,
        events=events,
    )


# ================================================================== the change log


@dataclass(frozen=True)
class ChangeEntry:
    seq: int
    document_id: str
    kind: str
    version: int | None
    at: datetime
    run_id: int | None


def changes_since(session: Session, seq: int = 0, limit: int | None = None) -> list[ChangeEntry]:
    """Change-log entries after ``seq``, in sequence order."""
    query = select(Change).where(Change.seq > seq).order_by(Change.seq)
    if limit is not None:
        query = query.limit(limit)
    return [
        ChangeEntry(c.seq, c.document_id, c.kind, c.version, c.at, c.run_id)
        for c in session.scalars(query)
    ]


# ================================================================== what the frontier asks


class Validators(NamedTuple):
    """An address's conditional-request validators (its last ETag and Last-Modified)."""

    etag: str | None
    last_modified: str | None


@dataclass(frozen=True, eq=False)
class AddressState:
    """What the archive knows of an address, for the frontier's next visit. Two states
    are equal where their values are (:meth:`as_dict`: the validators read)."""

    url: str  # normalised (archive.urls.normalise_address)
    document_id: str | None
    # Its validators, or how to read them: most are its newest capture's, whose answers
    # are unpacked only for the few addresses a run asks again (revision 0044).
    validators: Validators | Callable[[], Validators] = field(repr=False)
    last_fetched: datetime | None
    last_status: int | None
    last_changed: datetime | None  # the newest version's first_seen
    deleted: bool
    listing: ListingEntry | None
    how: str = "canonical"  # canonical | redirect | alias | page
    kind: str | None = None  # the document's kind
    published: str | None = None  # the newest version's date ...
    date_source: str | None = None  # ... and where it came from (a "listing" date is only
    # as fresh as the listing page it was read from)

    @cached_property
    def _validators(self) -> Validators:
        given = self.validators
        return given if isinstance(given, Validators) else given()

    @property
    def etag(self) -> str | None:
        return self._validators.etag

    @property
    def last_modified(self) -> str | None:
        return self._validators.last_modified

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AddressState):
            return NotImplemented
        return self.as_dict() == other.as_dict()

    def __hash__(self) -> int:
        return hash((self.url, self.document_id, self.last_fetched))

    def as_dict(self) -> dict[str, Any]:
        """Its values by name, as its fields were before revision 0044 (validators read)."""
        out = {"url": self.url, "document_id": self.document_id}
        out.update(etag=self.etag, last_modified=self.last_modified)
        out.update((f.name, getattr(self, f.name)) for f in fields(self)[3:])
        return out


#: An address's newest capture with a listing entry (``archive.schema.listed_capture``).
_LISTED = aliased(CaptureRow, name="listed")


#: An address's newest capture (``archive.schema.newest_capture``).
_NEWEST = aliased(CaptureRow, name="newest")


def _state_query() -> Select[Any]:
    return (
        select(
            Address.url,
            Address.document_id,
            Address.etag,
            Address.last_modified,
            func.coalesce(Address.last_fetched, _NEWEST.fetched_at),
            Address.last_status,
            Version.first_seen,
            Document.deleted,
            Address.listing,
            Address.how,
            Document.kind,
            Version.published,
            Version.date_source,
            # the entry of the address's newest capture with one, kept against the
            # version that capture recorded (``archive.listings``)
            _LISTED.listing,
            _LISTED.url,
            _LISTED.version_id,
            # what the newest capture says, its answers packed (read on demand)
            _NEWEST.id,
            _NEWEST.url,
            _NEWEST.fetched_at,
            _NEWEST.etag,
            _NEWEST.last_modified,
            type_coerce(_NEWEST.http, LargeBinary),
        )
        .outerjoin(Document, Document.id == Address.document_id)
        .outerjoin(
            Version,
            (Version.document_id == Document.id) & (Version.number == Document.current_version),
        )
        .outerjoin(_LISTED, _LISTED.id == listed_capture())
        .outerjoin(_NEWEST, _NEWEST.id == newest_capture())
    )


def _validators(row: Any) -> Validators | Callable[[], Validators]:
    """An address's validators from a row of :func:`_state_query`: at once where the
    address keeps both, else a function that reads its newest capture's answers."""
    etag, last_modified = row[2], row[3]
    if row[16] is None or (etag is not None and last_modified is not None):
        return Validators(
            state_read("etag", etag, None), state_read("last_modified", last_modified, None)
        )
    newest = row[16:]

    def read() -> Validators:
        packed = newest[5]
        http = None if packed is None else compression.unpack_json(packed)
        said = FetchSaid.of_row(newest[1], newest[2], newest[3], newest[4], http)
        return Validators(
            state_read("etag", etag, said), state_read("last_modified", last_modified, said)
        )

    return read


def _states(reader: ListingReader, rows: Sequence[Any]) -> list[AddressState]:
    """The states of rows of :func:`_state_query`, their listing entries read together:
    the address's own (``addresses.listing``, whole), else its newest capture's."""
    on_address = [row[8] is not None for row in rows]
    listings = reader.entries(
        [
            (None, "", None) if own else (row[13], row[14], row[15])
            for row, own in zip(rows, on_address, strict=True)
        ]
    )
    return [
        AddressState(
            url=row[0],
            document_id=row[1],
            validators=_validators(row),
            last_fetched=row[4],
            last_status=row[5],
            last_changed=row[6],
            deleted=bool(row[7]) if row[7] is not None else False,
            listing=ListingEntry.from_json(row[8]) if own else listing,
            how=row[9],
            kind=row[10],
            published=row[11],
            date_source=row[12],
        )
        for row, own, listing in zip(rows, on_address, listings, strict=True)
    ]


def address_states(db: Db, urls: Sequence[str]) -> list[AddressState | None]:
    """The state of each of ``urls`` (None where unknown), 500 addresses a query."""
    keys = [normalise_address(url) for url in urls]
    found: dict[str, AddressState] = {}
    reader = ListingReader(db)
    for start in range(0, len(keys), 500):
        chunk = sorted(set(keys[start : start + 500]))
        rows = db.execute(_state_query().where(Address.url.in_(chunk))).all()
        for state in _states(reader, rows):
            found[state.url] = state
    return [found.get(key) for key in keys]


def iter_address_states(session: Session, *, all_addresses: bool = False) -> Iterator[AddressState]:
    """One state per known document, at its canonical address (every address of every
    document with ``all_addresses``), in a stable order."""
    query = _state_query().where(Address.document_id.is_not(None))
    if not all_addresses:
        query = query.where(Address.how == "canonical")
    result = session.execute(query.order_by(Address.id).execution_options(yield_per=1000))
    reader = ListingReader(session)
    for rows in result.partitions():
        yield from _states(reader, rows)


def previous_run(session: Session, current: int | None) -> dict[str, Any] | None:
    """The last run before ``current`` (any outcome): its id, outcome and counters."""
    query = select(Run).order_by(Run.id.desc()).limit(1)
    if current is not None:
        query = query.where(Run.id != current)
    run = session.scalars(query).first()
    if run is None:
        return None
    return {"id": run.id, "outcome": run.outcome, "counters": dict(run.counters or {})}


# ================================================================== status

#: Runs that ``status`` lists.
LAST_RUNS = 5


def summary(session: Session, last_runs: int = LAST_RUNS) -> dict[str, Any]:
    """What ``osce-archive status`` shows: counts, body bytes, the lock, the last runs."""
    # Sorted here: kinds are stored coded (revision 0022), which SQL would order by code.
    kinds = dict(
        sorted(session.execute(select(Document.kind, func.count()).group_by(Document.kind)).all())
    )
    stored, raw = session.execute(
        select(
            func.coalesce(func.sum(func.length(Body.data)), 0),
            func.coalesce(func.sum(Body.size), 0),
        )
    ).one()
    runs = session.scalars(select(Run).order_by(Run.id.desc()).limit(last_runs)).all()
    lock = session.get(Lock, "crawl")
    count = func.count()
    return {
        "documents": sum(kinds.values()),
        "kinds": kinds,
        "deleted": session.scalar(select(count).where(Document.deleted.is_(True))),
        "duplicates": session.scalar(select(count).where(Document.duplicate_of.is_not(None))),
        "versions": session.scalar(select(count).select_from(Version)),
        "captures": session.scalar(select(count).select_from(CaptureRow)),
        "bodies": session.scalar(select(count).select_from(Body)),
        "body_bytes": {"raw": int(raw), "stored": int(stored)},
        "change_log_head": head(session),
        "lock": None
        if lock is None
        else {
            "run_id": lock.run_id,
            "host": lock.host,
            "pid": lock.pid,
            "heartbeat_at": lock.heartbeat_at.isoformat(),
        },
        "runs": [
            {
                "id": r.id,
                "started_at": r.started_at.isoformat(),
                "finished_at": r.finished_at.isoformat() if r.finished_at else None,
                "outcome": r.outcome,
                "counters": r.counters,
                "options": r.options,
            }
            for r in runs
        ],
    }
