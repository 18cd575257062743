"""Downloader middlewares: conditional requests, bounded Retry-After, staying on the site.

Each is an ordinary Scrapy component (``from_crawler``, settings with its own prefix,
``NotConfigured`` to switch it off), enabled in ``crawler.settings``.
"""

from __future__ import annotations

import email.utils
import logging
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import Request, Spider, signals
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import (
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    IgnoreRequest,
    NotConfigured,
)
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.error import ConnectionRefusedError as TxConnectionRefused
from twisted.internet.task import deferLater

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

#: Connection refused: no server listens at the address; retrying will not change that.
REFUSED: tuple[type[BaseException], ...] = (
    DownloadConnectionRefusedError,
    ConnectionRefusedError,
    TxConnectionRefused,
)

#: Request meta key holding the validators the archive has for the requested address.
VALIDATORS_META = "osce_validators"


class ConditionalRequestMiddleware:
    """Turns every revisit into a conditional request (If-None-Match / If-Modified-Since).

    The frontier puts the archive's last ETag and Last-Modified of an address into
    ``request.meta["osce_validators"]``; they are sent only to that very address, so a
    redirect hop to another address (a moved item) is fetched in full rather than
    answered by a 304 that would tell the archive nothing about the new address.
    Setting: ``OSCE_CONDITIONAL_ENABLED`` (default on).
    """

    def __init__(self, enabled: bool) -> None:
        if not enabled:
            raise NotConfigured

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalRequestMiddleware:
        return cls(crawler.settings.getbool("OSCE_CONDITIONAL_ENABLED", True))

    def process_request(self, request: Request) -> None:
        validators: dict[str, Any] | None = request.meta.get(VALIDATORS_META)
        if not validators:
            return None
        if request.url != validators.get("url"):
            request.headers.pop(b"If-None-Match", None)
            request.headers.pop(b"If-Modified-Since", None)
            return None
        if validators.get("etag"):
            request.headers[b"If-None-Match"] = validators["etag"]
        if validators.get("last_modified"):
            request.headers[b"If-Modified-Since"] = validators["last_modified"]
        return None


