"""Engines from URLs, and the migrations run on first use.

A plain ``postgresql://`` URL means psycopg 3 (the driver the project installs), not
SQLAlchemy's default psycopg2. SQLite is tuned for one writer and many readers: WAL,
foreign keys enforced, a busy timeout so a reader never fails on a writer's lock,
and transactions that really begin at ``BEGIN`` (the driver's own implicit
transactions would let a read-then-write slip outside the transaction).
:func:`rewrite_rows` is the one write that depends on the dialect: rows a trained
dictionary made smaller, written again so that SQLite's pages stay full.

Imports: SQLAlchemy and ``archive.errors`` only.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, Integer, bindparam, create_engine, event, text, update
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session

from archive.errors import ArchiveError, redact

#: The Alembic revisions (``archive.migrations``), read here without importing them.
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

#: How long a SQLite connection waits for another writer before failing.
SQLITE_BUSY_TIMEOUT_S = 30.0

#: The page size a new SQLite archive is created with (SQLite's default is 4,096). A
#: page holds whole rows; what is left at its end when the next row does not fit stays
#: empty, about half a row: a compressed body is some 600 bytes, so 4,096-byte pages of
#: bodies were 8 % empty. Pages twice as large halve that (about 35 B/item on the crawl
#: bench). An archive keeps the page size it was created with until it is rewritten
#: (``VACUUM`` after ``PRAGMA page_size``, outside WAL: the README's upgrade notes).
SQLITE_PAGE_SIZE = 8192

#: About how large SQLite lets the write-ahead log grow before it copies it back into the
#: database: its default of 1,000 pages, counted in bytes of 4,096-byte pages, so that an
#: archive of larger pages needs no more free disk than before.
SQLITE_WAL_CHECKPOINT_BYTES = 1000 * 4096


def normalise_url(url: str | URL) -> URL:
    """``postgresql://`` and ``postgres://`` -> ``postgresql+psycopg://``."""
    if isinstance(url, str):
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://") :]
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise ArchiveError(f"not a database URL: {redact(url)!r}") from exc
    else:
        parsed = url
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def display_url(url: str | URL) -> str:
    """The URL as it may be shown to people: the password hidden."""
    try:
        return normalise_url(url).render_as_string(hide_password=True)
    except ArchiveError:
        return redact(str(url))


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An engine for ``url`` with the project's per-dialect settings."""
    parsed = normalise_url(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            return _sqlite_engine(parsed, **kwargs)
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(parsed, **kwargs)
    except (SQLAlchemyError, ImportError) as exc:
        reason = redact(str(exc))
        raise ArchiveError(f"cannot use database {display_url(parsed)}: {reason}") from exc


def _sqlite_engine(url: URL, **kwargs: Any) -> Engine:
    connect_args = dict(kwargs.pop("connect_args", {}))
    connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_S)
    engine = create_engine(url, connect_args=connect_args, **kwargs)
    in_memory = url.database in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide where transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # Only a database with no table yet takes it (before WAL: that writes the header).
        cursor.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            page = int(cursor.execute("PRAGMA page_size").fetchone()[0])
            cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_WAL_CHECKPOINT_BYTES // page}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # ``sqlite_begin="IMMEDIATE"`` takes the write lock up front (used by the
        # run lock, where a read-then-write must not race another process).
        mode = conn.get_execution_options().get("sqlite_begin", "")
        conn.exec_driver_sql(f"BEGIN {mode}".strip())

    return engine


def begin_immediately(engine: Engine) -> None:
    """Make every transaction of ``engine`` take SQLite's write lock at ``BEGIN``.

    A deferred transaction that has read and then writes cannot wait for another
    process's write lock: SQLite fails it at once with "database is locked" (the busy
    timeout only applies before a transaction has read anything), so a crawl's ingest
    would die whenever ``osce-archive status``, ``verify`` or an overlapping cron start
    opened the archive (opening takes the write lock briefly for the migrations). The
    crawl's archive writes in nearly every transaction from one thread, so it begins
    them all ``IMMEDIATE`` and waits its turn; readers elsewhere are not slowed (WAL).
    No effect on PostgreSQL.
    """
    if engine.dialect.name == "sqlite":
        engine.update_execution_options(sqlite_begin="IMMEDIATE")


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def rewrite_rows(s: Session, model: Any, key: str, values: list[dict[str, Any]]) -> None:
    """Give rows of ``model`` (a mapped class) new, smaller values, one dict per row with
    its ``key`` (the primary key) and the columns to set, in ``s``'s transaction.

    On PostgreSQL, an ``UPDATE``. On SQLite, the rows are written again where they fill
    pages: shrunk in place, each would keep its old page, and the first thousand packs the
    archive compresses once it has trained a dictionary left some 350 pages of versions
    two thirds empty (``bench/run.py``'s crawl, 40 bytes an item). A row whose key is not
    its row id (``bodies``) moves to a new row id at the end of its table, and no foreign
    key sees a change. Rows keyed by their row id (``versions``) are taken out and put
    back in order under the same keys, which packs the pages they return to; the foreign
    keys that point at them are checked when the transaction commits (SQLite's
    ``defer_foreign_keys``, which ends with the transaction), through indexes made for the
    while and dropped: without them, each row taken out would read every row that may
    point at it (a second for the first thousand versions). Objects of the session that
    hold these rows forget the rewritten columns and read them again.
    """
    if not values:
        return
    s.flush()
    table = model.__table__
    sets = [column for column in values[0] if column != key]
    assign = ", ".join(f"{column} = :{column}" for column in sets)
    typed = [bindparam(column, type_=table.c[column].type) for column in [*sets, key]]
    if s.get_bind().dialect.name != "sqlite":
        s.execute(update(model), values)
    elif [c.name for c in table.primary_key.columns] == [key] and isinstance(
        table.c[key].type, Integer
    ):
        _put_back_in_order(s, table, key, values, assign, typed)
    else:
        moved = f"rowid = (SELECT max(rowid) FROM main.{table.name}) + 1, {assign}"
        statement = f"UPDATE main.{table.name} SET {moved} WHERE {key} = :{key}"
        s.execute(text(statement).bindparams(*typed), values)
    keys = {value[key] for value in values}
    for held_object in list(s.identity_map.values()):
        if isinstance(held_object, model) and getattr(held_object, key) in keys:
            s.expire(held_object, sets)


