"""The item pipeline: extract each fetched page in a process pool, ingest it in the archive.

The reactor fetches; extraction (lxml + trafilatura, CPU-bound) runs in worker
processes, so fetching and extraction overlap across cores; the archive write runs on
the archive session's one thread (``crawler.extensions.ArchiveSession``), one
transaction per page, so a crawl killed at any moment loses nothing it archived.
Scrapy's scraper slot bounds how many pages are in flight, which keeps memory flat.

Settings: ``OSCE_EXTRACT_WORKERS`` (worker processes; 0 extracts in the crawling
process), ``OSCE_EXTRACT_FURNITURE`` (path of a learned furniture model JSON; empty:
the bundled model).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DropItem

from archive.errors import one_line
from archive.records import Capture, ListingEntry, Record
from crawler.extensions import OUTCOME_COUNTER, STATS_PREFIX, ArchiveSession, close_crawl

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


@dataclass
class PageItem:
    """One fetch on its way to the archive: the capture, and why it was fetched."""

    capture: Capture
    reason: str = ""
    extract: bool = True

    def __repr__(self) -> str:
        # Scrapy logs a dropped item's repr: the address, never a whole page body.
        c = self.capture
        return f"<page {c.url} status {c.status} {len(c.body or b'')} bytes ({self.reason})>"


# --------------------------------------------------------------------------- worker side

_FURNITURE: Any = None


def _init_worker(parent_pid: int, furniture_path: str | None) -> None:
    """Load the furniture model once; die with the parent, even if it is SIGKILLed."""
    global _FURNITURE
    # Signals are the parent's business: Ctrl-C or SIGTERM to the process group must not
    # break the pool while the parent finishes the pages in flight.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    from crawler.furniture import FurnitureModel

    _FURNITURE = FurnitureModel.load(furniture_path) if furniture_path else None

    def watch() -> None:
        while True:
            if os.getppid() != parent_pid:
                os._exit(0)
            time.sleep(1.0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _extract(body: bytes, url: str, listing: ListingEntry | None) -> Record:
    from crawler.extract import extract

    return extract(body, url, listing, _FURNITURE)


# --------------------------------------------------------------------------- the pipeline


class ArchivePipeline:
    """Extract (in a process pool) and ingest (on the archive thread) every page."""

    def __init__(self, crawler: Crawler, workers: int, furniture_path: str | None) -> None:
        self.crawler = crawler
        self.workers = max(0, workers)
        self.furniture_path = furniture_path or None
        self.session = ArchiveSession.of(crawler)
        self._pool: ProcessPoolExecutor | None = None
        self._local_furniture: Any = None
        self._pool_broken = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        settings = crawler.settings
        return cls(
            crawler,
            settings.getint("OSCE_EXTRACT_WORKERS", os.cpu_count() or 1),
            settings.get("OSCE_EXTRACT_FURNITURE"),
        )

    def _start_pool(self) -> ProcessPoolExecutor | None:
        """Start the workers on the first page to extract: a run that only meets 304s
        (the usual daily run) never pays for them."""
        if self._pool is None and self.workers and not self._pool_broken:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(os.getpid(), self.furniture_path),
            )
        return self._pool

    def close_spider(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, PageItem):
            return item
        if self.session.error:
            raise DropItem("the archive failed; page not ingested")
        capture = item.capture
        capture.run_id = self.session.run_id
        record: Record | None = None
        stats = self.crawler.stats
        if item.extract and capture.status == 200 and capture.body:
            record = await self._extract(capture.body, capture.answered_url, capture.listing)
            if record.is_item and not self._wanted(record.kind):
                # Another content type than asked for: keep the capture, not a document.
                stats.inc_value(STATS_PREFIX + "skipped")
                record = None
        try:
            result = await self.session.call(self.session.archive.ingest, capture, record)
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

    def _wanted(self, kind: str) -> bool:
        frontier = getattr(self.crawler.spider, "frontier", None)
        kinds = frontier.kinds if frontier is not None else None
        return kinds is None or kind in kinds

    async def _extract(self, body: bytes, url: str, listing: ListingEntry | None) -> Record:
        pool = self._start_pool()
        if pool is not None:
            try:
                return await asyncio.wrap_future(pool.submit(_extract, body, url, listing))
            except BrokenProcessPool:
                if not self._pool_broken:
                    logger.warning("extraction workers died; extracting in the crawling process")
                self._pool_broken = True
                self._pool = None
        from crawler.extract import extract
        from crawler.furniture import FurnitureModel

        if self._local_furniture is None and self.furniture_path:
            self._local_furniture = FurnitureModel.load(self.furniture_path)
        return extract(body, url, listing, self._local_furniture)

    def _archive_failed(self, exc: Exception) -> None:
        message = f"archive write failed: {one_line(exc)}"
        if self.session.error is None:
            self.session.error = message
            self.crawler.stats.set_value(STATS_PREFIX + "error", message)
            logger.error("%s", message)
            close_crawl(self.crawler, "archive_error")
