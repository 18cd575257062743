"""A hostile copy of the site: the replica's pages plus what a bad day brings.

The replica (``replica/``) serves a well-behaved site with switchable, *recoverable*
faults. The reliability tests also need answers that never recover and answers meant
to hurt: a gzip bomb, binary bytes sent as HTML, a page nested fifty thousand deep,
pages far over the size limit, a redirect loop on an item address, a redirect to
another host, sitemap entries on other hosts and on robots-forbidden paths. This
module serves them over loopback, in front of a replica ``Site`` (pages rendered by
``replica.routes.render``, so everything else is the replica's own), without touching
the replica's code.

``HostileServer.overlay[path] = kind`` switches a fault on for one path at run time
(``del`` switches it off again, and the replica's page comes back); ``pages[path] =
body`` serves fixed bytes as a 200 HTML page (fuzzed pages); ``extra_sitemap``
adds addresses to the first sitemap file so the crawl discovers them; ``robots_extra``
adds ``Disallow`` lines. ``log`` records every request as the server saw it.

``OtherHost`` is the "somewhere else" of the bounds tests: a server that answers
everything and logs it, so a test can show the crawl never asked it anything.
"""

from __future__ import annotations

import random
import socket
import struct
import threading
import time
import zlib
from dataclasses import dataclass
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from replica import Faults, Site
from replica.routes import render

#: Every overlay kind (what ``HostileServer.overlay`` values may be).
KINDS = (
    "503",  # 503 with Retry-After: 0, every attempt
    "reset",  # the connection is reset before any answer
    "truncate",  # a Content-Length the body never reaches, then close
    "hang",  # no answer for ``hang_seconds`` (past the crawl's DOWNLOAD_TIMEOUT)
    "bomb",  # a small gzip body that inflates to ``bomb_bytes`` of zeros
    "binary",  # random bytes as text/html; charset=utf-8
    "nested",  # a real item page wrapped in ``nest_depth`` <div>s
    "huge-declared",  # Content-Length of ``huge_bytes``, streamed until the client leaves
    "huge-streamed",  # no Content-Length, ``huge_bytes`` streamed until the client leaves
    "loop",  # 302 to the path with a "-" appended/removed: two addresses forever
    "offsite",  # 301 to the same path on ``other_base``
)

BOMB_BYTES = 2 * 1024**3
HUGE_BYTES = 200 * 1024**2


@dataclass(frozen=True)
class Hit:
    """One request as the hostile server saw it."""

    path: str
    host: str
    status: int  # 0: no answer (reset, or the client left)
    kind: str | None  # the overlay that answered, if any
    time: float


@lru_cache(maxsize=2)
def gzip_bomb(inflated: int = BOMB_BYTES) -> bytes:
    """A valid gzip member of ``inflated`` zero bytes in about ``inflated / 1000`` bytes.

    One MiB of zeros deflates to the same ~1 KB after a full flush every time, so the
    member is that block repeated, a final block, and the real CRC-32 and size."""
    chunk = bytes(1 << 20)
    count = max(1, inflated >> 20)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    tail = c.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(chunk, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = struct.pack("<II", crc & 0xFFFFFFFF, (count << 20) & 0xFFFFFFFF)
    return header + block * count + tail + trailer


def binary_junk(size: int = 300_000, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(size)


def nested_page(page: bytes, depth: int) -> bytes:
    """``page`` with its <body> content inside ``depth`` nested <div>s (unclosed: a
    parser must cope with the depth however it ends)."""
    head, sep, rest = page.partition(b"<body")
    if not sep:
        return b"<div>" * depth + page
    open_end = rest.index(b">") + 1
    return head + sep + rest[:open_end] + b"<div>" * depth + rest[open_end:]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Apache"
    sys_version = ""
    timeout = 30
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        self.server.owner.handle(self)

    def send_all(
        self,
        status: int,
        headers: dict[str, str],
        body: bytes,
        *,
        length: int | None = None,
        close: bool = False,
    ) -> None:
        lines = [
            f"HTTP/1.1 {status} {self.responses.get(status, ('?',))[0]}",
            f"Date: {self.date_time_string()}",
            "Server: Apache",
        ]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines.append(f"Content-Length: {len(body) if length is None else length}")
        if close:
            lines.append("Connection: close")
            self.close_connection = True
        try:
            self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], owner: Any) -> None:
        self.owner = owner
        super().__init__(address, _Handler)


