"""The archive: ``Archive.ingest(capture, record)`` in one transaction, runs and the lock.

``docs/interfaces.md`` section 3 is the contract with the crawler. Each ingest is a
handful of indexed statements and one commit: the raw body (once per distinct
sha256), the addresses, the capture, then the versioning rule (``archive.versioning``)
with deduplication and the change-log entry.

One crawl at a time: ``start_run`` takes a lock held in the database itself. On
PostgreSQL that is a session advisory lock on a connection kept open for the run
(the server frees it the moment the holder's connection dies, on any host), plus a
``locks`` row that says who holds it. On SQLite it is the ``locks`` row alone,
written under ``BEGIN IMMEDIATE``; a row whose holder is a dead process on this host,
or whose heartbeat is older than ``stale_after``, is taken over and its run marked
``interrupted``.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from archive import bodies, migrations, query
from archive.db import display_url, is_postgres, make_engine
from archive.errors import ArchiveError, ArchiveLocked, redact
from archive.records import Capture, ListingEntry, Record, utcnow
from archive.schema import Address, Body, Document, Lock, Run, Version
from archive.schema import Capture as CaptureRow
from archive.urls import normalise_address
from archive.versioning import mark_deleted, record_version

LOCK_NAME = "crawl"
#: pg_try_advisory_lock key of the crawl lock (any constant unique to this project).
PG_LOCK_KEY = 0x05CE_A2C1_0002
#: A lock whose heartbeat is older than this is taken over when its holder's liveness
#: cannot be checked directly (another host). Ingest beats at most once a minute.
DEFAULT_STALE_AFTER = timedelta(minutes=15)
HEARTBEAT_EVERY_S = 60.0

_CAPTURES = cast(Table, CaptureRow.__table__)
_BODIES = cast(Table, Body.__table__)

OUTCOMES = ("new_document", "new_version", "unchanged", "not_modified", "deleted", "failed", "page")


@dataclass(frozen=True)
class IngestResult:
    outcome: str  # one of OUTCOMES
    document_id: str | None = None
    version: int | None = None  # the version number created or confirmed
    capture_id: int | None = None
    duplicate_of: str | None = None


@dataclass(frozen=True)
class AddressState:
    """What the archive knows of an address, for the frontier's next visit."""

    url: str  # normalised (archive.urls.normalise_address)
    document_id: str | None
    etag: str | None
    last_modified: str | None
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


