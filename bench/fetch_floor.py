"""The fetch floor: Scrapy fetching the crawl's pages with an empty callback.

    .venv/bin/python bench/fetch_floor.py URLS_FILE [--concurrency 16]

Reads one URL per line and fetches them all with a bare Scrapy spider whose callback
does nothing, with the transport settings the benchmark gives the real crawl (no
throttle, no delay, 16 requests in flight, gzip accepted and inflated): what Scrapy
alone costs on these pages, so the crawl's rate can be read as a share of it. Prints
one JSON object: ``pages`` (answers), ``seconds`` (the spider's own elapsed time) and
``statuses``. ``bench/run.py`` runs it in a child process and times it from outside.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import scrapy
from scrapy.crawler import CrawlerProcess


class FloorSpider(scrapy.Spider):
    """Requests every URL of the list; the callback drops the answer."""

    name = "fetch_floor"
    custom_settings: dict[str, Any] = {}

    def __init__(self, urls: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = urls

    async def start(self) -> Any:
        for url in self.urls:
            yield scrapy.Request(url, callback=self.parse, dont_filter=True)

    def parse(self, response: Any) -> None:
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", help="file with one URL per line")
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    with open(args.urls, encoding="utf-8") as fh:
        urls = [line.strip() for line in fh if line.strip()]
    process = CrawlerProcess(
        {
            "LOG_LEVEL": "WARNING",
            "TELNETCONSOLE_ENABLED": False,
            "ROBOTSTXT_OBEY": False,
            "COOKIES_ENABLED": False,
            "AUTOTHROTTLE_ENABLED": False,
            "DOWNLOAD_DELAY": 0,
            "CONCURRENT_REQUESTS": args.concurrency,
            "CONCURRENT_REQUESTS_PER_DOMAIN": args.concurrency,
            "DUPEFILTER_CLASS": "scrapy.dupefilters.BaseDupeFilter",
            "STATS_DUMP": False,
            "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        }
    )
    crawler = process.create_crawler(FloorSpider)
    process.crawl(crawler, urls=urls)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    statuses = {
        k.rsplit("/", 1)[-1]: v
        for k, v in stats.items()
        if k.startswith("downloader/response_status_count/")
    }
    print(
        json.dumps(
            {
                "pages": int(stats.get("downloader/response_count", 0)),
                "seconds": float(stats.get("elapsed_time_seconds", 0.0)),
                "statuses": statuses,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
