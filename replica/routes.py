"""From a request target to what the replica answers: status, headers, body.

This is the one place that knows the site's addresses (SITE.md, interfaces.md):

- ``/<section>/<node>`` item pages (also with a trailing slash or any query string, such
  as tracking parameters: same page, same canonical link);
- ``/node/<n>`` -> 301 to the canonical address; an item's former address (it moved to
  another section) -> 301 to the new one; a deleted item -> 404 or 410;
- ``/press-releases``, ``/stories``, ``/newsroom`` listings (``?page=N&rows=R``, newest
  first; ``/newsroom`` lists every content type: our guess at the real newsroom);
- ``/sitemap.xml`` (index, and ``?page=N`` files), ``/press-releases/rss``,
  ``/robots.txt``;
- static pages: ``/partnerships`` (seed 003), ``/about-us``, the menu's topic pages, ``/``;
- ``/files/...pdf`` (and ``.docx``) documents, and a theme's ``/file/download?name=``;
- ``/search``, ``/user/login``, ``/print/<n>`` (robots.txt forbids them; pages link to
  them anyway);
- with the redirect-loop fault on, ``/loop/a`` and ``/loop/b`` redirect to each other.

Every answer carries ``ETag`` (weak, from the body's hash) and ``Last-Modified``.
Answers are cached per (epoch, host, normalised target, faults) with a bound.
"""

from __future__ import annotations

import base64
import hashlib
import random
import re
from datetime import datetime, time
from functools import lru_cache
from urllib.parse import parse_qs, urlsplit

from replica import pages, themed
from replica.faults import Faults
from replica.feeds import robots_txt, rss, sitemap_file, sitemap_index
from replica.generator import FIRST_DAY, UTC, Item, SiteModel
from replica.languages import LANGUAGES

HTML = "text/html; charset=utf-8"
XML = "application/xml; charset=utf-8"
CACHE_LIMIT = 1024
NO_FAULTS = Faults()

_NODE_RE = re.compile(r"^/node/(\d+)/?$")
_PRINT_RE = re.compile(r"^/print/(\d+)$")
_PAGER_RE = re.compile(r'<nav class="pager".*?</nav>', re.S)


class Response:
    """One answer. ``gzipped`` is filled in by the server the first time it is asked for."""

    __slots__ = ("status", "headers", "body", "gzipped")

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.gzipped: bytes | None = None

    def __iter__(self):  # type: ignore[no-untyped-def]
        """Unpacks as ``status, headers, body`` (the interface's tuple)."""
        return iter((self.status, self.headers, self.body))

    @property
    def etag(self) -> str:
        return self.headers.get("ETag", "")

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def http_date(moment: datetime) -> str:
    return moment.strftime("%a, %d %b %Y %H:%M:%S GMT")


def _etag(body: bytes) -> str:
    return 'W/"' + hashlib.blake2b(body, digest_size=10).hexdigest() + '"'


def _epoch_stamp(site: SiteModel) -> datetime:
    return datetime.combine(site.day(), time(6, 0), tzinfo=UTC)


def render(
    site: SiteModel,
    target: str,
    host: str = "127.0.0.1",
    faults: Faults | None = None,
) -> Response:
    """What the server answers for ``GET target`` with ``Host: host``."""
    faults = faults or NO_FAULTS
    key = (site.epoch, host, target, faults)
    with site.lock:
        hit = site.render_cache.get(key)
        if hit is not None:
            site.render_cache.move_to_end(key)
            return hit
        made = _route(site, target, host, faults)
        site.render_cache[key] = made
        if len(site.render_cache) > CACHE_LIMIT:
            site.render_cache.popitem(last=False)
        return made


def _answer(
    status: int,
    body: str | bytes,
    last_modified: datetime,
    *,
    content_type: str = HTML,
    extra: dict[str, str] | None = None,
    etag: str | None = None,
) -> Response:
    data = body.encode("utf-8") if isinstance(body, str) else body
    headers = {
        "Content-Type": content_type,
        "ETag": etag or _etag(data),
        "Last-Modified": http_date(last_modified),
        "Cache-Control": "public, max-age=300",
        "Vary": "Accept-Encoding",
    }
    if content_type.startswith("text/html"):
        headers["Content-Language"] = "en"
    if extra:
        headers.update(extra)
    return Response(status, headers, data)


