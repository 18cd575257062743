"""A version's ``last_seen`` is stored only where a fetch gave the version after its
``first_seen`` (revision 0037): NULL for a version seen once, read back as its
``first_seen`` by the program and by SQL's ``coalesce``; the per-page and the grouped
ingest store the same; the revision converts an archive with data and back. Runs on
SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from archive.schema import Version
from archive.store import Archive
from tests.archive.conftest import (
    capture_for,
    make_record,
    revision_round_trip,
    written_both_ways,
)
from tests.archive.test_dedup import MEETING_A
from tests.archive.test_lean_storage import _fill


def _stored(engine: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT document_id, number, first_seen, last_seen FROM versions "
                    "ORDER BY document_id, number"
                )
            )
        )


def test_a_version_seen_once_keeps_no_last_seen(db_url: str, tmp_path: Path) -> None:
    record = make_record(57001)
    changed = make_record(57001, text="A new text for the second version of this item.")
    fetches = [(capture_for(record, 0), record), (capture_for(record, 5), record)]
    fetches += [(capture_for(changed, 9), changed)]
    with written_both_ways(db_url, tmp_path, fetches, split=2) as archives:
        for archive in archives:
            rows = _stored(archive.engine)
            # v1 seen at 0 h and again at 5 h; v2 once, at 9 h.
            assert [(n, s is None) for _, n, _, s in rows] == [(1, False), (2, True)]
            with archive.session() as s:
                versions = s.scalars(select(Version).order_by(Version.number)).all()
                seen = [(v.first_seen, v.last_seen) for v in versions]
            assert seen == [
                (capture_for(record, 0).fetched_at, capture_for(record, 5).fetched_at),
                (capture_for(changed, 9).fetched_at, capture_for(changed, 9).fetched_at),
            ]
            # What ``osce-archive history`` shows.
            views = archive.history("osce.org/57001").versions
            assert [(v.first_seen, v.last_seen) for v in views] == seen


def test_revision_0037_converts_an_archive_with_data_and_back(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        _fill(archive)
        again = make_record(55436, text=MEETING_A)  # as _fill stored it
        archive.ingest(capture_for(again, 30), again)  # seen again: its last_seen moves

    def at_0036(engine: Any, now: list[tuple[Any, ...]]) -> None:
        assert _stored(engine) == [(d, n, f, f if s is None else s) for d, n, f, s in now]

    now = revision_round_trip(db_url, "0036", _stored, at_0036)
    assert sum(1 for row in now if row[3] is None) >= 30
    assert sum(1 for row in now if row[3] is not None) >= 1
