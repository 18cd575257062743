"""The newsroom spider: press releases and stories (other kinds on request) of osce.org.

``scrapy crawl newsroom -a site=URL -a full=1 -a kinds=all -a max_items=N`` or
``osce-archive crawl``. The spider reads like its run, in three phases driven by
``start()``:

1. the sitemap index (and the sitemap files the frontier asks for) and the RSS feed;
2. the listing pages of each wanted kind, newest first, as far as the frontier says;
   each entry the frontier picks becomes an item request carrying its listing entry;
3. what only the sitemap or the feed showed, then the archive's own revisits
   (failed last time, vanished, due by schedule; everything with ``full``).

Every item answer (200, 304, 404/410, 5xx after retries, a network failure) becomes
a ``PageItem`` for ``crawler.pipelines.ArchivePipeline``. Decisions are the
frontier's (``crawler.frontier``); this module only turns them into requests.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.exceptions import CloseSpider, IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from archive.errors import redact
from archive.records import Capture, ListingEntry
from crawler.extensions import STATS_PREFIX, ArchiveSession
from crawler.frontier import (
    DEFAULT_KINDS,
    RSS_PATH,
    SITEMAP_PATH,
    ChainState,
    Frontier,
    Site,
    SitemapFile,
    Visit,
    lookup_states,
    needs_catch_up,
    parse_rss,
    parse_sitemap,
    previous_run,
)
from crawler.middlewares import ANSWERS_META, VALIDATORS_META, answer_of
from crawler.pipelines import PageItem
from crawler.site_profile import parse_listing

logger = logging.getLogger(__name__)

#: Answers an item request hands to the callback rather than to Scrapy's error handling
#: (redirects are not among them: RedirectMiddleware follows those).
ITEM_STATUSES = [304, 400, 401, 403, 404, 408, 410, 429, 451, 500, 502, 503, 504, 522, 524]
#: Requests looked up in the archive per round trip to its thread.
LOOKUP_BATCH = 500
PRIORITY_DISCOVERY = 100
PRIORITY_LISTING = 50
PRIORITY_ITEM = 0
#: Listing pages of one chain that may fail for good before a full read gives up on it.
MAX_LISTING_FAILURES = 3


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def parse_kinds(value: Any) -> frozenset[str] | None:
    """``press-release,story`` -> a set; ``all`` -> None (every kind)."""
    if value is None or value == "":
        return frozenset(DEFAULT_KINDS)
    if isinstance(value, str):
        names = [k.strip().lower() for k in value.split(",") if k.strip()]
    else:
        names = [str(k).strip().lower() for k in value]
    if not names or "all" in names:
        return None
    return frozenset(names)


class NewsroomSpider(Spider):
    """Discovers, fetches conditionally and hands every answer to the archive pipeline."""

    name = "newsroom"
    # Set in from_crawler, once the settings are known.
    frontier: Frontier
    site_urls: Site
    session: ArchiveSession
    queue_target: int
    allowed_domains: list[str]

    def __init__(
        self,
        site: str | None = None,
        full: Any = False,
        kinds: Any = None,
        max_items: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.site_arg = site
        self.full = _flag(full)
        self.kinds = parse_kinds(kinds)
        self.max_items = int(max_items) if max_items not in (None, "") else None
        self.site = site or ""
        self._pending = 0  # discovery requests (sitemap, feed, listing chains) in flight
        self._first_error: str | None = None
        self._recorded = False
        self._sitemap_files_left = 0
        self._sitemap_files_ok = 0

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> NewsroomSpider:
        spider: NewsroomSpider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.site = (spider.site_arg or settings.get("OSCE_SITE") or "").rstrip("/")
        try:
            spider.site_urls = Site(spider.site)
        except ValueError as exc:
            raise ValueError(str(exc)) from None
        host = spider.site_urls.netloc.split(":")[0].lower()
        spider.allowed_domains = [host[4:] if host.startswith("www.") else host]
        spider.frontier = Frontier(
            spider.site_urls,
            spider.kinds,
            full=spider.full,
            max_items=spider.max_items,
            margin=settings.getint("OSCE_FRONTIER_LISTING_MARGIN", 1),
            rows=settings.getint("OSCE_FRONTIER_LISTING_ROWS", 50),
        )
        spider.queue_target = settings.getint("OSCE_FRONTIER_QUEUE_TARGET", 200)
        crawler.signals.connect(spider.spider_idle, signal=signals.spider_idle)
        return spider

    # -- the run, phase by phase -----------------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        self.session = ArchiveSession.of(self.crawler)
        if self.session.run_id is None or self.session.error:
            return
        archive = self.session.archive
        frontier = self.frontier

        # 1. the sitemap index and the feed
        yield self._discovery(
            self.site_urls.url(SITEMAP_PATH), self.parse_sitemap_index, "sitemap index"
        )
        if frontier.kinds is None or "press-release" in frontier.kinds:
            yield self._discovery(self.site_urls.url(RSS_PATH), self.parse_rss, "feed")
        await self._settle()
        if not self.crawler.stats.get_value("downloader/response_count", 0):
            reason = self._first_error or "no answer"
            self.session.error = f"cannot reach {self.site}: {reason}"
            self.crawler.stats.set_value(STATS_PREFIX + "error", redact(self.session.error))
            raise CloseSpider("site_unreachable")

        # 2. the listing chains, newest first (all pages after a run that left some unread)
        previous = await self.session.call(previous_run, archive, self.session.run_id)
        frontier.catch_up = not frontier.full and needs_catch_up(previous)
        if frontier.catch_up:
            logger.info("the last run left listing pages unread: reading every listing page")
        for chain in frontier.chains():
            yield self._listing_request(chain)
        await self._settle()

        # 2b. the listing pages of items dated only by their listing whose <lastmod>
        #     moved beyond the pages read: a date correction shows only there
        if frontier.sitemap and not frontier.full and not frontier.catch_up:
            targets = await self.session.call(
                lambda: frontier.listing_targets(archive.iter_address_states())
            )
            if targets:
                logger.info("re-reading %d listing page(s) of listing-dated items", len(targets))
            for chain in targets:
                yield self._listing_request(chain, follow=False)
            await self._settle()

        # 3. what only the sitemap or the feed showed, then the archive's revisits
        if not frontier.budget_left:
            return
        leftovers = list(frontier.leftovers())
        unknown: dict[str, ListingEntry] = {}
        for start in range(0, len(leftovers), LOOKUP_BATCH):
            batch = leftovers[start : start + LOOKUP_BATCH]
            states = await self.session.call(lookup_states, archive, [e.url for e in batch])
            visits, fresh = frontier.from_leftovers(batch, states)
            unknown.update(fresh)
            for visit in visits:
                await self._room()
                yield self._item_request(visit)
        del leftovers
        new, revisits = await self.session.call(frontier.scan_archive, archive, unknown)
        logger.info(
            "discovery done: %d unknown addresses from the sitemap/feed, %d revisits due",
            len(new),
            len(revisits),
        )
        for visit in frontier.take([*new, *revisits]):
            await self._room()
            yield self._item_request(visit)

    def _stopping(self) -> bool:
        """The crawl is shutting down (SIGTERM, Ctrl-C, CloseSpider): no wait may outlive it,
        since the scheduler will not drain and dropped requests never call back."""
        engine = self.crawler.engine
        if not self.crawler.crawling or engine is None or not engine.running:
            return True
        slot = getattr(engine, "_slot", None)  # closing: CloseSpider, e.g. an archive error
        return slot is not None and getattr(slot, "closing", None) is not None

    async def _settle(self) -> None:
        """Wait until every discovery request of the current phase has been handled."""
        while self._pending > 0 and not self._stopping():
            await asyncio.sleep(0.02)

    async def _room(self) -> None:
        """Hold back new item requests while enough wait in the scheduler (flat memory)."""
        engine = self.crawler.engine
        while engine is not None and engine.scheduler is not None and not self._stopping():
            if len(engine.scheduler) < self.queue_target:  # type: ignore[arg-type]
                return
            await asyncio.sleep(0.05)

    # -- discovery ---------------------------------------------------------------------------

    def _discovery(self, url: str, callback: Any, what: str, **meta: Any) -> Request:
        self._pending += 1
        return Request(
            url,
            callback=callback,
            errback=self.discovery_failed,
            priority=PRIORITY_DISCOVERY,
            meta={"osce_what": what, **meta},
        )

    def discovery_failed(self, failure: Failure) -> Iterator[Request]:
        self._pending -= 1
        request = failure.request  # type: ignore[attr-defined]
        what = request.meta.get("osce_what", "discovery page")
        reason = _failure_reason(failure)
        self._first_error = self._first_error or reason
        chain: ChainState | None = request.meta.get("osce_chain")
        self.frontier.incomplete(f"{what} failed", listings=chain is not None)
        logger.warning("%s %s failed: %s", what, request.url, reason)
        frontier = self.frontier
        if chain is not None and (frontier.full or frontier.catch_up):
            # Reading everything: skip the page that failed rather than end the chain
            # (its items still come from the sitemap; the next run catches up).
            chain.failures += 1
            if chain.failures <= MAX_LISTING_FAILURES and frontier.budget_left:
                chain.page += 1
                yield self._listing_request(chain)

    async def parse_sitemap_index(self, response: Response) -> AsyncIterator[Request]:
        try:
            kind, entries = parse_sitemap(response.body)
            if kind == "urlset":
                # A single sitemap, no index: it is its own (only) file.
                self.frontier.add_sitemap(entries)
                self.frontier.sitemap_complete = True
                return
            files = [(loc, lastmod) for loc, lastmod in entries]
            urls = [self.site_urls.rebase(loc) or loc for loc, _ in files]
            states = await self.session.call(lookup_states, self.session.archive, urls)
            to_read = self.frontier.files_to_read(files, states)
            self._sitemap_files_left = len(to_read)
            self._sitemap_files_ok = 0
            for url, lastmod, _ in to_read:
                yield self._discovery(
                    url, self.parse_sitemap_file, "sitemap file", osce_lastmod=lastmod
                )
        finally:
            self._pending -= 1

    def parse_sitemap_file(self, response: Response) -> None:
        try:
            _, entries = parse_sitemap(response.body)
            self.frontier.add_sitemap(entries)
            self.frontier.sitemap_files.append(
                SitemapFile(
                    url=response.request.url if response.request else response.url,
                    lastmod=response.meta.get("osce_lastmod"),
                    status=response.status,
                    body=response.body,
                    etag=_header(response, b"ETag"),
                    last_modified=_header(response, b"Last-Modified"),
                    content_type=_header(response, b"Content-Type"),
                )
            )
            self._sitemap_files_ok += 1
            if self._sitemap_files_ok == self._sitemap_files_left:
                self.frontier.sitemap_complete = True
        finally:
            self._pending -= 1

    def parse_rss(self, response: Response) -> None:
        try:
            self.frontier.add_rss(parse_rss(response.body, response.url))
        finally:
            self._pending -= 1

    def _listing_request(self, chain: ChainState, follow: bool = True) -> Request:
        request = self._discovery(
            self.frontier.listing_url(chain), self.parse_listing, "listing page"
        )
        request.priority = PRIORITY_LISTING
        request.meta["osce_chain"] = chain
        request.meta["osce_follow"] = follow
        return request

    async def parse_listing(self, response: Response) -> AsyncIterator[Request]:
        try:
            chain: ChainState = response.meta["osce_chain"]
            entries = parse_listing(response.body, response.url)
            kept = self.frontier.listing_entries(chain, entries)
            states = await self.session.call(
                lookup_states, self.session.archive, [e.url for e in kept]
            )
            visits, brought_new = self.frontier.from_listing(kept, states)
            for visit in visits:
                yield self._item_request(visit)
            follow = response.meta.get("osce_follow", True)
            if follow and self.frontier.next_page(chain, len(entries), brought_new):
                await self._room()
                yield self._listing_request(chain)
        finally:
            self._pending -= 1

    # -- items -------------------------------------------------------------------------------

    def _item_request(self, visit: Visit) -> Request:
        meta: dict[str, Any] = {
            "osce_reason": visit.reason,
            "osce_listing": visit.listing,
            "handle_httpstatus_list": ITEM_STATUSES,
        }
        if visit.validators:
            meta[VALIDATORS_META] = visit.validators
        return Request(
            visit.url,
            callback=self.parse_item,
            errback=self.item_failed,
            priority=PRIORITY_ITEM,
            meta=meta,
        )

    def parse_item(self, response: Response) -> Iterator[PageItem]:
        request = response.request
        assert request is not None
        hops = list(request.meta.get("redirect_urls", []))
        status = response.status
        error = None
        if status not in (200, 304, 404, 410):
            error = f"HTTP {status}" + (" after retries" if status >= 500 or status == 429 else "")
        capture = Capture(
            url=hops[0] if hops else request.url,
            status=status,
            final_url=response.url if hops else None,
            redirects=hops[1:],
            etag=_header(response, b"ETag"),
            last_modified=_header(response, b"Last-Modified"),
            content_type=_header(response, b"Content-Type"),
            body=response.body if status == 200 else None,
            listing=request.meta.get("osce_listing"),
            error=error,
            answers=[*request.meta.get(ANSWERS_META, []), answer_of(response)],
        )
        yield PageItem(capture, reason=request.meta.get("osce_reason", ""))

    def item_failed(self, failure: Failure) -> Iterator[PageItem]:
        request: Request = failure.request  # type: ignore[attr-defined]
        if failure.check(HttpError):
            yield from self.parse_item(failure.value.response)
            return
        reason = _failure_reason(failure)
        if failure.check(IgnoreRequest) and "robots.txt" in reason.lower():
            self.crawler.stats.inc_value(STATS_PREFIX + "robots_refused")
            logger.info("robots.txt forbids %s; not fetched", request.url)
            return
        hops = list(request.meta.get("redirect_urls", []))
        capture = Capture(
            url=hops[0] if hops else request.url,
            status=0,
            final_url=request.url if hops else None,
            redirects=hops[1:],
            listing=request.meta.get("osce_listing"),
            error=reason,
        )
        yield PageItem(capture, reason=request.meta.get("osce_reason", ""), extract=False)

    # -- the end -----------------------------------------------------------------------------

    def spider_idle(self) -> None:
        """All work done: vouch for the sitemap files read, if the run saw everything."""
        if self._recorded:
            return
        self._recorded = True
        session = getattr(self, "session", None)
        frontier = self.frontier
        self.crawler.stats.set_value(STATS_PREFIX + "listings_complete", frontier.listings_complete)
        if session is None or session.error or not frontier.complete:
            if frontier.incomplete_reasons:
                logger.info(
                    "sitemap not vouched for this run: %s", "; ".join(frontier.incomplete_reasons)
                )
            return
        for f in frontier.sitemap_files:
            capture = Capture(
                url=f.url,
                status=f.status,
                etag=f.etag,
                last_modified=f.last_modified,
                content_type=f.content_type,
                body=f.body,
                listing=ListingEntry(url=f.url, lastmod=f.lastmod, source="sitemap"),
                run_id=session.run_id,
            )
            try:
                session.call_sync(session.archive.ingest, capture, None)
            except Exception as exc:  # noqa: BLE001 - the run still ends; the next re-reads
                logger.warning("could not record sitemap file %s: %s", f.url, redact(str(exc)))
                return
        frontier.sitemap_files.clear()


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _failure_reason(failure: Failure) -> str:
    exc = failure.value
    text = str(exc).strip()
    if "max redirections" in text:
        return "redirect loop or too many redirects"
    if "maxsize" in text.lower() or "max size" in text.lower():
        return f"page larger than the size limit ({text})"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