def _pid_alive(pid: int) -> bool:
    """True when ``pid`` is a live (not zombie) process on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return True


class Archive:
    """A versioned, deduplicated archive in any SQLAlchemy database."""

    def __init__(self, engine: Engine, *, stale_after: timedelta = DEFAULT_STALE_AFTER):
        self.engine = engine
        self.stale_after = stale_after
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._lock_conn: Connection | None = None
        self._run_id: int | None = None
        self._last_beat = 0.0
        self._bodies = BodyStore()

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def open(
        cls, url: str, *, migrate: bool = True, stale_after: timedelta = DEFAULT_STALE_AFTER
    ) -> Archive:
        """Open (creating or migrating to head) the archive at ``url``."""
        engine = make_engine(url)
        try:
            if migrate:
                migrations.upgrade(engine)
            else:
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            engine.dispose()
            reason = redact(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            raise ArchiveError(f"cannot open archive {display_url(url)}: {reason}") from exc
        return cls(engine, stale_after=stale_after)

    def close(self) -> None:
        """Close; a run still open is finished as ``interrupted`` (its lock released)."""
        if self._run_id is not None:
            try:
                self.finish_run(self._run_id, "interrupted", {})
            except SQLAlchemyError:
                pass
        self._release_pg_lock()
        self.engine.dispose()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def session(self) -> Session:
        """A session for reading (``with archive.session() as s: ...``)."""
        return self._sessions()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    # -- runs and the lock --------------------------------------------------------------

    def start_run(self, options: dict[str, Any]) -> int:
        """Take the one-crawl-at-a-time lock and open a run; ArchiveLocked if held."""
        now = utcnow()
        host, pid = socket.gethostname(), os.getpid()
        if is_postgres(self.engine):
            self._take_pg_lock()
        try:
            run_id = self._claim(now, host, pid, options)
        except Exception:
            self._release_pg_lock()
            raise
        self._run_id = run_id
        self._last_beat = time.monotonic()
        return run_id

    def _claim(self, now: datetime, host: str, pid: int, options: dict[str, Any]) -> int:
        with self.engine.connect() as conn:
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")
            with Session(bind=conn) as s, conn.begin():
                held = s.get(Lock, LOCK_NAME)
                if held is not None:
                    if not self._is_stale(held, now):
                        raise ArchiveLocked(
                            f"run {held.run_id} (pid {held.pid} on {held.host}, started "
                            f"{held.acquired_at:%Y-%m-%d %H:%M:%S} UTC) holds the archive"
                        )
                    s.execute(
                        update(Run)
                        .where(Run.id == held.run_id, Run.outcome == "running")
                        .values(outcome="interrupted", finished_at=now)
                    )
                    s.delete(held)
                    s.flush()
                run = Run(
                    started_at=now,
                    heartbeat_at=now,
                    outcome="running",
                    counters={},
                    options=dict(options),
                    host=host,
                    pid=pid,
                )
                s.add(run)
                s.flush()
                s.add(
                    Lock(
                        name=LOCK_NAME,
                        run_id=run.id,
                        host=host,
                        pid=pid,
                        acquired_at=now,
                        heartbeat_at=now,
                    )
                )
                s.flush()
                return run.id

    def _is_stale(self, held: Lock, now: datetime) -> bool:
        if is_postgres(self.engine):
            return True  # we hold the advisory lock, so the row's holder is gone
        if held.host == socket.gethostname():
            return not _pid_alive(held.pid)
        return now - held.heartbeat_at > self.stale_after

    def _take_pg_lock(self) -> None:
        conn = self.engine.connect()
        try:
            got = conn.execute(select(func.pg_try_advisory_lock(PG_LOCK_KEY))).scalar()
            conn.commit()
        except Exception:
            conn.close()
            raise
        if not got:
            conn.close()
            with self._sessions() as s:
                held = s.get(Lock, LOCK_NAME)
            who = f"run {held.run_id} (pid {held.pid} on {held.host})" if held else "another run"
            raise ArchiveLocked(f"{who} holds the archive")
        self._lock_conn = conn

    def _release_pg_lock(self) -> None:
        if self._lock_conn is None:
            return
        try:
            self._lock_conn.execute(select(func.pg_advisory_unlock(PG_LOCK_KEY)))
            self._lock_conn.commit()
        except SQLAlchemyError:
            pass
        finally:
            self._lock_conn.close()
            self._lock_conn = None

    def holds_lock(self) -> bool:
        """Whether the run lock this archive took is still ours.

        On PostgreSQL the lock lives as long as the one connection that took it: if the
        server drops that connection (a restart, ``pg_terminate_backend``), another run
        may start, so the crawl must stop rather than keep writing (it asks every few
        seconds). On SQLite the ``locks`` row is the lock; it must still name our run.
        """
        if self._run_id is None:
            return False
        try:
            if self._lock_conn is not None:
                self._lock_conn.execute(text("SELECT 1"))
                self._lock_conn.commit()
                return True
            with self._sessions() as s:
                held = s.get(Lock, LOCK_NAME)
                return held is not None and held.run_id == self._run_id
        except SQLAlchemyError:
            return False

    def heartbeat(self, run_id: int) -> None:
        now = utcnow()
        with self._sessions() as s, s.begin():
            s.execute(update(Run).where(Run.id == run_id).values(heartbeat_at=now))
            s.execute(
                update(Lock)
                .where(Lock.name == LOCK_NAME, Lock.run_id == run_id)
                .values(heartbeat_at=now)
            )
        self._last_beat = time.monotonic()

    def finish_run(self, run_id: int, outcome: str, counters: dict[str, Any]) -> None:
        if outcome not in ("ok", "failed", "interrupted"):
            raise ValueError(f"unknown run outcome {outcome!r}")
        with self._sessions() as s, s.begin():
            s.execute(
                update(Run)
                .where(Run.id == run_id)
                .values(outcome=outcome, finished_at=utcnow(), counters=dict(counters))
            )
            s.execute(delete(Lock).where(Lock.name == LOCK_NAME, Lock.run_id == run_id))
        if run_id == self._run_id:
            self._run_id = None
            self._release_pg_lock()

    # -- ingest ---------------------------------------------------------------------------

    def ingest(self, capture: Capture, record: Record | None = None) -> IngestResult:
        """Store one fetch and what it means for the archive, in one transaction."""
        try:
            with self._sessions() as s, s.begin():
                result = _ingest(s, capture, record, self._bodies)
        except BaseException:
            self._bodies.forget()  # a dictionary trained in the lost transaction is gone
            raise
        self._beat_if_due(capture.run_id)
        return result

    def ingest_many(
        self, pairs: Sequence[tuple[Capture, Record | None]]
    ) -> list[IngestResult | Exception]:
        """Store several fetches in one transaction: each as :meth:`ingest` stores it, in
        order, and all of them or none.

        A crawl hands over the pages that finished while the previous batch was being
        written, so a busy crawl pays one commit for many pages and a quiet one still
        writes each page at once. Each capture still commits together with its version
        (they are in the same transaction); a crash loses only the pages of the batch
        in flight, which no caller has seen acknowledged. When the batch fails, every
        page is stored again on its own, so one bad page fails alone: its entry in the
        returned list is the exception, the others' their results.
        """
        if not pairs:
            return []
        try:
            with self._sessions() as s, s.begin():
                results: list[IngestResult | Exception] = [
                    _ingest(s, capture, record, self._bodies) for capture, record in pairs
                ]
        except Exception:
            self._bodies.forget()
            if len(pairs) == 1:
                raise
            results = []
            for capture, record in pairs:
                try:
                    results.append(self.ingest(capture, record))
                except Exception as exc:  # noqa: BLE001 - reported per page to the caller
                    results.append(exc)
            return results
        self._beat_if_due(pairs[-1][0].run_id)
        return results

    def _beat_if_due(self, run_id: int | None) -> None:
        if run_id is not None and time.monotonic() - self._last_beat > HEARTBEAT_EVERY_S:
            self.heartbeat(run_id)

    # -- what the frontier asks -----------------------------------------------------------

    def address_state(self, url: str) -> AddressState | None:
        return self.address_states([url])[0]

    def address_states(self, urls: Sequence[str]) -> list[AddressState | None]:
        """:meth:`address_state` of each of ``urls``, in one query (a listing page's
        fifty entries cost one round trip, not fifty)."""
        keys = [normalise_address(url) for url in urls]
        found: dict[str, AddressState] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(keys), 500):
                chunk = sorted(set(keys[start : start + 500]))
                for row in conn.execute(_state_query().where(Address.url.in_(chunk))):
                    found[row[0]] = _state(row)
        return [found.get(key) for key in keys]

    def iter_address_states(self, *, all_addresses: bool = False) -> Iterator[AddressState]:
        """One state per known document, at its canonical address (every address of
        every document with ``all_addresses``), in a stable order."""
        query = _state_query().where(Address.document_id.is_not(None))
        if not all_addresses:
            query = query.where(Address.how == "canonical")
        with self._sessions() as s:
            for row in s.execute(query.order_by(Address.id).execution_options(yield_per=1000)):
                yield _state(row)

    # -- reading back, integrity, re-extraction (thin wrappers over their modules) ---------

    def history(self, target: str) -> query.History:
        """A document's versions, oldest first, with field-by-field diffs."""
        with self._sessions() as s:
            return query.history(s, target)

    def as_of(self, when: datetime) -> list[query.DocumentAt]:
        """Every document as the archive held it at ``when`` (a list: small archives;
        use ``query.as_of`` with a session to stream)."""
        with self._sessions() as s:
            return list(query.as_of(s, when))

    def changes_since(self, seq: int = 0, limit: int | None = None) -> list[query.ChangeEntry]:
        with self._sessions() as s:
            return query.changes_since(s, seq, limit)

    def verify(self) -> list[str]:
        from archive import verify

        return verify.verify(self)

    def reextract(
        self, extract_fn: Callable[..., Record], extractor_version: str
    ) -> dict[str, int]:
        from archive import reextract

        return reextract.reextract(self, extract_fn, extractor_version)

    def read_body(self, sha256: str) -> bytes | None:
        with self._sessions() as s:
            body = s.get(Body, sha256)
            if body is None:
                return None
            return _decompress(s, body)


