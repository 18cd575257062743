"""Re-extraction: replay stored raw bodies through the current extraction, no fetching.

For each document, the newest successful capture's raw body goes through
``extract_fn`` (the crawl's own ``crawler.sites.extract``, passed in so that the
archive never imports the crawler); the versioning rule then writes a version only
where the record's reader-visible content changed, stamped with the new extractor
version, with reason ``reextracted``. Only the newest capture of a document is
replayed: replaying older ones would resurrect superseded content as new versions.
Captures of addresses that were pages are replayed too, so an item the old
extraction missed becomes a document. It takes the run lock like a crawl.

With ``workers`` of 2 or more, the pages are extracted in that many worker processes
(``extract_fn`` must pickle: a module-level function) while this process reads the
bodies and writes the versions: :data:`BATCH` captures per transaction, in capture
order, at most :data:`AHEAD` batches ahead of the one being written (memory stays flat
whatever the archive's size). The outcome is the serial one's: the same pages read the
same way, written in the same order. A page whose extraction raises is counted in
``errors``; a worker that dies leaves its pages to this process, which extracts the
rest itself. A run killed at any moment loses nothing committed and leaves nothing half
written: the batch in flight rolls back, and the next run replays every page anyway.

Imports: ``archive.bodies``, ``archive.runs``, ``archive.texts``, ``archive.versioning``,
the schema,
``archive.records`` and ``archive.urls``; the store calls it, never the other way.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from multiprocessing import get_context
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from archive.bodies import COLUMNS as BODY_COLUMNS
from archive.bodies import BodyReader
from archive.languages import link_versions
from archive.listings import ListingReader
from archive.records import ListingEntry, Record
from archive.runs import RunLock
from archive.schema import Address, Body, Capture
from archive.texts import TextStore
from archive.urls import normalise_address
from archive.versioning import record_version

ExtractFn = Callable[..., Record]

logger = logging.getLogger(__name__)

#: Captures written per transaction by the parallel replay.
BATCH = 200
#: Pages sent to a worker at once (one task, two pickles).
CHUNK = 20
#: Batches read and sent to the workers beyond the one being written.
AHEAD = 2


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
    workers: int = 1,
) -> dict[str, int]:
    """Run ``extract_fn`` over stored bodies; returns counters of what it did.
    ``workers`` of 2 or more extracts in that many processes; 0 or 1 in this one, one
    transaction per capture."""
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
        if workers >= 2:
            replay = _Replay(sessions, extract_fn, extractor_version, texts, run_id, counters)
            replay.run(workers)
        else:
            _replay_serial(sessions, extract_fn, extractor_version, texts, run_id, counters)
        outcome = "ok"
    finally:
        runs.finish(run_id, outcome, counters)
    return counters


def _replay_serial(
    sessions: sessionmaker[Session],
    extract_fn: ExtractFn,
    extractor_version: str,
    texts: TextStore,
    run_id: int,
    counters: dict[str, int],
) -> None:
    """Extraction in this process, one transaction per capture."""
    for capture_id in latest_captures(sessions):
        counters["captures"] += 1
        with sessions() as s, s.begin():
            capture = s.get(Capture, capture_id)
            assert capture is not None and capture.body_sha256 is not None
            body = BodyReader(s).read(capture.body_sha256)
            assert body is not None
            url = capture.final_url or capture.url
            listing = ListingReader(s).entry(capture.listing, capture.url, capture.version_id)
            try:
                record = extract_fn(body, url, listing=listing)
            except Exception:  # noqa: BLE001 - one bad page must not stop the replay
                counters["errors"] += 1
                continue
            _keep(s, record, capture.id, capture.fetched_at, extractor_version, run_id, texts,
                  counters)  # fmt: skip


def _keep(
    s: Session,
    record: Record,
    capture_id: int,
    fetched_at: datetime,
    extractor_version: str,
    run_id: int,
    texts: TextStore,
    counters: dict[str, int],
) -> None:
    """One page read again, written (both replays): a ``page`` is counted; an item gets a
    version where its record changed, and a page that became an item joins its document."""
    if not record.is_item:
        counters["pages"] += 1
        return
    record.extractor_version = extractor_version
    result = record_version(s, record, fetched_at, run_id=run_id, reextract=True, texts=texts)
    link_versions(s, record.id, record.language_versions, fetched_at)
    _count(counters, result.outcome)
    if result.outcome == "new_document":
        capture = s.get(Capture, capture_id)
        assert capture is not None
        _link(s, capture, record)


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
        listing = ListingReader(s).entry(capture.listing, capture.url, capture.version_id)
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
        link_versions(s, record.id, record.language_versions, capture.fetched_at)
        if result.outcome == "unchanged" and result.version is not None:
            # The same content: the new model reads it so too (and it is not read again).
            numbering = (texts or TextStore()).numbering
            result.version.furniture_id = numbering.number(s, record.furniture_version)
        return result.outcome


# --------------------------------------------------------------------------- in parallel


@dataclass
class _Page:
    """A capture to replay, read before its batch is written."""

    capture_id: int
    fetched_at: datetime
    url: str
    body: bytes
    listing: dict[str, Any] | None


def _read_batch(sessions: sessionmaker[Session], ids: Sequence[int]) -> list[_Page]:
    """The captures ``ids`` with their raw bodies, in the order given: one query."""
    with sessions() as s:
        rows = s.execute(
            select(
                Capture.id,
                Capture.url,
                Capture.final_url,
                Capture.fetched_at,
                Capture.listing,
                Capture.version_id,
                *BODY_COLUMNS,
            )
            .join(Body, Body.sha256 == Capture.body_sha256, isouter=True)
            .where(Capture.id.in_(ids))
        ).all()
        reader = BodyReader(s)
        listings = ListingReader(s).entries([(r.listing, r.url, r.version_id) for r in rows])
        pages: dict[int, _Page] = {}
        for row, listing in zip(rows, listings, strict=True):
            assert row.codec is not None, f"capture {row.id}: its body is not stored"
            body = reader.decode(row)
            url = row.final_url or row.url
            entry = listing.to_json() if listing is not None else None
            pages[row.id] = _Page(row.id, row.fetched_at, url, body, entry)
    return [pages[i] for i in ids]


def _extract_chunk(
    extract_fn: ExtractFn, pages: list[tuple[bytes, str, dict[str, Any] | None]]
) -> list[Record | str]:
    """A worker's task: the record of each page, or the text of the error it raised."""
    out: list[Record | str] = []
    for body, url, listing in pages:
        try:
            out.append(extract_fn(body, url, listing=ListingEntry.from_json(listing)))
        except Exception as exc:  # noqa: BLE001 - one bad page must not stop the replay
            out.append(f"{type(exc).__name__}: {exc}")
    return out


