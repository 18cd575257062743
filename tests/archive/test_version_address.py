"""A version keeps its address only where it is no longer its document's (revision
0039): the column is NULL while the version's address is ``documents.url``, the writers
fill it in before a document moves, and every reader sees each version at the address it
was read at, whatever the path that wrote it. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from archive import migrations
from archive.api import open_archive
from archive.db import make_engine
from archive.records import Capture, Record
from archive.schema import Version, pack_url
from archive.store import Archive
from tests.archive.conftest import BASE, at, capture_for, make_record

A, B, C = (f"{BASE}/{section}/55436" for section in ("fsc", "secretariat", "odihr"))


def _fetches() -> list[tuple[Capture, Record]]:
    """Document 55436 read at A, moved to B unchanged, edited at B, then moved to C with
    a new text; document 55437 read twice at one address, edited in between."""
    first = make_record(55436)
    edited = replace(first, url=B, title="OSCE Chairperson welcomes the agreement")
    again = replace(edited, url=C, text=edited.text + "\n\nA new closing paragraph.")
    other = make_record(55437)
    return [
        (capture_for(first, 0), first),
        (capture_for(replace(first, url=B), 1), replace(first, url=B)),
        (capture_for(edited, 2), edited),
        (capture_for(again, 3), again),
        (capture_for(other, 4), other),
        (capture_for(replace(other, title="Edited"), 5), replace(other, title="Edited")),
    ]


def _stored(db_url: str) -> list[tuple[Any, ...]]:
    """(document, number, versions.url as stored) of every version."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT document_id, number, url FROM versions ORDER BY document_id, number")
            )
            return [tuple(r) for r in rows]
    finally:
        engine.dispose()


def _seen(db_url: str) -> dict[str, Any]:
    engine = make_engine(db_url)
    try:
        with Session(engine) as s:
            # the ORM's attribute, which the reading room and a document's history read
            held = [
                (v.document_id, v.url)
                for v in s.scalars(select(Version).order_by(Version.document_id, Version.number))
            ]
    finally:
        engine.dispose()
    with Archive.open(db_url) as archive:
        versions = archive.history("osce.org/55436").versions
        history = [v.record["url"] for v in versions]
        # what a reader is told changed: the address moved from A to B, then to C
        moves = [v.changes.get("url") for v in versions[1:]]
    with open_archive(db_url) as reader:
        return {
            "held": held,
            "history of 55436": history,
            "moves": moves,
            "history": [(r["id"], r["url"]) for r in reader.records(history=True)],
            "current": [(r["id"], r["url"]) for r in reader.records()],
            # between the move to B (hour 1) and the edit at B (hour 2), and before it
            "before the edit": [r["url"] for r in reader.records(as_of=at(1.5))],
            "before the move": [r["url"] for r in reader.records(as_of=at(0.5))],
        }


@pytest.mark.parametrize("path", ["one by one", "in groups"])
def test_a_version_keeps_its_address_only_after_its_document_moves(db_url: str, path: str) -> None:
    with Archive.open(db_url) as archive:
        for capture, record in _fetches():
            if path == "one by one":
                archive.ingest(capture, record)
            else:
                assert not isinstance(archive.ingest_many([(capture, record)])[0], Exception)
        assert archive.verify() == []

    # Version 1 was read at A and version 2 at B before the document moved on; the
    # newest of each document is at its document's address, and so is 55437's first.
    assert _stored(db_url) == [
        ("osce.org/55436", 1, pack_url(A)),
        ("osce.org/55436", 2, pack_url(B)),
        ("osce.org/55436", 3, None),
        ("osce.org/55437", 1, None),
        ("osce.org/55437", 2, None),
    ]
    seen = _seen(db_url)
    other = f"{BASE}/fsc/55437"
    every = [
        ("osce.org/55436", A),
        ("osce.org/55436", B),
        ("osce.org/55436", C),
        ("osce.org/55437", other),
        ("osce.org/55437", other),
    ]
    assert seen == {
        "held": every,
        "history of 55436": [A, B, C],
        "moves": [{"old": A, "new": B}, {"old": B, "new": C}],
        "history": every,
        "current": [("osce.org/55436", C), ("osce.org/55437", other)],
        "before the edit": [B],
        "before the move": [A],
    }

    # Revision 0039 writes every address back and takes the repeated ones out again.
    engine = make_engine(db_url)
    try:
        migrations.downgrade(engine, "0038")
        assert [row[2] for row in _stored(db_url)] == [
            pack_url(url) for url in (A, B, C, other, other)
        ]
        migrations.upgrade(engine)
        migrations.check(engine)
    finally:
        engine.dispose()
    assert [row[2] for row in _stored(db_url)] == [pack_url(A), pack_url(B), None, None, None]
    assert _seen(db_url) == seen
