"""A fetch's listing entry kept as what its version does not say (revision 0032,
``archive.listings``): the frontier, a document's newest capture and re-extraction (in
this process and in workers) read back the entries given, through both writers; an entry
beside a fetch with no version leaves out only its address (revision 0040); the entries
take less; and the revisions convert an archive with data and back. Runs on SQLite and
PostgreSQL."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from archive import compression, listings, migrations
from archive.db import make_engine
from archive.errors import ArchiveError
from archive.records import Capture, ListingEntry, Record
from archive.schema import Capture as CaptureRow
from archive.schema import Version
from archive.store import Archive
from archive.texts import TextReader
from archive.urls import normalise_address
from tests.archive.conftest import BASE, capture_for, ingest_both_ways, make_record

SOURCES = ["OSCE Chairpersonship", "OSCE Mission to Moldova"]
FIELDS = ["Policing, Reform and co-operation in the security sector", "Border management"]


def _record(node: int) -> Record:
    return make_record(
        node, title=f"Item {node} is announced", sources=SOURCES, fields_of_work=FIELDS
    )


def _entry(record: Record, **changes: Any) -> ListingEntry:
    """What a listing page says of ``record``, as it usually does: its own labels."""
    entry = ListingEntry(
        url=record.url,
        title=record.title,
        published=record.published,
        kind_label="Press release",
        where=SOURCES[1],
        what=", ".join(FIELDS),
    )
    return replace(entry, **changes)


#: Entries that say what the version says, and entries that say something else.
VARIANTS: list[dict[str, Any]] = [
    {},
    {"title": "Another title on the listing"},
    {"where": "Secretariat"},
    {"where": None, "what": None},
    {"what": "Border management"},
    {"published": None, "kind_label": None},
    {"source": "sitemap", "lastmod": "2025-07-01T10:00:00+00:00", "title": None},
]


def _fetches(first: int) -> list[tuple[Capture, Record, ListingEntry]]:
    out = []
    for i, changes in enumerate(VARIANTS):
        record = _record(first + i)
        entry = _entry(record, **changes)
        out.append((replace(capture_for(record, i / 60), listing=entry), record, entry))
    # Fetched through another address: the entry's address is not the one requested.
    record = _record(first + len(VARIANTS))
    alias = f"{BASE}/node/{first + len(VARIANTS)}"
    capture = capture_for(record, 1, url=alias, final_url=record.url, redirects=[record.url])
    out.append((replace(capture, listing=_entry(record)), record, _entry(record)))
    return out


def _states(archive: Archive, fetches: list[tuple[Capture, Record, ListingEntry]]) -> list[Any]:
    states = archive.address_states([capture.url for capture, _, _ in fetches])
    return [state.listing if state is not None else None for state in states]


def _stored(archive: Archive) -> dict[int, Any]:
    with archive.session() as s:
        return {r.id: r.listing for r in s.execute(select(CaptureRow.id, CaptureRow.listing))}


@pytest.mark.parametrize("path", ["one by one", "both writers"])
def test_readers_read_the_entries_given(db_url: str, path: str) -> None:
    fetches = _fetches(56000)
    with Archive.open(db_url) as archive:
        pairs = [(capture, record) for capture, record, _ in fetches]
        if path == "one by one":
            for capture, record in pairs:
                archive.ingest(capture, record)
        else:
            ingest_both_ways(archive, pairs)
        assert _states(archive, fetches) == [entry for _, _, entry in fetches]
        streamed = {s.url: s.listing for s in archive.iter_address_states(all_addresses=True)}
        assert len(streamed) == len(fetches) + 1  # the alias too
        for capture, record, entry in fetches:
            assert streamed[normalise_address(capture.url)] == entry
            assert streamed[normalise_address(record.url)] == entry
            found = archive.newest_capture(record.id)
            assert found is not None and found[3] == entry
        stored = list(_stored(archive).values())
    # Each entry beside its version keeps only what the version does not say.
    assert all(listings.ELIDED in value for value in stored)
    whole = stored[0]
    assert set(whole) == {listings.ELIDED, "kind_label", "where"}
    assert whole["where"] == 1 and set(whole[listings.ELIDED]) == {"t", "w", "u", "p"}


def test_an_entry_beside_no_version_leaves_out_only_its_address(db_url: str) -> None:
    record = _record(56100)
    first = replace(capture_for(record, 0), listing=_entry(record))
    later = _entry(record, title="Relabelled on the listing")
    unmodified = replace(capture_for(record, 1, status=304), body=None, listing=later)
    with Archive.open(db_url) as archive:
        archive.ingest(first, record)
        assert archive.ingest(unmodified, None).outcome == "not_modified"
        state = archive.address_state(record.url)
        assert state is not None and state.listing == later
        stored = list(_stored(archive).values())
    assert listings.ELIDED in stored[0]
    # The 304 read no version: what its entry says stays, but the address fetched and
    # the default source.
    assert stored[1] == {
        listings.ELIDED: "u",
        **{
            k: v for k, v in later.to_json().items() if k not in ("url", "source") and v is not None
        },
    }
    assert not listings.needs_labels(stored[1])


def _listing_title(body: bytes, url: str, listing: ListingEntry | None = None) -> Record:
    """An extractor whose record's title is the entry it was given (module level: the
    workers of ``reextract --workers 2`` import it)."""
    node = int(url.rstrip("/").rsplit("/", 1)[1])
    given = json.dumps(listing.to_json() if listing else None, sort_keys=True)
    return replace(_record(node), url=url, title=given, extractor_version="test-2")


@pytest.mark.parametrize("workers", [1, 2])
def test_reextraction_reads_the_entries_given(db_url: str, workers: int) -> None:
    fetches = _fetches(56200)
    with Archive.open(db_url) as archive:
        ingest_both_ways(archive, [(capture, record) for capture, record, _ in fetches])
        counters = archive.reextract(_listing_title, "test-2", workers=workers)
        assert counters["new_versions"] == len(fetches)
        with archive.session() as s:
            versions = TextReader(s).load(
                s.scalars(select(Version).where(Version.number == 2).order_by(Version.id))
            )
            read = {v.document_id: json.loads(v.title) for v in versions}
    assert read == {record.id: entry.to_json() for _, record, entry in fetches}


def test_entries_take_less(db_url: str) -> None:
    fetches = _fetches(56300)
    with Archive.open(db_url) as archive:
        for capture, record, _ in fetches:
            archive.ingest(capture, record)
        engine = archive.engine
        with engine.connect() as conn:
            kept = sum(
                len(v) for v in conn.exec_driver_sql("SELECT listing FROM captures").scalars()
            )
    whole = sum(len(compression.pack_json(entry.to_json())) for *_, entry in fetches)
    assert kept < 0.6 * whole


def test_revision_0032_converts_an_archive_with_data_and_back(db_url: str) -> None:
    fetches = _fetches(56400)
    with Archive.open(db_url) as archive:
        ingest_both_ways(archive, [(capture, record) for capture, record, _ in fetches])
        record = fetches[0][1]
        unmodified = replace(capture_for(record, 2, status=304), body=None, listing=_entry(record))
        archive.ingest(unmodified, None)
        before = _stored(archive)
        states = _states(archive, fetches)
    engine = make_engine(db_url)
    try:
        migrations.downgrade(engine, "0031")
        with engine.connect() as conn:
            rows = conn.execute(
                select(CaptureRow.id, CaptureRow.url, CaptureRow.listing).order_by(CaptureRow.id)
            ).all()
        # What the code before 0032 reads: JSON values of format 1 alone, every entry
        # whole, the one given.
        formats = set()
        with engine.connect() as conn:
            for table, column in (
                ("captures", "listing"),
                ("captures", "http"),
                ("addresses", "listing"),
            ):  # noqa: E501
                packed = conn.exec_driver_sql(f"SELECT {column} FROM {table}").scalars()
                formats |= {bytes(v)[:1] for v in packed if v is not None}
        assert formats == {b"\x01"}
        given = {c.url: e.to_json() for c, _, e in fetches}
        assert [listing for _, _, listing in rows[:-1]] == [given[url] for _, url, _ in rows[:-1]]
        assert rows[-1].listing == _entry(record).to_json()
        migrations.upgrade(engine)
        migrations.check(engine)
    finally:
        engine.dispose()
    with Archive.open(db_url) as archive:
        after = _stored(archive)
        # The writer keeps of a 304's entry what its fetch does not say (it reads no
        # labels); revision 0032, which reads every version's, keeps it beside the
        # version the 304 confirmed.
        last = max(after)
        assert before[last] == {listings.ELIDED: "u", "kind_label": "Press release"} | {
            k: v for k, v in _entry(record).to_json().items() if k in ("title", "published")
        } | {"where": SOURCES[1], "what": ", ".join(FIELDS)}
        assert listings.needs_labels(after[last])
        assert {**after, last: None} == {**before, last: None}
        assert _states(archive, fetches) == states
        assert archive.address_state(record.url).listing == _entry(record)  # type: ignore[union-attr]


def test_to_store_keeps_whole_what_would_not_read_back() -> None:
    labels = listings.VersionLabels("A title", ("Here",), ("That",))
    url = f"{BASE}/fsc/1"
    entry = ListingEntry(url=url, title="A title", where="Here", what="That").to_json()
    stored = listings.to_store(entry, url, labels)
    assert stored == {listings.ELIDED: "utw", "where": 0}
    assert listings.restore(stored, url, labels) == entry
    odd = {**entry, "extra": 1}  # not an entry of this program's fields: kept as it is
    assert listings.to_store(odd, url, labels) is odd
    alone = listings.to_store(entry, url, None)  # beside no version: the address left out
    assert alone == {listings.ELIDED: "u", "title": "A title", "where": "Here", "what": "That"}
    assert listings.restore(alone, url, None) == entry
    elsewhere = listings.to_store(entry, f"{BASE}/node/1", None)
    assert elsewhere == {listings.ELIDED: "", **alone, "url": url} | {listings.ELIDED: ""}
    assert listings.restore(elsewhere, f"{BASE}/node/1", None) == entry
    with pytest.raises(ArchiveError, match="without it"):
        listings.restore(stored, url, None)
    with pytest.raises(ArchiveError, match="names source 3"):
        listings.restore({**stored, "where": 3}, url, labels)


def test_verify_names_a_fetch_whose_entry_does_not_read_back(db_url: str) -> None:
    fetches = _fetches(56500)
    with Archive.open(db_url) as archive:
        for capture, record, _ in fetches:
            archive.ingest(capture, record)
        assert archive.verify() == []
        with archive.session() as s:
            damaged = s.scalars(select(CaptureRow).order_by(CaptureRow.id).limit(1)).one()
            damaged.listing = {**damaged.listing, "where": 7}  # no seventh source
            s.commit()
            damaged_id = damaged.id
        problems = archive.verify()
        assert len(problems) == 1 and problems[0].startswith(f"capture {damaged_id}:"), problems
        assert "names source 7" in problems[0]
        with pytest.raises(ArchiveError, match="verify lists every such fetch"):
            archive.address_state(fetches[0][0].url)


def test_revision_0040_converts_entries_beside_no_version_and_back(db_url: str) -> None:
    record = _record(56600)
    page = f"{BASE}/pa/56601"
    sitemap = ListingEntry(url=page, lastmod="2015-07-05T13:48:00+00:00", source="sitemap")
    fetches = [
        (replace(capture_for(record, 0), listing=_entry(record)), record),
        # a page that is not an item, listed by the sitemap: no version, no labels
        (capture_for(None, 1, url=page, body=b"<html>a page</html>", listing=sitemap), None),
        # a 304 whose listing relabels the item: it reads no version either
        (
            replace(
                capture_for(record, 2, status=304),
                body=None,
                listing=_entry(record, title="Relabelled"),
            ),
            None,
        ),
    ]
    with Archive.open(db_url) as archive:
        for capture, rec in fetches:
            archive.ingest(capture, rec)
        before = _stored(archive)
        states = [archive.address_state(url) for url in (record.url, page)]
        assert [s.listing for s in states if s] == [_entry(record, title="Relabelled"), sitemap]
    ids = sorted(before)
    assert before[ids[1]] == {
        listings.ELIDED: "u",
        "lastmod": "2015-07-05T13:48:00+00:00",
        "source": "sitemap",
    }
    engine = make_engine(db_url)
    try:
        migrations.downgrade(engine, "0039")
        with engine.connect() as conn:
            rows = {
                r.id: r.listing for r in conn.execute(select(CaptureRow.id, CaptureRow.listing))
            }
        # The revision before reads an entry with ``~`` through its version: these are
        # whole again; the one beside its version is left as it is.
        assert rows[ids[1]] == sitemap.to_json()
        assert rows[ids[2]] == _entry(record, title="Relabelled").to_json()
        assert rows[ids[0]] == before[ids[0]]
        migrations.upgrade(engine)
        migrations.check(engine)
    finally:
        engine.dispose()
    with Archive.open(db_url) as archive:
        assert _stored(archive) == before
        assert [archive.address_state(url) for url in (record.url, page)] == states
        assert archive.verify() == []
