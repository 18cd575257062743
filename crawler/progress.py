"""For people: a progress bar on a terminal, plain log lines otherwise.

On a terminal (stderr is a TTY) a rich progress bar is redrawn twice a second: items
done out of the items the crawl expects (the item requests discovery has made so far;
the total grows while the sitemap, feed and listings are still being read, and is
final once discovery is done, marked by ``+`` until then), their rate, the time spent
and the time left, then what the items did (new, changed, unchanged, deleted) and the
errors. Log lines written meanwhile (warnings) print above the bar. Elsewhere (cron,
systemd, a pipe) the same figures go to the log every ``OSCE_PROGRESS_LOG_INTERVAL``
seconds, one line each, so a journal keeps a readable trace of the run.

Setting ``OSCE_PROGRESS``: ``auto`` (default: the bar on a terminal, log lines
otherwise), ``on`` (the bar even when not on a terminal), ``log`` (log lines only),
``off``. The spider publishes the expected total as the stats ``osce/expected`` and
``osce/discovery_done``.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from crawler.extensions import STATS_PREFIX

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


def snapshot(stats: dict[str, Any], elapsed: float) -> dict[str, Any]:
    """The figures the display shows, from the crawler stats."""
    items = int(stats.get(STATS_PREFIX + "items", 0))
    errors = int(stats.get(STATS_PREFIX + "failed", 0)) + int(stats.get("log_count/ERROR", 0))
    # Item requests that ended without an item of a wanted kind still count as done.
    done = (
        items
        + int(stats.get(STATS_PREFIX + "skipped", 0))
        + int(stats.get(STATS_PREFIX + "robots_refused", 0))
    )
    expected = int(stats.get(STATS_PREFIX + "expected", 0))
    final = bool(stats.get(STATS_PREFIX + "discovery_done", False))
    total = max(expected, done) if expected else None
    rate = items / elapsed if elapsed > 0 else 0.0
    done_rate = done / elapsed if elapsed > 0 else 0.0
    left = None
    if total is not None and final and done_rate > 0:
        left = (total - done) / done_rate
    return {
        "requests": int(stats.get("downloader/request_count", 0)),
        "pages": int(stats.get("downloader/response_count", 0)),
        "items": items,
        "done": done,
        "total": total,
        "final": final,
        "rate": rate,
        "done_rate": done_rate,
        "left": left,
        "new": int(stats.get(STATS_PREFIX + "new_documents", 0)),
        "changed": int(stats.get(STATS_PREFIX + "new_versions", 0)),
        "unchanged": int(stats.get(STATS_PREFIX + "unchanged", 0)),
        "deleted": int(stats.get(STATS_PREFIX + "deleted", 0)),
        "errors": errors,
        "retries": int(stats.get("retry/count", 0)),
        "elapsed": elapsed,
    }


def clock(seconds: float | None) -> str:
    """``1:05`` / ``1:02:03``; ``-`` when unknown."""
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def outcomes(figures: dict[str, Any]) -> str:
    return (
        f"new {figures['new']} changed {figures['changed']} unchanged {figures['unchanged']} "
        f"deleted {figures['deleted']} | errors {figures['errors']} retries {figures['retries']}"
    )


def render(figures: dict[str, Any]) -> str:
    """One log line: ``120/350 items (3.2/s, 1:20 left) | ... | 0:37``."""
    total = figures["total"]
    if total is None:
        count = f"{figures['done']} items"
    else:
        count = f"{figures['done']}/{total}{'' if figures['final'] else '+'} items"
    left = f", {clock(figures['left'])} left" if figures["left"] is not None else ""
    return (
        f"{figures['requests']} requests | {count} ({figures['done_rate']:.1f}/s{left}) | "
        f"{outcomes(figures)} | {clock(figures['elapsed'])}"
    )


class ProgressDisplay:
    """The progress bar (terminal) or periodic log lines (anything else)."""

    def __init__(self, crawler: Crawler, mode: str, interval: float, stream: TextIO) -> None:
        self.crawler = crawler
        self.mode = mode
        self.stream = stream
        self.interval = interval
        self.started = time.monotonic()
        self._loop: task.LoopingCall | None = None
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._handlers: list[tuple[logging.StreamHandler[Any], Any]] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressDisplay:
        setting = (crawler.settings.get("OSCE_PROGRESS") or "auto").lower()
        stream = sys.stderr
        if setting == "off":
            raise NotConfigured
        if setting == "auto":
            mode = "bar" if stream.isatty() else "log"
        else:
            mode = "bar" if setting == "on" else "log"
        interval = (
            0.5 if mode == "bar" else crawler.settings.getfloat("OSCE_PROGRESS_LOG_INTERVAL", 30.0)
        )
        ext = cls(crawler, mode, interval, stream)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        from twisted.internet import reactor

        # A second Ctrl-C stops the reactor with no spider_closed: leave the terminal tidy.
        reactor.addSystemEventTrigger("before", "shutdown", ext.stop)
        return ext

    def spider_opened(self) -> None:
        self.started = time.monotonic()
        if self.mode == "bar":
            self._start_bar()
        self._loop = task.LoopingCall(self.show)
        self._loop.start(self.interval, now=False)

    def figures(self) -> dict[str, Any]:
        return snapshot(self.crawler.stats.get_stats(), time.monotonic() - self.started)

    # -- the bar -----------------------------------------------------------------------

    def _start_bar(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        console = Console(file=self.stream, force_terminal=True)
        self._progress = Progress(
            TextColumn("[bold]crawl"),
            BarColumn(),
            TextColumn("{task.fields[count]} items {task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[outcomes]}"),
            console=console,
            auto_refresh=False,  # redrawn from the reactor: no second thread
            redirect_stderr=True,
            redirect_stdout=False,
        )
        self._progress.start()
        self._task = self._progress.add_task("crawl", total=None, count="", rate="", outcomes="")
        # Log lines go through the bar's console, above the bar, not through it.
        proxy = sys.stderr  # the bar's stand-in for stderr while it runs
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream is self.stream:
                self._handlers.append((handler, handler.stream))
                handler.setStream(proxy)

    def _update_bar(self, figures: dict[str, Any]) -> None:
        assert self._progress is not None and self._task is not None
        total = figures["total"]
        count = str(figures["done"])
        if total is not None:
            count += f"/{total}" + ("" if figures["final"] else "+")
        self._progress.update(
            self._task,
            total=total,
            completed=figures["done"],
            count=count,
            rate=f"{figures['done_rate']:.1f}/s",
            outcomes=outcomes(figures),
        )
        self._progress.refresh()

    # -- both ----------------------------------------------------------------------------

    def show(self) -> None:
        figures = self.figures()
        if self.mode == "bar":
            self._update_bar(figures)
        else:
            logger.info("progress: %s", render(figures))

    def stop(self) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        if self._progress is not None:
            self._update_bar(self.figures())
            self._progress.stop()
            self._progress = None
            for handler, stream in self._handlers:
                handler.setStream(stream)
            self._handlers.clear()

    def spider_closed(self) -> None:
        self.stop()
