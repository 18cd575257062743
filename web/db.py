"""Read-only connections to an archive, whichever database holds it.

SQLite is opened through a ``mode=ro`` URI with ``query_only`` on, so no statement
can write, whatever code runs; PostgreSQL sessions start with
``default_transaction_read_only`` and a statement timeout, so a costly query is cut
off instead of holding a worker. Nothing is migrated here: ``serve`` checks the
revision before it starts (``web.serve``).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import QueuePool

from archive.db import make_engine, normalise_url
from archive.errors import ArchiveError

#: PostgreSQL cuts off any one statement after this long.
STATEMENT_TIMEOUT_MS = 10_000
POOL_SIZE = 8


def readonly_engine(url: str) -> Engine:
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or not Path(database).is_file():
            raise ArchiveError(f"no archive at {database or '(memory)'}: a file is needed")
        uri = f"file:{quote(str(Path(database).resolve()))}?mode=ro"

        def connect() -> sqlite3.Connection:
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=30)
            conn.execute("PRAGMA query_only = ON")
            return conn

        engine = create_engine(
            "sqlite://", creator=connect, poolclass=QueuePool, pool_size=POOL_SIZE
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
            dbapi_connection.isolation_level = None  # SQLAlchemy issues BEGIN itself

        @event.listens_for(engine, "begin")
        def _on_begin(conn: object) -> None:
            conn.exec_driver_sql("BEGIN")  # type: ignore[attr-defined]

        return engine
    options = f"-c default_transaction_read_only=on -c statement_timeout={STATEMENT_TIMEOUT_MS}"
    return make_engine(url, connect_args={"options": options}, pool_size=POOL_SIZE, max_overflow=4)
