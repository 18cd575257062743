"""SQLite counts times from 2026 (revision 0035): a time of this decade is an integer
SQLite keeps in 6 bytes, read back as the same aware datetime, and the revision shifts an
archive with data and back exactly. PostgreSQL keeps its own time type: the revision
changes nothing there."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select, text

from archive import migrations, search
from archive.api import open_archive
from archive.db import make_engine
from archive.schema import EPOCH_UNIX_MICROS, Change, from_sqlite_time, sqlite_time
from archive.store import Archive
from tests.archive.conftest import LAST_FETCHED, load_revision
from tests.archive.test_integer_times import DROPPED, _time_columns
from tests.archive.test_lean_storage import _fill

#: The largest integer SQLite stores in 6 bytes.
SIX_BYTES = 2**47 - 1
UNIX = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _raw_times(engine: Any) -> dict[str, list[int | None]]:
    """Every stored time as SQL reads it, by ``table.column``, in time order."""
    out = {}
    with engine.connect() as conn:
        for table, columns in _time_columns().items():
            for column in columns:
                value = column
                # NULL where it is first_seen: versions' since 0037, addresses' since 0042
                if column == "last_seen" and table in ("versions", "addresses"):
                    value = "coalesce(last_seen, first_seen)"
                if table == "addresses" and column == "last_fetched":  # revision 0044
                    value = LAST_FETCHED
                out[f"{table}.{column}"] = list(
                    conn.execute(text(f"SELECT {value} FROM {table} ORDER BY 1")).scalars()
                )
    return out


def test_the_revision_shifts_every_time_column_by_the_origin_the_program_uses() -> None:
    revision = load_revision("0035_times_from_2026.py")
    assert revision.TIMES == {**_time_columns(), **DROPPED}
    assert revision.ORIGIN == EPOCH_UNIX_MICROS
    assert (
        EPOCH_UNIX_MICROS
        == (datetime(2026, 1, 1, tzinfo=timezone.utc) - UNIX).total_seconds() * 10**6
    )


def test_times_of_this_decade_fit_six_bytes_and_read_back_exactly() -> None:
    edges = [
        datetime(2021, 7, 20, tzinfo=timezone.utc),
        datetime(2025, 12, 31, 23, 59, 59, 999_999, tzinfo=timezone.utc),
        datetime(2026, 1, 1, tzinfo=timezone.utc),
        datetime(2026, 12, 6, 4, 30, 0, 1, tzinfo=timezone.utc),
        datetime(2030, 6, 1, tzinfo=timezone.utc),
    ]
    stored = [sqlite_time(t) for t in edges]
    assert all(-SIX_BYTES - 1 <= v <= SIX_BYTES for v in stored)
    assert stored == sorted(stored) and stored[2] == 0
    assert [from_sqlite_time(v) for v in stored] == edges
    # Outside the decade a time still reads back: SQLite then takes 8 bytes, as before.
    far = [datetime(1999, 1, 1, tzinfo=timezone.utc), datetime(2099, 1, 1, tzinfo=timezone.utc)]
    assert [from_sqlite_time(sqlite_time(t)) for t in far] == far
    assert all(abs(sqlite_time(t)) > SIX_BYTES for t in far)


def test_revision_0035_shifts_an_archive_and_back(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        _fill(archive)
    with open_archive(db_url) as reader:
        before = list(reader.records(history=True))
    engine = make_engine(db_url)
    sqlite = engine.dialect.name == "sqlite"
    try:
        with engine.connect() as conn:
            months = search.per_month(conn)
            # The months SQL gives are those of the change log's times as the program
            # reads them.
            times = conn.execute(select(Change.at)).scalars().all()
        by_month = Counter(f"{t:%Y-%m}" for t in times)
        assert months["changes"] == dict(by_month)
        now = _raw_times(engine)
        migrations.downgrade(engine, "0034")
        then = _raw_times(engine)
        if sqlite:
            assert then == {
                column: [None if v is None else v + EPOCH_UNIX_MICROS for v in values]
                for column, values in now.items()
            }
        else:
            assert then == now
        migrations.upgrade(engine)
        assert _raw_times(engine) == now
        with engine.connect() as conn:
            assert search.per_month(conn) == months
    finally:
        engine.dispose()
    if sqlite:
        stored = [v for values in now.values() for v in values if v is not None]
        assert len(stored) > 100 and all(abs(v) <= SIX_BYTES for v in stored)
    with open_archive(db_url) as reader:
        assert list(reader.records(history=True)) == before
