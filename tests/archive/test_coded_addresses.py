"""Addresses stored with their beginning coded (revision 0019): the program, exports and
lookups see the addresses themselves; the database holds one character for the
newsroom's scheme and host; revision 0019 converts an archive with data and back. Runs
on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import select, text

from archive import migrations, query, search
from archive.api import open_archive
from archive.db import make_engine
from archive.schema import URL_ESCAPE, URL_PREFIXES, Address, pack_url, unpack_url
from archive.store import Archive
from tests.archive.conftest import BASE, capture_for, make_record, stored_values

COLUMNS = (
    ("documents", "url"),
    ("addresses", "url"),
    ("versions", "url"),
    ("captures", "url"),
    ("captures", "final_url"),
    ("changes", "url"),
)
OTHER = "https://news.example.org/2024/osce-report"
SHORT = "https://go.example.org/55437"


def test_an_address_round_trips_and_coded_ones_keep_their_order() -> None:
    addresses = [
        "http://osce.org/fsc/55436",
        "http://www.osce.org/fsc/55436",
        "https://osce.org/",
        "https://www.osce.org/node/1?page=2",
        OTHER,
        "ftp://osce.org/x",
        "https://osce.org.evil.example/x",
        "\x01starts with a control character",
        "",
    ]
    for url in addresses:
        assert unpack_url(pack_url(url)) == url
    assert pack_url("https://www.osce.org/fsc/55436") == chr(4) + "fsc/55436"
    assert pack_url(OTHER) == OTHER
    assert pack_url("\x01x") == URL_ESCAPE + "\x01x"
    coded = [u for u in addresses if any(u.startswith(p) for p in URL_PREFIXES)]
    assert sorted(coded) == [unpack_url(s) for s in sorted(pack_url(u) for u in coded)]
    assert list(URL_PREFIXES) == sorted(URL_PREFIXES)
    assert not any(a != b and b.startswith(a) for a in URL_PREFIXES for b in URL_PREFIXES)


def _fill(archive: Archive) -> None:
    record = make_record(55436)
    archive.ingest(
        capture_for(
            record,
            0,
            url=f"{BASE}/node/55436",
            final_url=record.url,
            redirects=[f"{BASE}/node/55436"],
        ),
        record,
    )
    # The item moves (a new canonical address, same content): a "moved" change names it.
    moved = replace(record, url=f"{BASE}/secretariat/55436")
    archive.ingest(capture_for(moved, 1), moved)
    # An article on another host keeps its address as it is.
    article = replace(make_record(77001), id="news.example.org/osce-report", url=OTHER)
    archive.ingest(capture_for(article, 2), article)
    # An item reached from another host: an address that sorts before the item's own
    # addresses, and after them once those are coded (its aliases are sorted in Python).
    other = make_record(55437)
    for hours, url in ((3, SHORT), (4, "https://a.example.org/55437")):
        capture = capture_for(other, hours, url=url, final_url=other.url, redirects=[url])
        archive.ingest(capture, other)


def _stored(engine: Any) -> dict[tuple[str, str], list[str]]:
    return stored_values(engine, COLUMNS)


def _seen(db_url: str) -> tuple[list[Any], list[Any], str | None, list[str], list[Any]]:
    """What readers see: records with history, a document's captures, a lookup by
    address, the addresses as the ORM reads them and search hits (SQL written as text)."""
    with open_archive(db_url) as reader:
        records = list(reader.records(history=True))
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            found = query.resolve(conn, "osce.org/fsc/55436")
            captures = search.captures_of(conn, "osce.org/55436")
            urls = sorted(conn.execute(select(Address.url)).scalars())
            hits = [(h.document_id, h.url) for h in search.search(conn, "").hits]
    finally:
        engine.dispose()
    return records, captures, found, urls, hits


def test_addresses_are_stored_coded_and_revision_0019_converts_them(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        _fill(archive)
    seen = _seen(db_url)
    records, captures, found, urls, hits = seen
    assert found == "osce.org/55436"
    assert ("osce.org/55436", f"{BASE}/secretariat/55436") in hits
    assert ("news.example.org/osce-report", OTHER) in hits
    aliases = next(r["aliases"] for r in records if r["id"] == "osce.org/55437")
    assert aliases == sorted(aliases) and aliases[:2] == ["https://a.example.org/55437", SHORT]
    assert f"{BASE}/secretariat/55436" in [r["url"] for r in records]
    assert OTHER in [r["url"] for r in records]
    assert {c.final_url for c in captures} >= {f"{BASE}/fsc/55436"}
    assert "https://osce.org/node/55436" in urls and OTHER in urls

    engine = make_engine(db_url)
    try:
        coded = _stored(engine)
        for (table, column), values in coded.items():
            assert values, f"{table}.{column} holds no address in this scenario"
            for value in values:
                assert value.startswith(tuple(chr(n) for n in range(1, 5))) or (
                    value.startswith(("https://news.", "https://go.", "https://a."))
                ), (table, column, value)
        # Before revision 0039 every version keeps its address, coded as the rest.
        migrations.downgrade(engine, "0038")
        whole = _stored(engine)
        assert len(whole["versions", "url"]) > len(coded["versions", "url"])
        migrations.downgrade(engine, "0018")
        plain = _stored(engine)
        assert plain == {
            key: sorted(unpack_url(v) for v in values) for key, values in whole.items()
        }
        assert not any(v[:1] < " " for values in plain.values() for v in values)
        migrations.upgrade(engine)
        migrations.check(engine)
        assert _stored(engine) == coded
    finally:
        engine.dispose()
    assert _seen(db_url) == seen
    with Archive.open(db_url) as archive:
        assert archive.verify() == []


def test_revision_0019_keeps_an_address_that_begins_with_a_control_character(
    db_url: str,
) -> None:
    with Archive.open(db_url) as archive:
        _fill(archive)
    engine = make_engine(db_url)
    try:
        migrations.downgrade(engine, "0018")
        with engine.begin() as conn:
            conn.execute(text("UPDATE captures SET final_url = :u"), {"u": "\x02odd"})
        migrations.upgrade(engine)
        with engine.connect() as conn:
            stored = set(conn.execute(text("SELECT final_url FROM captures")).scalars())
            assert stored == {URL_ESCAPE + "\x02odd"}
            read = {c.final_url for c in search.captures_of(conn, "osce.org/55436")}
            assert read == {"\x02odd"}
        migrations.downgrade(engine, "0018")
        with engine.connect() as conn:
            stored = set(conn.execute(text("SELECT final_url FROM captures")).scalars())
            assert stored == {"\x02odd"}
    finally:
        engine.dispose()
