"""Alembic revisions of the archive's schema, shipped inside the package.

The script location is resolved from this package, so migrations work from an
installed wheel as well as from a checkout. ``Archive.open`` calls :func:`upgrade`
on every open; it is a no-op at head. For CI and people::

    python -m archive.migrations check [--db URL]     # alembic check (models == revisions)
    python -m archive.migrations upgrade [--db URL]   # alembic upgrade head
    python -m archive.migrations current [--db URL]

``alembic -c archive/alembic.ini check`` works too (it uses ``$OSCE_ARCHIVE_DB``).

The package owns the revisions and how they are applied. It imports ``archive.db``
(and ``env.py`` the schema, to compare models with revisions); nothing of the archive
above the schema.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

from archive.db import is_postgres

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
    cfg = alembic_config()
    with engine.connect() as conn:
        with conn.execution_options(sqlite_begin="IMMEDIATE").begin():
            if is_postgres(engine):
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)


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