class _Base:
    """Start/stop and the request log, shared by both servers."""

    def __init__(self, host: str) -> None:
        self.log: list[Hit] = []
        self._lock = threading.Lock()
        self._httpd = _Server((host, 0), self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> Any:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def record(self, handler: _Handler, status: int, kind: str | None) -> None:
        with self._lock:
            self.log.append(
                Hit(handler.path, handler.headers.get("Host", ""), status, kind, time.time())
            )

    def handle(self, handler: _Handler) -> None:
        raise NotImplementedError


class OtherHost(_Base):
    """Another host on loopback: answers 200 to everything and logs it."""

    def __init__(self) -> None:
        try:  # a different address as well as a different port, when the system allows
            super().__init__("127.0.0.2")
        except OSError:
            super().__init__("127.0.0.1")

    def handle(self, handler: _Handler) -> None:
        self.record(handler, 200, None)
        handler.send_all(
            200,
            {"Content-Type": "text/html; charset=utf-8"},
            b"<html><body><h1>Somewhere else</h1></body></html>",
        )


class HostileServer(_Base):
    """A replica ``Site`` behind per-path hostile overlays (see the module docstring)."""

    def __init__(
        self,
        site: Site,
        faults: Faults | None = None,
        *,
        other_base: str = "http://127.0.0.2:9",
        hang_seconds: float = 4.0,
        bomb_bytes: int = BOMB_BYTES,
        huge_bytes: int = HUGE_BYTES,
        nest_depth: int = 50_000,
    ) -> None:
        super().__init__("127.0.0.1")
        self.site = site
        self.faults = faults or Faults()
        self.overlay: dict[str, str] = {}
        #: Fixed bodies served as 200 text/html at made-up paths (fuzzed pages).
        self.pages: dict[str, bytes] = {}
        self.extra_sitemap: list[str] = []
        self.extra_sitemap_files: list[str] = []
        self.robots_extra: list[str] = []
        self.other_base = other_base
        self.hang_seconds = hang_seconds
        self.bomb_bytes = bomb_bytes
        self.huge_bytes = huge_bytes
        self.nest_depth = nest_depth
        #: Bytes of the last answer to each path (what the crawl was given).
        self.sent_sizes: dict[str, int] = {}

    def hits(self, prefix: str) -> list[Hit]:
        with self._lock:
            return [h for h in self.log if h.path.startswith(prefix)]

    # -- serving ---------------------------------------------------------------------------

    def handle(self, handler: _Handler) -> None:
        target = handler.path
        path = target.split("?", 1)[0]
        fixed = self.pages.get(path)
        if fixed is not None:
            self.record(handler, 200, "page")
            handler.send_all(200, {"Content-Type": "text/html; charset=utf-8"}, fixed)
            return
        kind = self.overlay.get(path)
        if kind is not None:
            self._hostile(handler, path, kind)
            return
        host = handler.headers.get("Host") or self.url.removeprefix("http://")
        status, headers, body = render(self.site, target, host, self.faults)
        injected = self._inject(target, body)
        if injected != body:  # the replica's validators describe the replica's bytes
            headers = {k: v for k, v in headers.items() if k not in ("ETag", "Last-Modified")}
        body = injected
        self.record(handler, status, None)
        handler.send_all(status, headers, body)

    def _inject(self, target: str, body: bytes) -> bytes:
        base = self.url
        if target == "/robots.txt" and self.robots_extra:
            lines = "".join(f"Disallow: {p}\n" for p in self.robots_extra)
            return body.replace(b"User-agent: *\n", b"User-agent: *\n" + lines.encode(), 1)
        if target == "/sitemap.xml" and self.extra_sitemap_files:
            extra = "".join(f"<sitemap><loc>{u}</loc></sitemap>" for u in self.extra_sitemap_files)
            return body.replace(b"</sitemapindex>", extra.encode() + b"</sitemapindex>", 1)
        if target == "/sitemap.xml?page=1" and self.extra_sitemap:
            extra = "".join(
                f"<url><loc>{u if u.startswith('http') else base + u}</loc></url>"
                for u in self.extra_sitemap
            )
            return body.replace(b"</urlset>", extra.encode() + b"</urlset>", 1)
        return body

    def _hostile(self, h: _Handler, path: str, kind: str) -> None:  # noqa: C901 - a table
        html = {"Content-Type": "text/html; charset=utf-8"}
        if kind == "503":
            self.record(h, 503, kind)
            h.send_all(503, {**html, "Retry-After": "0"}, b"<h1>Service Unavailable</h1>")
        elif kind == "reset":
            self.record(h, 0, kind)
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            h.close_connection = True
            h.connection.close()
        elif kind == "truncate":
            self.record(h, 200, kind)
            body = self._page(path)
            h.send_all(200, html, body[: len(body) // 3], length=len(body), close=True)
        elif kind == "hang":
            self.record(h, 0, kind)
            time.sleep(self.hang_seconds)
            h.close_connection = True
        elif kind == "bomb":
            self.record(h, 200, kind)
            h.send_all(200, {**html, "Content-Encoding": "gzip"}, gzip_bomb(self.bomb_bytes))
        elif kind == "binary":
            self.record(h, 200, kind)
            h.send_all(200, html, binary_junk())
        elif kind == "nested":
            self.record(h, 200, kind)
            h.send_all(200, html, nested_page(self._page(path), self.nest_depth))
        elif kind in ("huge-declared", "huge-streamed"):
            self.record(h, 200, kind)
            self._stream_huge(h, declared=kind == "huge-declared")
        elif kind == "loop":
            self.record(h, 302, kind)
            other = path[:-1] if path.endswith("-") else path + "-"
            h.send_all(302, {**html, "Location": self.url + other}, b"")
        elif kind == "offsite":
            self.record(h, 301, kind)
            h.send_all(301, {**html, "Location": self.other_base + path}, b"")
        else:
            raise ValueError(f"unknown overlay {kind!r}; known: {KINDS}")

    def _page(self, path: str) -> bytes:
        """The replica's page at ``path``, or (for a made-up path) a static page of it
        (not an item: a hostile copy must not pose as a real item's new version)."""
        host = self.url.removeprefix("http://")
        status, _, body = render(self.site, path, host, self.faults)
        if status == 200:
            return bytes(body)
        return bytes(render(self.site, "/partnerships", host, self.faults).body)

    def _stream_huge(self, h: _Handler, *, declared: bool) -> None:
        head = [
            "HTTP/1.1 200 OK",
            f"Date: {h.date_time_string()}",
            "Content-Type: text/html; charset=utf-8",
            "Connection: close",
        ]
        if declared:
            head.append(f"Content-Length: {self.huge_bytes}")
        chunk = b"<p>" + b"x" * 65_530 + b"</p>"
        sent = 0
        h.close_connection = True
        try:
            h.wfile.write(("\r\n".join(head) + "\r\n\r\n<html><body>").encode())
            while sent < self.huge_bytes:
                h.wfile.write(chunk)
                sent += len(chunk)
        except OSError:
            pass
        self.sent_sizes[h.path] = sent
