"""``Archive``: one open archive, the facade the crawler and the commands hold.

It wires the concerns that live in their own modules and adds nothing of its own:
the runs and the lock (``archive.runs``), the ingest transaction (``archive.ingest``;
a crawl's groups of pages: ``archive.batch``), raw bodies (``archive.bodies``), reading
back (``archive.query``), the search index's lists of frequent words
(``archive.search``), integrity (``archive.verify``) and re-extraction
(``archive.reextract``). Each method opens the session or transaction its module works in.

Imports: every module of the package except the readers' API and the export formats
(``archive.api``, ``archive.export``); nothing imports this module inside the package.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from archive import furniture, migrations, query, reextract, reports, search, verify
from archive.batch import ingest_group
from archive.bodies import BodyReader, BodyStore
from archive.db import display_url, make_engine
from archive.errors import ArchiveError, one_line, redact
from archive.ingest import OUTCOMES, IngestResult, ingest
from archive.query import AddressState, Validators
from archive.records import Capture, Record
from archive.runs import DEFAULT_STALE_AFTER, RunLock
from archive.texts import TextStore

__all__ = ["OUTCOMES", "AddressState", "Archive", "IngestResult", "Validators"]

logger = logging.getLogger(__name__)


class Archive:
    """A versioned, deduplicated archive in any SQLAlchemy database."""

    def __init__(self, engine: Engine, *, stale_after: timedelta = DEFAULT_STALE_AFTER):
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self.runs = RunLock(engine, self._sessions, stale_after)
        self._bodies = BodyStore()
        self._texts = TextStore()
        #: CPU seconds of the writing thread in :meth:`ingest_many`: building the group's
        #: rows and statements (``ingest``) and committing them (``commit``). The crawl
        #: reports them per item (``bench/run.py``): they are what the reactor waits for
        #: while the archive thread holds the interpreter lock.
        self.cpu = {"ingest": 0.0, "commit": 0.0}

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
        self.runs.close()
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

    # -- runs and the lock (archive.runs) -------------------------------------------------

    def start_run(self, options: dict[str, Any]) -> int:
        """Take the one-crawl-at-a-time lock and open a run; ArchiveLocked if held."""
        return self.runs.start(options)

    def holds_lock(self) -> bool:
        """Whether the run lock this archive took is still ours (see ``RunLock.holds``)."""
        return self.runs.holds()

    def heartbeat(self, run_id: int) -> None:
        self.runs.heartbeat(run_id)

    def finish_run(self, run_id: int, outcome: str, counters: dict[str, Any]) -> None:
        """Close the run; then let the searches of frequent words skip ranking every match
        (:meth:`refresh_search`)."""
        self.runs.finish(run_id, outcome, counters)
        self.refresh_search()

    def refresh_search(self) -> None:
        """On PostgreSQL, list the words a crawl made frequent
        (``archive.search.refresh_lists``); on SQLite, rank the frequent words again for
        the index as it now stands (``archive.search.rank_frequent_words``), in a read
        transaction that holds no lock (seconds on a large archive: a crawl starting
        meanwhile is not kept waiting), then keep the rankings in a short write
        transaction. A failure is one warning: the run is recorded and its archive whole,
        and searches take the slower path with the same answers until the next run."""
        started = time.monotonic()
        try:
            if self.dialect == "postgresql":
                with self.engine.begin() as conn:
                    words = search.refresh_lists(conn)
            else:
                words = self._rank_frequent_words()
            if words:
                logger.info(
                    "search: %d frequent words %s in %.1f s",
                    words,
                    "listed" if self.dialect == "postgresql" else "ranked",
                    time.monotonic() - started,
                )
        except SQLAlchemyError as exc:
            logger.warning("could not prepare frequent words for search: %s", one_line(exc))

    def _rank_frequent_words(self) -> int:
        with self.engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
            with conn.begin():
                rankings = search.rank_frequent_words(conn)
        if rankings is None:
            return 0
        with self.engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn:
            with conn.begin():
                return search.keep_rankings(conn, rankings)

    def previous_run(self, current: int | None) -> dict[str, Any] | None:
        """The last run before ``current`` (any outcome): id, outcome and counters."""
        with self._sessions() as s:
            return query.previous_run(s, current)

    # -- ingest (archive.ingest) ------------------------------------------------------------

    def ingest(self, capture: Capture, record: Record | None = None) -> IngestResult:
        """Store one fetch and what it means for the archive, in one transaction."""
        try:
            with self._sessions() as s, s.begin():
                result = ingest(s, capture, record, self._bodies, self._texts)
        except BaseException:
            self._forget()
            raise
        self.runs.beat_if_due(capture.run_id)
        return result

    def ingest_many(
        self, pairs: Sequence[tuple[Capture, Record | None]]
    ) -> list[IngestResult | Exception]:
        """Store several fetches in one transaction: each as :meth:`ingest` stores it, in
        order, and all of them or none.

        A crawl hands over the pages that finished while the previous batch was being
        written, so a busy crawl pays one commit for many pages and a quiet one still
        writes each page at once. The batch is written with SQLAlchemy Core
        (``archive.batch``: the group's reads first, the rows nothing reads back in one
        executemany per table at the end), the rows exactly those :meth:`ingest` writes,
        at a third to a half of the CPU of the ORM's unit of work, which the crawl's
        reactor waited for (``bench/ingest_speed.py``). Each capture still commits together with
        its version (they are in the same transaction); a crash loses only the pages of
        the batch in flight, which no caller has seen acknowledged. When the batch
        fails, every page is stored again on its own, so one bad page fails alone: its
        entry in the returned list is the exception, the others' their results.
        """
        if not pairs:
            return []
        started = time.thread_time()
        try:
            with self._sessions() as s:
                with s.begin():
                    results: list[IngestResult | Exception] = list(
                        ingest_group(s, pairs, self._bodies, self._texts)
                    )
                    s.flush()
                    committing = time.thread_time()
                self.cpu["commit"] += time.thread_time() - committing
        except Exception:
            self._forget()
            if len(pairs) == 1:
                raise
            results = []
            for capture, record in pairs:
                try:
                    results.append(self.ingest(capture, record))
                except Exception as exc:  # noqa: BLE001 - reported per page to the caller
                    results.append(exc)
            self.cpu["ingest"] += time.thread_time() - started
            return results
        self.cpu["ingest"] += committing - started
        self.runs.beat_if_due(pairs[-1][0].run_id)
        return results

    def _forget(self) -> None:
        """A dictionary trained in a lost transaction is gone: read them again."""
        self._bodies.forget()
        self._texts.forget()

    # -- reading back (archive.query, archive.bodies) -----------------------------------------

    def address_state(self, url: str) -> AddressState | None:
        return self.address_states([url])[0]

    def address_states(self, urls: Sequence[str]) -> list[AddressState | None]:
        """:meth:`address_state` of each of ``urls``, in one query (a listing page's
        fifty entries cost one round trip, not fifty)."""
        with self.engine.connect() as conn:
            return query.address_states(conn, urls)

    def iter_address_states(self, *, all_addresses: bool = False) -> Iterator[AddressState]:
        """One state per known document, at its canonical address (every address of
        every document with ``all_addresses``), in a stable order."""
        with self._sessions() as s:
            yield from query.iter_address_states(s, all_addresses=all_addresses)

    def history(self, target: str) -> query.History:
        """A document's versions, oldest first, with field-by-field diffs."""
        with self._sessions() as s:
            return query.history(s, target)

    def changes_since(self, seq: int = 0, limit: int | None = None) -> list[query.ChangeEntry]:
        with self._sessions() as s:
            return query.changes_since(s, seq, limit)

    def summary(self) -> dict[str, Any]:
        """Counts, body bytes, the lock and the last runs (``osce-archive status``)."""
        with self._sessions() as s:
            return query.summary(s)

    def read_body(self, sha256: str) -> bytes | None:
        with self._sessions() as s:
            return BodyReader(s).read(sha256)

    # -- learned furniture models (archive.furniture) ----------------------------------------

    def save_furniture_model(
        self,
        host: str,
        version: str,
        model: dict[str, Any],
        pages: int,
        run_id: int | None = None,
    ) -> bool:
        """Keep a host's learned model (False: this version was kept already)."""
        return furniture.save_model(self._sessions, host, version, model, pages, run_id)

    def furniture_model(self, host: str) -> furniture.StoredModel | None:
        """The model the next run of ``host`` starts from."""
        return furniture.current_model(self._sessions, host)

    def furniture_models(self, host: str | None = None) -> list[furniture.StoredModel]:
        return furniture.models(self._sessions, host)

    def stale_documents(self, site: str, version: str) -> list[str]:
        """Live documents of ``site`` whose newest version another model produced."""
        return furniture.stale_documents(self._sessions, site, version)

    def recent_pages(self, site: str, limit: int) -> list[tuple[str, bytes]]:
        """(address, raw body) of the newest captures of up to ``limit`` documents."""
        return furniture.recent_pages(self._sessions, site, limit)

    def newest_capture(self, document_id: str) -> tuple[int, str, bytes, Any] | None:
        """(capture id, address, raw body, listing entry) of a document's newest capture."""
        return reextract.newest_capture(self._sessions, document_id)

    def record_correction(self, capture_id: int, record: Record, run_id: int) -> str:
        """A better reading of a stored capture: a version with reason ``reextracted``
        where what a reader sees changed; returns ``new_version`` or ``unchanged``."""
        try:
            return reextract.record_correction(
                self._sessions, capture_id, record, run_id, self._texts
            )
        except BaseException:
            self._texts.forget()
            raise

    # -- third-party articles and the items they report on (archive.reports) -----------------

    def has_articles(self) -> bool:
        """Whether any third-party article is archived (else there is nothing to link)."""
        return reports.has_articles(self._sessions)

    def report_items(self) -> list[reports.ItemRow]:
        """Every OSCE item's newest title, date, institutions and address."""
        return reports.items(self._sessions)

    def report_articles(self) -> Iterator[reports.ArticleRow]:
        """Every third-party article's newest title, text, date and body links."""
        return reports.articles(self._sessions)

    def item_addresses(self, urls: Sequence[str]) -> dict[str, str]:
        """``{url: item id}`` of the ``urls`` the archive saw an OSCE item at."""
        return reports.item_addresses(self._sessions, urls)

    def save_reports(self, found: dict[str, list[dict[str, str]]]) -> dict[str, int]:
        """Keep the links found for these articles (one row per pair, never twice)."""
        return reports.save(self._sessions, found)

    # -- integrity and re-extraction ----------------------------------------------------------

    def verify(self) -> list[str]:
        with self._sessions() as s:
            return verify.verify(s)

    def reextract(
        self, extract_fn: Callable[..., Record], extractor_version: str, workers: int = 1
    ) -> dict[str, int]:
        """Replay stored bodies through ``extract_fn``; ``workers`` of 2 or more extracts
        in that many processes (``extract_fn`` must then pickle)."""
        try:
            counters = reextract.reextract(
                self._sessions, self.runs, extract_fn, extractor_version, self._texts, workers
            )
        except BaseException:
            self._texts.forget()
            raise
        self.refresh_search()
        return counters
