"""The run: one archive connection per crawl, its lock, heartbeat, counters and outcome.

``ArchiveRun`` is the Scrapy extension that opens the archive named by
``OSCE_ARCHIVE_DB``, takes the one-crawl-at-a-time lock (``Archive.start_run``,
raising ``ArchiveLocked`` when another live run holds it), beats the heartbeat, checks
every second, and at the end, that the lock is still its own (on PostgreSQL it dies with the
connection holding it: a dropped connection stops the run, exit 1, rather than let a
second run write beside it), and at the end records the run's counters and outcome
(``ok``, ``failed``, ``interrupted``).

Every call into the archive goes through one ``ArchiveSession`` per crawler, which runs
them on a single dedicated thread: the database never sees two threads of this
process at once (SQLite is happiest that way), and the reactor keeps fetching while a
page is being written. The spider (through the frontier) and the pipeline share it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Any, TypeVar

from scrapy import Spider, signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import task

from archive.db import begin_immediately
from archive.errors import one_line, redact
from archive.store import Archive

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: Counters of a run, as ``CONTRACT.md`` names them for ``crawl --json``.
COUNTERS = ("requests", "new_documents", "new_versions", "unchanged", "deleted", "failed")
#: Where each ingest outcome is counted.
OUTCOME_COUNTER = {
    "new_document": "new_documents",
    "new_version": "new_versions",
    "unchanged": "unchanged",
    "not_modified": "unchanged",
    "deleted": "deleted",
    "failed": "failed",
    "page": "pages",
}
STATS_PREFIX = "osce/"
#: How long a second signal waits for the archive thread to record the run interrupted.
KILL_WAIT_S = 6.0


class ArchiveSession:
    """The crawl's one archive connection and the one thread that talks to it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="archive")
        try:
            self.archive: Archive = self.call_sync(Archive.open, url)
            begin_immediately(self.archive.engine)
        except BaseException:
            self._executor.shutdown(wait=True)
            raise
        self.run_id: int | None = None
        self.thread_cpu_s = 0.0
        #: Why the crawl must stop, when the archive itself failed (exit 1).
        self.error: str | None = None

    @classmethod
    def of(cls, crawler: Crawler) -> ArchiveSession:
        """The session of this crawler, held by its ``ArchiveRun`` extension."""
        run = crawler.get_extension(ArchiveRun)
        if run is None:
            raise NotConfigured("the ArchiveRun extension is not enabled")
        return run.session

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Run ``fn`` on the archive thread; the caller neither waits nor awaits."""
        return self._executor.submit(fn, *args)

    def call_sync(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn`` on the archive thread and wait (start and end of a run only)."""
        return self._executor.submit(fn, *args).result()

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn`` on the archive thread without blocking the reactor."""
        return await asyncio.wrap_future(self._executor.submit(fn, *args))

    def close(self) -> None:
        try:
            self.thread_cpu_s = self.call_sync(time.thread_time)
            self.call_sync(self.archive.close)
        finally:
            self._executor.shutdown(wait=True)

    def cpu_stats(self) -> dict[str, float]:
        """CPU seconds of the archive thread: all of it (after :meth:`close`), and the
        ingest's share, split into building the writes and committing them. What the
        thread holds of the interpreter lock the reactor cannot have, so the crawl
        reports it (``crawl --json``'s ``cpu_s``, ``bench/run.py``)."""
        return {
            "archive_thread": round(self.thread_cpu_s, 3),
            "ingest": round(self.archive.cpu["ingest"], 3),
            "commit": round(self.archive.cpu["commit"], 3),
        }

    def close_now(self, run_id: int | None, counters: dict[str, Any], timeout: float) -> bool:
        """The second Ctrl-C/SIGTERM: record the run ``interrupted`` (releasing its lock)
        and close, waiting at most ``timeout`` seconds for the call the archive thread is
        in (one committed group at most). False when the thread is still busy: the process
        then exits anyway; the lock of a dead process is taken over by the next run."""

        def finish() -> None:
            if run_id is not None:
                self.archive.finish_run(run_id, "interrupted", counters)
            self.archive.close()

        future = self._executor.submit(finish)
        self._executor.shutdown(wait=False)
        try:
            future.result(timeout=timeout)
        except FutureTimeout:
            return False
        except Exception as exc:  # noqa: BLE001 - reported; the process is stopping anyway
            logger.warning("recording the interrupted run failed: %s", redact(str(exc)))
        return True


class ArchiveRun:
    """Opens the run at crawler start, closes it with an outcome when the spider closes.

    Settings: ``OSCE_ARCHIVE_DB`` (SQLAlchemy URL; empty switches the extension off),
    ``OSCE_ARCHIVE_HEARTBEAT`` (seconds between heartbeats), ``OSCE_ARCHIVE_LOCK_CHECK``
    (seconds between checks that the run still holds its lock; 0 switches them off).
    """

    def __init__(
        self, crawler: Crawler, url: str, heartbeat: float, lock_check: float = 1.0
    ) -> None:
        self.crawler = crawler
        self.session = ArchiveSession(url)
        self.heartbeat_every = heartbeat
        self.lock_check_every = lock_check
        self._beat: task.LoopingCall | None = None
        self._watch: task.LoopingCall | None = None
        self._closed = False
        #: ``crawl --cluster``: this process shares a run another process opened (no lock).
        self.joined = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveRun:
        url = crawler.settings.get("OSCE_ARCHIVE_DB")
        if not url:
            raise NotConfigured("OSCE_ARCHIVE_DB is empty")
        ext = cls(
            crawler,
            url,
            crawler.settings.getfloat("OSCE_ARCHIVE_HEARTBEAT", 15.0),
            crawler.settings.getfloat("OSCE_ARCHIVE_LOCK_CHECK", 1.0),
        )
        ext.start(getattr(crawler, "spider", None))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.engine_stopped, signal=signals.engine_stopped)
        from twisted.internet import reactor

        # A second Ctrl-C/SIGTERM stops the reactor at once: no spider_closed follows.
        reactor.addSystemEventTrigger("before", "shutdown", ext.reactor_stopping)
        return ext

    def start(self, spider: Spider | None) -> None:
        """Take the lock and open the run; ``ArchiveLocked`` propagates (exit 75)."""
        options = {
            "site": getattr(spider, "site", None),
            "full": bool(getattr(spider, "full", False)),
            "kinds": sorted(getattr(spider, "kinds", ()) or ()),
            "max_items": getattr(spider, "max_items", None),
            "spider": getattr(spider, "name", None),
        }
        thirdparty = getattr(spider, "thirdparty", None)
        if thirdparty is not None:  # ``crawl --sources``: which sources the run read
            options["sources"] = sorted(thirdparty.runs)
        if getattr(spider, "demo", False):  # ``osce-archive demo`` (its --db refuses others)
            options["demo"] = True
        from crawler.cluster import Cluster

        try:
            cluster = Cluster.of(self.crawler)
            if cluster is None:
                run_id = self.session.call_sync(self.session.archive.start_run, options)
            else:  # the first process opens the run (and holds the lock); the others join
                run_id = cluster.join(
                    options,
                    lambda: self.session.call_sync(
                        self.session.archive.start_run, {**options, "cluster": True}
                    ),
                )
                self.joined = not cluster.coordinating
                self.crawler.stats.set_value(STATS_PREFIX + "cluster_role", cluster.role)
                self.crawler.stats.set_value(STATS_PREFIX + "cluster_worker", cluster.worker)
            self.session.run_id = run_id
        except BaseException:
            self._close()
            raise
        self.crawler.stats.set_value(STATS_PREFIX + "run_id", self.session.run_id)
        logger.info("run %s started on %s", self.session.run_id, redact(self.session.url))

    def spider_opened(self, spider: Spider) -> None:
        if self.joined:
            return  # the coordinator beats for the run and holds its lock
        self._beat = task.LoopingCall(self._heartbeat)
        self._beat.start(self.heartbeat_every, now=False)
        if self.lock_check_every > 0:
            self._watch = task.LoopingCall(lambda: deferred_from_coro(self._check_lock()))
            self._watch.start(self.lock_check_every, now=False)

    async def _check_lock(self) -> None:
        """Stop the run (exit 1) once its lock is no longer its own."""
        session = self.session
        if session.run_id is None or session.error or self._closed:
            return
        try:
            held = await session.call(session.archive.holds_lock)
        except Exception as exc:  # noqa: BLE001 - a failed check is not a lost lock
            logger.warning("checking the run lock failed: %s", redact(str(exc)))
            return
        if held or session.error:
            return
        self._lock_lost()
        close_crawl(self.crawler, "archive_error")

    def _lock_lost(self) -> None:
        message = (
            "lost the archive's run lock (the database dropped the connection holding it); "
            "stopped so that no other run writes beside this one"
        )
        self.session.error = message
        self.crawler.stats.set_value(STATS_PREFIX + "error", message)
        logger.error("%s", message)

    def _heartbeat(self) -> None:
        run_id = self.session.run_id
        if run_id is None:
            return
        future = self.session.submit(self.session.archive.heartbeat, run_id)
        future.add_done_callback(_log_failure("heartbeat"))

    def spider_closed(self, spider: Spider, reason: str) -> None:
        for loop in (self._beat, self._watch):
            if loop is not None and loop.running:
                loop.stop()
        if self._closed:
            # A second signal stopped the reactor first: reactor_stopping recorded the
            # run (interrupted) and closed the archive thread; the spider closes after.
            return
        run_id = self.session.run_id
        stats = self.crawler.stats
        if self.joined:
            self._leave(reason)
            return
        if run_id is not None and not self.session.error:
            # A lock lost after the last periodic check still makes the run's writes
            # unguarded: the run is then not "ok", whatever it fetched.
            try:
                held = self.session.call_sync(self.session.archive.holds_lock)
            except Exception:  # noqa: BLE001 - finish_run below reports the database
                held = True
            if not held:
                self._lock_lost()
        counters = run_counters(stats.get_stats())
        outcome = outcome_of(reason, self.session.error)
        stats.set_value(STATS_PREFIX + "outcome", outcome)
        stats.set_value(STATS_PREFIX + "reason", reason)
        counters = self._cluster_totals(outcome, counters)
        if run_id is not None:
            try:
                self.session.call_sync(self.session.archive.finish_run, run_id, outcome, counters)
                logger.info("run %s finished: %s (%s)", run_id, outcome, reason)
            except Exception as exc:  # noqa: BLE001 - report it; the lock dies with us
                self.session.error = self.session.error or f"cannot record the run: {one_line(exc)}"
                stats.set_value(STATS_PREFIX + "error", redact(self.session.error))
        self._close()

    def _leave(self, reason: str) -> None:
        """A worker's end: its counters go to the run's, the coordinator records the run."""
        from crawler.cluster import Cluster

        stats = self.crawler.stats
        stats.set_value(STATS_PREFIX + "outcome", outcome_of(reason, self.session.error))
        stats.set_value(STATS_PREFIX + "reason", reason)
        cluster = Cluster.of(self.crawler)
        if cluster is not None:
            cluster.leave()
        self._close()

    def _cluster_totals(self, outcome: str, counters: dict[str, Any]) -> dict[str, Any]:
        """The coordinator's end: the run is closed in Redis (the workers leave), and its
        counters are every process's."""
        from crawler.cluster import Cluster

        cluster = Cluster.of(self.crawler)
        if cluster is None or not cluster.coordinating:
            return counters
        try:
            cluster.close_run(outcome)
            counters = cluster.totals(counters)
            cluster.release()
        except Exception as exc:  # noqa: BLE001 - the run is recorded with this process's
            logger.warning("adding up the workers' counters: %s", redact(str(exc)))
        self.crawler.stats.set_value(STATS_PREFIX + "cluster_counters", counters)
        return counters

    def engine_stopped(self) -> None:
        self._close()

    def reactor_stopping(self) -> None:
        """The reactor stops before the spider closed (a second signal): the run ends
        ``interrupted`` now, whatever is in flight (committed pages stay committed)."""
        if self._closed:
            return
        self._closed = True
        for loop in (self._beat, self._watch):
            if loop is not None and loop.running:
                loop.stop()
        stats = self.crawler.stats
        stats.set_value(STATS_PREFIX + "outcome", "interrupted")
        stats.set_value(STATS_PREFIX + "reason", "killed")
        if not self.joined:
            from crawler.cluster import Cluster

            cluster = Cluster.of(self.crawler)
            if cluster is not None and cluster.coordinating:
                try:
                    cluster.close_run("interrupted")
                    cluster.release()
                except Exception as exc:  # noqa: BLE001 - stopping at once anyway
                    logger.warning("closing the cluster's run: %s", redact(str(exc)))
        done = self.session.close_now(
            None if self.joined else self.session.run_id,
            run_counters(stats.get_stats()),
            KILL_WAIT_S,
        )
        stats.set_value(STATS_PREFIX + "archive_busy", not done)
        logger.info("run %s stopped at once: interrupted", self.session.run_id)

    def _close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self.session.close()
        except Exception as exc:  # noqa: BLE001
            logger.warning("closing the archive: %s", redact(str(exc)))
        self.crawler.stats.set_value(STATS_PREFIX + "cpu_s", self.session.cpu_stats())


