"""Third-party sources in a crawl: their feeds and sitemaps read within bounds, their
articles requested with the archive's validators, each source at its own pace.

The newsroom spider owns one :class:`ThirdParty` when the crawl is given sources
(``crawl --sources FILE``, ``scrapy crawl newsroom -a sources=FILE``).  It adds to the
run, through the same spider, middlewares, pipeline and archive as osce.org:

* **Discovery** (with the osce.org sitemap and feed, phase 1): every feed and sitemap
  of every source.  A feed that is not RSS or Atom, a sitemap that is not XML, an answer
  over ``OSCE_SOURCES_MAXSIZE`` bytes (inflated size for gzip), sitemap indexes nested
  deeper than ``OSCE_SOURCES_SITEMAP_DEPTH``, more than ``OSCE_SOURCES_SITEMAP_FILES``
  sitemap files or more than ``OSCE_SOURCES_MAX_ENTRIES`` addresses for one source: each
  is read no further, reported as one problem line, and the run goes on.
* **Visits** (the spider's last phase): an address a feed or sitemap lists is fetched
  when the archive does not know it, its last fetch failed, its sitemap ``<lastmod>``
  moved, or the run is ``--full``; articles the archive holds are revisited on the
  same age schedule as osce.org's items (``crawler.frontier.revisit_due``).  Every
  revisit is conditional.  Only addresses on the source's own hosts are requested, and
  only those its keyword/URL filter lets through (``crawler.sources.Source.wants``).
* **Politeness**: each source's requests go through a download slot of their own
  (``source:<name>``) with the file's ``delay`` and ``concurrency``, which AutoThrottle
  does not shorten; robots.txt is obeyed (the command line refuses to turn it off).

What becomes of a fetched article (read by the generic profile, kept when it is about
the OSCE) is the pipeline's business (``crawler.pipelines``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import feedparser
from scrapy import Request
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap
from twisted.python.failure import Failure

from archive.records import ListingEntry
from crawler.extensions import STATS_PREFIX
from crawler.extraction import dates
from crawler.frontier import decide, failed, merge_listing, revisit_due
from crawler.middlewares import VALIDATORS_META
from crawler.sites.generic import GenericProfile, for_host
from crawler.sources import Source, bare_netloc, netloc_of

if TYPE_CHECKING:
    from archive.known import AddressState, Known
    from crawler.extensions import ArchiveSession

logger = logging.getLogger(__name__)

GZIP_MAGIC = b"\x1f\x8b\x08"
#: Request meta: the name of the source a request is for.
SOURCE_META = "osce_source"
#: Stats key of the run's problem lines (what ``crawl`` prints, one a line).
PROBLEMS = STATS_PREFIX + "source_problems"
#: Defaults of the bounds (settings of the same names override them).
SITEMAP_DEPTH = 2  # an index of indexes of urlsets; the protocol allows only one level
SITEMAP_FILES = 100
MAX_ENTRIES = 50_000
PRIORITY_DISCOVERY = 90
PRIORITY_ITEM = 0
LOOKUP_BATCH = 500


def read_sitemap(body: bytes, max_size: int = 0) -> tuple[str, list[tuple[str, str | None]], str]:
    """``(kind, [(loc, lastmod), ...], problem)`` of a sitemap document, gzipped or not,
    read with Scrapy's sitemap parser (no entities, no network).  ``kind`` is ``index``
    or ``urlset``; ``problem`` is "" or why nothing could be read: a gzip body that
    inflates past ``max_size`` bytes (0: no bound), a body that is not a sitemap."""
    if body[:3] == GZIP_MAGIC:
        try:
            body = gunzip(body, max_size=max_size)
        except ValueError:  # past max_size
            return "urlset", [], f"inflates past the size limit ({max_size} bytes)"
        except (OSError, EOFError) as exc:
            return "urlset", [], f"broken gzip ({exc})"
    try:
        sitemap = Sitemap(body)
        entries = [(d["loc"], d.get("lastmod") or None) for d in sitemap if d.get("loc")]
    except (SyntaxError, StopIteration, ValueError) as exc:  # lxml's XMLSyntaxError is one
        return "urlset", [], f"not a sitemap ({type(exc).__name__})"
    if sitemap.type not in ("sitemapindex", "urlset"):
        return "urlset", [], f"not a sitemap (root element {sitemap.type!r})"
    return ("index" if sitemap.type == "sitemapindex" else "urlset"), entries, ""


def read_feed(body: bytes, base: str) -> tuple[list[tuple[ListingEntry, str]], str]:
    """``([(entry, summary), ...], problem)`` of an RSS or Atom feed (feedparser): each
    entry with its title, date and ``<updated>`` as ``lastmod``; ``problem`` is "" or why
    the body is not a feed."""
    parsed = feedparser.parse(body)
    if not parsed.get("version") and not parsed.entries:
        why = parsed.get("bozo_exception")
        detail = f" ({type(why).__name__})" if why else ""
        return [], f"not an RSS or Atom feed{detail}"
    out: list[tuple[ListingEntry, str]] = []
    for entry in parsed.entries:
        link = (entry.get("link") or "").strip()
        if not link:
            continue
        title = " ".join((entry.get("title") or "").split()) or None
        # ``updated`` only when the feed says it (feedparser's own ``get`` falls back to
        # ``published``, with a deprecation warning)
        stated = dict.get(entry, "updated")
        raw = entry.get("published") or stated
        day = dates.parse_date(raw) if raw else None
        updated = stated if stated != raw else None
        listing = ListingEntry(
            url=urljoin(base, link),
            title=title,
            published=day.isoformat() if day else None,
            lastmod=updated,
            source="rss",
        )
        out.append((listing, " ".join((entry.get("summary") or "").split())))
    return out, ""


def profile_for(source: Source, url: str = "") -> GenericProfile:
    """The generic profile a source's page at ``url`` is read with (its host's; without
    ``url``, its first feed's or sitemap's host's): ids are ``host[:port]/path``, so a
    record's ``site`` is the host it belongs to."""
    return for_host(netloc_of(url or (source.feeds or source.sitemaps)[0]), source.name)