def retry_after_seconds(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (delta-seconds or an HTTP date)."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


class RetryAfterMiddleware(RetryMiddleware):
    """Scrapy's retry, plus a wait before each retry: what ``Retry-After`` asks, bounded.

    A server answering 429 or 503 with ``Retry-After`` is asking for time; retrying
    at once would only repeat the refusal. The wait is capped by
    ``OSCE_RETRY_AFTER_MAX`` (seconds) so a hostile header cannot stall a run, and
    without the header it backs off exponentially from ``OSCE_RETRY_BACKOFF_BASE``.
    The number of retries stays Scrapy's ``RETRY_TIMES``.

    It also names the one failure Scrapy leaves nameless: a body that grows past
    ``DOWNLOAD_MAXSIZE`` while it streams (no Content-Length, or a false one) is
    cancelled with an empty ``DownloadCancelledError``; the page's capture should say
    why it failed, so the error is re-raised saying so.
    """

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.max_wait = settings.getfloat("OSCE_RETRY_AFTER_MAX", 120.0)
        self.backoff_base = settings.getfloat("OSCE_RETRY_BACKOFF_BASE", 1.0)
        self.maxsize = settings.getint("DOWNLOAD_MAXSIZE", 0)

    def _wait_for(self, request: Request, response: Response | None) -> float:
        asked = None
        if response is not None:
            asked = retry_after_seconds(response.headers.get(b"Retry-After"))
        if asked is None:
            attempt = request.meta.get("retry_times", 0) + 1
            asked = self.backoff_base * 2 ** (attempt - 1)
        return min(asked, self.max_wait)

    # Scrapy awaits coroutine middleware methods; the base class declares plain ones.
    async def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        retry = self._retry(request, f"HTTP {response.status}")
        if retry is None:
            return response
        delay = self._wait_for(request, response)
        if delay > 0:
            await _sleep(delay)
        return retry

    async def process_exception(  # type: ignore[override]
        self, request: Request, exception: Exception
    ) -> Request | Response | None:
        if isinstance(exception, DownloadCancelledError) and not str(exception).strip():
            maxsize = request.meta.get("download_maxsize", self.maxsize)
            raise DownloadCancelledError(
                f"download cancelled: the body grew past the size limit (DOWNLOAD_MAXSIZE "
                f"{maxsize} bytes), or the run was stopping"
            ) from exception
        if isinstance(exception, REFUSED):
            # A closed port is not "try later": fail now (the page is retried next run),
            # so an unreachable site ends the crawl in seconds rather than backoffs.
            return None
        retry = super().process_exception(request, exception)
        if isinstance(retry, Request):
            delay = self._wait_for(request, None)
            if delay > 0:
                await _sleep(delay)
        return retry


async def _sleep(seconds: float) -> None:
    from twisted.internet import reactor  # the installed one (importing it early would install)

    await maybe_deferred_to_future(deferLater(reactor, seconds, lambda: None))


class OnSiteMiddleware:
    """Refuses every request to a host other than the crawled site's, redirects included.

    Scrapy's own offsite filter lets through requests marked ``dont_filter`` (retries,
    for instance) and compares host names without ports; this one has no exception, so
    a redirect or a link to another host is never requested, and a page redirected off
    the site is recorded as failed rather than silently forgotten. The site's host is
    the spider's ``site`` (with or without ``www.``, same port), plus the hosts of the
    third-party sources it crawls (``spider.extra_netlocs()``). Setting:
    ``OSCE_ONSITE_ENABLED`` (default on).
    """

    def __init__(self, enabled: bool) -> None:
        if not enabled:
            raise NotConfigured
        self.allowed: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> OnSiteMiddleware:
        mw = cls(crawler.settings.getbool("OSCE_ONSITE_ENABLED", True))
        crawler.signals.connect(mw.spider_opened, signal=signals.spider_opened)
        return mw

    def spider_opened(self, spider: Spider) -> None:
        site = getattr(spider, "site", None)
        if site:
            self.allowed = site_netlocs(site)
            extra = getattr(spider, "extra_netlocs", None)  # third-party sources
            if extra is not None:
                self.allowed |= extra()

    def process_request(self, request: Request) -> None:
        if not self.allowed:
            return None
        netloc = _netloc(request.url)
        if netloc not in self.allowed:
            raise IgnoreRequest(f"off-site address refused: {netloc}")
        # A redirect hop inherits this meta, so Scrapy's own offsite filter lets it reach
        # this middleware, which refuses it with IgnoreRequest: the request's errback then
        # records a failed capture of the address that redirected off the site. Scrapy's
        # filter would drop the hop at scheduling without a word, and the page with it.
        request.meta["allow_offsite"] = True
        return None


def _netloc(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return host if port in (None, default) else f"{host}:{port}"


def site_netlocs(site: str) -> set[str]:
    """The host[:port] spellings that count as the site: with and without ``www.``."""
    from crawler.sites import DEFAULT as SITE

    return SITE.host_spellings(_netloc(site))


#: Request meta key holding the redirect answers met on the way (see AnswerRecorderMiddleware).
ANSWERS_META = "osce_answers"


def answer_of(response: Response) -> dict[str, Any]:
    """One answer as the archive keeps it for the WARC: status line parts and every header.

    Scrapy does not keep the reason phrase; the standard one for the status is used.
    """
    from http import HTTPStatus

    try:
        reason = HTTPStatus(response.status).phrase
    except ValueError:
        reason = ""
    headers = [
        [name.decode("latin-1"), value.decode("latin-1")]
        for name, values in response.headers.items()
        for value in values
    ]
    return {
        "url": response.url,
        "status": response.status,
        "reason": reason,
        "protocol": getattr(response, "protocol", None) or "HTTP/1.1",
        "headers": headers,
    }


class AnswerRecorderMiddleware:
    """Keeps the status line and headers of each redirect answer in the request's meta.

    It sits just before Scrapy's RedirectMiddleware (which copies the meta into the
    redirected request), so the final answer's request carries every hop's answer, in
    order: the archive writes them into the WARC as the server gave them.
    """

    def process_response(self, request: Request, response: Response) -> Response:
        if 300 <= response.status < 400 and response.headers.get(b"Location"):
            request.meta[ANSWERS_META] = [*request.meta.get(ANSWERS_META, []), answer_of(response)]
        return response
