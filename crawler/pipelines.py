"""The item pipeline: extract each fetched page in a process pool, ingest it in the archive.

The reactor fetches; extraction (lxml + trafilatura, CPU-bound) runs in worker
processes, so fetching and extraction overlap across cores; the archive write runs on
the archive session's one thread (``crawler.extensions.ArchiveSession``), the pages
that finished meanwhile grouped in one transaction (each capture commits with its
version), and a page is acknowledged only once committed, so a crawl killed at any
moment loses nothing it archived; the pages of the group in flight are fetched again
by the next run. The group is written with SQLAlchemy Core statements executed in
batches (``archive.batch``), not the ORM's unit of work: the archive thread holds the
interpreter lock while it builds the rows, and every millisecond it holds it is one the
reactor cannot fetch in (``crawl --json`` reports that thread's CPU, ``cpu_s``).
Scrapy's scraper slot bounds how many pages are in flight (and so how many wait for
the archive thread), which keeps memory flat.

Settings: ``OSCE_ARCHIVE_GROUP_MAX`` (most pages written in one archive transaction),
``OSCE_EXTRACT_WORKERS`` (worker processes; 0 extracts in the crawling
process), ``OSCE_EXTRACT_FURNITURE`` (path of a learned furniture model JSON; empty:
the bundled model).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DropItem

from archive.errors import one_line
from archive.records import Capture, Record
from archive.store import IngestResult
from crawler import linking
from crawler.extensions import OUTCOME_COUNTER, STATS_PREFIX, ArchiveSession, close_crawl
from crawler.extraction.furniture import FurnitureModel
from crawler.extraction.relevance import about_osce
from crawler.learning import WARMUP, FurnitureKeeper
from crawler.sites import DEFAULT as SITE
from crawler.sites import SiteProfile

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


@dataclass
class PageItem:
    """One fetch on its way to the archive: the capture, and why it was fetched."""

    capture: Capture
    reason: str = ""
    extract: bool = True
    #: The third-party source the page is from (``crawler.sources``); None: the site.
    source: str | None = None

    def __repr__(self) -> str:
        # Scrapy logs a dropped item's repr: the address, never a whole page body.
        c = self.capture
        return f"<page {c.url} status {c.status} {len(c.body or b'')} bytes ({self.reason})>"


# --------------------------------------------------------------------------- worker side

_FURNITURE: Any = None


def _init_worker(parent_pid: int) -> None:
    """Ignore the crawl's signals; die with the parent, even if it is SIGKILLed."""
    # Signals are the parent's business: Ctrl-C or SIGTERM to the process group must not
    # break the pool while the parent finishes the pages in flight.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)

    def watch() -> None:
        while True:
            if os.getppid() != parent_pid:
                os._exit(0)
            time.sleep(1.0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def run_task(task: tuple[Any, ...]) -> Any:
    """One task of a worker (or of the crawling process when there is none):
    ``("extract", body, url, listing, model, profile)`` gives the page's Record, read
    with ``model`` (None: the model this worker was sent last) and the site ``profile``
    (None: the one the address picks; a third-party source's generic profile);
    ``("features", body)`` gives what the page contributes to its site's furniture model."""
    global _FURNITURE
    if task[0] == "features":
        from crawler.extraction.furniture import features_of

        return features_of(task[1])
    from archive.normalise import prepare
    from crawler.sites import extract

    _, body, url, listing, model, profile = task
    if model is not None:
        _FURNITURE = model
    record = extract(body, url, listing, _FURNITURE, profile)
    if record.is_item:  # the archive's writer would do it on the crawl's interpreter lock
        record.prepared = prepare(record.text)
    return record


def _worker_main(conn: Connection, parent_pid: int) -> None:
    """A worker's life: a task in, (True, result) or (False, error) out."""
    _init_worker(parent_pid)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return  # the crawl closed the pipe (or died): nothing more to do
        try:
            answer: tuple[bool, Any] = (True, run_task(task))
        except Exception as exc:  # noqa: BLE001 - sent back to the page's future
            answer = (False, exc)
        try:
            conn.send(answer)
        except (EOFError, OSError):
            return
        except Exception:  # noqa: BLE001 - an error that does not pickle: send its text
            conn.send((False, RuntimeError(f"{type(answer[1]).__name__}: {answer[1]}")))


class ExtractionPool:
    """Extraction worker processes, each fed over its own pipe by the event loop.

    Why not ``ProcessPoolExecutor``: its manager and feeder threads wake for every task
    and compete with the reactor and the archive thread for the crawl's one interpreter
    lock (a fifth of the crawling process's time in a profile of a 2,000-page crawl).
    Here the loop itself writes each page to an idle worker's pipe and reads the record
    back when the pipe is readable: no thread, two small pickles per page. A worker holds
    at most :attr:`depth` page, sent only while it waits in ``recv``: a second page sent
    while the worker writes back a large record fills both directions of the pipe, and
    loop and worker then block on each other forever (a 300 KB page of binary bytes did
    it, and SIGTERM could no longer stop the crawl). The rest queue here. A worker that
    dies breaks the pool: every page it held fails with ``BrokenProcessPool`` and the
    pipeline extracts in-process from then on.
    """

    depth = 1

    def __init__(self, workers: int) -> None:
        self._loop = asyncio.get_running_loop()
        context = multiprocessing.get_context("spawn")
        self._workers: list[_Worker] = []
        self._queue: deque[tuple[asyncio.Future[Any], tuple[Any, ...]]] = deque()
        self.broken = False
        for _ in range(workers):
            mine, theirs = context.Pipe(duplex=True)
            process = context.Process(
                target=_worker_main,
                args=(theirs, os.getpid()),
                name="osce-extract",
                daemon=True,
            )
            # Ignored from its first instruction (dispositions set to "ignore" survive the
            # exec of a spawned worker): a Ctrl-C while it still imports would otherwise
            # print its KeyboardInterrupt traceback over the terminal.
            previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
            try:
                process.start()
            finally:
                signal.signal(signal.SIGINT, previous)
            theirs.close()
            worker = _Worker(process, mine)
            self._workers.append(worker)
            self._loop.add_reader(mine.fileno(), self._answer, worker)

    def submit(self, task: tuple[Any, ...]) -> asyncio.Future[Any]:
        """Run ``task`` (see :func:`run_task`) in a worker. An extraction task's model is
        sent to a worker only when it differs from the one that worker holds."""
        future: asyncio.Future[Any] = self._loop.create_future()
        if self.broken:
            future.set_exception(BrokenProcessPool("extraction workers died"))
            return future
        self._queue.append((future, task))
        self._dispatch()
        return future

    def _dispatch(self) -> None:
        while self._queue:
            worker = min(self._workers, key=lambda w: len(w.pending))
            if len(worker.pending) >= self.depth:
                return
            future, task = self._queue.popleft()
            if task[0] == "extract" and task[4] is not None:
                version = task[4].version
                if worker.model_version == version:
                    task = (*task[:4], None, *task[5:])  # the worker holds this model already
                worker.model_version = version
            try:
                worker.conn.send(task)
            except (OSError, EOFError):
                self._queue.appendleft((future, task))
                self._break()
                return
            worker.pending.append(future)

    def _answer(self, worker: _Worker) -> None:
        try:
            ok, value = worker.conn.recv()
        except (EOFError, OSError):
            self._break()
            return
        future = worker.pending.popleft()
        if not future.done():
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        self._dispatch()

    def _break(self) -> None:
        """A worker died: fail every page in flight, refuse new ones."""
        self.broken = True
        error = BrokenProcessPool("extraction workers died")
        for worker in self._workers:
            for future in worker.pending:
                if not future.done():
                    future.set_exception(error)
            worker.pending.clear()
        while self._queue:
            future, _ = self._queue.popleft()
            if not future.done():
                future.set_exception(error)
        self.shutdown()

    def shutdown(self, now: bool = False) -> None:
        """Close the pipes (each worker ends at its next read) and reap the workers;
        ``now`` (a second signal) kills them at once. Workers ignore SIGTERM (it is the
        parent's to handle), so a worker that does not end is killed."""
        for worker in self._workers:
            with contextlib.suppress(Exception):
                self._loop.remove_reader(worker.conn.fileno())
            worker.conn.close()
        for worker in self._workers:
            if now:
                worker.process.kill()
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(timeout=5)
        self._workers = []


@dataclass
class _Worker:
    process: Any
    conn: Connection
    pending: deque[asyncio.Future[Any]] = field(default_factory=deque)
    model_version: str | None = None


# --------------------------------------------------------------------------- the pipeline


class ArchivePipeline:
    """Extract (in a process pool) and ingest (on the archive thread) every page."""

    def __init__(
        self, crawler: Crawler, workers: int, furniture_path: str | None, group_max: int = 64
    ) -> None:
        self.crawler = crawler
        self.workers = max(0, workers)
        self.furniture_path = furniture_path or None
        self.session = ArchiveSession.of(crawler)
        self._pool: ExtractionPool | None = None
        #: The run's furniture keeper of each site (osce.org, each third-party host).
        self._keepers: dict[str, FurnitureKeeper] = {}
        self._profiles: dict[str, SiteProfile] = {}
        self._warmup = crawler.settings.getint("OSCE_FURNITURE_WARMUP", WARMUP)
        self._pool_broken = False
        self.group_max = max(1, group_max)
        self._waiting: list[tuple[Capture, Record | None, asyncio.Future[IngestResult]]] = []
        self._writing = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        settings = crawler.settings
        return cls(
            crawler,
            settings.getint("OSCE_EXTRACT_WORKERS", os.cpu_count() or 1),
            settings.get("OSCE_EXTRACT_FURNITURE"),
            settings.getint("OSCE_ARCHIVE_GROUP_MAX", 64),
        )

    def _start_pool(self) -> ExtractionPool | None:
        """Start the workers on the first page to extract: a run that only meets 304s
        (the usual daily run) never pays for them."""
        if self._pool is None and self.workers and not self._pool_broken:
            self._pool = ExtractionPool(self.workers)
            from twisted.internet import reactor

            # A second Ctrl-C/SIGTERM stops the reactor with no close_spider: kill them.
            reactor.addSystemEventTrigger("before", "shutdown", self._kill_pool)
        return self._pool

    def _kill_pool(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(now=True)
            self._pool = None

    async def close_spider(self) -> None:
        """A run that ends normally brings its site's documents up to the final model
        (``crawler.learning``); then the workers go."""
        worker = bool(getattr(self.crawler.spider, "cluster_worker", False))
        try:
            if (
                self.crawler.crawling
                and not self.session.error
                and self.furniture_path is None
                and not worker  # a cluster's coordinator does it once for the run
            ):
                await self._bring_up_to_date()
        except Exception as exc:  # noqa: BLE001 - the run's archived pages stand; say why
            logger.warning("furniture corrections not finished: %s; the next run goes on", exc)
        try:
            # Once for the run: by the cluster's coordinator, which closes it last.
            if self.crawler.crawling and not self.session.error and not worker:
                await self._link_reports()
        except Exception as exc:  # noqa: BLE001 - the run's archived pages stand; say why
            logger.warning("reports-on links not refreshed: %s; the next run does it", exc)
        finally:
            if self._pool is not None:
                self._pool.shutdown()
                self._pool = None

    async def _link_reports(self) -> None:
        """Link the archive's third-party articles to the items they report on
        (``crawler.linking``): at the end of the run, when every page of it is archived,
        so an article crawled before its item is linked all the same."""
        counts = await self.session.call(linking.refresh, self.session.archive)
        if counts["articles"]:
            stats = self.crawler.stats
            stats.set_value(STATS_PREFIX + "reports_linked", counts["linked"])
            stats.set_value(STATS_PREFIX + "reports_added", counts["added"])

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, PageItem):
            return item
        if self.session.error:
            raise DropItem("the archive failed; page not ingested")
        capture = item.capture
        capture.run_id = self.session.run_id
        record: Record | None = None
        stats = self.crawler.stats
        profile = self._source_profile(item.source, capture.answered_url)
        if item.extract and capture.status == 200 and capture.body:
            keeper = await self._furniture(profile)
            if keeper.counting:  # the site's first run: learn from its first pages
                features = await self._run(("features", capture.body))
                if keeper.warming:  # no model settled yet: hold the page until one is
                    await keeper.hold(features)
                else:
                    keeper.count(features)
            url = capture.answered_url
            task = ("extract", capture.body, url, capture.listing, keeper.model, profile)
            record = await self._run(task)
            if record.is_item:
                keeper.extracted += 1
            if profile is not None:
                record = self._about_osce(record)
            elif record.is_item and not self._wanted(record.kind):
                # Another content type than asked for: keep the capture, not a document.
                stats.inc_value(STATS_PREFIX + "skipped")
                record = None
        try:
            result = await self._ingest(capture, record)
        except Exception as exc:
            self._archive_failed(exc)
            raise DropItem("the archive failed") from exc
        counter = OUTCOME_COUNTER.get(result.outcome, result.outcome)
        stats.inc_value(STATS_PREFIX + counter)
        if result.outcome == "not_modified":
            stats.inc_value(STATS_PREFIX + "not_modified")
        if result.document_id is not None or result.outcome in ("failed", "deleted"):
            stats.inc_value(STATS_PREFIX + "items")
        if result.outcome == "failed":
            logger.warning(
                "failed for good: %s (status %s: %s); retried next run",
                capture.url,
                capture.status,
                capture.error,
            )
            frontier = getattr(self.crawler.spider, "frontier", None)
            if frontier is not None:
                frontier.incomplete("a page failed for good")
        capture.body = None  # the archive has it; do not keep it alive with the item
        return item

    async def _ingest(self, capture: Capture, record: Record | None) -> IngestResult:
        """Ingest on the archive thread, grouped: the pages that finish while a group is
        being written go together in the next one (one transaction, one commit), so the
        archive keeps up with the extraction workers; a page is acknowledged (its
        ``process_item`` returns) only once its group has committed."""
        future: asyncio.Future[IngestResult] = asyncio.get_running_loop().create_future()
        self._waiting.append((capture, record, future))
        if not self._writing:
            self._writing = True
            asyncio.ensure_future(self._write_groups())
        return await future

    async def _write_groups(self) -> None:
        try:
            while self._waiting:
                group = self._waiting[: self.group_max]
                del self._waiting[: len(group)]
                pairs = [(capture, record) for capture, record, _ in group]
                try:
                    results = await self.session.call(self.session.archive.ingest_many, pairs)
                except Exception as exc:  # noqa: BLE001 - every page of the group failed
                    results = [exc] * len(group)
                for (_, _, future), result in zip(group, results, strict=True):
                    if future.done():
                        continue
                    if isinstance(result, Exception):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self._writing = False

    def _source_profile(self, source: str | None, url: str) -> SiteProfile | None:
        """The generic profile a third-party source's page at ``url`` is read with (None:
        the crawled site's own, chosen by the address)."""
        if source is None:
            return None
        thirdparty = getattr(self.crawler.spider, "thirdparty", None)
        return thirdparty.profile(source, url) if thirdparty is not None else None

    def _about_osce(self, record: Record) -> Record | None:
        """A third-party article is kept when it is about the OSCE
        (``crawler.extraction.relevance``); otherwise only its capture is (no document)."""
        if not record.is_item:
            return record
        found = about_osce(record.title, record.text)
        if found.kept:
            self.crawler.stats.inc_value(STATS_PREFIX + "sources_kept")
            logger.debug("kept %s: names %s", record.url, ", ".join(found.terms))
            return record
        self.crawler.stats.inc_value(STATS_PREFIX + "sources_unrelated")
        logger.debug("skipped %s: names nothing of the OSCE", record.url)
        return None

    def _wanted(self, kind: str) -> bool:
        frontier = getattr(self.crawler.spider, "frontier", None)
        kinds = frontier.kinds if frontier is not None else None
        return kinds is None or kind in kinds

    async def _run(self, task: tuple[Any, ...]) -> Any:
        """A worker task (:func:`run_task`), in the pool, else in this process."""
        pool = self._start_pool()
        if pool is not None:
            try:
                return await pool.submit(task)
            except BrokenProcessPool:
                if not self._pool_broken:
                    logger.warning("extraction workers died; extracting in the crawling process")
                self._pool_broken = True
                self._pool = None
        return run_task(task)

    # -- the furniture model (crawler.learning) ---------------------------------------------

    async def _furniture(self, profile: SiteProfile | None = None) -> FurnitureKeeper:
        """The run's furniture keeper of the site of ``profile`` (None: the crawled
        site), made on its first page to extract: from the model the archive keeps for the
        site (none: the first pages are held until one settles), or, for the crawled site,
        from ``OSCE_EXTRACT_FURNITURE`` (a fixed model: nothing is learned)."""
        profile = profile or SITE
        site = profile.id_prefix.rstrip("/") or profile.name
        keeper = self._keepers.get(site)
        if keeper is not None:
            return keeper
        default = profile.default_furniture()
        if self.furniture_path and profile is SITE:
            fixed = FurnitureModel.load(self.furniture_path)
            keeper = self._keepers[site] = FurnitureKeeper(site, default, fixed, warmup=0)
            self._profiles[site] = profile
            return keeper
        stored = await self.session.call(self.session.archive.furniture_model, site)
        if site not in self._keepers:  # another page may have made it while this one waited
            model = FurnitureModel.from_json(stored.model) if stored is not None else None
            self._keepers[site] = FurnitureKeeper(
                site,
                default,
                model,
                warmup=self._warmup,
                on_change=lambda m: self._keep_model(site, m),
            )
            self._profiles[site] = profile
            if model is not None:
                logger.info("furniture of %s: model %s from the archive", site, model.version)
        return self._keepers[site]

    def _keep_model(self, site: str, model: FurnitureModel) -> None:
        """Store a settled model (on the archive thread, before the records it reads)."""
        keeper = self._keepers[site]
        if self._profiles.get(site) is SITE:
            self.crawler.stats.set_value(STATS_PREFIX + "furniture_version", model.version)
        asyncio.ensure_future(
            self.session.call(
                self.session.archive.save_furniture_model,
                keeper.site,
                model.version,
                model.to_json(),
                model.pages,
                self.session.run_id,
            )
        )

    async def _bring_up_to_date(self) -> None:
        """Read again the documents of each site whose newest version another model than
        the run's final one produced (the early pages of a first run, or every document
        a model change touches)."""
        await self._furniture()  # the crawled site's, even when it extracted nothing
        corrected = 0
        for site, keeper in list(self._keepers.items()):
            corrected += await self._site_up_to_date(keeper, self._profiles[site])
        self.crawler.stats.set_value(STATS_PREFIX + "corrected", corrected)

    async def _site_up_to_date(self, keeper: FurnitureKeeper, profile: SiteProfile) -> int:
        archive = self.session.archive
        if keeper.warming:
            keeper.settle("end of the crawl")
        if profile is SITE:
            stats = self.crawler.stats
            stats.set_value(STATS_PREFIX + "furniture_version", keeper.model.version)
            stats.set_value(STATS_PREFIX + "furniture_default", keeper.model.fallback)
        stale = await self.session.call(archive.stale_documents, keeper.site, keeper.model.version)
        if stale:
            logger.info(
                "reading %d document(s) of %s again with furniture model %s",
                len(stale),
                keeper.site,
                keeper.model.version,
            )
        corrected = 0
        third_party = None if profile is SITE else profile
        for start in range(0, len(stale), 32):
            outcomes = await asyncio.gather(
                *(
                    self._correct(doc, keeper.model, third_party)
                    for doc in stale[start : start + 32]
                )
            )
            corrected += sum(1 for outcome in outcomes if outcome == "new_version")
        return corrected

    async def _correct(
        self, document_id: str, model: FurnitureModel, profile: SiteProfile | None = None
    ) -> str:
        archive = self.session.archive
        found = await self.session.call(archive.newest_capture, document_id)
        if found is None:
            return "none"
        capture_id, url, body, listing = found
        record = await self._run(("extract", body, url, listing, model, profile))
        if not record.is_item or record.id != document_id:
            return "none"
        run_id = self.session.run_id
        return str(await self.session.call(archive.record_correction, capture_id, record, run_id))

    def _archive_failed(self, exc: Exception) -> None:
        message = f"archive write failed: {one_line(exc)}"
        if self.session.error is None:
            self.session.error = message
            self.crawler.stats.set_value(STATS_PREFIX + "error", message)
            logger.error("%s", message)
            close_crawl(self.crawler, "archive_error")