def _decompress(s: Session, body: Body) -> bytes:
    dictionary = None
    if body.dict_id is not None:
        from archive.schema import CompressionDict

        zdict = s.get(CompressionDict, body.dict_id)
        dictionary = zdict.data if zdict is not None else None
    return bodies.decompress(body.codec, body.data, dictionary)


def _state_query() -> Any:
    return (
        select(
            Address.url,
            Address.document_id,
            Address.etag,
            Address.last_modified,
            Address.last_fetched,
            Address.last_status,
            Version.first_seen,
            Document.deleted,
            Address.listing,
            Address.how,
            Document.kind,
            Version.published,
            Version.date_source,
        )
        .outerjoin(Document, Document.id == Address.document_id)
        .outerjoin(
            Version,
            (Version.document_id == Document.id) & (Version.number == Document.current_version),
        )
    )


def _state(row: Any) -> AddressState:
    return AddressState(
        url=row[0],
        document_id=row[1],
        etag=row[2],
        last_modified=row[3],
        last_fetched=row[4],
        last_status=row[5],
        last_changed=row[6],
        deleted=bool(row[7]) if row[7] is not None else False,
        listing=ListingEntry.from_json(row[8]),
        how=row[9],
        kind=row[10],
        published=row[11],
        date_source=row[12],
    )


