"""A capture's answers stored less what its own columns say (revision 0028): the first
answer's address when it is the one requested, a Date header as its offset from the
fetch time; and a Last-Modified header as seconds since 1970 (revision 0041). Exports and
the reading room read them back whole, on both ingest paths; revisions 0028 and 0041
convert an archive with data and back. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import text

from archive import compression, migrations
from archive.db import make_engine
from archive.query import Snapshot
from archive.schema import answers_read_back, answers_to_store, http_date
from archive.search import captures_of
from archive.store import Archive
from tests.archive.conftest import BASE, capture_for, ingest_both_ways, make_record

AT = datetime(2025, 7, 1, 0, 0, 0, 654321, tzinfo=timezone.utc)


def _answers(requested: str, final: str, dates: tuple[Any, Any]) -> list[dict[str, Any]]:
    return [
        {
            "url": requested,
            "status": 301,
            "reason": "Moved Permanently",
            "protocol": "HTTP/1.1",
            "headers": [["Location", final], ["Date", dates[0]]],
        },
        {
            "url": final,
            "status": 200,
            "reason": "OK",
            "protocol": "HTTP/1.1",
            "headers": [["date", dates[1]], ["Content-Type", "text/html"], ["X-Count", "3"]],
        },
    ]


DATES = (
    ("Tue, 01 Jul 2025 00:00:00 GMT", "Tue, 01 Jul 2025 00:00:01 GMT"),  # the fetch's, +1 s
    ("Mon, 30 Jun 2025 23:59:58 GMT", "Tue, 01 Jul 2025 00:59:00 GMT"),  # -2 s, +59 min
    ("Tue, 1 Jul 2025 00:00:00 GMT", "Tuesday, 01-Jul-25 00:00:00 GMT"),  # other spellings
    ("Sun, 01 Jun 2025 00:00:00 GMT", "not a date"),  # a month off, garbage
    ("", "Tue, 01 Jul 2025 00:00:00 +0000"),
)


def test_answers_round_trip_through_what_is_stored() -> None:
    requested, final = f"{BASE}/node/1", f"{BASE}/fsc/1"
    for dates in DATES:
        answers = _answers(requested, final, dates)
        for at in (AT, AT + timedelta(microseconds=345679)):
            stored = answers_to_store(answers, requested, at)
            assert answers_read_back(stored, requested, at) == answers, dates
    stored = answers_to_store(_answers(requested, final, DATES[0]), requested, AT)
    assert stored is not None
    assert "url" not in stored[0] and stored[1]["url"] == final
    assert stored[0]["headers"][1] == ["Date", 0] and stored[1]["headers"][0] == ["date", 1]
    assert stored[1]["headers"][2] == ["X-Count", "3"]  # a number as text stays text
    # Spellings the offset would not give back, and dates far off, are kept as they are.
    for dates in DATES[2:]:
        kept = answers_to_store(_answers(requested, final, dates), requested, AT)
        assert kept is not None
        assert [kept[0]["headers"][1][1], kept[1]["headers"][0][1]] == list(dates)
    # Requested elsewhere (the answers of another fetch): the address stays.
    other = answers_to_store(_answers(requested, final, DATES[0]), f"{BASE}/x", AT)
    assert other is not None and other[0]["url"] == requested
    for empty in (None, []):
        assert answers_to_store(empty, requested, AT) == empty
        assert answers_read_back(empty, requested, AT) == empty
    # A value stored before revision 0028 reads back as it is.
    whole = _answers(requested, final, DATES[1])
    assert answers_read_back(whole, requested, AT) == whole
    assert http_date(AT, 61) == "Tue, 01 Jul 2025 00:01:01 GMT"


def _fill(archive: Archive) -> dict[str, list[Any]]:
    """Captures on both ingest paths; the answers each was given, by address requested."""
    given: dict[str, list[Any]] = {}
    pairs = []
    for node, dates in zip(range(59000, 59005), DATES, strict=True):
        record = make_record(node, text=f"Text of item {node}.")
        requested = f"{BASE}/node/{node}"
        capture = capture_for(record, 0, url=requested, final_url=record.url)
        capture = replace(capture, fetched_at=AT, answers=_answers(requested, record.url, dates))
        given[requested] = capture.answers
        pairs.append((capture, record))
    ingest_both_ways(archive, pairs)
    return given


def _read(engine: Any) -> tuple[dict[str, Any], list[Any]]:
    with engine.connect() as conn:
        exported = {c.requested: c.answers for c in Snapshot(conn).captures()}
        types = [
            c.content_type for n in range(59000, 59005) for c in captures_of(conn, f"osce.org/{n}")
        ]
    return exported, types


def _raw(engine: Any) -> list[Any]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT http FROM captures ORDER BY id")).scalars()
        return [compression.unpack_json(bytes(v)) for v in rows]


def test_stored_answers_read_back_whole_and_revision_0028_converts_them(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        given = _fill(archive)
    engine = make_engine(db_url)
    try:
        exported, types = _read(engine)
        assert exported == given
        assert types == ["text/html; charset=utf-8"] * 5  # as capture_for gives it
        raw = _raw(engine)
        assert all("url" not in answers[0] for answers in raw)
        assert sum(isinstance(a[0]["headers"][1][1], int) for a in raw) == 2
        migrations.downgrade(engine, "0027")
        assert sorted(map(str, _raw(engine))) == sorted(map(str, given.values()))
        assert _read(engine) == (exported, types)
        migrations.upgrade(engine)
        migrations.check(engine)
        assert _raw(engine) == raw
        assert _read(engine) == (exported, types)
    finally:
        engine.dispose()
    with Archive.open(db_url) as archive:
        assert archive.verify() == []


#: Last-Modified values: an exact HTTP date (kept as seconds), and others kept as they are.
MODIFIED = (
    "Mon, 30 Jun 2025 11:31:00 GMT",
    "Thu, 01 Jan 1970 00:00:00 GMT",
    "Mon, 30 Jun 2025 11:31:00 +0000",
    "Tue, 30 Jun 2025 11:31:00 GMT",  # the wrong weekday: not what http_date writes
    "1751283060",
)


def _modified(requested: str, value: str) -> list[dict[str, Any]]:
    answers = _answers(requested, requested, DATES[0])[1:]
    answers[0]["headers"].append(["Last-Modified", value])
    return answers


def test_last_modified_is_kept_as_seconds_and_revision_0041_converts_it(db_url: str) -> None:
    requested = f"{BASE}/fsc/1"
    stored = answers_to_store(_modified(requested, MODIFIED[0]), requested, AT)
    assert stored is not None and stored[0]["headers"][-1] == ["Last-Modified", 1751283060]
    for value in MODIFIED:
        answers = _modified(requested, value)
        kept = answers_to_store(answers, requested, AT)
        assert answers_read_back(kept, requested, AT) == answers, value
        assert kept is not None and isinstance(kept[0]["headers"][-1][1], int) == (
            value in MODIFIED[:2]
        )
    with Archive.open(db_url) as archive:
        given: dict[str, list[Any]] = {}
        pairs = []
        for node, value in zip(range(59100, 59105), MODIFIED, strict=True):
            record = make_record(node, text=f"Text of item {node}.")
            capture = capture_for(record, 0)
            capture = replace(capture, fetched_at=AT, answers=_modified(record.url, value))
            given[record.url] = capture.answers
            pairs.append((capture, record))
        ingest_both_ways(archive, pairs)
    engine = make_engine(db_url)
    try:
        exported, _ = _read(engine)
        assert exported == given
        raw = _raw(engine)
        assert sorted(repr(a[0]["headers"][-1][1]) for a in raw) == sorted(
            map(repr, [1751283060, 0, *MODIFIED[2:]])
        )
        migrations.downgrade(engine, "0040")
        assert sorted(a[0]["headers"][-1][1] for a in _raw(engine)) == sorted(MODIFIED)
        assert _read(engine)[0] == exported
        migrations.upgrade(engine)
        migrations.check(engine)
        assert _raw(engine) == raw
    finally:
        engine.dispose()
    with Archive.open(db_url) as archive:
        assert archive.verify() == []
