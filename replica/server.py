"""The replica's HTTP server: conditional requests, gzip, keep-alive, faults, request log.

Standard library only (``http.server``): one thread per connection, HTTP/1.1 keep-alive,
each answer written with a single ``send`` (status line, headers and body together) so
that Nagle's algorithm and delayed ACKs never stall a keep-alive client. Rendered answers
and their gzip form are cached by the site, so a revisit costs a dictionary lookup.

In-process use (tests)::

    server = ReplicaServer(Site(items=300), faults=Faults(error_rate=0.1)).start()
    ... crawl server.url ...
    server.log            # list of RequestLogEntry, in arrival order
    server.stop()

The server serves a :class:`replica.news.NewsSite` (a third-party news site reporting on
the replica's items) the same way: ``ReplicaServer(NewsSite(osce_site)).start()``.

A crawl that measures its own speed should run the server in another process
(``python -m replica serve``, or :func:`spawn`), so the two do not share one GIL.
That server also answers ``POST /__replica__/epoch/<n>`` (never linked, never logged) so
a test can move it in time.
"""

from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from replica.faults import Faults
from replica.generator import SiteModel
from replica.news import NewsSite
from replica.routes import Response, peek, render

CONTROL_PREFIX = "/__replica__/"
_REASONS = {
    200: "OK",
    301: "Moved Permanently",
    302: "Found",
    304: "Not Modified",
    404: "Not Found",
    410: "Gone",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
_COMPRESSIBLE = ("text/", "application/xml", "application/rss+xml", "application/json")


@dataclass(frozen=True)
class RequestLogEntry:
    """One request as the server saw and answered it."""

    method: str
    path: str  # the request target, query included
    host: str
    if_none_match: str | None
    if_modified_since: str | None
    status: int
    bytes: int  # body bytes actually sent
    time: float  # epoch seconds when the answer was sent
    attempt: int = 0  # how many earlier requests this server had for the same target
    fault: str | None = None  # error | slow | truncated (transport faults applied)
    user_agent: str | None = None
    encoding: str | None = None  # "gzip" when the body was compressed

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _etag_matches(header: str, etag: str) -> bool:
    """Weak comparison (RFC 9110 13.1.2): ``W/`` prefixes do not matter."""
    if header.strip() == "*":
        return True
    want = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == want for tag in header.split(","))


def _not_modified(resp: Response, inm: str | None, ims: str | None) -> bool:
    if inm is not None:  # If-None-Match wins; If-Modified-Since is then ignored
        return _etag_matches(inm, resp.headers.get("ETag", ""))
    if ims is None or "Last-Modified" not in resp.headers:
        return False
    try:
        since = parsedate_to_datetime(ims)
        modified = parsedate_to_datetime(resp.headers["Last-Modified"])
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None or modified.tzinfo is None:
        return False
    return modified <= since


def _accepts_gzip(header: str | None) -> bool:
    """Whether ``Accept-Encoding`` allows gzip (``gzip;q=0`` forbids it)."""
    for part in (header or "").split(","):
        name, *params = (p.strip() for p in part.split(";"))
        if name.lower() not in ("gzip", "x-gzip", "*"):
            continue
        quality = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        return quality > 0
    return False


@dataclass
class _Exchange:
    """One request being answered: what its request-log entry records."""

    target: str
    host: str
    attempt: int
    inm: str | None  # If-None-Match
    ims: str | None  # If-Modified-Since
    fault: str | None = None


