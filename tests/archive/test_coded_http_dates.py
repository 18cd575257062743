"""An address's Last-Modified stored as seconds since 1970 where that gives it back
(revision 0029): the frontier's address states read the same validators on both ingest
paths, any other spelling is kept as it is, and revision 0029 converts an archive with
data and back. The addresses keep their own validators here because a 304 that did not
repeat them came last (revision 0044). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from archive import migrations
from archive.db import make_engine
from archive.schema import HttpDate
from archive.store import Archive
from tests.archive.conftest import capture_for, ingest_both_ways, make_record, stored_values

GIVEN = {
    60001: "Mon, 29 Nov 2010 11:30:00 GMT",
    60002: "Wed, 31 Dec 1969 23:59:59 GMT",  # before 1970
    60003: "Mon, 29 Nov 2010 11:30:00 +0000",  # another spelling
    60004: "Thu, 01 Jan 1960 00:00:00 GMT",  # the wrong weekday: kept as sent
    60005: "\x01 not a date",
    60006: "Sun, 06 Nov 1994 08:49:37 GMT",
}
COLUMN = [("addresses", "last_modified")]


def test_an_http_date_round_trips_through_its_stored_form() -> None:
    coded = HttpDate()
    for value in [*GIVEN.values(), "", "garbage", "\x1fx", "Tue, 01 Jul 2025 00:00:00 GMT"]:
        assert coded.decode(coded.encode(value)) == value
    assert coded.encode("Sun, 06 Nov 1994 08:49:37 GMT") == "\x01784111777"
    assert coded.encode("Mon, 29 Nov 2010 11:30:00 +0000") == "Mon, 29 Nov 2010 11:30:00 +0000"


def _not_modified(record: Any, hours: float) -> tuple[Any, None]:
    """A 304 that does not repeat the validators: the address keeps its own (its newest
    capture no longer says them, revision 0044), in the column's coded form."""
    return capture_for(None, hours, url=record.url, status=304), None


def _fill(archive: Archive) -> dict[str, str]:
    urls = {}
    pairs = []
    for node, value in GIVEN.items():
        record = make_record(node, text=f"Text of item {node}.")
        capture = replace(capture_for(record, 0), last_modified=value)
        urls[record.url] = value
        pairs.append((capture, record))
    ingest_both_ways(archive, pairs)
    ingest_both_ways(archive, [_not_modified(record, 1) for _, record in pairs])
    return urls


def _states(db_url: str, urls: dict[str, str]) -> dict[str, Any]:
    with Archive.open(db_url) as archive:
        states = archive.address_states(list(urls))
    return {url: state.last_modified for url, state in zip(urls, states, strict=True)}


def test_validators_read_back_and_revision_0029_converts_them(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        urls = _fill(archive)
    assert _states(db_url, urls) == urls
    engine = make_engine(db_url)
    try:
        stored = stored_values(engine, COLUMN)[COLUMN[0]]
    finally:
        engine.dispose()
    assert sorted(stored) == sorted(
        [
            "\x011291030200",
            "\x01-1",
            "\x01784111777",
            "Mon, 29 Nov 2010 11:30:00 +0000",
            "Thu, 01 Jan 1960 00:00:00 GMT",
            "\x1f\x01 not a date",
        ]
    )
    engine = make_engine(db_url)
    try:
        migrations.downgrade(engine, "0028")
        assert sorted(stored_values(engine, COLUMN)[COLUMN[0]]) == sorted(GIVEN.values())
        migrations.upgrade(engine)
        migrations.check(engine)
        assert sorted(stored_values(engine, COLUMN)[COLUMN[0]]) == sorted(stored)
    finally:
        engine.dispose()
    assert _states(db_url, urls) == urls
    # A page fetched again (the batch path's update of a known address) keeps the new
    # validator coded too.
    newer = "Tue, 01 Jul 2025 09:00:00 GMT"
    record = make_record(60002, text="Text of item 60002.")
    archive_pairs = [(replace(capture_for(record, 5), last_modified=newer), record)]
    with Archive.open(db_url) as archive:
        archive.ingest_many(archive_pairs)
        archive.ingest_many([_not_modified(record, 6)])
        assert archive.verify() == []
    assert _states(db_url, {record.url: newer}) == {record.url: newer}
    engine = make_engine(db_url)
    try:
        assert "\x011751360400" in stored_values(engine, COLUMN)[COLUMN[0]]
    finally:
        engine.dispose()