def _redirect(site: SiteModel, location: str, base: str, status: int = 301) -> Response:
    url = location if location.startswith("http") else base + location
    body = (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Redirecting</title>'
        f'<meta http-equiv="refresh" content="0;url={url}"></head><body>'
        f'<p>Redirecting to <a href="{url}">{url}</a>.</p></body></html>\n'
    )
    return _answer(status, body, _epoch_stamp(site), extra={"Location": url})


def _query_int(query: dict[str, list[str]], name: str, default: int) -> int:
    try:
        return int(query.get(name, [str(default)])[0])
    except ValueError:
        return default


# Long on purpose: the site map as one dispatch table, path test then answer, in match order.
def _route(site: SiteModel, target: str, host: str, faults: Faults) -> Response:
    split = urlsplit(target)
    raw_path = split.path or "/"
    path = raw_path.rstrip("/") or "/"
    query = parse_qs(split.query)
    base = "http://" + host
    loop = faults.redirect_loop
    stamp = _epoch_stamp(site)

    if path == "/robots.txt":
        return _answer(
            200,
            robots_txt(base),
            datetime.combine(FIRST_DAY, time(0), tzinfo=UTC),
            content_type="text/plain; charset=utf-8",
        )
    if path == "/sitemap.xml":
        if "page" not in query:
            return _answer(200, sitemap_index(site, base), stamp, content_type=XML)
        body = sitemap_file(site, base, _query_int(query, "page", 0))
        if body is None:
            return _answer(404, pages.error_page(site, 404, loop), stamp)
        return _answer(200, body, stamp, content_type=XML)
    if path == "/press-releases/rss":
        return _answer(
            200, rss(site, base), stamp, content_type="application/rss+xml; charset=utf-8"
        )
    if path in ("/press-releases", "/stories", "/newsroom"):
        page_no = max(0, _query_int(query, "page", 0))
        rows = faults.listing_rows or min(50, max(1, _query_int(query, "rows", 10)))
        if site.theme is not None:
            status, html = themed.listing_page(
                site, site.theme, path[1:], page_no, rows, "rows" in query, base, host
            )
            if status != 200:
                return _answer(status, pages.error_page(site, status, loop), stamp)
            return _content_faults(site, faults, path, html, stamp, item=False)
        if faults.listing_end_404 and page_no >= site.listing_page(path[1:], page_no, rows)[1]:
            return _answer(404, pages.error_page(site, 404, loop), stamp)
        html = pages.listing_page(site, path[1:], page_no, rows, base, host, loop)
        if faults.listing_no_pager:
            html = _PAGER_RE.sub("", html)
        return _content_faults(site, faults, path, html, stamp, item=False)

    match = _NODE_RE.match(raw_path)
    if match:
        item = site.by_node.get(int(match.group(1)))
        if item is None:
            return _answer(404, pages.error_page(site, 404, loop), stamp)
        return _redirect(site, item.path, base)

    translated = _translation_target(site, path)
    if translated is not None:
        return _translation(site, *translated, base, faults)

    if path in ("/loop/a", "/loop/b") and loop:
        return _redirect(site, "/loop/b" if path == "/loop/a" else "/loop/a", base, 302)

    item = site.by_path.get(path)
    if item is not None:
        return _item(site, item, path, base, host, faults)
    moved = site.old_paths.get(path)
    if moved is not None:
        return _redirect(site, moved.path, base)

    nav_time = site.nav_changed(site.nav_version)
    if path == "/partnerships":
        return _answer(200, pages.partnerships_page(site, base, loop), nav_time)
    if path == "/":
        return _answer(200, pages.home_page(site, base, host, loop), stamp)
    if path in pages.STATIC_TEXT:
        title, paragraphs = pages.STATIC_TEXT[path]
        return _answer(200, pages.static_page(site, path, title, paragraphs, base, loop), nav_time)
    topics = _topic_pages()
    if path in topics:
        return _answer(200, pages.topic_page(site, path, topics[path], base, loop), nav_time)
    document = _document_name(path, query)
    if document is not None:
        return _answer(
            200,
            _pdf(path if path.startswith("/files/") else f"{path}?name={document}"),
            datetime.combine(FIRST_DAY, time(0), tzinfo=UTC),
            content_type=_DOCUMENT_TYPES[document.rsplit(".", 1)[-1]],
        )
    match = _PRINT_RE.match(path)
    if match and int(match.group(1)) in site.by_node:
        printed = site.by_node[int(match.group(1))]
        c = site.content(printed)
        return _answer(
            200, pages.static_page(site, path, c.title, c.paragraphs, base, loop), nav_time
        )
    return _answer(404, pages.error_page(site, 404, loop), nav_time)


