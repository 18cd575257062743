"""`osce-archive crawl`: run the newsroom spider in-process and report the run.

Scrapy runs here exactly as ``scrapy crawl newsroom`` would run it (the project
settings of ``crawler.settings``, then the command's ``-s NAME=VALUE`` overrides), in
a ``CrawlerProcess``, so SIGINT/SIGTERM stop it gracefully (the pages in flight are
archived, the run is recorded as ``interrupted``) and a second signal stops it at once.

Exit status: 0 when the run finished; 75 when another run holds the archive; 1 with a
one-line reason when the site cannot be reached, the address is not a site, or the
archive failed; 130 when the run was interrupted (what it archived is kept).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import sys
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from archive.errors import ArchiveError, ArchiveLocked, one_line, redact

EXIT_INTERRUPTED = 130
#: Library chatter (Scrapy's start-up banner, component lists and engine open/close
#: lines, Alembic's migration lines): shown only with ``--verbose``.
QUIET_LOGGERS = (
    "scrapy.utils.log",
    "scrapy.middleware",
    "scrapy.crawler",
    "scrapy.addons",
    "scrapy.core.engine",
    "scrapy.statscollectors",
    "alembic.runtime.migration",
)


class WarningsOnly(logging.Filter):
    """Drops a library logger's lines below WARNING (a filter, not a level: Scrapy's
    logging set-up resets the levels of existing loggers, not their filters)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


