"""The JSON kept beside each fetch, stored packed (revision 0020): answers' headers and
listing entries read back as they were given, take a fraction of their JSON text, and
revision 0020 converts an archive with data and back. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select, text

from archive import compression, migrations
from archive.db import make_engine
from archive.errors import ArchiveError
from archive.listings import ListingReader
from archive.query import Snapshot
from archive.records import ListingEntry
from archive.schema import (
    Capture,
    answers_read_back,
    from_header_column,
    to_header_column,
)
from archive.search import captures_of
from archive.store import Archive
from tests.archive.conftest import BASE, address_entries, capture_for, make_record

COLUMNS = (("captures", "http"), ("captures", "listing"), ("addresses", "listing"))


def _answers(url: str, n: int) -> list[dict[str, Any]]:
    return [
        {
            "url": f"{BASE}/node/{n}",
            "status": 301,
            "reason": "Moved Permanently",
            "protocol": "HTTP/1.1",
            "headers": [["Location", url], ["Date", "Tue, 01 Jul 2025 00:00:00 GMT"]],
        },
        {
            "url": url,
            "status": 200,
            "reason": "OK",
            "protocol": "HTTP/1.1",
            "headers": [
                ["Content-Length", str(20_000 + n)],
                ["Date", "Tue, 01 Jul 2025 00:00:01 GMT"],
                ["Server", "Apache"],
                ["Content-Type", "text/html; charset=utf-8"],
                ["ETag", f'W/"{n:020x}"'],
                ["Set-Cookie", "a=1; path=/"],
                ["Set-Cookie", "b=2; path=/"],  # a header twice, in order
                ["X-Note", "Zürich – ünïcödé"],
                *([["Last-Modified", LAST_MODIFIED]] if n % 2 else []),
            ],
        },
    ]


LAST_MODIFIED = "Mon, 29 Nov 2010 11:30:00 GMT"
MEDIA = "text/html; charset=utf-8"


def _given(node: int) -> tuple[str | None, str | None, str | None]:
    """(etag, last_modified, content_type) of node's capture: as its answer says for
    most, none on some although the answer has one, another value on others."""
    etag = f'W/"{node:020x}"' if node % 3 else None
    last_modified = {0: None, 1: LAST_MODIFIED, 2: "Tue, 30 Nov 2010 08:00:00 GMT"}[node % 3]
    content_type = {0: MEDIA, 1: "text/html", 2: None, 3: MEDIA}[node % 4]
    return etag, last_modified, content_type


def _fill(archive: Archive, n: int = 12) -> None:
    for node in range(55000, 55000 + n):
        record = make_record(node, title=f"Item {node}: the Mission reports")
        listing = ListingEntry(
            url=record.url,
            title=record.title,
            published="2025-06-30",
            kind_label="Press Release",
            where="Vienna",
            what="Elections, Policing",
            lastmod="2025-06-30T09:00:00+00:00",
        )
        capture = replace(
            capture_for(record, 0, url=f"{BASE}/node/{node}", final_url=record.url),
            listing=listing,
            answers=_answers(record.url, node),
            etag=_given(node)[0],
            last_modified=_given(node)[1],
            content_type=_given(node)[2],
        )
        archive.ingest(capture, record)
    # A fetch with no listing entry and no answers recorded (a capture before 0003).
    record = make_record(56000)
    archive.ingest(capture_for(record, 1), record)


def _read(engine: Any) -> tuple[list[Any], list[Any], list[Any]]:
    """What the program reads: every capture's answers, listing and validators (as
    exports read them), every address's listing."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                Capture.id,
                Capture.url,
                Capture.fetched_at,
                Capture.http,
                Capture.listing,
                Capture.version_id,
            ).order_by(Capture.id)
        ).all()
        # Entries as the program reads them (kept beside their versions since 0032).
        entries = ListingReader(conn).entries([(r.listing, r.url, r.version_id) for r in rows])
        captures = [
            (r.id, answers_read_back(r.http, r.url, r.fetched_at), e and e.to_json())
            for r, e in zip(rows, entries, strict=True)
        ]
        stored = list(Snapshot(conn).captures())
        exported = [(c.requested, c.etag, c.last_modified, c.content_type) for c in stored]
        exported += [
            (c.url, c.content_type)
            for node in range(55000, 55013)
            for c in captures_of(conn, f"osce.org/{node}")
        ]
        addresses = list(address_entries(conn).items())
    return captures, exported, addresses