@lru_cache(maxsize=1)
def _topic_pages() -> dict[str, str]:
    return pages.nav_pages()


def _translation_target(site: SiteModel, path: str) -> tuple[Item | None, str, str] | None:
    """``(item, language, rest)`` of an address under a language prefix (``/ru/...``) of a
    site with language versions; None for any other address."""
    if not site.language_share:
        return None
    code, _, rest = path[1:].partition("/")
    if code not in LANGUAGES or not rest:
        return None
    rest = "/" + rest
    node = _NODE_RE.match(rest)
    if node:
        item = site.by_node.get(int(node.group(1)))
    else:
        item = site.by_path.get(rest) or site.old_paths.get(rest)
    if item is None or code not in site.translations(item):
        return None, code, rest
    return item, code, rest


def _translation(
    site: SiteModel, item: Item | None, code: str, rest: str, base: str, faults: Faults
) -> Response:
    """A language version: its page, a redirect from ``/ru/node/<n>`` or a former
    address, the English item's 404/410 once it is deleted, else 404."""
    loop = faults.redirect_loop
    if item is None:
        return _answer(404, pages.error_page(site, 404, loop), _epoch_stamp(site))
    if not item.live:
        return _answer(item.status, pages.error_page(site, item.status, loop), item.changed)
    if rest != item.path:
        return _redirect(site, item.lang_path(code), base)
    etag, modified = translation_validators(site, item, code, base)
    html = pages.translation_page(site, item, code, base, loop)
    return _answer(200, html, modified, etag=etag, extra={"Content-Language": code})


def translation_validators(
    site: SiteModel, item: Item, code: str, base: str
) -> tuple[str, datetime]:
    """ETag and Last-Modified of a language version: its own revision, not the English
    item's (an edit of one language leaves every other version's validators as they were)."""
    shown = site.page_nav_version(item)
    state = (
        site.seed,
        item.node,
        item.section,
        code,
        item.lang_revs.get(code, 0),
        item.published.toordinal(),  # the node's date: one for every language
        item.markup_rev,
        site.translations(item),
        shown,
        base,
        site.day().year,
    )
    etag = 'W/"' + hashlib.blake2b(repr(state).encode(), digest_size=10).hexdigest() + '"'
    return etag, max(site.translation_changed(item, code), site.nav_changed(shown))


def item_validators(site: SiteModel, item: Item, host: str, faults: Faults) -> tuple[str, datetime]:
    """ETag and Last-Modified of a live item page, known without rendering it.

    The ETag is weak (RFC 9110): it names everything that decides the page's bytes except
    the titles of the related items it links to, so a conditional revisit is answered 304
    without rendering. Any change of content, markup, menu, address or fault changes it.
    """
    shown = site.page_nav_version(item)
    state = (
        site.seed,
        item.node,
        item.section,
        item.body_rev,
        item.title_rev,
        item.published.toordinal(),
        item.markup_rev,
        shown,
        host,
        site.day().year,
        faults.redirect_loop,
        faults.offsite_links,
        faults.grown_furniture,
        faults.decide("malformed", item.path),
        faults.decide("oversized", item.path) and faults.oversized_bytes,
        faults.decide("wrong_charset", item.path),
    ) + ((site.theme_number,) if site.theme_number else ())
    etag = 'W/"' + hashlib.blake2b(repr(state).encode(), digest_size=10).hexdigest() + '"'
    if shown > site.nav_version:  # a seed page in epoch 0 shows a menu captured later
        return etag, item.changed
    return etag, max(item.changed, site.nav_changed(shown))