class DropAll(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return False


def quiet_library_logs(verbose: bool) -> None:
    """Without ``--verbose``, library INFO lines are hidden; warnings and errors stay."""
    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        for existing in [f for f in logger.filters if isinstance(f, WarningsOnly)]:
            logger.removeFilter(existing)
        if not verbose:
            logger.addFilter(WarningsOnly())


#: ``--fast``: no politeness, for the local replica or a copy you serve yourself.
FAST_SETTINGS: dict[str, Any] = {
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_DELAY": 0,
    "CONCURRENT_REQUESTS": 16,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
    "OSCE_RETRY_BACKOFF_BASE": 0.1,
    "OSCE_RETRY_AFTER_MAX": 2.0,
}


def fast_settings(site: str) -> dict[str, str]:
    """``--fast`` as ``-s`` overrides; refused for a live site a profile names (its own
    hosts are crawled politely), allowed for a local copy or a site you run."""
    from crawler.sites import PROFILES

    for profile in PROFILES.values():
        if profile.hosts and profile.owns(site):
            host = urlsplit(site).hostname
            raise ArchiveError(
                f"--fast is for a local copy of the site; {host} is crawled politely"
            )
    return {name: str(value) for name, value in FAST_SETTINGS.items()}


def check_site(site: str) -> str:
    """The base URL to crawl, or ArchiveError (exit 1) when it is not an http(s) site."""
    text = (site or "").strip()
    try:
        parts = urlsplit(text)
        port = parts.port  # raises ValueError on a bad port
    except ValueError:
        raise ArchiveError(f"not a site address: {site!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ArchiveError(f"not a site address (http:// or https:// expected): {site!r}")
    del port
    return text.rstrip("/")


def cluster_settings(url: str, db: str) -> dict[str, str]:
    """``--cluster URL`` as settings (``crawler.cluster``); ArchiveError (exit 1) for an
    address that is not Redis's or an archive that is not PostgreSQL."""
    from crawler.cluster import check_url

    url = check_url(url)
    scheme = (db or "").split(":", 1)[0].split("+", 1)[0].lower()
    if scheme not in ("postgresql", "postgres"):
        raise ArchiveError(
            "--cluster needs a PostgreSQL archive that every worker reaches "
            "(--db postgresql://USER@HOST/DB)"
        )
    return {
        "OSCE_CLUSTER": url,
        "SCHEDULER": "crawler.cluster.ClusterScheduler",
        # Every process reads with the model the archive keeps (crawler.cluster).
        "OSCE_FURNITURE_WARMUP": "0",
    }


def parse_overrides(pairs: list[str]) -> dict[str, str]:
    """``-s NAME=VALUE`` pairs, as ``scrapy crawl -s`` takes them."""
    out: dict[str, str] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ArchiveError(f"-s expects NAME=VALUE, got {pair!r}")
        out[name.strip()] = value
    return out


def build_settings(
    db: str,
    overrides: dict[str, str],
    *,
    quiet: bool = False,
    machine: bool = False,
    verbose: bool = False,
) -> Any:
    """The project settings with the command's choices on top (Scrapy's cmdline priority)."""
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("OSCE_ARCHIVE_DB", db, priority="cmdline")
    # The command prints its own summary; Scrapy's stats dump and version list are noise
    # in a daily run's log (``-s STATS_DUMP=1`` brings the dump back).
    settings.set("STATS_DUMP", False, priority="cmdline")
    settings.set("LOG_VERSIONS", [], priority="cmdline")
    if quiet:
        settings.set("OSCE_PROGRESS", "off", priority="cmdline")
        settings.set("LOG_LEVEL", "WARNING", priority="cmdline")
    elif verbose:
        settings.set("LOG_LEVEL", "INFO", priority="cmdline")
    elif sys.stderr.isatty() and not machine:
        # The progress line says what INFO lines would; warnings still show.
        settings.set("LOG_LEVEL", "WARNING", priority="cmdline")
    settings.setdict(overrides, priority="cmdline")
    return settings


class OneLineErrors(logging.Filter):
    """Folds a logged traceback into its log line: a daily run's log says what failed in
    one line per failure (``--debug`` or ``$OSCE_ARCHIVE_DEBUG`` keeps the tracebacks)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            record.msg = f"{record.getMessage()} ({one_line(record.exc_info[1])})"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
        return True


def run_crawl(
    settings: Any, *, debug: bool = False, verbose: bool = False, **spider_args: Any
) -> dict[str, Any]:
    """Run one crawl to its end in this process; the run's summary, or ArchiveError."""
    from scrapy.crawler import CrawlerProcess

    from crawler.extensions import STATS_PREFIX, run_counters
    from crawler.spiders.newsroom import NewsroomSpider

    quiet_library_logs(verbose)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(NewsroomSpider)
    failures: list[Any] = []
    deferred = process.crawl(crawler, **spider_args)
    deferred.addErrback(failures.append)
    if not verbose:
        from twisted.internet import reactor  # installed by now (importing it earlier would)

        # Stopped at once (a second signal), the tasks still pending are dropped with an
        # asyncio error each: expected, and not the user's problem.
        reactor.addSystemEventTrigger(
            "before", "shutdown", logging.getLogger("asyncio").addFilter, DropAll()
        )
    if not debug:  # the crawl has installed its log handler by now
        for handler in logging.getLogger().handlers:
            handler.addFilter(OneLineErrors())
    process.start()

    if failures:
        exc = failures[0].value
        if isinstance(exc, ArchiveError):
            raise exc
        raise ArchiveError(f"the crawl could not start: {type(exc).__name__}: {redact(str(exc))}")
    stats = crawler.stats.get_stats() if crawler.stats else {}
    summary: dict[str, Any] = {"run_id": stats.get(STATS_PREFIX + "run_id")}
    summary.update(run_counters(stats))
    if STATS_PREFIX + "cluster_role" in stats:  # crawl --cluster: the coordinator's are the run's
        summary.update(stats.get(STATS_PREFIX + "cluster_counters") or {})
        summary["role"] = stats[STATS_PREFIX + "cluster_role"]
        summary["worker"] = stats.get(STATS_PREFIX + "cluster_worker")
    summary["outcome"] = stats.get(STATS_PREFIX + "outcome", "failed")
    if STATS_PREFIX + "source_problems" in stats:
        summary["source_problems"] = list(stats[STATS_PREFIX + "source_problems"])
    summary["reason"] = stats.get(STATS_PREFIX + "reason")
    elapsed = stats.get("elapsed_time_seconds")
    summary["seconds"] = round(float(elapsed), 2) if elapsed is not None else None
    if elapsed is None and stats.get("start_time") is not None:  # stopped at once: no close
        started = stats["start_time"]
        summary["seconds"] = round((datetime.now(started.tzinfo) - started).total_seconds(), 2)
    cpu = stats.get(STATS_PREFIX + "cpu_s")
    if cpu:
        # Where the crawl's CPU went: this process (reactor, fetch, parse, frontier and
        # the archive thread, whose share is in ``cpu``) and the extraction workers (the
        # children it has reaped).
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        summary["cpu_s"] = {
            "process": round(own.ru_utime + own.ru_stime, 3),
            **cpu,
            "workers": round(children.ru_utime + children.ru_stime, 3),
        }
    if stats.get(STATS_PREFIX + "archive_busy"):
        summary["archive_busy"] = True
    error = stats.get(STATS_PREFIX + "error")
    if error:
        if stats.get(STATS_PREFIX + "error_type") == "ArchiveLocked":
            raise ArchiveLocked(error)
        raise ArchiveError(error)
    return summary


def print_summary(summary: dict[str, Any], machine: bool) -> None:
    if machine:
        print(json.dumps(summary, sort_keys=False))
        return
    if summary.get("role") == "worker":
        print(
            f"worker {summary.get('worker')} of run {summary['run_id']}: {summary['outcome']} "
            f"in {summary.get('seconds')} s, {summary['requests']} requests, "
            f"{summary.get('items', 0)} items archived (the coordinator prints the run)"
        )
        return
    print(
        f"run {summary['run_id']} {summary['outcome']} in {summary.get('seconds')} s: "
        f"{summary['requests']} requests; {summary['new_documents']} new documents, "
        f"{summary['new_versions']} new versions, {summary['unchanged']} unchanged "
        f"({summary.get('not_modified', 0)} answered 304), {summary['deleted']} deleted, "
        f"{summary['failed']} failed"
    )
    if summary.get("corrected"):
        print(
            f"furniture: {summary['corrected']} document(s) read again with model "
            f"{summary.get('furniture_version')} (versions with reason extraction)"
        )
    if "source_problems" in summary:
        print(
            f"third-party sources: {summary.get('sources_kept', 0)} articles about the OSCE "
            f"kept, {summary.get('sources_unrelated', 0)} unrelated skipped; "
            f"{summary.get('reports_linked', 0)} articles in the archive linked to the OSCE "
            "items they report on"
        )
    if summary.get("furniture_default"):
        print("furniture: too few pages to learn from; the bundled default model was used")


def run(args: argparse.Namespace) -> int:
    from crawler.cli import check_kinds

    if args.site is None:
        from crawler.sites import DEFAULT

        args.site = DEFAULT.home
    site = check_site(args.site)
    kinds = check_kinds(args.kinds, allow_all=True)
    overrides = {**(fast_settings(site) if args.fast else {}), **parse_overrides(args.settings)}
    if getattr(args, "cluster", None):
        overrides = {**cluster_settings(args.cluster, args.db), **overrides}
    sources, problems = read_sources(getattr(args, "sources", None), overrides)
    for line in problems:  # said at once: a typo is fixed while the crawl runs
        print(f"osce-archive: {line}", file=sys.stderr)
    settings = build_settings(
        args.db, overrides, quiet=args.quiet, machine=args.json, verbose=args.verbose
    )
    summary = run_crawl(
        settings,
        debug=bool(getattr(args, "debug", False) or os.environ.get("OSCE_ARCHIVE_DEBUG")),
        verbose=args.verbose,
        site=site,
        full=args.full,
        kinds=kinds,
        max_items=args.max_items,
        **({"sources": sources} if sources else {}),
    )
    if args.sources is not None:
        summary["source_problems"] = problems + list(summary.get("source_problems") or [])
    print_summary(summary, args.json)
    if summary["outcome"] == "interrupted":
        how = "stopped at once" if summary["reason"] == "killed" else "interrupted"
        print(f"osce-archive: crawl {how}; the next run resumes", file=sys.stderr)
        if summary.get("archive_busy"):
            # The archive thread is still inside one call (its transaction rolls back):
            # leave without waiting for it; the next run takes over the dead run's lock.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(EXIT_INTERRUPTED)
        return EXIT_INTERRUPTED
    if summary["outcome"] != "ok":
        print(f"osce-archive: crawl {summary['outcome']} ({summary['reason']})", file=sys.stderr)
        return 1
    found = summary.get("source_problems") or []
    if found:
        for line in found[len(problems) :]:  # the file's own were said at the start
            print(f"osce-archive: {line}", file=sys.stderr)
        print(
            f"osce-archive: {len(found)} problem(s) with third-party sources; "
            "everything else was crawled",
            file=sys.stderr,
        )
        return 1
    return 0


def read_sources(path: str | None, overrides: dict[str, str]) -> tuple[list[Any], list[str]]:
    """The usable sources of ``--sources FILE`` and one line per bad entry; ArchiveError
    (exit 1) when the file cannot be read at all, or when robots.txt would be ignored."""
    if path is None:
        return [], []
    from crawler.sources import SourcesError, load

    obey = overrides.get("ROBOTSTXT_OBEY", "1").strip().lower()
    if obey in ("0", "false", "no", "off"):
        raise ArchiveError(
            "third-party sources are crawled obeying robots.txt; drop ROBOTSTXT_OBEY"
        )
    try:
        loaded = load(path)
    except SourcesError as exc:
        raise ArchiveError(str(exc)) from None
    if not loaded.sources and not loaded.problems:
        loaded.problems.append(f"{path}: no usable source")
    return loaded.sources, loaded.problems
