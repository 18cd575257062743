"""``osce-archive serve`` and ``osce-archive index``: the command's work.

``serve`` brings the archive to the newest schema the way every command does on open
(a crawl would too), then serves it through read-only connections only. It binds to
loopback unless told otherwise, and says where it listens and whether that is
reachable from other machines.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import socket
import sys
from collections.abc import Callable
from typing import Any

import uvicorn
from alembic.script import ScriptDirectory

from archive import migrations
from archive.db import display_url, make_engine
from archive.errors import ArchiveError

LOOPBACK = ("127.0.0.1", "::1", "localhost")
#: How ``serve --workers N`` tells each server process which archive to open.
DB_VARIABLE = "OSCE_SERVE_DB"


def worker_app() -> object:
    """The reading room of one server process of ``serve --workers N`` (uvicorn starts
    each worker afresh and calls this): its own read-only engine on the archive."""
    from web.app import create_app
    from web.db import readonly_engine

    return create_app(readonly_engine(os.environ[DB_VARIABLE]))


class TcpConfig(uvicorn.Config):
    """uvicorn's configuration for ``--workers N``, binding a socket that says it is TCP.

    uvicorn binds the shared socket of its worker processes as ``socket(family)``, whose
    protocol number is 0, and asyncio sets ``TCP_NODELAY`` only on connections of a
    socket whose protocol is TCP; without it every answer written in two parts (headers,
    then body) waited for the client's delayed acknowledgement: 40 ms a request."""

    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto == 0:
            sock = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, sock.detach())
        return sock