# -- the ingest transaction ------------------------------------------------------------------


def _ingest(
    s: Session, capture: Capture, record: Record | None, store: BodyStore | None = None
) -> IngestResult:
    now = capture.fetched_at
    if now.tzinfo is None:
        raise ArchiveError("capture.fetched_at must be timezone-aware UTC")
    store = store or BodyStore()
    body_sha = store.store(s, capture.body, now) if capture.body is not None else None
    item = record if record is not None and record.is_item else None
    status = capture.status
    if capture.error or status == 0 or status >= 500:
        category = "failed"
    elif status == 304:
        category = "not_modified"
    elif status in (404, 410):
        category = "deleted"
    elif 200 <= status < 300:
        category = "item" if item is not None else "page"
    else:
        category = "failed"  # 403, 429, an unfollowed 3xx...: retried next run

    document_id: str | None = None
    version: Version | None = None
    outcome = category
    duplicate_of: str | None = None
    if category == "item":
        assert item is not None
        result = record_version(s, item, now, run_id=capture.run_id)
        outcome, document_id, version = result.outcome, result.document.id, result.version
        duplicate_of = result.document.duplicate_of
    addresses = _link_addresses(
        s,
        capture,
        item if category == "item" else None,
        now,
        category,
        new_document=outcome == "new_document",
    )
    requested = addresses[normalise_address(capture.url)]
    answered = addresses[normalise_address(capture.answered_url)]
    if category == "not_modified":
        document_id = requested.document_id or answered.document_id
        if document_id is not None:
            document = s.get(Document, document_id)
            assert document is not None
            document.last_seen = max(document.last_seen, now)
            version = _newest(s, document)
            if version is not None:
                version.last_seen = max(version.last_seen, now)
            duplicate_of = document.duplicate_of
    elif category == "deleted":
        document_id = _deleted_document(s, capture, record, requested, answered)
        if document_id is not None:
            document = s.get(Document, document_id)
            assert document is not None
            mark_deleted(s, document, now, capture.run_id)
            version = _newest(s, document)

    # One plain INSERT: the capture is never read back in this transaction, and a
    # flush of the ORM's unit of work for it cost more than the statement itself.
    s.flush()  # what the capture refers to (addresses, version) exists first
    row = dict(
        address_id=requested.id,
        url=capture.url,
        final_url=capture.final_url,
        redirects=list(capture.redirects),
        fetched_at=now,
        status=status,
        etag=capture.etag,
        last_modified=capture.last_modified,
        content_type=capture.content_type,
        body_sha256=body_sha,
        run_id=capture.run_id,
        document_id=document_id,
        version_id=version.id if version is not None else None,
        outcome=outcome,
        error=capture.error,
        listing=capture.listing.to_json() if capture.listing else None,
        http=capture.answers,
    )
    inserted = s.connection().execute(insert(_CAPTURES), row)
    key = inserted.inserted_primary_key
    assert key is not None
    return IngestResult(
        outcome=outcome,
        document_id=document_id,
        version=version.number if version is not None else None,
        capture_id=int(key[0]),
        duplicate_of=duplicate_of,
    )


