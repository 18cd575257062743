"""The schema: Alembic upgrade head on an empty database, alembic check, engine settings."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import inspect, text

from archive import migrations
from archive.db import display_url, make_engine, normalise_url
from archive.store import Archive

TABLES = {
    "documents",
    "addresses",
    "versions",
    "names",
    "captures",
    "bodies",
    "compression_dicts",
    "furniture_models",
    "runs",
    "changes",
    "locks",
    "near_dup_buckets",
    "reports",
    "language_links",
    "alembic_version",
}


def test_upgrade_head_on_empty_database_then_check(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert set(inspect(engine).get_table_names()) == set()
        migrations.upgrade(engine)
        tables = set(inspect(engine).get_table_names())
        # The search index (revision 0004) is raw DDL: FTS5 and its shadow tables, or a
        # tsvector table; alembic check leaves search_* out, and so does this count.
        assert {t for t in tables if not t.startswith("search_")} == TABLES
        assert "search_fts" in tables or "search_vectors" in tables
        head = migrations.current(engine)
        assert head is not None
        migrations.check(engine)  # raises when models and revisions drift
        migrations.upgrade(engine)  # a second open is a no-op at head
        assert migrations.current(engine) == head
    finally:
        engine.dispose()


def test_archive_open_migrates_a_new_database(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        assert "versions" in inspect(archive.engine).get_table_names()
        assert migrations.current(archive.engine) is not None


def test_migrations_check_command_for_ci() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "archive.migrations", "check"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert "match" in proc.stdout


def test_sqlite_is_wal_with_foreign_keys(sqlite_url: str) -> None:
    with Archive.open(sqlite_url) as archive, archive.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 1000


def test_plain_postgresql_url_uses_psycopg3() -> None:
    assert normalise_url("postgresql://u:p@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("postgres://u:p@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("sqlite:///x.sqlite").drivername == "sqlite"


def test_password_never_shown() -> None:
    shown = display_url("postgresql://alice:s3cret@db.example/archive")
    assert "s3cret" not in shown and "alice" in shown
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "crawler.cli",
            "status",
            "--db",
            "postgresql://alice:s3cret@127.0.0.1:1/archive",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert "s3cret" not in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr
