"""Helpers for archive tests: an open archive on each database, and plain captures and
records to feed it (no Scrapy, no HTTP: the archive's input is plain data)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import aliased

from archive import migrations
from archive.api import open_archive
from archive.db import make_engine
from archive.listings import ListingReader
from archive.records import Capture, ListingEntry, Record
from archive.schema import Address, listed_capture
from archive.schema import Capture as CaptureRow
from archive.store import Archive

T0 = datetime(2024, 3, 1, 8, 0, tzinfo=timezone.utc)
BASE = "https://www.osce.org"

BODY_TEXT = (
    "The OSCE Chairperson-in-Office today welcomed the agreement reached in Vienna on "
    "the next steps of the mediation process.\n\n"
    "Speaking after the meeting, the Chairperson said that the parties had shown the "
    "political will needed to move forward and that the OSCE stood ready to assist.\n\n"
    "The Organization will continue to support confidence-building measures on the "
    "ground, including monitoring and dialogue facilitation with local communities."
)


@pytest.fixture
def archive(db_url: str) -> Iterator[Archive]:
    opened = Archive.open(db_url)
    yield opened
    opened.close()


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def make_record(node: int = 55436, section: str = "fsc", **changes: Any) -> Record:
    record = Record(
        id=f"osce.org/{node}",
        url=f"{BASE}/{section}/{node}",
        kind="press-release",
        title="OSCE Chairperson welcomes agreement on mediation",
        published="2003-06-27",
        date_source="markup",
        place="VIENNA",
        sources=["OSCE Chairpersonship"],
        fields_of_work=["Conflict prevention and resolution"],
        byline=None,
        language="en",
        text=BODY_TEXT,
        extractor_version="test-1",
    )
    return replace(record, **changes)


def page_html(record: Record, nav: str = "Menu A", token: str = "t0") -> bytes:
    """A raw page around the record: navigation and a token that drift between fetches."""
    paragraphs = "".join(f"<p>{p}</p>" for p in record.text.split("\n\n"))
    return (
        f"<html><head><script>var csrf='{token}';</script></head><body><nav>{nav}</nav>"
        f"<h1>{record.title}</h1>{paragraphs}</body></html>"
    ).encode()


def capture_for(
    record: Record | None,
    hours: float,
    *,
    url: str | None = None,
    status: int = 200,
    final_url: str | None = None,
    redirects: list[str] | None = None,
    body: bytes | None = None,
    nav: str = "Menu A",
    token: str = "t0",
    etag: str | None = None,
    run_id: int | None = None,
    listing: ListingEntry | None = None,
    error: str | None = None,
) -> Capture:
    if body is None and status == 200 and record is not None:
        body = page_html(record, nav, token)
    return Capture(
        url=url or (record.url if record is not None else f"{BASE}/unknown"),
        status=status,
        fetched_at=at(hours),
        final_url=final_url,
        redirects=list(redirects or []),
        etag=etag,
        body=body,
        run_id=run_id,
        listing=listing,
        error=error,
        content_type="text/html; charset=utf-8" if body else None,
    )


def ingest_both_ways(archive: Archive, pairs: list[tuple[Capture, Record]]) -> None:
    """Every other fetch one at a time (``ingest``, the ORM's path), the rest as one batch
    (``ingest_many``, the crawl's): what a test stores through both writers."""
    archive.ingest_many([pair for i, pair in enumerate(pairs) if not i % 2])
    for capture, record in pairs[1::2]:
        archive.ingest(capture, record)


@contextmanager
def written_both_ways(
    db_url: str, tmp_path: Path, fetches: list[tuple[Capture, Record]], split: int | None = None
) -> Iterator[tuple[Archive, Archive]]:
    """(one, grouped): ``fetches`` written one at a time (``ingest``, the ORM's path) into
    an SQLite file of its own, and as the crawl writes them (``ingest_many``) into
    ``db_url``, on both databases, in two groups split at ``split`` (one group if None)."""
    one = Archive.open(f"sqlite:///{tmp_path / 'one.sqlite'}")
    grouped = Archive.open(db_url)
    try:
        for capture, record in fetches:
            one.ingest(capture, record)
        cut = len(fetches) if split is None else split
        for group in (fetches[:cut], fetches[cut:]):
            if group:
                grouped.ingest_many(group)
        yield one, grouped
    finally:
        one.close()
        grouped.close()


#: ``addresses.last_fetched`` as the program reads it, in SQL written as text: NULL where
#: the address's newest capture was that fetch (revision 0044), the column before it.
LAST_FETCHED = (
    "coalesce(last_fetched, (SELECT n.fetched_at FROM captures n WHERE n.id = "
    "(SELECT max(c.id) FROM captures c WHERE c.address_id = addresses.id)))"
)


def stored_values(
    engine: Any, columns: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], list[str]]:
    """Every non-NULL value of each ``(table, column)``, sorted, as the database holds it
    (read with SQL written as text: what a column's type codes stays coded)."""
    with engine.connect() as conn:
        return {
            (table, column): sorted(
                str(v)
                for v in conn.execute(
                    text(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL")
                ).scalars()
            )
            for table, column in columns
        }


def revision_round_trip(
    db_url: str,
    down_to: str,
    stored: Callable[[Any], Any],
    at_before: Callable[[Any, Any], None],
) -> Any:
    """Take the archive at ``db_url`` down to revision ``down_to`` and up again: what
    ``stored(engine)`` reads is checked by ``at_before(engine, stored_now)`` there and is
    the same once upgraded; the models agree with the tables, every record and version
    reads as before and ``verify`` is clean. Returns what ``stored`` read at the head."""
    with open_archive(db_url) as reader:
        before = list(reader.records(history=True))
    engine = make_engine(db_url)
    try:
        now = stored(engine)
        migrations.downgrade(engine, down_to)
        at_before(engine, now)
        migrations.upgrade(engine)
        migrations.check(engine)
        assert stored(engine) == now
    finally:
        engine.dispose()
    with open_archive(db_url) as reader:
        assert list(reader.records(history=True)) == before
    with Archive.open(db_url) as archive:
        assert archive.verify() == []
    return now


def load_revision(filename: str) -> Any:
    """The Alembic revision ``archive/migrations/versions/<filename>`` as a module: its own
    copies of the program's lists, which tests hold against the models'."""
    path = Path(migrations.__file__).parent / "versions" / filename
    spec = importlib.util.spec_from_file_location(f"revision_{filename[:4]}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def address_entries(conn: Any) -> dict[int, Any]:
    """Each address's listing entry by address id, as the frontier reads it
    (``archive.query``): the address's own, else its newest capture's, read back beside
    that capture's version (``archive.listings``). At any revision from 0021 on."""
    listed = aliased(CaptureRow, name="listed")
    rows = conn.execute(
        select(Address.id, Address.listing, listed.listing, listed.url, listed.version_id)
        .outerjoin(listed, listed.id == listed_capture())
        .order_by(Address.id)
    ).all()
    entries = ListingReader(conn).entries([(r[2], r[3] or "", r[4]) for r in rows])
    return {
        r[0]: r[1] if r[1] is not None else (entry and entry.to_json())
        for r, entry in zip(rows, entries, strict=True)
    }
