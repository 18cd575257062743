"""Alembic environment: run with a connection handed over by ``archive.migrations``,
or, from the ``alembic`` command line, with ``$OSCE_ARCHIVE_DB``."""

from __future__ import annotations

import os
import warnings

from alembic import context
from sqlalchemy.engine import Connection

from archive.db import make_engine
from archive.schema import Base

config = context.config
target_metadata = Base.metadata


def _include_name(name: str | None, type_: str, _parent: object) -> bool:
    # The search index (revision 0004: an FTS5 table and its shadow tables, a tsvector
    # table) is raw DDL, not a model; alembic check leaves it out.
    return not (type_ == "table" and (name or "").startswith("search_"))


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite ALTER via table copy
        compare_type=True,
        include_name=_include_name,
    )
    with context.begin_transaction(), warnings.catch_warnings():
        # SQLite cannot reflect an index on an expression (revision 0025's text key), so
        # alembic check leaves it out there: said once here, not on every run. (A
        # revision that copies ``versions`` in batch mode must create it again.)
        warnings.filterwarnings("ignore", message=".*expression-based index '?ix_versions_text_key")
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = os.environ.get("OSCE_ARCHIVE_DB", "sqlite:///archive.sqlite")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; give a database")
run_migrations_online()
