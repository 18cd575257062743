"""The reading room: a read-only ASGI view of an archive (Starlette + Jinja2).

Every page is rendered on the server and works with scripts off; the site sends no
script at all, and its Content-Security-Policy says so. Reads go through the archive's
query modules (``archive.query``, ``archive.feed``, ``archive.search``) over a
read-only engine (``web.db``). User input never reaches a page unescaped (Jinja2
autoescaping) nor a database unparsed (``archive.search.parse_query``, bound
parameters). Unknown ids and versions answer 404, bad input 400, never a traceback.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
import time
from array import array
from collections import OrderedDict
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from archive import query as archive_query
from archive import search as archive_search
from archive.errors import UnknownDocument
from archive.feed import Selection, Snapshot, read_body
from archive.schema import Change, Document, Version
from archive.texts import TextReader
from web import chart, feeds
from web.diff import FIELDS, VersionDiff, version_diff

HERE = Path(__file__).resolve().parent
PAGE_SIZES = (10, 20, 50, 100)
FEED_ENTRIES = 50
FEED_CACHE = 64  # feeds kept in memory, by ETag
#: Search results, facets, counts and the chart's months kept in memory while the archive
#: stands still (its generation: the change log's head, the last capture and run).
READ_CACHE = 512
#: Seconds a request waits for another building the same answer before building its own.
BUILD_WAIT = 30.0
#: Hits of a query kept together (as version ids and scores): the first window is small
#: (a first answer stays cheap), each later one answers this many of its next pages' rows.
#: Ranking a window past the first scores every match whatever its length (a word in all
#: 25,000 documents: 53 ms for 1,000 hits, 60 ms for 2,000), so later windows are long.
SEARCH_FIRST = archive_search.KEPT_ROWS  # what SQLite keeps of a frequent word's ranking
SEARCH_WINDOW = 2000
#: Whole answers (pages, API answers, raw captures) kept the same way, up to these sizes.
PAGE_CACHE_BYTES = 64 * 1024 * 1024
PAGE_CACHE_ONE = 2 * 1024 * 1024
MAX_ID_CHARS = 300
#: Pages of the reading room: nothing but itself, no script, no plug-in, no framing.
SITE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; frame-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'self'"
)
#: A stored raw page: nothing runs, nothing loads, nothing navigates or submits.
RAW_CSP = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; "
    "base-uri 'none'; frame-ancestors 'self'; navigate-to 'none'"
)
_DOC_PATH = re.compile(
    r"^(?P<id>.+?)(?:/v/(?P<v>[^/]+)|/h/(?P<h>[^/]+)|/(?P<diff>diff)|/(?P<feed>feed\.atom)"
    r"|/captures/(?P<cap>[^/]+)(?P<raw>/raw)?)?/?$"
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: How the "Also in" line names a language version: the language's own name (ISO 639-1).
LANGUAGE_NAMES = {
    "en": "English",
    "ru": "Русский",
    "fr": "Français",
    "de": "Deutsch",
    "it": "Italiano",
    "es": "Español",
    "uk": "Українська",
}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def reason_label(reason: str) -> str:
    """The contract's version reason: ``extraction`` for a re-read, else ``source``."""
    return "extraction" if reason == "reextracted" else "source"


class BadRequest(HTTPException):
    def __init__(self, detail: str) -> None:
        super().__init__(400, detail)


class NotFound(HTTPException):
    def __init__(self, detail: str = "no such document or version") -> None:
        super().__init__(404, detail)


@dataclass
class Reading:
    """One request's consistent read of the archive; ``texts`` reads versions' texts
    (stored compressed: ``archive.texts``)."""

    conn: Connection
    session: Session
    texts: TextReader


