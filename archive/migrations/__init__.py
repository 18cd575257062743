"""Alembic revisions of the archive's schema, shipped inside the package.

The script location is resolved from this package, so migrations work from an
installed wheel as well as from a checkout. ``Archive.open`` calls :func:`upgrade`
on every open; it is a no-op at head. For CI and people::

    python -m archive.migrations check [--db URL]     # alembic check (models == revisions)
    python -m archive.migrations upgrade [--db URL]   # alembic upgrade head
    python -m archive.migrations downgrade REV --db URL   # back to revision REV
    python -m archive.migrations current [--db URL]

``alembic -c archive/alembic.ini check`` works too (it uses ``$OSCE_ARCHIVE_DB``).

The package owns the revisions and how they are applied. It imports ``archive.db`` and
``archive.errors`` (``env.py`` the schema, to compare models with revisions; revision
0007 the text codec of ``archive.texts``, whose format it writes).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, text

from archive.db import is_postgres
from archive.errors import ArchiveError

SCRIPT_LOCATION = Path(__file__).resolve().parent
#: pg_advisory_xact_lock key serialising concurrent first opens on PostgreSQL.
MIGRATION_LOCK_KEY = 0x05CE_A2C1_0001


def alembic_config() -> Config:
    """An Alembic config pointing at the shipped revisions (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision``; safe when several processes open at once.

    The upgrade runs in one transaction that first takes a database-wide lock
    (``BEGIN IMMEDIATE`` on SQLite, an advisory transaction lock on PostgreSQL), so a
    second opener waits and then finds the schema already at head.
    """
    with _schema_change(engine) as (conn, cfg):
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the database back to ``revision`` (for people and tests: the archive never
    downgrades itself), in one transaction as :func:`upgrade`."""
    with _schema_change(engine) as (conn, cfg):
        command.downgrade(cfg, revision)


@contextmanager
def _schema_change(engine: Engine) -> Iterator[tuple[Connection, Config]]:
    """One locked transaction for Alembic, with SQLite's foreign keys off meanwhile.

    SQLite changes a column by rebuilding its table (Alembic's batch mode: copy, drop,
    rename), and enforced foreign keys refuse to drop a table others refer to. As
    SQLite's own procedure for schema changes says, they are switched off for the change
    (outside the transaction: the pragma is a no-op inside one) and every reference is
    checked before it commits; a broken one rolls the whole change back.
    """
    cfg = alembic_config()
    sqlite = not is_postgres(engine)
    with engine.connect() as conn:
        if sqlite:
            _pragma(conn, "PRAGMA foreign_keys=OFF")
        try:
            with conn.execution_options(sqlite_begin="IMMEDIATE").begin():
                if not sqlite:
                    lock = text("SELECT pg_advisory_xact_lock(:k)")
                    conn.execute(lock, {"k": MIGRATION_LOCK_KEY})
                cfg.attributes["connection"] = conn
                yield conn, cfg
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise ArchiveError(
                            f"the schema change would leave {len(broken)} broken references "
                            f"(first: {tuple(broken[0])}); nothing was changed"
                        )
        finally:
            if sqlite:
                _pragma(conn, "PRAGMA foreign_keys=ON")


def _pragma(conn: Connection, statement: str) -> None:
    """A pragma on the driver's connection, outside any transaction."""
    driver = conn.connection.driver_connection
    assert driver is not None
    driver.execute(statement)


def check(engine: Engine) -> None:
    """``alembic check``: raises when the models and the revisions disagree."""
    upgrade(engine)
    cfg = alembic_config()
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.check(cfg)


def current(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