@dataclass
class SourceRun:
    """One source during one run: what its feeds and sitemaps listed, and its problems."""

    source: Source
    profile: GenericProfile
    entries: dict[str, ListingEntry] = field(default_factory=dict)
    sitemap_files: int = 0
    full: bool = False  # an entry bound was met: the rest of its lists were not read
    filtered: int = 0  # entries the keyword/URL filter or the host rule left out
    said: set[str] = field(default_factory=set)  # bounds already reported (once each)

    def rebase(self, url: str) -> str | None:
        """``url`` on the source's own spelling of its host (the archive keeps addresses
        without ``www.``), or None when it is not on the source's hosts."""
        if not self.source.owns(url):
            return None
        bare = bare_netloc(url)
        for own in (*self.source.feeds, *self.source.sitemaps):
            if bare_netloc(own) == bare:
                parts = urlsplit(url)
                scheme, netloc = urlsplit(own)[:2]
                return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))
        return url


class ThirdParty:
    """The sources of one crawl (see the module's docstring)."""

    def __init__(self, spider: Any, sources: Iterable[Source]) -> None:
        self.spider = spider
        settings = spider.crawler.settings
        self.maxsize = settings.getint(
            "OSCE_SOURCES_MAXSIZE", settings.getint("DOWNLOAD_MAXSIZE", 10 * 1024 * 1024)
        )
        self.depth = settings.getint("OSCE_SOURCES_SITEMAP_DEPTH", SITEMAP_DEPTH)
        self.max_files = settings.getint("OSCE_SOURCES_SITEMAP_FILES", SITEMAP_FILES)
        self.max_entries = settings.getint("OSCE_SOURCES_MAX_ENTRIES", MAX_ENTRIES)
        self.runs: dict[str, SourceRun] = {s.name: SourceRun(s, profile_for(s)) for s in sources}
        self.visited: set[str] = set()
        self._profiles: dict[str, GenericProfile] = {}

    @property
    def stats(self) -> Any:
        return self.spider.crawler.stats

    # -- what the rest of the crawl asks ---------------------------------------------------

    def profile(self, source: str, url: str) -> GenericProfile:
        """The generic profile of the host of ``url``, a page of ``source`` (a source may
        list pages on more than one host; each is a site of its own)."""
        run = self.runs[source]
        if bare_netloc(url) == run.profile.id_prefix.rstrip("/"):
            return run.profile
        key = bare_netloc(url)
        if key not in self._profiles:
            self._profiles[key] = profile_for(run.source, url)
        return self._profiles[key]

    def netlocs(self) -> set[str]:
        """Every ``host[:port]`` spelling of every source (the on-site middleware's list)."""
        return {h for run in self.runs.values() for h in run.source.hosts}

    def domains(self) -> list[str]:
        """Host names for Scrapy's offsite filter."""
        return sorted({h.split(":")[0] for h in self.netlocs()})

    def slots(self) -> dict[str, dict[str, Any]]:
        """Download slot settings per source: its delay and concurrency, as the file says."""
        return {
            run.source.slot: {
                "delay": run.source.delay,
                "concurrency": run.source.concurrency,
                "jitter": 0.0,
            }
            for run in self.runs.values()
        }

    def problem(self, source: str, line: str, once: str = "") -> None:
        """One problem of the run, as the command line prints it at the end (logged at
        INFO: the command line's own lines say it once); ``once``: a bound reported once
        per source however often it is met."""
        run = self.runs.get(source)
        if once and run is not None:
            if once in run.said:
                return
            run.said.add(once)
        text = f"source {source}: {line}"
        logger.info("%s", text)
        problems = list(self.stats.get_value(PROBLEMS, []))
        problems.append(text)
        self.stats.set_value(PROBLEMS, problems)

    # -- discovery ---------------------------------------------------------------------------

    def _request(self, run: SourceRun, url: str, callback: Any, what: str, **meta: Any) -> Request:
        return Request(
            url,
            callback=callback,
            errback=self.failed,
            priority=PRIORITY_DISCOVERY,
            dont_filter=True,
            meta={
                "osce_what": what,
                SOURCE_META: run.source.name,
                "download_slot": run.source.slot,
                "autothrottle_dont_adjust_delay": True,
                "download_maxsize": self.maxsize,
                **meta,
            },
        )

    def start_requests(self) -> Iterator[Request]:
        """Every feed and sitemap of every source."""
        for run in self.runs.values():
            for url in run.source.feeds:
                yield self._request(run, url, self.parse_feed, "feed")
            for url in run.source.sitemaps:
                run.sitemap_files += 1
                yield self._request(run, url, self.parse_sitemap, "sitemap", osce_depth=0)

    def _run_of(self, request: Any) -> SourceRun:
        return self.runs[request.meta[SOURCE_META]]

    def failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        run = self._run_of(request)
        what = request.meta.get("osce_what", "page")
        if failure.check(HttpError):
            reason = f"HTTP {failure.value.response.status}"
        else:
            from crawler.spiders.newsroom import _failure_reason

            reason = _failure_reason(failure)
        self.problem(run.source.name, f"{what} {request.url} failed: {reason}")

    def parse_feed(self, response: Any) -> None:
        run = self._run_of(response.request)
        entries, problem = read_feed(response.body, response.url)
        if problem:
            self.problem(run.source.name, f"feed {response.url}: {problem}; not read")
            return
        for entry, summary in entries:
            self._add(run, entry, f"{entry.title or ''}\n{summary}")

    def parse_sitemap(self, response: Any) -> Iterator[Request]:
        run = self._run_of(response.request)
        depth = int(response.meta.get("osce_depth", 0))
        kind, entries, problem = read_sitemap(response.body, self.maxsize)
        if problem:
            self.problem(run.source.name, f"sitemap {response.url}: {problem}; not read")
            return
        if kind == "urlset":
            for loc, lastmod in entries:
                self._add(run, ListingEntry(url=loc, lastmod=lastmod, source="sitemap"), "")
            return
        if depth + 1 > self.depth:
            self.problem(
                run.source.name,
                f"sitemap {response.url}: indexes nested deeper than {self.depth} levels; "
                "the deeper ones not read",
                once="depth",
            )
            return
        for loc, _ in entries:
            url = urljoin(response.url, loc.strip())
            if not run.source.owns(url):
                continue
            if run.sitemap_files >= self.max_files:
                self.problem(
                    run.source.name,
                    f"sitemap {response.url}: more than {self.max_files} sitemap files; "
                    "the rest not read",
                    once="files",
                )
                return
            run.sitemap_files += 1
            yield self._request(run, url, self.parse_sitemap, "sitemap", osce_depth=depth + 1)

    def _add(self, run: SourceRun, entry: ListingEntry, text: str) -> None:
        if run.full:
            return
        url = run.rebase(entry.url.strip())
        if url is None or not run.source.wants(url, text):
            run.filtered += 1
            return
        entry = replace(entry, url=url)
        known = run.entries.get(url)
        if known is None and len(run.entries) >= self.max_entries:
            run.full = True
            self.problem(
                run.source.name,
                f"more than {self.max_entries} addresses in its feeds and sitemaps; "
                "the rest not read",
                once="entries",
            )
            return
        if known is None:
            run.entries[url] = entry
            return
        merged = merge_listing(known, entry)
        sitemap = next((e for e in (known, entry) if e.source == "sitemap" and e.lastmod), None)
        if sitemap is not None:  # the sitemap's <lastmod> over a feed's <updated>, whichever
            merged.lastmod = sitemap.lastmod  # came first: what the next run compares with
        run.entries[url] = merged

    # -- visits ------------------------------------------------------------------------------

    async def visits(self, session: ArchiveSession, known: Known, full: bool) -> list[Request]:
        """The article requests of every source: what the lists show that is new, failed
        or moved, and the archive's revisits of the sources' documents."""
        requests: list[Request] = []
        for run in self.runs.values():
            entries = list(run.entries.values())
            for start in range(0, len(entries), LOOKUP_BATCH):
                batch = entries[start : start + LOOKUP_BATCH]
                states = await session.call(known.states, [e.url for e in batch])
                for entry, state in zip(batch, states, strict=True):
                    self.visited.add(entry.url)
                    reason = decide(entry, state, full)
                    if reason is not None:
                        requests.append(self.item_request(run, entry.url, reason, entry, state))
            logger.info(
                "source %s: %d addresses listed, %d left out by its filter or host",
                run.source.name,
                len(run.entries),
                run.filtered,
            )
        revisits = await session.call(lambda: list(self._revisits(known.iter_states(), full)))
        requests += revisits
        return requests

    def _revisits(self, states: Iterable[AddressState], full: bool) -> Iterator[Request]:
        now = datetime.now(timezone.utc)
        for state in states:
            for run in self.runs.values():
                url = run.rebase(state.url)
                if url is None or url in self.visited:
                    continue
                if failed(state):
                    reason = "retry"
                elif full:
                    reason = "full"
                elif state.deleted or not revisit_due(state, now):
                    break
                else:
                    reason = "scheduled"
                self.visited.add(url)
                yield self.item_request(run, url, reason, state.listing, state)
                break

    def item_request(
        self,
        run: SourceRun,
        url: str,
        reason: str,
        listing: ListingEntry | None,
        state: AddressState | None,
    ) -> Request:
        self.stats.inc_value(STATS_PREFIX + "expected")  # the progress total
        meta: dict[str, Any] = {
            "osce_reason": reason,
            "osce_listing": listing,
            SOURCE_META: run.source.name,
            "download_slot": run.source.slot,
            "autothrottle_dont_adjust_delay": True,
            "handle_httpstatus_list": self.spider.item_statuses,
        }
        if state is not None and reason not in ("new",) and (state.etag or state.last_modified):
            meta[VALIDATORS_META] = {
                "url": url,
                "etag": state.etag,
                "last_modified": state.last_modified,
            }
        return Request(
            url,
            callback=self.spider.parse_item,
            errback=self.spider.item_failed,
            priority=PRIORITY_ITEM,
            dont_filter=True,
            meta=meta,
        )