class ReadingRoom:
    def __init__(self, engine: Engine, *, title: str = "OSCE newsroom archive") -> None:
        self.engine = engine
        self.title = title
        self.env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(["html", "xml"], default=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["marked"] = marked
        self.env.filters["q"] = lambda s: quote(str(s), safe="/:")
        self.env.globals["reason_label"] = reason_label
        self.env.globals["site_title"] = title
        self._reads: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._reads_generation: tuple[Any, ...] | None = None
        self._reads_lock = threading.Lock()
        # What is being built now, by generation and key: a second request for the same
        # waits for the first one's answer instead of computing it again.
        self._building: dict[tuple[Any, ...], Future[Any]] = {}
        self._page_bytes = 0
        self._feed_cache: OrderedDict[str, bytes] = OrderedDict()
        self._feed_lock = threading.Lock()

    # ------------------------------------------------------------------ plumbing

    def read(self) -> Any:
        room = self

        class _Read:
            def __enter__(self) -> Reading:
                self.conn = room.engine.connect()
                if room.engine.dialect.name == "postgresql":
                    self.conn = self.conn.execution_options(isolation_level="REPEATABLE READ")
                self.conn.begin()
                self.session = Session(bind=self.conn)
                return Reading(self.conn, self.session, TextReader(self.session))

            def __exit__(self, *exc: object) -> None:
                self.session.close()
                self.conn.rollback()
                self.conn.close()

        return _Read()

    def page(self, request: Request, template: str, status: int = 200, **context: Any) -> Response:
        html = self.env.get_template(template).render(request=request, **context)
        return HTMLResponse(html, status_code=status)

    def cached(self, r: Reading, key: tuple[Any, ...], build: Any) -> Any:
        """``build()``'s answer, kept while the archive's generation stays the same.

        A crawl that commits anything moves the generation (a new change-log entry,
        capture or run), which empties the cache on the next request; readers never see
        an answer older than the transaction they read in.

        Requests that miss the same key at once build it once: the first builds, the
        others wait for its answer (the pages of a query share its window of hits, and
        readers page a common query together). A waiter builds its own answer when the
        first fails or takes longer than :data:`BUILD_WAIT`, as it would have alone."""
        generation = archive_search.generation(r.conn)
        building = (generation, key)
        with self._reads_lock:
            self._follow(generation)
            if key in self._reads:
                self._reads.move_to_end(key)
                return self._reads[key]
            pending = self._building.get(building)
            if pending is None:
                mine: Future[Any] = Future()
                self._building[building] = mine
        if pending is not None:
            try:
                return pending.result(timeout=BUILD_WAIT)
            except Exception:  # noqa: BLE001 - failed or slow: build it as if alone
                return build()
        try:
            value = build()
        except BaseException as exc:
            mine.set_exception(exc)
            raise
        else:
            mine.set_result(value)
            with self._reads_lock:
                if generation == self._reads_generation:
                    self._reads[key] = value
                    while len(self._reads) > READ_CACHE:
                        self._reads.popitem(last=False)
        finally:
            with self._reads_lock:
                self._building.pop(building, None)
        return value

    def kept(self, r: Reading, key: tuple[Any, ...]) -> Any:
        """What :meth:`cached` keeps under ``key`` for this generation, or ``None``."""
        generation = archive_search.generation(r.conn)
        with self._reads_lock:
            self._follow(generation)
            return self._reads.get(key)

    def _follow(self, generation: tuple[Any, ...]) -> None:
        """Forget everything kept when the archive moved on (call with the lock held)."""
        if generation != self._reads_generation:
            self._reads.clear()
            self._reads_generation = generation
            self._page_bytes = 0

    def whole(self, handler: Any) -> Any:
        """``handler`` answering from memory when the same address was answered while the
        archive stood still (the generation of :meth:`cached`): an archive changes once a
        day and is read many times in between. Conditional requests (feeds) and
        redirects are never kept; a response is kept with its headers (a raw capture keeps
        its sandbox)."""

        def answer(request: Request) -> Response:
            if "if-none-match" in request.headers or "if-modified-since" in request.headers:
                return handler(request)  # type: ignore[no-any-return]
            key = ("page", request.headers.get("host"), request.url.path, request.url.query)
            with self.read() as r:
                generation = archive_search.generation(r.conn)
            with self._reads_lock:
                self._follow(generation)
                kept = self._reads.get(key)
            if kept is not None:
                body, status, headers = kept
                return Response(body, status_code=status, headers=headers)
            response: Response = handler(request)
            body = getattr(response, "body", None)
            if response.status_code >= 300 and response.status_code not in (400, 404):
                return response
            if not isinstance(body, bytes) or len(body) > PAGE_CACHE_ONE:
                return response
            with self._reads_lock:
                if generation == self._reads_generation and key not in self._reads:
                    self._reads[key] = (body, response.status_code, dict(response.headers))
                    self._page_bytes += len(body)
                    while self._page_bytes > PAGE_CACHE_BYTES or len(self._reads) > READ_CACHE:
                        _, old = self._reads.popitem(last=False)
                        if isinstance(old, tuple) and len(old) == 3:
                            self._page_bytes -= len(old[0])
            return response

        return answer

    def facets(self, r: Reading) -> dict[str, list[str]]:
        return self.cached(r, ("facets",), lambda: archive_search.facets(r.conn))

    # ------------------------------------------------------------------ routes

    def home(self, request: Request) -> Response:
        with self.read() as r:
            counts = self.cached(r, ("counts",), lambda: archive_search.counts(r.conn))
            months = self.cached(r, ("months",), lambda: archive_search.per_month(r.conn))
            facets = self.facets(r)
        svg = chart.bar_chart(
            {"items": months["items"], "changes": months["changes"]},
            {"items": "Items published", "changes": "Changes archived"},
        )
        table = sorted(set(months["items"]) | set(months["changes"]), reverse=True)[:24]
        return self.page(
            request,
            "home.html",
            counts=counts,
            chart=Markup(svg),
            months=months,
            table=table,
            facets=facets,
        )

    def _search_args(self, request: Request) -> dict[str, Any]:
        p = request.query_params
        for key, value in p.multi_items():
            if _CONTROL.search(value) and key != "q":
                raise BadRequest(f"control characters are not allowed in {key!r}")
        q = _CONTROL.sub(" ", p.get("q", ""))
        sort = p.get("sort", "relevance")
        if sort not in archive_search.SORTS:
            raise BadRequest(f"sort must be one of {', '.join(archive_search.SORTS)}")
        page = _int(p.get("page", "1"), "page", 1, 10_000)
        size = _int(p.get("size", "20"), "size", 1, archive_search.MAX_PAGE_SIZE)
        dates = {}
        for key in ("from", "to"):
            value = p.get(key, "").strip()
            if value and not _valid_date(value):
                raise BadRequest(f"{key} must be a date as YYYY-MM-DD")
            dates[key] = value or None
        since_raw = p.get("since", "").strip()
        since = None
        if since_raw:
            if not _valid_date(since_raw[:10]):
                raise BadRequest("since must be a date (YYYY-MM-DD) or an ISO time")
            try:
                since = datetime.fromisoformat(since_raw)
            except ValueError as exc:
                raise BadRequest("since must be a date (YYYY-MM-DD) or an ISO time") from exc
            if since.tzinfo is None:
                since = since.replace(tzinfo=timezone.utc)
        text_filters = {}
        for key in ("kind", "source", "place", "field"):
            value = p.get(key, "").strip()
            if len(value) > 300:
                raise BadRequest(f"{key} is too long")
            text_filters[key] = value or None
        filters = archive_search.Filters(
            kind=text_filters["kind"],
            source=text_filters["source"],
            place=text_filters["place"],
            field=text_filters["field"],
            date_from=dates["from"],
            date_to=dates["to"],
            changed_since=since,
            all_versions=p.get("versions") in ("all", "1", "on"),
        )
        return {"q": q, "filters": filters, "sort": sort, "page": page, "size": size}

    def _run_search(self, r: Reading, args: dict[str, Any]) -> archive_search.Results:
        key = ("search", args["q"], args["filters"], args["sort"], args["page"], args["size"])
        try:
            return self.cached(r, key, lambda: self._search(r, args))  # type: ignore[no-any-return]
        except archive_search.QueryError as exc:
            raise BadRequest(f"cannot search for that: {exc}") from exc

    def _search(self, r: Reading, args: dict[str, Any]) -> archive_search.Results:
        """One page of results, cut from a window of :data:`SEARCH_WINDOW` hits kept for
        the query as version ids and scores (a :class:`Window`), as search engines keep a
        query's ranking:
        the next pages of a query are its rows read by id, the ranking and the count
        done once."""
        q, filters, sort, size = args["q"], args["filters"], args["sort"], args["size"]
        offset = (args["page"] - 1) * size
        start, span = search_window(offset, offset + size)
        count_key = ("count", q, filters)
        total = self.kept(r, count_key)

        def rank() -> tuple[Window, int | None]:
            ranked, complete = archive_search.ranking(
                r.conn, q, filters, sort=sort, offset=start, limit=span, counted=total is None
            )
            return Window(ranked), complete

        window, complete = self.cached(r, ("window", q, filters, sort, start, span), rank)
        if complete is None and total is None:
            total = archive_search.count(r.conn, q, filters)
        total = complete if complete is not None else total
        self.cached(r, count_key, lambda: total)
        page = window.cut(offset - start, offset - start + size)
        hits = archive_search.hits_of(r.conn, page)
        archive_search.add_snippets(r.conn, q, hits)
        return archive_search.Results(total=total, hits=hits, page=args["page"], size=size)

    def search_page(self, request: Request) -> Response:
        try:
            args = self._search_args(request)
        except BadRequest as exc:
            with self.read() as r:
                facets = self.facets(r)
            return self.page(
                request,
                "search.html",
                400,
                error=exc.detail,
                args=None,
                facets=facets,
                raw=request.query_params,
            )
        with self.read() as r:
            facets = self.facets(r)
            try:
                results = self._run_search(r, args)
            except BadRequest as exc:
                return self.page(
                    request,
                    "search.html",
                    400,
                    error=exc.detail,
                    args=args,
                    facets=facets,
                    raw=request.query_params,
                )
        params = {k: v for k, v in request.query_params.items() if k != "page"}
        return self.page(
            request,
            "search.html",
            args=args,
            results=results,
            facets=facets,
            raw=request.query_params,
            page_link=lambda n: "/search?" + urlencode({**params, "page": n}),
            feed_link="/search.atom?" + urlencode(params),
        )

    def api_search(self, request: Request) -> Response:
        args = self._search_args(request)
        with self.read() as r:
            results = self._run_search(r, args)
        return JSONResponse(
            {
                "query": args["q"],
                "total": results.total,
                "page": results.page,
                "size": results.size,
                "pages": results.pages,
                "results": [h.to_json() for h in results.hits],
            }
        )

    # -- documents

    def _document(self, r: Reading, document_id: str) -> Document:
        if len(document_id) > MAX_ID_CHARS or _CONTROL.search(document_id):
            raise NotFound()
        document = r.session.get(Document, document_id)
        if document is None or document.current_version == 0:
            raise NotFound(f"no document {document_id!r} in this archive")
        return document

    def _version(self, r: Reading, document_id: str, number: str | int) -> Version:
        if isinstance(number, str):
            if not number.isdigit() or len(number) > 9:
                raise NotFound(f"no version {number!r} of {document_id}")
            number = int(number)
        version = r.session.scalar(
            select(Version).where(Version.document_id == document_id, Version.number == number)
        )
        if version is None:
            raise NotFound(f"no version {number} of {document_id}")
        return r.texts.load([version])[0]

    def doc_dispatch(self, request: Request) -> Response:
        rest = request.path_params["rest"]
        match = _DOC_PATH.match(rest)
        if not match:
            raise NotFound()
        doc_id = match.group("id")
        if match.group("v"):
            return self.version_page(request, doc_id, match.group("v"))
        if match.group("h"):
            return self.hash_page(request, doc_id, match.group("h"))
        if match.group("diff"):
            return self.diff_page(request, doc_id)
        if match.group("feed"):
            return self.doc_feed(request, doc_id)
        if match.group("cap"):
            return self.capture(request, doc_id, match.group("cap"), bool(match.group("raw")))
        return self.doc_page(request, doc_id)

    def _redirect_node(self, r: Reading, doc_id: str, suffix: str = "") -> Response | None:
        """``/doc/55436`` and ``/doc/<address>`` lead to the document's permalink."""
        if r.session.get(Document, doc_id) is not None:
            return None
        try:
            found = archive_query.resolve(r.session, doc_id)
        except (UnknownDocument, ValueError):
            return None
        except Exception:  # noqa: BLE001 - a hostile address is simply not found
            return None
        if found is None:  # nothing by that id, node number or address
            return None
        return RedirectResponse(f"/doc/{quote(found, safe='/')}{suffix}", status_code=301)

    def _doc_context(self, r: Reading, doc_id: str) -> dict[str, Any]:
        document = self._document(r, doc_id)
        history = archive_query.history(r.session, doc_id)
        snap = Snapshot(r.conn)
        record = next(iter(snap.records(Selection(), only=doc_id)), None)
        versions = r.texts.load(
            r.session.scalars(
                select(Version).where(Version.document_id == doc_id).order_by(Version.number)
            )
        )
        duplicates = r.session.scalars(
            select(Document.id).where(Document.duplicate_of == doc_id).order_by(Document.id)
        ).all()
        captures = archive_search.captures_of(r.conn, doc_id)
        also_in = self._language_versions(r, record["language_versions"] if record else [])
        by_version: dict[int, list[archive_search.CaptureInfo]] = {}
        number_of = {v.id: v.number for v in versions}
        for c in captures:
            if c.version_id in number_of:
                by_version.setdefault(number_of[c.version_id], []).append(c)
        linked = [link["id"] for link in (record or {}).get("reports_on", [])]
        linked += (record or {}).get("reported_by", [])
        return {
            "document": document,
            "history": history,
            "record": record,
            "linked_titles": archive_query.current_titles(r.conn, linked),
            "versions": versions,
            "duplicates": duplicates,
            "also_in": also_in,
            "captures": captures,
            "captures_by_version": by_version,
        }

    @staticmethod
    def _language_versions(r: Reading, ids: list[str]) -> list[tuple[str, str, str]]:
        """``(id, name, code)`` of each language version, named by its current version's
        language in that language (the code when no name is known), in ``ids``' order."""
        if not ids:
            return []
        rows = r.session.execute(
            select(Version.document_id, Version.language)
            .join(
                Document,
                (Document.id == Version.document_id) & (Version.number == Document.current_version),
            )
            .where(Version.document_id.in_(ids))
        )
        language = {str(doc): lang for doc, lang in rows}
        out = []
        for doc in ids:
            code = language.get(doc) or ""
            out.append((doc, LANGUAGE_NAMES.get(code, code or doc), code))
        return out

    def doc_page(self, request: Request, doc_id: str) -> Response:
        with self.read() as r:
            redirect = self._redirect_node(r, doc_id)
            if redirect:
                return redirect
            ctx = self._doc_context(r, doc_id)
        current = ctx["versions"][-1]
        return self.page(request, "doc.html", version=current, **ctx)

    def version_page(self, request: Request, doc_id: str, number: str) -> Response:
        with self.read() as r:
            redirect = self._redirect_node(r, doc_id, f"/v/{number}")
            if redirect:
                return redirect
            ctx = self._doc_context(r, doc_id)
            version = self._version(r, doc_id, number)
        return self.page(request, "doc.html", version=version, single=True, **ctx)

    def hash_page(self, request: Request, doc_id: str, content_hash: str) -> Response:
        with self.read() as r:
            self._document(r, doc_id)
            if not re.fullmatch(r"sha256:[0-9a-f]{64}", content_hash):
                raise NotFound("a content hash looks like sha256:<64 hex digits>")
            version = r.session.scalar(
                select(Version)
                .where(Version.document_id == doc_id, Version.content_hash == content_hash)
                .order_by(Version.number)
                .limit(1)
            )
            if version is None:
                raise NotFound(f"no version of {doc_id} has content {content_hash}")
            r.texts.load([version])
            ctx = self._doc_context(r, doc_id)
        return self.page(request, "doc.html", version=version, single=True, **ctx)

    def _diff(self, r: Reading, doc_id: str, request: Request) -> tuple[VersionDiff, Any, Any]:
        document = self._document(r, doc_id)
        p = request.query_params
        b = p.get("b") or str(document.current_version)
        a = p.get("a") or str(max(1, int(b) - 1 if b.isdigit() else 1))
        va, vb = self._version(r, doc_id, a), self._version(r, doc_id, b)
        old = archive_query.version_record(va, doc_id)
        new = archive_query.version_record(vb, doc_id)
        return version_diff(va.number, old, vb.number, new), va, vb

    def diff_page(self, request: Request, doc_id: str) -> Response:
        mode = request.query_params.get("mode", "inline")
        if mode not in ("inline", "side", "changes"):
            raise BadRequest("mode must be inline, side or changes")
        with self.read() as r:
            diff, va, vb = self._diff(r, doc_id, request)
            document = self._document(r, doc_id)
            versions = r.session.scalars(
                select(Version.number).where(Version.document_id == doc_id).order_by(Version.number)
            ).all()
        return self.page(
            request,
            "diff.html",
            document=document,
            diff=diff,
            va=va,
            vb=vb,
            mode=mode,
            numbers=versions,
            fields=FIELDS,
        )

    def api_doc(self, request: Request) -> Response:
        rest = request.path_params["rest"]
        for suffix, handler in (("/versions", self._api_versions), ("/diff", self._api_diff)):
            if rest.endswith(suffix):
                return handler(request, rest[: -len(suffix)])
        with self.read() as r:
            self._document(r, rest)
            record = next(iter(Snapshot(r.conn).records(Selection(), only=rest)), None)
        if record is None:
            raise NotFound()
        return JSONResponse(record)

    def _api_versions(self, request: Request, doc_id: str) -> Response:
        with self.read() as r:
            self._document(r, doc_id)
            records = Snapshot(r.conn).history(doc_id)
            versions = r.session.scalars(
                select(Version).where(Version.document_id == doc_id).order_by(Version.number)
            ).all()
        meta = {v.number: v for v in versions}
        return JSONResponse(
            {
                "id": doc_id,
                "versions": [
                    {
                        "version": rec["version"],
                        "first_seen": meta[rec["version"]].first_seen.isoformat(),
                        "last_seen": meta[rec["version"]].last_seen.isoformat(),
                        "reason": reason_label(meta[rec["version"]].reason),
                        "permalink": f"/doc/{doc_id}/v/{rec['version']}",
                        "record": rec,
                    }
                    for rec in records
                ],
            }
        )

    def _api_diff(self, request: Request, doc_id: str) -> Response:
        with self.read() as r:
            diff, _, _ = self._diff(r, doc_id, request)
        return JSONResponse({"id": doc_id, **diff.to_json()})

    def api_diff(self, request: Request) -> Response:
        doc_id = request.query_params.get("id", "")
        if not doc_id:
            raise BadRequest("id is required: /api/diff?id=ID&a=N&b=M")
        return self._api_diff(request, doc_id)

    # -- raw captures

    def capture(self, request: Request, doc_id: str, cap: str, raw: bool) -> Response:
        if not cap.isdigit() or len(cap) > 12:
            raise NotFound("no such capture")
        with self.read() as r:
            document = self._document(r, doc_id)
            info = archive_search.capture_of(r.conn, doc_id, int(cap))
            if info is None:
                raise NotFound(f"no capture {cap} of {doc_id}")
            body = read_body(r.conn, info.body_sha256) if (raw and info.body_sha256) else None
        if not raw:
            return self.page(request, "capture.html", document=document, capture=info)
        if body is None:
            raise NotFound("this capture kept no body")
        return Response(
            body,
            media_type=_replay_type(info.content_type),
            headers={
                "Content-Security-Policy": RAW_CSP,
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
                "Cross-Origin-Resource-Policy": "same-origin",
                "Cross-Origin-Opener-Policy": "same-origin",
                "X-Frame-Options": "SAMEORIGIN",
                "Cache-Control": "private, max-age=3600",
            },
        )

    # -- feeds

    def _conditional(self, request: Request, tag_source: str, build: Any) -> Response:
        etag = '"' + hashlib.sha256(tag_source.encode()).hexdigest()[:32] + '"'
        wanted = request.headers.get("if-none-match", "")
        if wanted and (
            wanted.strip() == "*"
            or etag in [t.strip().removeprefix("W/") for t in wanted.split(",")]
        ):
            return Response(status_code=304, headers={"ETag": etag})
        # A feed's bytes depend only on its key (which carries the change-log head), so
        # they are kept until the archive changes: readers poll, the archive rarely moves.
        body = self._feed_cache.get(etag)
        if body is None:
            with self._feed_lock:  # one build at a time: the readers who wait get its bytes
                body = self._feed_cache.get(etag)
                if body is None:
                    body = build()
                    self._feed_cache[etag] = body
                    while len(self._feed_cache) > FEED_CACHE:
                        self._feed_cache.popitem(last=False)
        return Response(
            body,
            media_type="application/atom+xml; charset=utf-8",
            headers={"ETag": etag, "Cache-Control": "no-cache"},
        )

    def _entry(
        self, r: Reading, base: str, doc_id: str, number: int, kind: str, at: datetime
    ) -> feeds.Entry:
        version = self._version(r, doc_id, number)
        link = f"{base}/doc/{quote(doc_id, safe='/')}/v/{number}"
        if number > 1 and kind != "deleted":
            previous = self._version(r, doc_id, number - 1)
            diff = version_diff(
                number - 1,
                archive_query.version_record(previous, doc_id),
                number,
                archive_query.version_record(version, doc_id),
            )
            summary = f"version {number}: {diff.summary()}"
            html = self.env.get_template("_diff_feed.html").render(diff=diff)
        else:
            summary = {"deleted": "removed from the source", "created": "first archived"}.get(
                kind, f"version {number}"
            )
            html = self.env.get_template("_text.html").render(version=version)
        if kind == "deleted":
            summary = "removed from the source (its versions are kept)"
        return feeds.Entry(
            id=f"{link}#{kind}-{int(at.timestamp())}" if kind == "deleted" else link,
            title=version.title,
            updated=at,
            link=link,
            summary=summary,
            content_html=html,
        )

    def feed(self, request: Request) -> Response:
        base = _base(request)
        with self.read() as r:
            head = archive_query.head(r.session)

            def build() -> bytes:
                rows = r.session.execute(
                    select(Change.document_id, Change.kind, Change.version, Change.at)
                    .where(Change.kind.in_(("created", "changed", "returned", "deleted")))
                    .order_by(Change.seq.desc())
                    .limit(FEED_ENTRIES)
                ).all()
                entries = [
                    self._entry(r, base, d, v or _current(r, d), k, at) for d, k, v, at in rows
                ]
                return feeds.atom(
                    feed_id=f"{base}/feed.atom",
                    title=f"{self.title}: all changes",
                    self_url=f"{base}/feed.atom",
                    alternate=f"{base}/",
                    entries=entries,
                )

            return self._conditional(request, f"all|{head}", build)

    def doc_feed(self, request: Request, doc_id: str) -> Response:
        base = _base(request)
        with self.read() as r:
            document = self._document(r, doc_id)
            head = archive_query.head(r.session)

            def build() -> bytes:
                versions = r.session.scalars(
                    select(Version)
                    .where(Version.document_id == doc_id)
                    .order_by(Version.number.desc())
                    .limit(FEED_ENTRIES)
                ).all()
                entries = [
                    self._entry(r, base, doc_id, v.number, "changed", v.first_seen)
                    for v in versions
                ]
                if document.deleted and document.deleted_at:
                    entries.insert(
                        0,
                        self._entry(
                            r,
                            base,
                            doc_id,
                            document.current_version,
                            "deleted",
                            document.deleted_at,
                        ),
                    )
                page = f"{base}/doc/{quote(doc_id, safe='/')}"
                return feeds.atom(
                    feed_id=f"{page}/feed.atom",
                    # The newest version's title: each entry read its version's text.
                    title=f"{self.title}: {entries[0].title if entries else doc_id}",
                    self_url=f"{page}/feed.atom",
                    alternate=page,
                    entries=entries,
                )

            return self._conditional(request, f"doc|{doc_id}|{head}", build)

    def search_feed(self, request: Request) -> Response:
        base = _base(request)
        args = self._search_args(request)
        args["filters"] = archive_search.Filters(
            **{**args["filters"].__dict__, "all_versions": True}
        )
        with self.read() as r:
            head = archive_query.head(r.session)
            results = self._run_search(r, {**args, "sort": "seen", "page": 1, "size": FEED_ENTRIES})
            query_string = urlencode(sorted(request.query_params.items()))

            def build() -> bytes:
                entries = []
                for hit in results.hits:
                    version = self._version(r, hit.document_id, hit.version)
                    entries.append(
                        self._entry(
                            r, base, hit.document_id, hit.version, "changed", version.first_seen
                        )
                    )
                return feeds.atom(
                    feed_id=f"{base}/search.atom?{query_string}",
                    title=f"{self.title}: search {args['q']!r}",
                    self_url=f"{base}/search.atom?{query_string}",
                    alternate=f"{base}/search?{query_string}",
                    entries=entries,
                )

            return self._conditional(request, f"search|{query_string}|{head}", build)

    def api_index(self, request: Request) -> Response:
        return self.page(request, "api.html")


def _current(r: Reading, doc_id: str) -> int:
    return int(
        r.session.scalar(select(func.max(Version.number)).where(Version.document_id == doc_id)) or 1
    )


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _int(value: str, name: str, low: int, high: int) -> int:
    if not value.strip().isdigit() or len(value.strip()) > 9:
        raise BadRequest(f"{name} must be a whole number from {low} to {high}")
    n = int(value)
    if not low <= n <= high:
        raise BadRequest(f"{name} must be a whole number from {low} to {high}")
    return n


def _valid_date(value: str) -> bool:
    if not _DATE.match(value):
        return False
    try:
        datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        return False
    return True


def _replay_type(content_type: str | None) -> str:
    """Stored pages replay as what they were, but only as inert text or HTML."""
    base = (content_type or "text/html").split(";")[0].strip().lower()
    charset = ""
    declared = (content_type or "").lower()
    if "charset=" in declared:
        charset = "; charset=" + re.sub(r"[^A-Za-z0-9_-]", "", declared.split("charset=")[1][:30])
    if base in ("text/html", "application/xhtml+xml"):
        return "text/html" + charset
    return "text/plain" + charset


def marked(value: str) -> Markup:
    """A snippet with the search's highlight marks as ``<mark>``, all else escaped."""
    escaped = str(escape(value or ""))
    return Markup(
        escaped.replace(archive_search.HIGHLIGHT_START, "<mark>").replace(
            archive_search.HIGHLIGHT_END, "</mark>"
        )
    )


class SecurityHeaders(BaseHTTPMiddleware):
    """The headers the application's answers carry (all but the bare page of an
    unexpected error, answered outside it): their security policy, and
    ``Server-Timing`` with the milliseconds the server spent on the answer (from the
    request's arrival in the application to its answer, waits for a worker thread
    included), so that a client can tell the server's time from its own and the
    network's waits."""

    async def dispatch(self, request: Request, call_next: Any) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
        response.headers.setdefault("Content-Security-Policy", SITE_CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        return response


class Window:
    """A query's window of hits as kept in memory: version ids and scores in two flat
    arrays (16 bytes a hit, where a list of (id, score) pairs takes about 120), NaN
    standing for no score (date order)."""

    __slots__ = ("ids", "scores")

    def __init__(self, ranked: list[tuple[int, float | None]]) -> None:
        self.ids = array("q", (vid for vid, _ in ranked))
        self.scores = array("d", (math.nan if score is None else score for _, score in ranked))

    def cut(self, begin: int, end: int) -> list[tuple[int, float | None]]:
        """Hits ``begin`` to ``end`` of the window, as :func:`archive.search.ranking`
        gave them."""
        return [
            (vid, None if math.isnan(score) else score)
            for vid, score in zip(self.ids[begin:end], self.scores[begin:end], strict=True)
        ]


def search_window(begin: int, end: int) -> tuple[int, int]:
    """The kept window (start, length) holding hits ``begin`` to ``end``: the first
    :data:`SEARCH_FIRST` hits, then windows of :data:`SEARCH_WINDOW`, as many whole ones
    as the page needs."""
    first, step = SEARCH_FIRST, SEARCH_WINDOW
    start = 0 if begin < first else first + (begin - first) // step * step
    span = first if start == 0 else 0
    while start + span < end:
        span += step
    return start, span


def create_app(engine: Engine, *, title: str = "OSCE newsroom archive") -> Starlette:
    room = ReadingRoom(engine, title=title)

    async def http_error(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        detail = getattr(exc, "detail", "") or "error"
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": detail, "status": status}, status_code=status)
        if status == 304:
            return Response(status_code=304)
        return room.page(request, "error.html", status, code=status, detail=detail)

    async def server_error(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": "internal error", "status": 500}, status_code=500)
        return HTMLResponse(
            "<!doctype html><title>Error</title><h1>Something went wrong</h1>", status_code=500
        )

    whole = room.whole
    routes = [
        Route("/", whole(room.home)),
        Route("/search", whole(room.search_page)),
        Route("/search.atom", room.search_feed),
        Route("/feed.atom", room.feed),
        Route("/doc/{rest:path}", whole(room.doc_dispatch)),
        Route("/api", room.api_index),
        Route("/api/search", whole(room.api_search)),
        Route("/api/diff", whole(room.api_diff)),
        Route("/api/doc/{rest:path}", whole(room.api_doc)),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={HTTPException: http_error, 500: server_error, Exception: server_error},
    )
    app.state.room = room
    return app