def _render(site: SiteModel | NewsSite, target: str, host: str, faults: Faults) -> Response:
    """The answer for ``GET target``: the third-party news site's own routes
    (``replica.news``), else the osce.org replica's."""
    if isinstance(site, NewsSite):
        return site.serve(target, host)
    return render(site, target, host, faults)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Apache"
    sys_version = ""
    timeout = 30  # idle keep-alive connections are closed after this many seconds
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # the request log is ours; stderr stays quiet

    def do_GET(self) -> None:  # noqa: N802
        self._serve(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(head=True)

    def do_POST(self) -> None:  # noqa: N802
        replica = self.server.replica
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if replica.control and self.path.startswith(CONTROL_PREFIX + "epoch/"):
            epoch = int(self.path.rsplit("/", 1)[-1])
            replica.site.set_epoch(epoch)
            self._write(
                200,
                {"Content-Type": "application/json"},
                json.dumps({"epoch": replica.site.epoch}).encode(),
                head=False,
            )
            return
        self._write(
            405,
            {"Content-Type": "text/plain", "Allow": "GET, HEAD"},
            b"Method not allowed\n",
            head=False,
        )

    def _serve(self, head: bool) -> None:
        replica = self.server.replica
        target = self.path
        host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_address[1]}"
        faults = replica.faults
        ex = _Exchange(
            target,
            host,
            replica.next_attempt(target),
            self.headers.get("If-None-Match"),
            self.headers.get("If-Modified-Since"),
        )
        if faults.decide("slow", target, ex.attempt):
            ex.fault = "slow"
            time.sleep(faults.slow_seconds)
        if faults.decide("error", target, ex.attempt):
            self._serve_error(ex, head)
            return
        if (ex.inm is not None or ex.ims is not None) and self._serve_unchanged(ex):
            return
        resp = _render(replica.site, target, host, faults)
        if resp.status == 200 and _not_modified(resp, ex.inm, ex.ims):
            keep = {
                k: v
                for k, v in resp.headers.items()
                if k in ("ETag", "Last-Modified", "Cache-Control", "Vary")
            }
            self._write(304, keep, b"", head=True, log=self._logger(ex, 304))
            return
        self._send(ex, resp, head)

    def _logger(
        self, ex: _Exchange, status: int, encoding: str | None = None
    ) -> Callable[[int], None]:
        """What ``_write`` calls with the bytes sent: one request-log entry for ``ex``."""

        def log(sent: int) -> None:
            self.server.replica.record(
                RequestLogEntry(
                    method=self.command,
                    path=ex.target,
                    host=ex.host,
                    if_none_match=ex.inm,
                    if_modified_since=ex.ims,
                    status=status,
                    bytes=sent,
                    time=time.time(),
                    attempt=ex.attempt,
                    fault=ex.fault,
                    user_agent=self.headers.get("User-Agent"),
                    encoding=encoding,
                )
            )

        return log

    def _serve_error(self, ex: _Exchange, head: bool) -> None:
        """The injected server error: a small HTML page and ``Retry-After``."""
        faults = self.server.replica.faults
        ex.fault = "error"
        status = faults.error_status(ex.target, ex.attempt)
        body = (
            f"<!DOCTYPE html><html><head><title>{_REASONS[status]}</title></head>"
            f"<body><h1>{_REASONS[status]}</h1><p>Please try again later.</p>"
            "</body></html>\n"
        ).encode()
        self._write(
            status,
            {
                "Content-Type": "text/html; charset=utf-8",
                "Retry-After": str(faults.retry_after),
            },
            body,
            head,
            log=self._logger(ex, status),
        )

    def _serve_unchanged(self, ex: _Exchange) -> bool:
        """A 304 from the validators alone, without rendering the page; whether it was sent."""
        replica = self.server.replica
        if isinstance(replica.site, NewsSite):  # a site with its own routes
            known = replica.site.validators(ex.target, ex.host)
        else:
            known = peek(replica.site, ex.target, ex.host, replica.faults)
        if known is None:
            return False
        validators = {"ETag": known[0], "Last-Modified": known[1]}
        if not _not_modified(Response(200, validators, b""), ex.inm, ex.ims):
            return False
        self._write(
            304,
            {
                **validators,
                "Cache-Control": "public, max-age=300",
                "Vary": "Accept-Encoding",
            },
            b"",
            head=True,
            log=self._logger(ex, 304),
        )
        return True

    def _send(self, ex: _Exchange, resp: Response, head: bool) -> None:
        """The rendered answer, gzipped when the client takes it, cut short by a fault."""
        headers = dict(resp.headers)
        body = resp.body
        encoding = None
        content_type = headers.get("Content-Type", "")
        if (
            _accepts_gzip(self.headers.get("Accept-Encoding"))
            and len(body) > 200
            and content_type.startswith(_COMPRESSIBLE)
        ):
            if resp.gzipped is None:
                resp.gzipped = gzip.compress(body, compresslevel=1, mtime=0)
            body, encoding = resp.gzipped, "gzip"
            headers["Content-Encoding"] = "gzip"
        faults = self.server.replica.faults
        truncate = (
            resp.status == 200 and not head and faults.decide("truncate", ex.target, ex.attempt)
        )
        if truncate:
            ex.fault = "truncated"
            self._write(
                resp.status,
                headers,
                body,
                head,
                cut=max(1, len(body) // 2),
                log=self._logger(ex, resp.status, encoding),
            )
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        else:
            self._write(
                resp.status, headers, body, head, log=self._logger(ex, resp.status, encoding)
            )

    def _write(
        self,
        status: int,
        headers: dict[str, str],
        body: bytes,
        head: bool,
        cut: int | None = None,
        log: Any = None,
    ) -> int:
        """Status line, headers and body in one send; returns body bytes sent.

        ``log(sent)`` is called *before* the bytes go out, so a client that has read the
        answer always finds it in the request log."""
        lines = [
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}",
            f"Date: {self.date_time_string()}",
            "Server: Apache",
        ]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if status != 304:
            lines.append(f"Content-Length: {len(body)}")
        if self.close_connection or cut is not None:
            lines.append("Connection: close")
        payload = b"" if head or status == 304 else (body if cut is None else body[:cut])
        if log is not None:
            log(len(payload))
        try:
            self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload)
        except OSError:
            self.close_connection = True
            return 0
        return len(payload)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], replica: ReplicaServer) -> None:
        self.replica = replica
        self.connections: set[socket.socket] = set()
        self.conn_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.conn_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.conn_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close_all(self) -> None:
        with self.conn_lock:
            open_now = list(self.connections)
            self.connections.clear()
        for conn in open_now:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class ReplicaServer:
    """Serves a :class:`SiteModel` on a loopback port from a background thread."""

    def __init__(
        self,
        site: SiteModel | NewsSite,
        faults: Faults | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        log_path: str | os.PathLike[str] | None = None,
        control: bool = False,
    ) -> None:
        self.site = site
        self.faults = faults or Faults()
        self.log: list[RequestLogEntry] = []
        self.control = control
        self._bind = (host, port)
        self._log_lock = threading.Lock()
        self._attempts: dict[str, int] = {}
        self._log_file = open(log_path, "a", encoding="utf-8") if log_path else None  # noqa: SIM115
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -------------------------------------------------------------- lifecycle

    def listen(self) -> str:
        """Bind the port (0 picks a free one) and return the base URL."""
        if self._httpd is None:
            self._httpd = _HTTPServer(self._bind, self)
        return self.url

    def start(self) -> ReplicaServer:
        """Serve from a daemon thread; returns self."""
        self.listen()
        assert self._httpd is not None
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="replica-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            if self._thread is not None:
                self._httpd.shutdown()
                self._thread = None
            self._httpd.close_all()
            self._httpd.server_close()
            self._httpd = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __enter__(self) -> ReplicaServer:
        return self.start() if self._thread is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the command line uses this)."""
        self.listen()
        assert self._httpd is not None
        try:
            self._httpd.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("server not started")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        assert self._httpd is not None
        host = self._httpd.server_address[0]
        return f"http://{host if isinstance(host, str) else host.decode()}:{self.port}"

    # ------------------------------------------------------------ bookkeeping

    def next_attempt(self, target: str) -> int:
        with self._log_lock:
            n = self._attempts.get(target, 0)
            self._attempts[target] = n + 1
            return n

    def reset_attempts(self) -> None:
        with self._log_lock:
            self._attempts.clear()

    def record(self, entry: RequestLogEntry) -> None:
        with self._log_lock:
            self.log.append(entry)
            if self._log_file is not None:
                self._log_file.write(json.dumps(entry.to_json()) + "\n")
                self._log_file.flush()

    def requested(self, path_prefix: str) -> list[RequestLogEntry]:
        """Log entries whose target starts with ``path_prefix``."""
        with self._log_lock:
            return [e for e in self.log if e.path.startswith(path_prefix)]


# ----------------------------------------------------------------- subprocess


class ReplicaProcess:
    """``python -m replica serve`` in a child process (for crawls that measure speed)."""

    def __init__(self, proc: subprocess.Popen[str], url: str, log_path: Path | None) -> None:
        self.proc = proc
        self.url = url
        self.log_path = log_path

    def read_log(self) -> list[RequestLogEntry]:
        if self.log_path is None or not self.log_path.exists():
            return []
        with open(self.log_path, encoding="utf-8") as fh:
            return [RequestLogEntry(**json.loads(line)) for line in fh if line.strip()]

    def set_epoch(self, epoch: int) -> None:
        import urllib.request

        req = urllib.request.Request(
            f"{self.url}{CONTROL_PREFIX}epoch/{epoch}", method="POST", data=b""
        )
        with urllib.request.urlopen(req, timeout=120) as answer:
            answer.read()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> ReplicaProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def spawn(
    items: int = 2000,
    seed: int = 1,
    epoch: int = 0,
    faults: str = "",
    log_path: str | os.PathLike[str] | None = None,
    timeout: float = 120.0,
    theme: int = 0,
) -> ReplicaProcess:
    """Start ``python -m replica serve`` on a free port; returns once it answers."""
    cmd = [
        sys.executable,
        "-m",
        "replica",
        "serve",
        "--items",
        str(items),
        "--seed",
        str(seed),
        "--epoch",
        str(epoch),
        "--port",
        "0",
        "--control",
    ]
    if faults:
        cmd += ["--faults", faults]
    if theme:
        cmd += ["--theme", str(theme)]
    if log_path:
        cmd += ["--log", str(log_path)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if line.startswith("serving "):
            url = line.split()[1]
            return ReplicaProcess(proc, url, Path(log_path) if log_path else None)
    proc.kill()
    raise RuntimeError("the replica subprocess did not start")
