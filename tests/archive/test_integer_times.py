"""Times as integers on SQLite (revision 0016): whole microseconds since 1970 in place of
26 characters of text, read back as the same aware datetimes; revision 0016 converts an
archive with data and back. PostgreSQL keeps its own time type: the same checks run there
to show nothing moved."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select, text

from archive import migrations
from archive.api import open_archive
from archive.db import make_engine
from archive.schema import Base, Change, UTCDateTime, from_sqlite_time, sqlite_time
from archive.store import Archive
from tests.archive.conftest import capture_for, load_revision, make_record
from tests.archive.test_lean_storage import _fill


def _time_columns() -> dict[str, tuple[str, ...]]:
    """Every column the models declare as a time, by table."""
    found: dict[str, list[str]] = {}
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, UTCDateTime):
                found.setdefault(table.name, []).append(column.name)
    return {t: tuple(c) for t, c in found.items()}


def _stored_types(engine: Any) -> dict[str, set[str]]:
    """SQLite's storage class of every stored time value, by ``table.column``."""
    out = {}
    with engine.connect() as conn:
        for table, columns in _time_columns().items():
            for column in columns:
                kinds = conn.execute(
                    text(
                        f"SELECT DISTINCT typeof({column}) FROM {table} WHERE {column} IS NOT NULL"
                    )
                ).scalars()
                out[f"{table}.{column}"] = set(kinds)
    return out


#: Time columns a later revision dropped: the revisions before it still convert them.
DROPPED = {"bodies": ("stored_at",)}  # revision 0042


def test_the_revision_rewrites_every_time_column_the_models_declare() -> None:
    assert load_revision("0016_integer_times.py").TIMES == {**_time_columns(), **DROPPED}


def test_a_time_is_kept_to_the_microsecond_and_in_order() -> None:
    moments = [
        datetime(1999, 12, 31, 23, 59, 59, 999_999, tzinfo=timezone.utc),
        datetime(2026, 12, 3, 8, 30, 0, 1, tzinfo=timezone.utc),
        datetime(2026, 12, 3, 9, 30, 0, 1, tzinfo=timezone(timedelta(hours=1))),
        datetime(2026, 12, 3, 8, 30, 0, 2, tzinfo=timezone.utc),
    ]
    stored = [sqlite_time(m) for m in moments]
    assert [from_sqlite_time(v) for v in stored] == moments
    assert stored == sorted(stored) and stored[1] == stored[2]
    assert from_sqlite_time("2026-12-03 08:30:00.000001") == moments[1]  # text before 0016


def test_times_are_integers_and_read_back_the_same(db_url: str) -> None:
    moment = datetime(2026, 12, 3, 8, 30, 15, 123_457, tzinfo=timezone.utc)
    record = make_record(55501, text="A text about a meeting in Vienna.")
    capture = replace(capture_for(record, 0), fetched_at=moment)
    with Archive.open(db_url) as archive:
        archive.ingest(capture, record)
        with archive.engine.connect() as conn:
            at = conn.execute(select(Change.at).where(Change.document_id == record.id)).scalar()
            later = conn.execute(
                select(Change.seq).where(Change.at > moment - timedelta(microseconds=1))
            ).all()
            none = conn.execute(select(Change.seq).where(Change.at > moment)).all()
        engine = archive.engine
        assert at == moment and at.tzinfo is not None
        assert len(later) == 1 and none == []
        if engine.dialect.name == "sqlite":
            stored = _stored_types(engine)
            assert all(v == {"integer"} for v in stored.values() if v), stored
            assert stored["changes.at"] and stored["captures.fetched_at"]


def test_revision_0016_converts_an_archive_with_data_and_back(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        _fill(archive)
    with open_archive(db_url) as reader:
        before = list(reader.records(history=True))
    engine = make_engine(db_url)
    sqlite = engine.dialect.name == "sqlite"
    try:
        with engine.connect() as conn:
            when = conn.execute(select(Change.seq, Change.at).order_by(Change.seq)).all()
        migrations.downgrade(engine, "0015")
        if sqlite:
            stored = _stored_types(engine)
            assert all(v == {"text"} for v in stored.values() if v), stored
            assert sum(1 for v in stored.values() if v) >= 8
            with engine.connect() as conn:
                texts = conn.execute(text("SELECT seq, at FROM changes ORDER BY seq")).all()
            # Exactly what SQLAlchemy's DATETIME wrote before 0016.
            assert texts == [
                (i, at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")) for i, at in when
            ]
        migrations.upgrade(engine)
        migrations.check(engine)
        if sqlite:
            assert all(v == {"integer"} for v in _stored_types(engine).values() if v)
        with engine.connect() as conn:
            assert conn.execute(select(Change.seq, Change.at).order_by(Change.seq)).all() == when
    finally:
        engine.dispose()
    with open_archive(db_url) as reader:
        assert list(reader.records(history=True)) == before
    with Archive.open(db_url) as archive:
        assert archive.verify() == []


EDGES = {
    "2026-12-03 08:30:59.999600": datetime(2026, 12, 3, 8, 30, 59, 999_600, tzinfo=timezone.utc),
    "2026-12-31 23:59:59.999999": datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=timezone.utc),
    "2026-12-03 08:30:59.999499": datetime(2026, 12, 3, 8, 30, 59, 999_499, tzinfo=timezone.utc),
    "2026-12-03 08:30:59.000001": datetime(2026, 12, 3, 8, 30, 59, 1, tzinfo=timezone.utc),
    "2026-12-03 08:30:59": datetime(2026, 12, 3, 8, 30, 59, tzinfo=timezone.utc),
    "2026-12-03 08:30:59.5": datetime(2026, 12, 3, 8, 30, 59, 500_000, tzinfo=timezone.utc),
}


def test_revision_0016_keeps_every_fraction_of_a_second(sqlite_url: str) -> None:
    """The text of any stored time becomes the same instant, also where SQLite's own date
    functions would round the fraction to the millisecond (.9995 and above)."""
    for node, _ in enumerate(EDGES):
        record = make_record(56000 + node, text=f"A text about meeting number {node}.")
        with Archive.open(sqlite_url) as archive:
            archive.ingest(capture_for(record, node), record)
    engine = make_engine(sqlite_url)
    try:
        migrations.downgrade(engine, "0015")
        with engine.begin() as conn:
            seqs = conn.execute(text("SELECT seq FROM changes ORDER BY seq")).scalars().all()
            assert len(seqs) == len(EDGES)
            for seq, stored in zip(seqs, EDGES, strict=True):
                conn.execute(
                    text("UPDATE changes SET at = :at WHERE seq = :seq"), {"at": stored, "seq": seq}
                )
        migrations.upgrade(engine)
        with engine.connect() as conn:
            read = conn.execute(select(Change.at).order_by(Change.seq)).scalars().all()
            raw = conn.execute(text("SELECT at FROM changes ORDER BY seq")).scalars().all()
        assert read == list(EDGES.values())
        assert raw == [sqlite_time(t) for t in EDGES.values()]
        migrations.downgrade(engine, "0015")
        with engine.connect() as conn:
            back = conn.execute(text("SELECT at FROM changes ORDER BY seq")).scalars().all()
        assert back == [t.strftime("%Y-%m-%d %H:%M:%S.%f") for t in EDGES.values()]
    finally:
        engine.dispose()
