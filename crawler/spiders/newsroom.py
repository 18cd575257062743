"""The newsroom spider: press releases and stories (other kinds on request) of osce.org.

``scrapy crawl newsroom -a site=URL -a full=1 -a kinds=all -a max_items=N`` or
``osce-archive crawl``. The run goes in phases; each begins when Scrapy reports the
spider idle (``spider_idle``: everything the previous phase asked for is fetched and
handled), and the handler keeps the spider open (``DontCloseSpider``) while it starts
the next:

1. ``start()``: the sitemap index (then the sitemap files the frontier asks for) and the
   RSS feed;
2. the listing pages of each wanted kind, newest first, page after page as each page's
   own pager links them (``crawler.extraction.listing``), as far as the frontier says; each
   entry the frontier picks becomes an item request carrying its listing entry;
2b. listing pages of listing-dated items whose ``<lastmod>`` moved, read by number, and
    from each page that did not show one, the page its dates point to
    (``Frontier.steer``);
3. what only the sitemap or the feed showed, then the archive's own revisits (failed
   last time, vanished, due by schedule; everything with ``full``);

in every phase, an item page that answers 200 and links versions of itself in other
languages (``<link rel="alternate" hreflang>``, the language switcher) adds a visit of
each version not visited yet in this run, conditional when the archive knows it;
4. with third-party sources (``-a sources=FILE``, ``crawl --sources``), their articles:
   new, moved, failed or due (``crawler.thirdparty``, whose feed and sitemap requests go
   out in phase 1).

Requests beyond ``OSCE_FRONTIER_QUEUE_TARGET`` waiting in the scheduler are held back in
a backlog and released as requests leave the downloader (``request_left_downloader``),
so memory stays flat whatever the site's size. Every item answer (200, 304, 404/410,
5xx after retries, a network failure) becomes a ``PageItem`` for
``crawler.pipelines.ArchivePipeline``. Decisions are the frontier's
(``crawler.frontier``); this module only turns them into requests, and reads the
sitemap (Scrapy's own sitemap utilities) and the feed (feedparser) for it.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import urljoin

import feedparser
from scrapy import Request, Spider, signals
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.defer import deferred_from_coro
from twisted.python.failure import Failure

from archive.errors import one_line, redact
from archive.known import Known
from archive.records import Capture, ListingEntry
from crawler.cluster import Cluster
from crawler.extensions import STATS_PREFIX, ArchiveSession, close_crawl
from crawler.extraction import dates
from crawler.frontier import (
    DEFAULT_KINDS,
    RSS_PATH,
    SITEMAP_PATH,
    ChainState,
    Frontier,
    Site,
    SitemapFile,
    Visit,
    needs_catch_up,
)
from crawler.middlewares import ANSWERS_META, VALIDATORS_META, answer_of
from crawler.pipelines import PageItem
from crawler.sites import DEFAULT as SITE
from crawler.sources import Source, SourcesError
from crawler.sources import load as load_sources
from crawler.thirdparty import PROBLEMS, SOURCE_META, ThirdParty, read_sitemap

logger = logging.getLogger(__name__)

#: Answers an item request hands to the callback rather than to Scrapy's error handling
#: (redirects are not among them: RedirectMiddleware follows those).
ITEM_STATUSES = [304, 400, 401, 403, 404, 408, 410, 429, 451, 500, 502, 503, 504, 522, 524]
#: Answers of a listing page that end its listing (past the last page), not failures.
LISTING_END_STATUSES = [404, 410]
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


def parse_sitemap(body: bytes, max_size: int = 0) -> tuple[str, list[tuple[str, str | None]]]:
    """``("index" | "urlset", [(loc, lastmod), ...])`` of a sitemap document, gzipped or
    not (``crawler.thirdparty.read_sitemap``); a gzip body that inflates past
    ``max_size`` bytes, or a body that is no sitemap, reads as empty."""
    kind, entries, _ = read_sitemap(body, max_size)
    return kind, entries


def parse_feed(body: bytes, base: str) -> list[ListingEntry]:
    """Entries of an RSS or Atom feed (feedparser), each with its title and date."""
    entries: list[ListingEntry] = []
    for entry in feedparser.parse(body).entries:
        link = (entry.get("link") or "").strip()
        if not link:
            continue
        title = " ".join((entry.get("title") or "").split()) or None
        raw = entry.get("published") or entry.get("updated") or entry.get("date")
        parsed = dates.parse_date(raw) if raw else None
        entries.append(
            ListingEntry(
                url=urljoin(base, link),
                title=title,
                published=parsed.isoformat() if parsed else None,
                source="rss",
            )
        )
    return entries


class NewsroomSpider(Spider):
    """Discovers, fetches conditionally and hands every answer to the archive pipeline."""

    name = "newsroom"
    # Set in from_crawler, once the settings are known.
    frontier: Frontier
    site_urls: Site
    session: ArchiveSession
    known: Known
    queue_target: int
    allowed_domains: list[str]

    def __init__(
        self,
        site: str | None = None,
        full: Any = False,
        kinds: Any = None,
        max_items: Any = None,
        sources: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        #: Third-party sources (``crawler.sources``): Source values, or a sources file's path
        #: (``-a sources=FILE``); read in ``from_crawler``.
        self.sources_arg = sources
        self.thirdparty: ThirdParty | None = None
        self._source_problems: list[str] = []  # a sources file's bad entries
        self._site_answered = False  # the site's sitemap index or feed got an answer
        self.item_statuses = ITEM_STATUSES
        self.site_arg = site
        self.full = _flag(full)
        self.kinds = parse_kinds(kinds)
        self.max_items = int(max_items) if max_items not in (None, "") else None
        self.site = site or ""
        self._first_error: str | None = None
        self._recorded = False
        self._sitemap_files_wanted = 0
        #: The phases still to start, each when the spider is next idle.
        self._phases: Iterator[Callable[[], Awaitable[None]]] = iter(())
        self._advancing = False  # a phase is being prepared (archive lookups)
        #: Requests held back while the scheduler holds enough (flat memory).
        self._backlog: deque[Iterator[Request]] = deque()
        #: Archive look-ups of language versions under way (the spider stays open).
        self._language_lookups = 0
        #: ``crawl --cluster``: a worker fetches the shared item requests; discovery is
        #: the coordinator's (``crawler.cluster``).
        self.cluster_worker = False

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> NewsroomSpider:
        spider: NewsroomSpider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.site = (spider.site_arg or settings.get("OSCE_SITE") or SITE.home).rstrip("/")
        try:
            spider.site_urls = Site(spider.site)
        except ValueError as exc:
            raise ValueError(str(exc)) from None
        host = spider.site_urls.netloc.split(":")[0].lower()
        spider.allowed_domains = [SITE.bare_host(host)]
        spider.frontier = Frontier(
            spider.site_urls,
            spider.kinds,
            full=spider.full,
            max_items=spider.max_items,
            margin=settings.getint("OSCE_FRONTIER_LISTING_MARGIN", 1),
            rows=settings.getint("OSCE_FRONTIER_LISTING_ROWS", 50),
        )
        spider.queue_target = settings.getint("OSCE_FRONTIER_QUEUE_TARGET", 200)
        sources = spider._sources(spider.sources_arg)
        if sources:
            spider.thirdparty = ThirdParty(spider, sources)
            spider.allowed_domains += spider.thirdparty.domains()
        crawler.signals.connect(spider.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(spider.release, signal=signals.request_left_downloader)
        return spider

    def _sources(self, given: Any) -> list[Source]:
        """The third-party sources: as given, or read from a file (each bad entry is one
        problem of the run; the good ones are crawled)."""
        if not given:
            return []
        if not isinstance(given, (str, bytes)) and all(isinstance(s, Source) for s in given):
            return list(given)
        try:
            loaded = load_sources(str(given))
        except SourcesError as exc:
            self._source_problems = [str(exc)]
            logger.error("%s", exc)
            return []
        self._source_problems = list(loaded.problems)
        for line in loaded.problems:
            logger.warning("%s", line)
        return loaded.sources

    def extra_netlocs(self) -> set[str]:
        """``host[:port]`` spellings besides the site's that requests may go to (the
        third-party sources')."""
        return self.thirdparty.netlocs() if self.thirdparty is not None else set()

    # -- the run, phase by phase -----------------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        """Phase 1: the sitemap index and the feed. The other phases follow on idle."""
        self.session = ArchiveSession.of(self.crawler)
        if self.session.run_id is None or self.session.error:
            return
        self.known = Known(self.session.archive)
        cluster = Cluster.of(self.crawler)
        if cluster is not None and not cluster.coordinating:
            self.cluster_worker = True
            return
        if self._source_problems:
            self.crawler.stats.set_value(PROBLEMS, list(self._source_problems))
        phases = [self._listings, self._listing_targets, self._leftovers]
        if self.thirdparty is not None:
            phases.append(self._source_visits)
            # Each source's own pace: its slot, made before its first request.
            self.crawler.engine.downloader.per_slot_settings.update(self.thirdparty.slots())
        self._phases = iter(phases)
        yield self._discovery(
            self.site_urls.url(SITEMAP_PATH), self.parse_sitemap_index, "sitemap index"
        )
        if self.frontier.kinds is None or "press-release" in self.frontier.kinds:
            yield self._discovery(self.site_urls.url(RSS_PATH), self.parse_rss, "feed")
        if self.thirdparty is not None:
            for request in self.thirdparty.start_requests():
                yield request

    async def _listings(self) -> None:
        """Phase 2: the listing chains, newest first (every page after a run that left
        some unread)."""
        answered = self.crawler.stats.get_value("downloader/response_count", 0)
        if self.thirdparty is not None:  # the sources' answers say nothing of the site
            answered = self._site_answered
        if not answered:
            reason = self._first_error or "no answer"
            self.session.error = f"cannot reach {self.site}: {reason}"
            self.crawler.stats.set_value(STATS_PREFIX + "error", redact(self.session.error))
            self._phases = iter(())
            await self.crawler.engine.close_spider_async(reason="site_unreachable")
            return
        frontier = self.frontier
        if self._sitemap_files_wanted:
            frontier.sitemap_complete = len(frontier.sitemap_files) == self._sitemap_files_wanted
        previous = await self.session.call(self.known.previous_run, self.session.run_id)
        frontier.catch_up = not frontier.full and needs_catch_up(previous)
        if frontier.catch_up:
            logger.info("the last run left listing pages unread: reading every listing page")
        self._schedule(self._listing_request(chain) for chain in frontier.chains())

    async def _listing_targets(self) -> None:
        """Phase 2b: the listing pages of items dated only by their listing whose
        ``<lastmod>`` moved beyond the pages read: a date correction shows only there."""
        frontier = self.frontier
        self.crawler.stats.set_value(STATS_PREFIX + "listings_complete", frontier.listings_complete)
        if not frontier.sitemap or frontier.full or frontier.catch_up:
            return
        targets = await self.session.call(
            lambda: frontier.listing_targets(self.known.iter_states())
        )
        if targets:
            logger.info("re-reading %d listing page(s) of listing-dated items", len(targets))
        self._schedule(self._listing_request(chain, follow=False) for chain in targets)

    async def _leftovers(self) -> None:
        """Phase 3: what only the sitemap or the feed showed, then the archive's revisits."""
        frontier = self.frontier
        unfound = frontier.unfound()
        if unfound:
            self.crawler.stats.set_value(STATS_PREFIX + "listing_dated_unfound", len(unfound))
            logger.warning(
                "%d listing-dated item(s) whose <lastmod> moved were on no listing page read"
                " (a date correction of theirs waits for a later run): %s",
                len(unfound),
                ", ".join(unfound[:10]),
            )
        if not frontier.budget_left:
            self._discovery_done(sources_left=self.thirdparty is not None)
            return
        leftovers = list(frontier.leftovers())
        unknown: dict[str, ListingEntry] = {}
        for start in range(0, len(leftovers), LOOKUP_BATCH):
            batch = leftovers[start : start + LOOKUP_BATCH]
            states = await self.session.call(self.known.states, [e.url for e in batch])
            visits, fresh = frontier.from_leftovers(batch, states)
            unknown.update(fresh)
            self._schedule(self._item_request(visit) for visit in visits)
        del leftovers
        new, revisits = await self.session.call(
            lambda: frontier.scan_archive(self.known.iter_states(), unknown)
        )
        logger.info(
            "discovery done: %d unknown addresses from the sitemap/feed, %d revisits due",
            len(new),
            len(revisits),
        )
        self._schedule(self._item_request(visit) for visit in frontier.take([*new, *revisits]))
        self._discovery_done(sources_left=self.thirdparty is not None)

    def _discovery_done(self, sources_left: bool = False) -> None:
        """The progress display's total (item requests made) is final from here (after
        the third-party sources' requests, when there are sources still to ask)."""
        if not sources_left:
            self.crawler.stats.set_value(STATS_PREFIX + "discovery_done", True)

    async def _source_visits(self) -> None:
        """Phase 4: the third-party sources' articles (``crawler.thirdparty``)."""
        assert self.thirdparty is not None
        requests = await self.thirdparty.visits(self.session, self.known, self.full)
        logger.info("third-party sources: %d article requests", len(requests))
        self._schedule(requests)
        self._discovery_done()

    def spider_idle(self) -> None:
        """Everything asked for is handled: release held requests, else start the next
        phase, else (no phase left) vouch for the sitemap and let the spider close.
        A cluster worker has no phases: it closes when the shared run is over."""
        if self.cluster_worker:
            return
        if not self._open():
            self._finish()  # stopping: vouches for nothing, records the listings' state
            return
        if self.release() or self._advancing or self._language_lookups:
            raise DontCloseSpider
        if self._next_phase():
            raise DontCloseSpider
        self._finish()

    def _next_phase(self) -> bool:
        phase = next(self._phases, None)
        if phase is None:
            return False
        self._advancing = True
        deferred_from_coro(self._run_phase(phase))
        return True

    async def _run_phase(self, phase: Callable[[], Awaitable[None]]) -> None:
        engine = self.crawler.engine
        try:
            await phase()
        except Exception as exc:  # noqa: BLE001 - an archive read failed: the run stops
            self._archive_failed(exc)
            return
        finally:
            self._advancing = False
        if not self._open() or not engine.spider_is_idle() or self._language_lookups:
            return  # its requests are on their way; the next idle signal goes on
        # The phase asked for nothing: go on now (the engine's next idle check may be
        # seconds away), or, with no phase left, end the run as an idle spider would.
        if not self._next_phase():
            self._finish()
            await engine.close_spider_async(reason="finished")

    def _archive_failed(self, exc: Exception) -> None:
        message = f"archive read failed: {one_line(exc)}"
        if self.session.error is None:
            self.session.error = message
            self.crawler.stats.set_value(STATS_PREFIX + "error", redact(message))
            logger.error("%s", redact(message))
            close_crawl(self.crawler, "archive_error")

    def _open(self) -> bool:
        """The crawl still runs (no SIGTERM, no CloseSpider, the archive is healthy)."""
        engine = self.crawler.engine
        session = getattr(self, "session", None)
        return (
            self.crawler.crawling
            and engine is not None
            and engine.spider is not None
            and session is not None
            and not session.error
        )

    # -- flow control --------------------------------------------------------------------

    def _schedule(self, requests: Iterable[Request]) -> None:
        """Hand ``requests`` to the scheduler, holding back what exceeds its target."""
        self._backlog.append(iter(requests))
        self.release()

    def _room(self) -> bool:
        scheduler = self.crawler.engine.scheduler
        return scheduler is None or len(scheduler) < self.queue_target  # type: ignore[arg-type]

    def release(self) -> bool:
        """Move held requests into the scheduler while it has room; True if any moved."""
        moved = False
        while self._backlog and self._open() and self._room():
            request = next(self._backlog[0], None)
            if request is None:
                self._backlog.popleft()
                continue
            self.crawler.engine.crawl(request)
            moved = True
        return moved

    # -- discovery ---------------------------------------------------------------------------

    def _discovery(self, url: str, callback: Any, what: str, **meta: Any) -> Request:
        return Request(
            url,
            callback=callback,
            errback=self.discovery_failed,
            priority=PRIORITY_DISCOVERY,
            meta={"osce_what": what, **meta},
        )

    def discovery_failed(self, failure: Failure) -> Iterator[Request]:
        request = failure.request  # type: ignore[attr-defined]
        what = request.meta.get("osce_what", "discovery page")
        reason = _failure_reason(failure)
        self._first_error = self._first_error or reason
        self._site_answered = self._site_answered or bool(failure.check(HttpError))
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
                chain.url = None
                yield self._listing_request(chain)

    async def parse_sitemap_index(self, response: Response) -> AsyncIterator[Request]:
        self._site_answered = True
        kind, entries = parse_sitemap(response.body, self._max_size(response))
        if kind == "urlset":
            # A single sitemap, no index: it is its own (only) file.
            self.frontier.add_sitemap(entries)
            self.frontier.sitemap_complete = True
            return
        urls = [self.site_urls.rebase(loc) or loc for loc, _ in entries]
        states = await self.session.call(self.known.states, urls)
        to_read = self.frontier.files_to_read(entries, states)
        self._sitemap_files_wanted = len(to_read)
        for url, lastmod, _ in to_read:
            yield self._discovery(
                url, self.parse_sitemap_file, "sitemap file", osce_lastmod=lastmod
            )

    def parse_sitemap_file(self, response: Response) -> None:
        _, entries = parse_sitemap(response.body, self._max_size(response))
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

    def _max_size(self, response: Response) -> int:
        return int(
            response.meta.get("download_maxsize", self.crawler.settings.getint("DOWNLOAD_MAXSIZE"))
        )

    def parse_rss(self, response: Response) -> None:
        self._site_answered = True
        self.frontier.add_rss(parse_feed(response.body, response.url))

    def _listing_request(self, chain: ChainState, follow: bool = True) -> Request:
        request = self._discovery(
            self.frontier.listing_url(chain), self.parse_listing, "listing page"
        )
        request.priority = PRIORITY_LISTING
        request.meta["osce_chain"] = chain
        request.meta["osce_follow"] = follow
        request.meta["handle_httpstatus_list"] = LISTING_END_STATUSES
        return request

    async def _own_addresses(self, entries: list[ListingEntry]) -> list[ListingEntry]:
        """Entries linked by an alias (``/node/<n>``) at the address the archive knows
        for their document: no redirect hop to fetch, and known when nothing changed."""
        aliased = {
            SITE.document_id(e.url, e.url): i for i, e in enumerate(entries) if SITE.is_alias(e.url)
        }
        if not aliased:
            return entries
        known = await self.session.call(self.known.canonical, list(aliased))
        out = list(entries)
        for document_id, url in known.items():
            i = aliased[document_id]
            rebased = self.frontier.site.rebase(url)
            if rebased is not None:
                out[i] = replace(out[i], url=rebased)
        return out

    async def parse_listing(self, response: Response) -> AsyncIterator[Request]:
        chain: ChainState = response.meta["osce_chain"]
        follow = response.meta.get("osce_follow", True)
        if response.status in LISTING_END_STATUSES:
            if not follow:  # a page read for sought items (phase 2b), past the end
                for target in self.frontier.steer(chain, []):
                    yield self._listing_request(target, follow=False)
                return
            self.frontier.listing_gone(chain, response.status)
            self.frontier.saw(chain, [])
            logger.info("listing %s ends at %s: HTTP %d", chain.name, response.url, response.status)
            return
        page = SITE.read_listing(response.body, response.url)
        kept = self.frontier.listing_entries(chain, page.entries)
        kept = await self._own_addresses(kept)
        states = await self.session.call(self.known.states, [e.url for e in kept])
        visits, brought_new = self.frontier.from_listing(kept, states)
        for visit in visits:
            yield self._item_request(visit)
        if not follow:  # phase 2b: items sought and not shown send it to other pages
            for target in self.frontier.steer(chain, kept):
                yield self._listing_request(target, follow=False)
            return
        self.frontier.saw(chain, kept)  # phase 2b may seek an item this page did not show
        if self.frontier.next_page(
            chain,
            len(page.entries),
            brought_new,
            next_url=page.next_url,
            has_pager=page.pager,
            fingerprint=page.fingerprint,
        ):
            next_page = self._listing_request(chain)
            if self._room():
                yield next_page
            else:
                self._schedule([next_page])
        elif chain.ended:
            logger.info("listing %s ends at %s: %s", chain.name, response.url, chain.ended)

    # -- items -------------------------------------------------------------------------------

    def _item_request(self, visit: Visit) -> Request:
        self.crawler.stats.inc_value(STATS_PREFIX + "expected")  # the progress total
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
        yield from self._page_item(response)
        if response.status == 200:
            self._follow_languages(response)

    def _follow_languages(self, response: Response) -> None:
        """Visit the other language versions an item page links, each once a run (only an
        item's own alternates: a page of the site that is not an item adds nothing)."""
        if not isinstance(response, TextResponse) or not SITE.is_item_url(response.url):
            return
        try:
            hrefs = response.xpath(
                "//link[@hreflang][contains(concat(' ', normalize-space(@rel), ' '),"
                " ' alternate ')]/@href | //a[@hreflang]/@href"
            ).getall()
        except ValueError:  # a body lxml cannot read as HTML
            return
        urls: dict[str, str] = {}
        for href in hrefs:
            url = self.site_urls.rebase(urljoin(response.url, href))
            if url is None or SITE.address_language(url) is None:
                continue  # the English version is found by the listings and the sitemap
            key = SITE.item_key(url)
            if key and key not in self.frontier.visited and key not in urls:
                urls[key] = url
        if urls and self.frontier.budget_left:
            self._language_lookups += 1
            deferred_from_coro(self._language_visits(list(urls.values())))

    async def _language_visits(self, urls: list[str]) -> None:
        try:
            states = await self.session.call(self.known.states, urls)
            visits = self.frontier.from_languages(urls, states)
            self._schedule(self._item_request(visit) for visit in visits)
        except Exception as exc:  # noqa: BLE001 - an archive read failed: the run stops
            self._archive_failed(exc)
        finally:
            self._language_lookups -= 1

    def _page_item(self, response: Response) -> Iterator[PageItem]:
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
        yield PageItem(
            capture,
            reason=request.meta.get("osce_reason", ""),
            source=request.meta.get(SOURCE_META),
        )

    def item_failed(self, failure: Failure) -> Iterator[PageItem]:
        request: Request = failure.request  # type: ignore[attr-defined]
        if failure.check(HttpError):
            yield from self._page_item(failure.value.response)
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
        yield PageItem(
            capture,
            reason=request.meta.get("osce_reason", ""),
            extract=False,
            source=request.meta.get(SOURCE_META),
        )

    # -- the end -----------------------------------------------------------------------------

    def _finish(self) -> None:
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