class BodyStore:
    """Writes raw bodies, compressed with the archive's trained dictionary once it has one.

    The dictionary is trained once per archive, inside the ingest transaction that
    stores the :data:`bodies.TRAIN_AFTER`-th body without one, from the bodies stored so
    far; those are recompressed with it in the same transaction. Bodies compressed
    without a dictionary stay readable as they are (``dict_id`` NULL). What this object
    knows (the dictionary, how many bodies lack one) is a cache of the database: after a
    failed transaction it is forgotten and read again.
    """

    def __init__(self) -> None:
        self.forget()

    def forget(self) -> None:
        self._loaded = False
        self.dictionary: tuple[int, bytes] | None = None
        self._plain = 0  # bodies compressed without a dictionary (counted until trained)

    def _load(self, s: Session) -> None:
        from archive.schema import CompressionDict

        newest = s.execute(
            select(CompressionDict.id, CompressionDict.data)
            .order_by(CompressionDict.id.desc())
            .limit(1)
        ).first()
        if newest is not None:
            self.dictionary = (int(newest[0]), bytes(newest[1]))
        else:
            self._plain = int(
                s.scalar(
                    select(func.count())
                    .select_from(Body)
                    .where(Body.codec == bodies.CODEC_ZSTD, Body.dict_id.is_(None))
                )
                or 0
            )
        self._loaded = True

    def store(self, s: Session, data: bytes, now: datetime) -> str:
        sha = bodies.body_hash(data)
        added: set[str] = s.info.setdefault("bodies_added", set())
        if sha in added:
            return sha
        if s.connection().execute(select(_BODIES.c.sha256).where(_BODIES.c.sha256 == sha)).first():
            return sha
        if not self._loaded:
            self._load(s)
        if self.dictionary is None and self._plain >= bodies.TRAIN_AFTER:
            self._train(s, now)
        zdict = self.dictionary
        codec, stored = bodies.compress(data, zdict[1] if zdict else None)
        dict_id = zdict[0] if zdict is not None and codec == bodies.CODEC_ZSTD else None
        if codec == bodies.CODEC_ZSTD and dict_id is None:
            self._plain += 1
        s.add(
            Body(
                sha256=sha, size=len(data), codec=codec, dict_id=dict_id, data=stored, stored_at=now
            )
        )
        added.add(sha)
        return sha

    def _train(self, s: Session, now: datetime) -> None:
        from archive.schema import CompressionDict

        rows = s.execute(
            select(Body.sha256, Body.data)
            .where(Body.codec == bodies.CODEC_ZSTD, Body.dict_id.is_(None))
            .order_by(Body.stored_at, Body.sha256)
            .limit(bodies.TRAIN_AFTER)
        ).all()
        samples = [bodies.decompress(bodies.CODEC_ZSTD, data) for _, data in rows]
        try:
            trained = bodies.train(samples)
        except Exception:  # noqa: BLE001 - zstd refuses samples too alike: no dictionary yet
            self._plain = 0  # try again after as many more bodies
            return
        row = CompressionDict(created=now, sha256=bodies.body_hash(trained), data=trained)
        s.add(row)
        s.flush()
        s.execute(
            update(Body),
            [
                {"sha256": sha, "data": bodies.compress(raw, trained)[1], "dict_id": row.id}
                for (sha, _), raw in zip(rows, samples, strict=True)
            ],
        )
        self.dictionary = (row.id, trained)
        self._plain = 0


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
    requested = normalise_address(capture.url)
    answered = normalise_address(capture.answered_url)
    hops = [normalise_address(h) for h in capture.redirects]
    canonical = normalise_address(item.url) if item is not None else None
    how: dict[str, str] = {}
    for url in [requested, *hops]:
        how[url] = "redirect" if url != answered else "alias"
    how[answered] = "alias"
    if canonical is not None:
        how[canonical] = "canonical"
    if item is None:
        how = {url: ("page" if category == "page" else h) for url, h in how.items()}

    with s.no_autoflush:  # nothing pending can be one of these addresses
        existing = {a.url: a for a in s.scalars(select(Address).where(Address.url.in_(list(how))))}
    moved = canonical is not None and (
        canonical not in existing or existing[canonical].how != "canonical"
    )
    for url, kind in how.items():
        address = existing.get(url)
        if address is None:
            address = Address(
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
            )
            s.add(address)
            existing[url] = address
        address.last_seen = max(address.last_seen, now)
        if item is not None:
            address.how = kind
            address.document_id = item.id
        elif address.document_id is None:
            address.how = kind
    if item is not None and canonical is not None and moved and not new_document:
        _demote_old_canonical(s, item.id, canonical)
    fetched = {requested, answered}
    for url in fetched:
        address = existing[url]
        address.last_fetched = now
        address.last_status = capture.status
        if category in ("item", "page", "not_modified"):
            if capture.etag is not None or category != "not_modified":
                address.etag = capture.etag
            if capture.last_modified is not None or category != "not_modified":
                address.last_modified = capture.last_modified
    if capture.listing is not None:
        listing = capture.listing.to_json()
        for url in {requested, canonical or answered}:
            existing[url].listing = listing
    s.flush()
    return existing


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