def _init_worker(parent_pid: int) -> None:
    """Leave Ctrl-C to the parent (it ends the run); die with the parent, even SIGKILLed
    (the pool's queues never tell its workers so)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


@dataclass
class _Task:
    pages: list[tuple[bytes, str, dict[str, Any] | None]]
    future: Future[list[Record | str]] | None


class _Pool:
    """Worker processes for :func:`_extract_chunk`; once one dies, this process extracts
    what they had not returned, and everything after."""

    def __init__(self, extract_fn: ExtractFn, workers: int) -> None:
        try:
            pickle.dumps(extract_fn)
        except Exception as exc:
            raise TypeError(
                f"extract_fn must pickle to run in worker processes (a module-level "
                f"function): {exc}"
            ) from exc
        self.extract_fn = extract_fn
        self._executor: ProcessPoolExecutor | None = ProcessPoolExecutor(
            workers,
            mp_context=get_context("spawn"),
            initializer=_init_worker,
            initargs=(os.getpid(),),
        )

    def submit(self, pages: list[_Page]) -> _Task:
        task = _Task([(p.body, p.url, p.listing) for p in pages], None)
        if self._executor is not None:
            try:
                task.future = self._executor.submit(_extract_chunk, self.extract_fn, task.pages)
            except BrokenProcessPool:
                self._broken()
        return task

    def result(self, task: _Task) -> list[Record | str]:
        if task.future is not None:
            try:
                return task.future.result()
            except BrokenProcessPool:
                self._broken()
        return _extract_chunk(self.extract_fn, task.pages)

    def _broken(self) -> None:
        if self._executor is not None:
            logger.warning("extraction workers died; extracting in this process")
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


class _Replay:
    """The parallel replay: read a batch, send it to the workers, write the oldest batch
    whose records are back, in capture order, one transaction per batch."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        extract_fn: ExtractFn,
        extractor_version: str,
        texts: TextStore,
        run_id: int,
        counters: dict[str, int],
    ) -> None:
        self.sessions = sessions
        self.extract_fn = extract_fn
        self.extractor_version = extractor_version
        self.texts = texts
        self.run_id = run_id
        self.counters = counters

    def run(self, workers: int) -> None:
        pool = _Pool(self.extract_fn, workers)
        try:
            in_flight: deque[tuple[list[_Page], list[_Task]]] = deque()
            for ids in _batches(latest_captures(self.sessions), BATCH):
                pages = _read_batch(self.sessions, ids)
                tasks = [pool.submit(pages[i : i + CHUNK]) for i in range(0, len(pages), CHUNK)]
                in_flight.append((pages, tasks))
                while len(in_flight) > AHEAD:
                    self._write(pool, *in_flight.popleft())
            while in_flight:
                self._write(pool, *in_flight.popleft())
        finally:
            pool.close()

    def _write(self, pool: _Pool, pages: list[_Page], tasks: list[_Task]) -> None:
        results = [record for task in tasks for record in pool.result(task)]
        counts = dict.fromkeys(self.counters, 0)
        with self.sessions() as s, s.begin():
            for page, record in zip(pages, results, strict=True):
                counts["captures"] += 1
                if isinstance(record, str):
                    counts["errors"] += 1
                    continue
                _keep(s, record, page.capture_id, page.fetched_at, self.extractor_version,
                      self.run_id, self.texts, counts)  # fmt: skip
        for key, value in counts.items():  # counted once committed
            self.counters[key] = self.counters.get(key, 0) + value


def _batches(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]
