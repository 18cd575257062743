"""Two times kept once (revision 0042): an address's ``last_seen`` is stored only where a
later fetch met it, NULL while it is ``first_seen``, and read back as ``first_seen`` by
the program; a body keeps no storing time of its own (its first capture's
``fetched_at``). The per-page and the grouped ingest store the same; the revision
converts an archive with data and back. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select, text

from archive.db import make_engine
from archive.schema import Address
from archive.store import Archive
from archive.urls import normalise_address
from tests.archive.conftest import (
    LAST_FETCHED,
    capture_for,
    make_record,
    revision_round_trip,
    written_both_ways,
)
from tests.archive.test_dedup import MEETING_A
from tests.archive.test_lean_storage import _fill


def _addresses(engine: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    f"SELECT url, first_seen, last_seen, {LAST_FETCHED} FROM addresses ORDER BY url"
                )
            )
        )


def _body_columns(engine: Any) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns("bodies")}


def test_an_address_met_once_keeps_no_last_seen(db_url: str, tmp_path: Path) -> None:
    record = make_record(57001)
    other = make_record(57002)
    fetches = [(capture_for(record, 0), record), (capture_for(other, 2), other)]
    fetches += [(capture_for(record, 5), record)]  # 57001's address met again at 5 h
    with written_both_ways(db_url, tmp_path, fetches, split=2) as archives:
        for archive in archives:
            rows = {url: row for url, *row in _addresses(archive.engine)}
            again, once = (normalise_address(r.url) for r in (record, other))
            with archive.session() as s:
                seen = {
                    a.url: (a.first_seen, a.last_seen, a.seen_since)
                    for a in s.scalars(select(Address))
                }
            assert seen[once] == (fetches[1][0].fetched_at, fetches[1][0].fetched_at, None)
            assert seen[again] == (
                fetches[0][0].fetched_at,
                fetches[2][0].fetched_at,
                fetches[2][0].fetched_at,
            )
            assert sorted(r[1] is None for r in rows.values()) == [False, True]
            assert "stored_at" not in _body_columns(archive.engine)


def test_revision_0042_converts_an_archive_with_data_and_back(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        _fill(archive)
        again = make_record(55436, text=MEETING_A)  # as _fill stored it
        archive.ingest(capture_for(again, 30), again)  # met again: its last_seen moves

    def at_0041(engine: Any, now: list[tuple[Any, ...]]) -> None:
        assert _addresses(engine) == [(u, f, f if s is None else s, x) for u, f, s, x in now]
        with engine.connect() as conn:
            # every body back with the time of the first fetch that brought it
            wrong = conn.execute(
                text(
                    "SELECT count(*) FROM bodies b WHERE b.stored_at IS NULL OR b.stored_at <> "
                    "(SELECT min(c.fetched_at) FROM captures c WHERE c.body_sha256 = b.sha256)"
                )
            ).scalar_one()
            assert conn.execute(text("SELECT count(*) FROM bodies")).scalar_one() >= 30
        assert wrong == 0

    now = revision_round_trip(db_url, "0041", _addresses, at_0041)
    assert sum(1 for row in now if row[2] is None) >= 30
    assert sum(1 for row in now if row[2] is not None) >= 1
    engine = make_engine(db_url)
    try:
        assert "stored_at" not in _body_columns(engine)
    finally:
        engine.dispose()