def peek(
    site: SiteModel,
    target: str,
    host: str,
    faults: Faults | None = None,
) -> tuple[str, str] | None:
    """(ETag, Last-Modified) of a live item page without rendering it; None otherwise."""
    path = urlsplit(target).path.rstrip("/")
    with site.lock:
        item = site.by_path.get(path)
        if item is None or not item.live:
            return None
        etag, modified = item_validators(site, item, host, faults or NO_FAULTS)
    return etag, http_date(modified)


def _item(site: SiteModel, item: Item, path: str, base: str, host: str, faults: Faults) -> Response:
    if not item.live:
        return _answer(
            item.status, pages.error_page(site, item.status, faults.redirect_loop), item.changed
        )
    etag, modified = item_validators(site, item, host, faults)
    if site.theme is not None:
        html, _ = themed.item_page(site, site.theme, item, base, host)
    else:
        html = pages.item_page(site, item, base, host, faults.redirect_loop, faults.offsite_links)
    if faults.grown_furniture:
        html = grow_furniture(site, item, html)
    return _content_faults(site, faults, item.path, html, modified, item=True, etag=etag)


def _content_faults(
    site: SiteModel,
    faults: Faults,
    path: str,
    html: str,
    modified: datetime,
    item: bool,
    etag: str | None = None,
) -> Response:
    """Malformed markup, a wrong charset, an oversized page: same content, harder bytes."""
    extra: dict[str, str] = {}
    content_type = HTML
    if faults.decide("malformed", path):
        html = malform(html)
    if item and faults.decide("oversized", path):
        html = html.replace("</body>", oversize_block(faults.oversized_bytes) + "</body>", 1)
    if faults.decide("wrong_charset", path):
        content_type = "text/html; charset=iso-8859-1"
    return _answer(200, html, modified, content_type=content_type, extra=extra, etag=etag)


#: The line of ``Faults.grown_furniture``.
GROWN_LINE = "Sign up for our weekly newsletter and never miss an update from the field."


def grow_furniture(site: SiteModel, item: Item, html: str) -> str:
    """``html`` with :data:`GROWN_LINE` as one more paragraph after the body's last."""
    paragraphs = site.content(item).paragraphs
    if not paragraphs:
        return html
    last = f"<p>{pages.e(paragraphs[-1])}</p>"
    return html.replace(last, last + f"<p>{pages.e(GROWN_LINE)}</p>", 1)


def malform(html: str) -> str:
    """Unclosed and stray tags a browser (and lxml) recover from without losing text."""
    html = html.replace("</li>", "").replace("</p>", "").replace("</dd>", "")
    html = html.replace("</nav>\n<main", "</nav></div></span></section>\n<main", 1)
    html = html.replace("<footer", '<div class="region-footer"><b><footer', 1)
    html = html.replace("&amp;utm_", "&utm_").replace("&amp;body=", "&body=")
    html = html.replace('<html lang="en"', '<html lang="en" lang="en"', 1)
    return html


@lru_cache(maxsize=4)
def oversize_block(size: int) -> str:
    """Incompressible padding (a huge inline image) placed after every piece of content."""
    rng = random.Random(size)
    blob = base64.b64encode(rng.randbytes(size * 3 // 4)).decode("ascii")
    return f'<div hidden class="tracking"><img alt="" src="data:image/png;base64,{blob}"></div>'


_DOCUMENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def _document_name(path: str, query: dict[str, list[str]]) -> str | None:
    """The file an address serves: ``/files/…/NAME.pdf`` (or ``.docx``), or a theme's
    download address ``/file/download?name=NAME.pdf``; None for any other address."""
    if path == "/file/download":
        name = (query.get("name") or [""])[0]
    elif path.startswith("/files/"):
        name = path.rsplit("/", 1)[-1]
    else:
        return None
    return name if "." in name and name.rsplit(".", 1)[-1] in _DOCUMENT_TYPES else None


def _pdf(path: str) -> bytes:
    return (
        b"%PDF-1.4\n% replica document " + path.encode() + b"\n1 0 obj\n<< /Type /Catalog >>"
        b"\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )
