"""For people: a live progress line on a terminal, plain log lines otherwise.

On a terminal (stderr is a TTY) one line is redrawn in place twice a second:
requests, items archived and their rate, what they did (new, changed, unchanged,
deleted), errors and the run's age. Elsewhere (cron, systemd, a pipe) the same
figures go to the log every ``OSCE_PROGRESS_LOG_INTERVAL`` seconds, one line each,
so a journal keeps a readable trace of the run.

Setting ``OSCE_PROGRESS``: ``auto`` (default: the line on a terminal, log lines
otherwise), ``on`` (the line even when not on a terminal), ``log`` (log lines
only), ``off``.
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
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


def snapshot(stats: dict[str, Any], elapsed: float) -> dict[str, Any]:
    """The figures the display shows, from the crawler stats."""
    items = int(stats.get(STATS_PREFIX + "items", 0))
    errors = int(stats.get(STATS_PREFIX + "failed", 0)) + int(stats.get("log_count/ERROR", 0))
    return {
        "requests": int(stats.get("downloader/request_count", 0)),
        "pages": int(stats.get("downloader/response_count", 0)),
        "items": items,
        "rate": items / elapsed if elapsed > 0 else 0.0,
        "new": int(stats.get(STATS_PREFIX + "new_documents", 0)),
        "changed": int(stats.get(STATS_PREFIX + "new_versions", 0)),
        "unchanged": int(stats.get(STATS_PREFIX + "unchanged", 0)),
        "deleted": int(stats.get(STATS_PREFIX + "deleted", 0)),
        "errors": errors,
        "retries": int(stats.get("retry/count", 0)),
        "elapsed": elapsed,
    }


def render(figures: dict[str, Any]) -> str:
    minutes, seconds = divmod(int(figures["elapsed"]), 60)
    return (
        f"{figures['requests']} requests | {figures['items']} items "
        f"({figures['rate']:.1f}/s) | new {figures['new']} changed {figures['changed']} "
        f"unchanged {figures['unchanged']} deleted {figures['deleted']} | "
        f"errors {figures['errors']} retries {figures['retries']} | {minutes}:{seconds:02d}"
    )


class ProgressDisplay:
    """The progress line (terminal) or periodic log lines (anything else)."""

    def __init__(self, crawler: Crawler, mode: str, interval: float, stream: TextIO) -> None:
        self.crawler = crawler
        self.mode = mode
        self.stream = stream
        self.interval = interval
        self.started = time.monotonic()
        self._loop: task.LoopingCall | None = None
        self._width = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressDisplay:
        setting = (crawler.settings.get("OSCE_PROGRESS") or "auto").lower()
        stream = sys.stderr
        if setting == "off":
            raise NotConfigured
        if setting == "auto":
            mode = "line" if stream.isatty() else "log"
        else:
            mode = "line" if setting == "on" else "log"
        interval = (
            0.5 if mode == "line" else crawler.settings.getfloat("OSCE_PROGRESS_LOG_INTERVAL", 30.0)
        )
        ext = cls(crawler, mode, interval, stream)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self) -> None:
        self.started = time.monotonic()
        self._loop = task.LoopingCall(self.show)
        self._loop.start(self.interval, now=False)

    def figures(self) -> dict[str, Any]:
        return snapshot(self.crawler.stats.get_stats(), time.monotonic() - self.started)

    def show(self) -> None:
        text = render(self.figures())
        if self.mode == "line":
            pad = max(0, self._width - len(text))
            self.stream.write("\r" + text + " " * pad)
            self.stream.flush()
            self._width = len(text)
        else:
            logger.info("progress: %s", text)

    def spider_closed(self) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        if self.mode == "line" and self._width:
            self.show()
            self.stream.write("\n")
            self.stream.flush()
