"""The change log's times are not indexed (revision 0036): every query reads a document's
entries through ``(document_id, seq)``. "As of" reads and the "changed since" search
filter still answer the same, and the revision drops the index and makes it again. Runs
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import inspect, text

from archive import migrations
from archive.api import open_archive
from archive.db import make_engine
from archive.schema import from_sqlite_time
from archive.store import Archive
from tests.archive.test_lean_storage import _fill


def _change_indexes(engine: Any) -> set[str]:
    return {str(ix["name"]) for ix in inspect(engine).get_indexes("changes")}


def test_revision_0036_drops_the_index_and_makes_it_again(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        _fill(archive)
    engine = make_engine(db_url)
    try:
        assert "ix_changes_at" not in _change_indexes(engine)
        with engine.connect() as conn:
            middle = conn.execute(text("SELECT at FROM changes ORDER BY seq")).scalars().all()
        as_of = middle[len(middle) // 2]
        if not isinstance(as_of, datetime):  # SQLite's integer
            as_of = from_sqlite_time(as_of)
        with open_archive(db_url) as reader:
            now = list(reader.records(history=True, as_of=as_of))
        migrations.downgrade(engine, "0035")
        assert "ix_changes_at" in _change_indexes(engine)
        migrations.upgrade(engine)
        migrations.check(engine)
        assert "ix_changes_at" not in _change_indexes(engine)
    finally:
        engine.dispose()
    with open_archive(db_url) as reader:
        assert list(reader.records(history=True, as_of=as_of)) == now
    assert now
