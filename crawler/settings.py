"""Scrapy settings of the archive's crawl: polite defaults for the live site.

This module is the project settings of ``scrapy.cfg`` (``scrapy crawl newsroom``,
Scrapyd) and the base of ``osce-archive crawl``, which applies its ``-s NAME=VALUE``
overrides on top. Environment variables override a few defaults so a cron job or a
systemd unit can configure a run without editing code: ``OSCE_ARCHIVE_DB`` (the
archive's SQLAlchemy URL), ``OSCE_ARCHIVE_USER_AGENT`` and ``OSCE_ARCHIVE_CONTACT``;
any other setting is overridden per run with ``-s NAME=VALUE``.

The defaults are for www.osce.org: robots.txt obeyed, AutoThrottle aiming at about
two requests in flight, a user agent that names the project and where to reach its
operators, bounded retries that honour ``Retry-After``, a page size cap and a short
redirect limit. A crawl of a local copy (tests, ``demo``, benchmarks) relaxes the
throttle with ``-s AUTOTHROTTLE_ENABLED=0 -s DOWNLOAD_DELAY=0 ...``.

Settings of this project's own components are prefixed with the component's name:
``OSCE_ARCHIVE_*`` (the run and the database), ``OSCE_FRONTIER_*`` (what to visit),
``OSCE_EXTRACT_*`` (the extraction pool), ``OSCE_RETRY_*`` (Retry-After handling),
``OSCE_PROGRESS_*`` (the progress display), ``OSCE_SOURCES_*`` (third-party sources).
"""

from __future__ import annotations

import os

BOT_NAME = "osce_archive"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# --------------------------------------------------------------------------- who we are
OSCE_ARCHIVE_CONTACT = os.environ.get(
    "OSCE_ARCHIVE_CONTACT", "https://github.com/osce-archive/osce-archive"
)
USER_AGENT = os.environ.get(
    "OSCE_ARCHIVE_USER_AGENT",
    f"osce-archive/0.1 (newsroom archive crawler; +{OSCE_ARCHIVE_CONTACT})",
)

# --------------------------------------------------------------------------- politeness
ROBOTSTXT_OBEY = True
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # no listening port on a cron box
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_DELAY = 0.5
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_TIMEOUT = 60
#: A newsroom page is well under 1 MB; anything ten times that is refused (and recorded
#: as a failed capture), including a gzip bomb, whose inflated size is what counts.
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
REDIRECT_MAX_TIMES = 5
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
#: Wait what ``Retry-After`` asks, but never longer than this (seconds) per retry.
OSCE_RETRY_AFTER_MAX = 120.0
#: Without ``Retry-After``: wait base * 2**(attempt-1) seconds, capped by the maximum above.
OSCE_RETRY_BACKOFF_BASE = 1.0

# The frontier deduplicates by node number itself; Scrapy's fingerprint filter would
# silently drop a redirect hop to an address already fetched in the run, losing the
# capture that records the redirect.
DUPEFILTER_CLASS = "scrapy.dupefilters.BaseDupeFilter"

DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.RetryAfterMiddleware": 550,
    "crawler.middlewares.OnSiteMiddleware": 40,
    "crawler.middlewares.ConditionalRequestMiddleware": 560,
    "crawler.middlewares.AnswerRecorderMiddleware": 610,  # sees 3xx before RedirectMiddleware
}
#: Bytes of fetched pages waiting for extraction and the archive before the downloader
#: pauses (Scrapy's default is 5 MB, 250 pages here): fetching runs at most about fifty
#: pages ahead of what is archived, so memory stays flat and a stopped crawl leaves
#: little fetched but not yet archived.
SCRAPER_SLOT_MAX_ACTIVE_SIZE = 1_000_000
#: Outputs of one response handled at once. An item page yields one item and a listing
#: page fifty requests; Scrapy starts this many tasks for every response whatever it
#: yields, and its default of 100 made that the reactor thread's largest cost.
CONCURRENT_ITEMS = 4
SPIDER_MIDDLEWARES = {
    # Depth is never limited here (the frontier decides what to visit), and the
    # middleware wrapped every page's output on the crawl's busiest thread.
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
}
ITEM_PIPELINES = {"crawler.pipelines.ArchivePipeline": 300}
EXTENSIONS = {
    "crawler.cluster.ClusterRun": 90,  # only with OSCE_CLUSTER (``crawl --cluster``)
    "crawler.extensions.ArchiveRun": 100,
    "crawler.progress.ProgressDisplay": 500,
    "scrapy.extensions.logstats.LogStats": None,  # the progress display says it better
}

# --------------------------------------------------------------------------- our components
OSCE_ARCHIVE_DB = os.environ.get("OSCE_ARCHIVE_DB", "sqlite:///archive.sqlite")
#: Seconds between heartbeats of the run (lets a later run tell a live lock from a dead one).
OSCE_ARCHIVE_HEARTBEAT = 15.0
#: ``crawl --cluster``: the Redis URL of a crawl shared by several processes (empty: a
#: crawl of its own), and the prefix of its Redis keys (``crawler.cluster``). With it,
#: ``SCHEDULER`` is ``crawler.cluster.ClusterScheduler``.
OSCE_CLUSTER = ""
OSCE_CLUSTER_KEY = "osce-archive"
#: Item pages in progress in all the cluster's processes at once (each process is also
#: polite on its own): more workers than this keeps busy add no load on the site.
OSCE_CLUSTER_CONCURRENCY = 16
#: Seconds a cluster process waits for an unreachable Redis (a restart) before it stops.
OSCE_CLUSTER_OUTAGE = 60.0
OSCE_SITE = ""  # empty: the default site profile's home (`osce-archive sites`)
#: Listing rows per page asked for (``rows=``). The site may show fewer: the crawl reads
#: the page size from the pages and follows their pager, never this number.
OSCE_FRONTIER_LISTING_ROWS = 50
#: Incremental paging reads this many pages more after the first page bringing nothing
#: new (unless the very first page brings nothing new: then nothing was published).
OSCE_FRONTIER_LISTING_MARGIN = 1
#: Item requests waiting in the scheduler before discovery pauses (keeps memory flat).
OSCE_FRONTIER_QUEUE_TARGET = 200
#: Third-party sources (``crawl --sources``, ``crawler.thirdparty``): the largest feed or
#: sitemap read (bytes; for gzip, inflated), how deep sitemap indexes are followed, how
#: many sitemap files and addresses one source may list in a run. Beyond each: reported,
#: read no further.
OSCE_SOURCES_MAXSIZE = DOWNLOAD_MAXSIZE
OSCE_SOURCES_SITEMAP_DEPTH = 2
OSCE_SOURCES_SITEMAP_FILES = 100
OSCE_SOURCES_MAX_ENTRIES = 50_000
#: Extraction worker processes (0: extract in the crawling process).
OSCE_EXTRACT_WORKERS = os.cpu_count() or 1
#: Progress display: "auto" (on a terminal), "on", "off"; plain log lines every N seconds.
OSCE_PROGRESS = "auto"
OSCE_PROGRESS_LOG_INTERVAL = 30.0

LOG_LEVEL = "INFO"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
