"""What revision 0021 keeps once: an address's listing entry where its own capture holds
it, and (SQLite) the digests of ``bodies``, in their rows' own tree.

The frontier reads the same entries as before, through both ingest paths, and the
revision converts an archive with data and back. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select, text

from archive import migrations
from archive.db import make_engine
from archive.records import Capture, ListingEntry, Record
from archive.schema import Address, unpack_url
from archive.store import Archive
from archive.urls import normalise_address
from tests.archive.conftest import BASE, address_entries, capture_for, make_record


def _entry(node: int, title: str) -> ListingEntry:
    return ListingEntry(
        url=f"{BASE}/fsc/{node}",
        title=title,
        published="2025-06-30",
        kind_label="Press Release",
        lastmod=f"2025-06-30T09:00:00+00:00#{title}",
    )


def _fetches(node: int) -> list[tuple[Capture, Record, str]]:
    """Fetches of one item and what its canonical address's entry is after each:
    at the canonical address, again with a new entry, through an alias (which brings
    its entry to the canonical address too), with no entry, and at the canonical
    address once more."""
    record = make_record(node)
    alias = f"{BASE}/node/{node}"

    def fetch(hours: float, title: str | None, url: str | None = None) -> Capture:
        listing = _entry(node, title) if title is not None else None
        return replace(
            capture_for(record, hours, url=url, final_url=record.url if url else None),
            listing=listing,
        )

    return [
        (fetch(0, "first"), record, "first"),
        (fetch(1, "second"), record, "second"),
        (fetch(2, "through the alias", alias), record, "through the alias"),
        (fetch(3, None), record, "through the alias"),
        (fetch(4, "third"), record, "third"),
    ]


def _stored(engine: Any) -> dict[str, bytes | None]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT url, listing FROM addresses")).all()
    return {unpack_url(str(url)): (bytes(v) if v is not None else None) for url, v in rows}


def _read(engine: Any) -> dict[int, Any]:
    with engine.connect() as conn:
        return address_entries(conn)


@pytest.mark.parametrize("path", ["one by one", "in groups"])
def test_an_address_keeps_the_entry_its_capture_does_not(db_url: str, path: str) -> None:
    node = 55700
    with Archive.open(db_url) as archive:
        canonical = make_record(node).url
        for capture, record, expected in _fetches(node):
            if path == "one by one":
                archive.ingest(capture, record)
            else:
                [result] = archive.ingest_many([(capture, record)])
                assert not isinstance(result, Exception)
            state = archive.address_state(canonical)
            assert state is not None and state.listing is not None
            assert state.listing.title == expected, capture.fetched_at
        alias = archive.address_state(f"{BASE}/node/{node}")
        assert alias is not None and alias.listing is not None
        assert alias.listing.title == "through the alias"  # its own capture's
        stored = _stored(archive.engine)
    # The canonical address's own newest capture with an entry holds it, and so does the
    # alias's: neither address stores it again.
    coded = {url for url, value in stored.items() if value is None}
    assert len(coded) == len(stored) == 2


def test_one_group_of_fetches_of_one_item_leaves_the_newest_entry(db_url: str) -> None:
    """The five fetches in one group (one transaction, the captures written together at
    its end): the entry read back is the one the per-page ingest leaves."""
    node = 55705
    fetches = _fetches(node)
    with Archive.open(db_url) as archive:
        results = archive.ingest_many([(capture, record) for capture, record, _ in fetches])
        assert not any(isinstance(r, Exception) for r in results)
        canonical = archive.address_state(make_record(node).url)
        alias = archive.address_state(f"{BASE}/node/{node}")
        assert canonical is not None and canonical.listing is not None
        assert alias is not None and alias.listing is not None
        assert canonical.listing.title == fetches[-1][2]
        assert alias.listing.title == "through the alias"
        assert set(_stored(archive.engine).values()) == {None}


def test_an_entry_from_another_address_is_stored_on_the_address(db_url: str) -> None:
    node = 55710
    with Archive.open(db_url) as archive:
        for capture, record, _ in _fetches(node)[:3]:  # the third through the alias
            archive.ingest(capture, record)
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(Address.url, Address.listing)).all()
        stored = {url: listing for url, listing in rows}
        # The alias's own capture keeps its entry; the canonical address's newest own
        # capture holds "second", so the address stores the entry the alias brought.
        assert stored[normalise_address(f"{BASE}/node/{node}")] is None
        assert stored[normalise_address(make_record(node).url)]["title"] == "through the alias"
    finally:
        engine.dispose()


def _fill(archive: Archive) -> None:
    for node in range(55720, 55730):
        for capture, record, _ in _fetches(node)[: 2 + node % 4]:
            archive.ingest(capture, record)
    archive.ingest(capture_for(None, 9, url=f"{BASE}/gone", status=404))


def test_revision_0021_converts_an_archive_and_back(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        _fill(archive)
        before = [archive.address_state(u) for u in sorted(_stored(archive.engine))]
        assert before and all(state is not None for state in before)
    engine = make_engine(db_url)
    sqlite = engine.dialect.name == "sqlite"
    try:
        seen = _read(engine)
        # Ten items' canonical addresses and seven aliases.
        assert sum(1 for v in seen.values() if v is not None) == 17
        head = _stored(engine)
        assert sum(1 for v in head.values() if v is None) > sum(
            1 for v in head.values() if v is not None
        )
        assert _without_rowid(engine) == set()  # a row-id table again since 0038

        migrations.downgrade(engine, "0020")
        assert _without_rowid(engine) == set()
        assert _read(engine) == seen
        old = _stored(engine)
        # Before 0021 every address an entry reached stored it.
        assert {u for u, v in old.items() if v is not None} == {
            u for u, v in old.items() if seen[_id(engine, u)] is not None
        }
        migrations.upgrade(engine, "0037")
        assert _without_rowid(engine) == ({"bodies"} if sqlite else set())
        migrations.upgrade(engine)
        migrations.check(engine)
        assert _stored(engine) == head
        assert _read(engine) == seen
        assert _without_rowid(engine) == set()
    finally:
        engine.dispose()
    with Archive.open(db_url) as archive:
        assert [archive.address_state(u) for u in sorted(_stored(archive.engine))] == before
        assert archive.verify() == []


def _id(engine: Any, url: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(Address.id).where(Address.url == url)).scalar_one())


def _without_rowid(engine: Any) -> set[str]:
    if engine.dialect.name != "sqlite":
        return set()
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))
        found = {str(name) for name, sql in rows if "WITHOUT ROWID" in str(sql).upper()}
    return found & {"documents", "bodies"}