def outcome_of(reason: str, error: str | None) -> str:
    """The run's outcome from the spider's close reason."""
    if error or reason in ("archive_error", "site_unreachable"):
        return "failed"
    if reason in ("finished", "max_items"):
        return "ok"
    if reason in ("shutdown", "cancelled"):
        return "interrupted"
    return "failed"


def run_counters(stats: dict[str, Any]) -> dict[str, Any]:
    """The run's counters from the crawler stats (what ``crawl --json`` prints)."""
    counters: dict[str, Any] = {
        "requests": int(stats.get("downloader/request_count", 0)),
    }
    for name in (
        *COUNTERS[1:],
        "pages",
        "items",
        "skipped",
        "sources_kept",
        "sources_unrelated",
        "reports_linked",
    ):
        counters[name] = int(stats.get(STATS_PREFIX + name, 0))
    counters["not_modified"] = int(stats.get(STATS_PREFIX + "not_modified", 0))
    counters["bytes"] = int(stats.get("downloader/response_bytes", 0))
    # Whether the listings were read to the end of their rule: if not, the next run
    # reads them all (``crawler.frontier.needs_catch_up``).
    counters["listings_complete"] = bool(stats.get(STATS_PREFIX + "listings_complete", False))
    # The furniture model the run's records were read with (``crawler.learning``), whether
    # it is the bundled default for want of pages, and documents read again with it.
    counters["furniture_version"] = stats.get(STATS_PREFIX + "furniture_version")
    counters["furniture_default"] = bool(stats.get(STATS_PREFIX + "furniture_default", False))
    counters["corrected"] = int(stats.get(STATS_PREFIX + "corrected", 0))
    return counters


def close_crawl(crawler: Crawler, reason: str) -> None:
    """Ask the engine to close the spider with ``reason`` (pages in flight finish first)."""
    engine = crawler.engine
    if engine is not None and engine.spider is not None:
        deferred_from_coro(engine.close_spider_async(reason=reason))


def _log_failure(what: str) -> Callable[[Any], None]:
    def done(future: Any) -> None:
        exc = future.exception()
        if exc is not None:
            logger.warning("%s failed: %s", what, redact(str(exc)))

    return done