def _put_back_in_order(
    s: Session, table: Any, key: str, values: list[dict[str, Any]], assign: str, typed: list[Any]
) -> None:
    """:func:`rewrite_rows` for rows keyed by their row id, on SQLite."""
    pointing = [
        fk
        for child in table.metadata.sorted_tables
        for fk in child.foreign_keys
        if fk.column.table is table
    ]
    if any(fk.ondelete for fk in pointing):
        raise ValueError(f"rows of {table.name} are pointed at with ON DELETE actions")
    name, held = table.name, f"rewrite_{table.name}"
    s.execute(text(f"CREATE TEMP TABLE {held} AS SELECT * FROM main.{name} WHERE 0"))
    copy = f"INSERT INTO temp.{held} SELECT * FROM main.{name} WHERE {key} = :{key}"
    keyed = bindparam(key, type_=table.c[key].type)
    s.execute(text(copy).bindparams(keyed), [{key: value[key]} for value in values])
    s.execute(text(f"CREATE INDEX temp.{held}_key ON {held} ({key})"))
    s.execute(
        text(f"UPDATE temp.{held} SET {assign} WHERE {key} = :{key}").bindparams(*typed), values
    )
    for i, fk in enumerate(pointing):
        s.execute(
            text(f"CREATE INDEX main.{held}_{i} ON {fk.parent.table.name} ({fk.parent.name})")
        )
    s.execute(text("PRAGMA defer_foreign_keys = ON"))  # until the transaction ends
    s.execute(text(f"DELETE FROM main.{name} WHERE {key} IN (SELECT {key} FROM temp.{held})"))
    s.execute(text(f"INSERT INTO main.{name} SELECT * FROM temp.{held} ORDER BY {key}"))
    for i in range(len(pointing)):
        s.execute(text(f"DROP INDEX main.{held}_{i}"))
    s.execute(text(f"DROP TABLE temp.{held}"))


# --------------------------------------------------------------------------- reading only


def open_read_only(url: str | URL) -> Engine:
    """An engine on an existing archive that cannot change it, for the read commands.

    Nothing is created or migrated: a missing archive is ``ArchiveError("no archive at
    ...; crawl first")``, an archive at another schema revision is an ``ArchiveError``
    saying so. SQLite opens the file through a ``mode=ro`` URI, with ``immutable=1`` when
    neither the file nor its folder can be written (a read-only mount, a shared copy:
    SQLite then needs no ``-shm`` file beside it) or when ``mode=ro`` alone cannot open
    it; every connection is also ``PRAGMA query_only``. PostgreSQL connections run every
    transaction ``READ ONLY`` (``default_transaction_read_only``).
    """
    parsed = normalise_url(url)
    if parsed.get_backend_name() != "sqlite":
        connect_args = {"options": "-c default_transaction_read_only=on"}
        engine = make_engine(parsed, connect_args=connect_args)
        return _checked(engine, display_url(parsed))
    if parsed.database in (None, "", ":memory:"):
        raise ArchiveError("no archive in an empty in-memory database; crawl first")
    path = Path(parsed.database).expanduser()
    if not path.exists():
        raise ArchiveError(f"no archive at {path}; crawl first")
    if not path.is_file():
        raise ArchiveError(f"not an archive file: {path}")
    writable = os.access(path, os.W_OK) and os.access(path.parent.resolve(), os.W_OK)
    engine = _sqlite_read_only_engine(path, immutable=not writable)
    try:
        return _checked(engine, str(path))
    except ArchiveError as exc:
        if not writable or "unable to open" not in str(exc):
            raise
    # mode=ro could not open it (a WAL archive whose -shm cannot be made): immutable.
    return _checked(_sqlite_read_only_engine(path, immutable=True), str(path))


def sqlite_read_only_uri(path: Path, immutable: bool) -> str:
    """The ``file:`` URI that opens ``path`` read-only (``immutable=1``: no locks at all)."""
    uri = "file:" + quote(str(path.resolve())) + "?mode=ro"
    return uri + ("&immutable=1" if immutable else "")


def _sqlite_read_only_engine(path: Path, immutable: bool) -> Engine:
    uri = sqlite_read_only_uri(path, immutable)

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(
            uri, uri=True, timeout=SQLITE_BUSY_TIMEOUT_S, check_same_thread=False
        )

    engine = create_engine("sqlite:///" + str(path.resolve()), creator=connect)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA query_only=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine


def _checked(engine: Engine, where: str) -> Engine:
    """``engine`` once it is known to hold an archive at this code's schema revision."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
        head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = redact(str(exc.orig if hasattr(exc, "orig") else exc).splitlines()[0])
        raise ArchiveError(f"cannot open archive {where}: {reason}") from exc
    if current is None:
        engine.dispose()
        raise ArchiveError(f"no archive at {where}; crawl first")
    if current != head:
        engine.dispose()
        raise ArchiveError(
            f"the archive at {where} is at schema revision {current}, this version reads "
            f"{head}: a crawl (or python -m archive.migrations upgrade) migrates it"
        )
    return engine
