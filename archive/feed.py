"""The queries exports need: current records, history, as-of, the change feed, captures.

Everything an export reads comes from one :class:`Snapshot`: a read transaction
pinned to one point of the change log (its *head*, the largest sequence number
committed when the snapshot began). The export's cursor is that head, so the records
written and the cursor printed describe the same state even while a crawl is writing
(SQLite: one WAL read transaction; PostgreSQL: ``REPEATABLE READ``).

Cursors
    A cursor is ``<seq>.<check>``: the change log's strictly increasing sequence number
    and 8 hex digits of a hash of that change-log row. The number is what ``--since``
    compares; the check makes a cursor from another archive (or a rebuilt one) an error
    instead of a silent gap. ``0`` is the cursor before the first change, and a bare
    number is accepted too. ``--since C`` writes every document with a change-log entry
    after ``C`` (created, changed, returned or deleted) in its state at the head:
    a deleted one is a tombstone (its last version with ``deleted: true``).

Order
    Records come by document id (byte order on both databases), then version number;
    captures by fetch time, then capture id. The same archive always exports the same
    bytes in the same order.

Rows stream from the database in batches (server-side cursors on PostgreSQL), and the
aliases of each batch are read with one query per batch, so memory stays flat.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, case, collate, exists, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from archive.errors import ArchiveError
from archive.export import FETCH_SIZE, Record, StoredCapture, iso_time
from archive.schema import Address, Body, Change, Document, Version
from archive.schema import Capture as CaptureRow
from archive.urls import normalise_address as _normalise

DELETED = "deleted"
RETURNED = "returned"
MOVED = "moved"
_TOKEN = re.compile(r"^(?P<seq>[0-9]{1,18})(?:\.(?P<check>[0-9a-f]{8}))?$")

docs = Document.__table__
vers = Version.__table__
addrs = Address.__table__
changes = Change.__table__
caps = CaptureRow.__table__
bodies = Body.__table__


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
        newest = select(func.coalesce(func.max(changes.c.seq), 0))
        self.head: int = int(conn.execute(newest).scalar_one())

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
        as_of = selection.as_of
        conditions: list[ColumnElement[bool]] = [docs.c.current_version > 0]

        if as_of is not None:
            conditions.append(docs.c.first_seen <= as_of)
            conditions.append(vers.c.first_seen <= as_of)
            newest: Any = (
                select(func.max(vers.c.number))
                .where(vers.c.document_id == docs.c.id, vers.c.first_seen <= as_of)
                .correlate(docs)
                .scalar_subquery()
            )
        else:
            newest = docs.c.current_version

        if selection.history:
            join_on = vers.c.document_id == docs.c.id
        else:
            join_on = and_(vers.c.document_id == docs.c.id, vers.c.number == newest)

        if selection.kinds:
            conditions.append(vers.c.kind.in_(selection.kinds))

        if selection.since is not None:
            since = self.parse_cursor(selection.since)
            in_range = and_(changes.c.seq > since, changes.c.seq <= self.head)
            conditions.append(docs.c.id.in_(select(changes.c.document_id).where(in_range)))
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

        if only is not None:
            conditions.append(docs.c.id == only)

        if as_of is None:
            deleted: Any = docs.c.deleted
            last_seen: Any = docs.c.last_seen
            url: Any = case((vers.c.number == docs.c.current_version, docs.c.url), else_=vers.c.url)
        else:
            # Deleted at T: the last deletion or return logged by T was a deletion
            # (other entries, such as a later duplicate_of link, do not revive it).
            last_kind = (
                select(changes.c.kind)
                .where(
                    changes.c.document_id == docs.c.id,
                    changes.c.at <= as_of,
                    changes.c.kind.in_((DELETED, RETURNED)),
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
            # The canonical address at T: a move logged by T after the version was
            # first seen (same content, new address) names it; else the version's own.
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
                (vers.c.number == newest, func.coalesce(moved_to, vers.c.url)),
                else_=vers.c.url,
            )

        query = (
            select(
                docs.c.id,
                url.label("url"),
                vers.c.kind,
                vers.c.title,
                vers.c.published,
                vers.c.date_source,
                vers.c.place,
                vers.c.sources,
                vers.c.fields_of_work,
                vers.c.byline,
                vers.c.language,
                vers.c.text,
                vers.c.number.label("version"),
                vers.c.first_seen.label("version_seen"),
                vers.c.content_hash,
                docs.c.first_seen,
                last_seen.label("last_seen"),
                deleted.label("deleted"),
                docs.c.duplicate_of,
                vers.c.extractor_version,
            )
            .select_from(docs.join(vers, join_on))
            .where(*conditions)
            .order_by(self._order(docs.c.id), vers.c.number)
        )
        result = self.conn.execution_options(stream_results=True, yield_per=FETCH_SIZE).execute(
            query
        )
        for batch in result.partitions(FETCH_SIZE):
            aliases = self._aliases({row.id for row in batch}, as_of)
            for row in batch:
                stats.count += 1
                if row.extractor_version:
                    stats.extractor_versions.add(row.extractor_version)
                yield _record(row, aliases.get(row.id, ()))

    def _aliases(self, ids: set[str], as_of: datetime | None) -> dict[str, list[str]]:
        query = select(addrs.c.document_id, addrs.c.url).where(addrs.c.document_id.in_(ids))
        if as_of is not None:
            query = query.where(addrs.c.first_seen <= as_of)
        found: dict[str, list[str]] = {}
        for document_id, url in self.conn.execute(query.order_by(self._order(addrs.c.url))):
            found.setdefault(document_id, []).append(url)
        return found

    def history(self, document_id: str) -> list[Record]:
        """Every version of one document, oldest first, as records."""
        return list(self.records(Selection(history=True), only=document_id))

    def resolve(self, id_or_url: str) -> str | None:
        """The document id behind an id or any address it was seen at."""
        found = self.conn.execute(select(docs.c.id).where(docs.c.id == id_or_url)).scalar()
        if found:
            return str(found)
        found = self.conn.execute(
            select(addrs.c.document_id).where(addrs.c.url == id_or_url)
        ).scalar()
        if found:
            return str(found)
        try:
            normalised = _normalise(id_or_url)
        except Exception:  # noqa: BLE001 - not an address at all
            return None
        found = self.conn.execute(
            select(addrs.c.document_id).where(addrs.c.url == normalised)
        ).scalar()
        return str(found) if found else None

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
                yield StoredCapture(
                    url=row.final_url or row.url,
                    fetched_at=row.fetched_at,
                    status=row.status,
                    etag=row.etag,
                    last_modified=row.last_modified,
                    content_type=row.content_type,
                    body_sha256=row.body_sha256,
                    body=_body_loader(self.conn, row.body_sha256),
                    document_id=row.document_id,
                    requested=row.url,
                    redirects=list(row.redirects or []),
                    answers=row.http,
                )

    def schema_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        return MigrationContext.configure(self.conn).get_current_revision()


def _record(row: Any, aliases: Sequence[str]) -> Record:
    return {
        "id": row.id,
        "url": row.url,
        "kind": row.kind,
        "title": row.title,
        "published": row.published,
        "date_source": row.date_source,
        "place": row.place,
        "sources": list(row.sources or []),
        "fields_of_work": list(row.fields_of_work or []),
        "byline": row.byline,
        "language": row.language,
        "text": row.text,
        "aliases": [url for url in aliases if url != row.url and url != _key(row.url)],
        "version": int(row.version),
        "version_seen": iso_time(row.version_seen),
        "content_hash": row.content_hash,
        "first_seen": iso_time(row.first_seen),
        "last_seen": iso_time(row.last_seen or row.version_seen),
        "deleted": bool(row.deleted),
        "duplicate_of": row.duplicate_of,
    }


def _key(url: str) -> str:
    """The archive's address key of ``url`` (addresses are stored normalised)."""
    return _normalise(url)


def _body_loader(conn: Connection, sha256: str | None) -> Any:
    def load() -> bytes | None:
        if sha256 is None:
            return None
        return read_body(conn, sha256)

    return load


def read_body(conn: Connection, sha256: str) -> bytes | None:
    """The raw bytes of a stored body (decompressed by the archive's own codecs)."""
    from archive.bodies import decompress
    from archive.schema import CompressionDict

    row = conn.execute(
        select(bodies.c.codec, bodies.c.data, bodies.c.dict_id).where(bodies.c.sha256 == sha256)
    ).one_or_none()
    if row is None:
        return None
    dictionary = None
    if row.dict_id is not None:
        table = CompressionDict.__table__
        dictionary = conn.execute(select(table.c.data).where(table.c.id == row.dict_id)).scalar()
    return decompress(row.codec, bytes(row.data), bytes(dictionary) if dictionary else None)


@contextmanager
def snapshot(engine: Engine) -> Iterator[Snapshot]:
    """A read-only :class:`Snapshot` of the archive behind ``engine``."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin() as tx:
            yield Snapshot(conn)
            tx.rollback()  # read-only: nothing to commit