def _stored(engine: Any) -> dict[tuple[str, str], list[Any]]:
    """Each column's non-NULL values as the database holds them."""
    with engine.connect() as conn:
        return {
            (table, column): [
                v
                for v in conn.execute(
                    text(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL ORDER BY id")
                ).scalars()
            ]
            for table, column in COLUMNS
        }


def test_a_capture_column_the_answer_repeats_is_kept_once_and_reads_back() -> None:
    answers = _answers(f"{BASE}/fsc/1", 1)
    etag = 'W/"00000000000000000001"'
    assert to_header_column(etag, answers, "etag") is None
    assert to_header_column("text/html; charset=utf-8", answers, "content_type") is None
    for column, value in [
        ("etag", etag),
        ("etag", None),  # none, though the answer has one
        ("etag", '"another"'),
        ("etag", "\x01odd"),
        ("etag", ""),
        ("last_modified", None),  # the answer has none either
        ("last_modified", "Mon, 29 Nov 2010 11:30:00 GMT"),
        ("content_type", "text/html; charset=utf-8"),
    ]:
        for given in (answers, None, []):
            stored = to_header_column(value, given, column)
            assert from_header_column(stored, given, column) == value, (column, value, given)


def test_a_value_round_trips_and_an_unknown_format_is_refused() -> None:
    for value in (_answers(f"{BASE}/fsc/1", 1), {"url": "x", "title": "é\u2028\x00"}, [], 3):
        assert compression.unpack_json(compression.pack_json(value)) == value
        assert compression.unpack_json(json.dumps(value)) == value  # text before 0020
    with pytest.raises(ArchiveError, match="unknown format"):
        compression.unpack_json(b"\x07abc")


def test_fetch_json_is_stored_packed_and_revision_0020_converts_it(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        _fill(archive)
    engine = make_engine(db_url)
    try:
        seen = _read(engine)
        # At this revision: 0021 keeps most addresses' entries on their captures only.
        migrations.downgrade(engine, "0020")
        assert _read(engine) == seen
        captures, exported, addresses = seen
        assert captures[0][1] == _answers(f"{BASE}/fsc/55000", 55000)
        assert captures[0][2]["where"] == "Vienna"
        assert captures[-1][1:] == (None, None)  # SQL NULL, not a JSON null
        assert sum(1 for _, listing in addresses if listing) >= 12

        packed = _stored(engine)
        for (table, column), values in packed.items():
            assert values, f"{table}.{column} holds nothing in this scenario"
            for value in values:
                assert bytes(value)[:1] == b"\x01", (table, column)
        for value in packed[("captures", "http")]:
            whole = json.dumps(compression.unpack_json(bytes(value)))
            assert len(bytes(value)) < len(whole) / 2.5
        with engine.connect() as conn:
            kept = conn.execute(
                text("SELECT etag, content_type FROM captures WHERE http IS NOT NULL")
            ).all()
        assert ("\x01", None) in {tuple(r) for r in kept}  # none, though the answer has one
        assert (None, None) in {tuple(r) for r in kept}  # both as the answer says
        for node in range(55000, 55012):
            given = _given(node)
            assert [c[1:] for c in exported if len(c) == 4 and f"/{node}" in c[0]] == [given]
            assert [c[1] for c in exported if len(c) == 2 and f"/{node}" in c[0]] == [given[2]]

        migrations.downgrade(engine, "0019")
        with engine.connect() as conn:
            restored = conn.execute(
                text("SELECT etag, content_type FROM captures WHERE url LIKE '%/55001'")
            ).one()
        assert tuple(restored) == (_given(55001)[0], _given(55001)[2])
        plain = _stored(engine)
        for key, values in plain.items():
            assert [json.loads(v) if isinstance(v, str) else v for v in values] == [
                compression.unpack_json(bytes(v)) for v in packed[key]
            ]
        migrations.upgrade(engine, "0020")
        assert _read(engine) == seen
        assert {k: [bytes(v) for v in vs] for k, vs in _stored(engine).items()} == {
            k: [bytes(v) for v in vs] for k, vs in packed.items()
        }
        migrations.upgrade(engine)
        migrations.check(engine)
        assert _read(engine) == seen
    finally:
        engine.dispose()
    with Archive.open(db_url) as archive:
        assert archive.verify() == []