class BalancedLoop(asyncio.SelectorEventLoop):
    """The event loop of each process of ``serve --workers N``: it takes new connections
    one at a time, and later the more it already holds.

    The processes share one listening socket, and every one of them wakes when a
    connection arrives. asyncio's own loop then accepts every connection waiting, up to
    its backlog, so the first process awake took most of a burst: eight clients
    connecting at once split 5/3, 6/2 or 7/1 between two processes in 10 trials of 12,
    and the process holding six answered them at the speed of one core shared six ways.
    Here a process accepts one connection per wake-up, and one that holds ``k`` open
    connections first waits ``k`` x :attr:`ACCEPT_STEP` seconds (at most
    :attr:`ACCEPT_WAIT`), so that the process holding fewer takes it; if none does, this
    one still does after the wait. Eight clients then split 4/4 in 11 trials of 12. Idle
    keep-alive connections count too, so a process holding 15 or more takes at most one
    new connection per :attr:`ACCEPT_WAIT` (a reading room's readers are far fewer).

    It overrides asyncio's ``_accept_connection`` (the same signature from Python 3.8 to
    3.13); ``tests/web/test_http.py`` fails if that stops taking effect."""

    #: Seconds of waiting, per connection held, before accepting another.
    ACCEPT_STEP = 0.002
    ACCEPT_WAIT = 0.03

    def __init__(self) -> None:
        super().__init__()
        self.open_connections = 0

    def _accept_connection(  # type: ignore[override]
        self,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        sock: socket.socket,
        sslcontext: Any = None,
        server: Any = None,
        backlog: int = 100,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        wait = min(self.open_connections * self.ACCEPT_STEP, self.ACCEPT_WAIT)
        if wait:
            fd = sock.fileno()
            self.remove_reader(fd)
            accept = functools.partial(
                self._accept_connection, protocol_factory, sock, sslcontext, server, 1,
                *args, **kwargs,
            )  # fmt: skip
            self.call_later(wait, self._resume, fd, sock, server, accept)
            return
        self._accept_one(protocol_factory, sock, sslcontext, server, *args, **kwargs)

    def _accept_one(
        self,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        sock: socket.socket,
        sslcontext: Any,
        server: Any,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super()._accept_connection(  # type: ignore[misc]
            self._counted(protocol_factory), sock, sslcontext, server, 1, *args, **kwargs
        )

    def _resume(
        self, fd: int, sock: socket.socket, server: Any, accept: functools.partial[None]
    ) -> None:
        """After the wait: watch the socket again, and take the connection waited for
        now, unless another process did."""
        if sock.fileno() != fd or (server is not None and not server.is_serving()):
            return  # closed while waiting: shutting down
        self.add_reader(fd, accept)
        factory, _sock, sslcontext, _server, _one, *args = accept.args
        self._accept_one(factory, sock, sslcontext, server, *args, **accept.keywords)

    def _counted(
        self, factory: Callable[[], asyncio.BaseProtocol]
    ) -> Callable[[], asyncio.BaseProtocol]:
        if getattr(factory, "counted_by", None) is self:
            return factory  # asyncio handing back a factory it was given (after EMFILE)

        def make() -> asyncio.BaseProtocol:
            protocol = factory()
            lost = protocol.connection_lost
            self.open_connections += 1

            def connection_lost(exc: Exception | None) -> None:
                self.open_connections -= 1
                lost(exc)

            protocol.connection_lost = connection_lost  # type: ignore[method-assign]
            return protocol

        make.counted_by = self  # type: ignore[attr-defined]
        return make


def balanced_loop() -> asyncio.AbstractEventLoop:
    """uvicorn's ``loop`` setting for the processes of ``serve --workers N``."""
    return BalancedLoop()


def _serve_workers(workers: int, host: str, port: int) -> None:
    """What ``uvicorn.run(..., workers=N)`` does, on :class:`TcpConfig`'s socket."""
    from uvicorn.supervisors import Multiprocess

    config = TcpConfig(
        "web.serve:worker_app",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        loop="web.serve:balanced_loop",
    )
    try:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    except KeyboardInterrupt:
        pass


def _ensure_head(url: str) -> None:
    head = ScriptDirectory.from_config(migrations.alembic_config()).get_current_head()
    engine = make_engine(url)
    try:
        if migrations.current(engine) != head:
            print(
                f"osce-archive serve: bringing {display_url(url)} to schema {head}", file=sys.stderr
            )
            migrations.upgrade(engine)
    finally:
        engine.dispose()


def _check_port(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise ArchiveError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc


def run(args: argparse.Namespace) -> int:

    from web.app import create_app
    from web.db import readonly_engine

    if not 0 < args.port < 65536:
        raise ArchiveError(f"--port must be 1-65535, not {args.port}")
    if args.db.startswith("sqlite"):
        from sqlalchemy.engine import make_url

        path = make_url(args.db).database or ""
        if not os.path.isfile(path):
            raise ArchiveError(f"no archive at {path!r}: crawl first, or give --db")
    _ensure_head(args.db)
    _check_port(args.host, args.port)
    engine = readonly_engine(args.db)
    app = create_app(engine)
    workers = getattr(args, "workers", 1)
    where = "loopback only" if args.host in LOOPBACK else "REACHABLE FROM OTHER MACHINES"
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(
        f"osce-archive serve: {display_url(args.db)} read-only at http://{shown}:{args.port}/ "
        f"({where}; {workers} process{'es' if workers > 1 else ''}; Ctrl-C stops)",
        file=sys.stderr,
        flush=True,
    )
    try:
        if workers > 1:
            # Each process opens its own engine; the parent only supervises them.
            engine.dispose()
            os.environ[DB_VARIABLE] = args.db
            _serve_workers(workers, args.host, args.port)
        else:
            uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    finally:
        engine.dispose()
    return 0


def rebuild(args: argparse.Namespace) -> int:
    """``osce-archive index``: rebuild the full-text index from the versions."""
    from archive import search
    from archive.store import Archive

    with Archive.open(args.db) as archive:
        with archive.engine.begin() as conn:
            n = search.rebuild_index(conn)
        with archive.engine.begin() as conn:  # once the index is committed (SQLite)
            search.refresh_rankings(conn)
    print(f"search index rebuilt: {n} versions indexed ({display_url(args.db)})")
    return 0
