"""The names of the code that read a version, stored with their known pieces abbreviated
(revision 0023): records, the furniture model's stale documents (a comparison in SQL)
and the ORM read the names; the database holds one character per piece; revision 0023
converts an archive with data and back. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import inspect, select, text

from archive import migrations
from archive.api import open_archive
from archive.db import make_engine
from archive.errors import ArchiveError
from archive.schema import READER_PIECES, URL_ESCAPE, Abbreviated, Version
from archive.store import Archive
from tests.archive.conftest import capture_for, load_revision, make_record

EXTRACTOR = "osce-extract-3+trafilatura-2.3.1"
GENERIC = "osce-extract-3+trafilatura-2.3.1+generic-2"
MODEL = "fm-a19e5770b3c375df"
NEWER = "fm-0123456789abcdef"


def test_a_name_round_trips() -> None:
    abbreviated = Abbreviated()
    for name in (EXTRACTOR, GENERIC, MODEL, "test-1", "", "fm-", "x\x02y", "\x1fz"):
        assert abbreviated.decode(abbreviated.encode(name)) == name
    assert abbreviated.encode(EXTRACTOR) == "\x013\x022.3.1"
    assert abbreviated.encode(MODEL) == "\x04a19e5770b3c375df"
    assert abbreviated.encode("x\x02y") == URL_ESCAPE + "x\x02y"
    with pytest.raises(ArchiveError, match="unknown code"):
        abbreviated.decode("a\x07b")
    revision = load_revision("0023_abbreviated_reader_names.py")
    assert revision.PIECES == READER_PIECES  # the revision's copy is what the models use


def _fill(archive: Archive) -> None:
    for node, extractor, model in (
        (57001, EXTRACTOR, MODEL),
        (57002, EXTRACTOR, NEWER),
        (57003, GENERIC, None),
        (57004, "test-1", MODEL),
    ):
        record = replace(make_record(node), extractor_version=extractor, furniture_version=model)
        archive.ingest(capture_for(record, node - 57000), record)


def _stored(engine: Any) -> list[tuple[str, str | None]]:
    """(extractor, furniture model) of each version as stored: the model's name as it
    is in ``names`` where the version keeps its number (revision 0043)."""
    numbered = "furniture" in {c["name"] for c in inspect(engine).get_columns("versions")}
    model = "(SELECT name FROM names WHERE id = furniture)" if numbered else "furniture_version"
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT extractor_version, {model} FROM versions ORDER BY id"))
        return [(str(e), f) for e, f in rows]


def _seen(db_url: str) -> tuple[Any, ...]:
    with open_archive(db_url) as reader:
        records = sorted((r["id"], r["furniture_version"]) for r in reader.records(history=True))
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            read = sorted(
                tuple(r)
                for r in conn.execute(
                    select(Version.document_id, Version.extractor_version).order_by(Version.id)
                )
            )
    finally:
        engine.dispose()
    with Archive.open(db_url) as archive:
        stale = archive.stale_documents("osce.org", MODEL)
    return records, read, stale


def test_names_are_stored_abbreviated_and_revision_0023_converts_them(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        _fill(archive)
    seen = _seen(db_url)
    records, read, stale = seen
    assert ("osce.org/57001", MODEL) in records and ("osce.org/57003", None) in records
    assert ("osce.org/57003", GENERIC) in read and ("osce.org/57004", "test-1") in read
    assert stale == ["osce.org/57002", "osce.org/57003"]  # another model, or none

    engine = make_engine(db_url)
    try:
        coded = _stored(engine)
        # the model's name is numbered since revision 0043 (tests/archive/test_numbered_models.py)
        assert coded[0] == ("\x013\x022.3.1", MODEL)
        assert coded[2] == ("\x013\x022.3.1\x032", None)
        assert coded[3] == ("test-1", MODEL)
        migrations.downgrade(engine, "0022")
        plain = _stored(engine)
        assert plain == [
            (EXTRACTOR, MODEL),
            (EXTRACTOR, NEWER),
            (GENERIC, None),
            ("test-1", MODEL),
        ]
        with engine.begin() as conn:  # a name as no program writes it, kept whole
            conn.execute(text("UPDATE versions SET extractor_version = :v"), {"v": "odd\x02fm-"})
        migrations.upgrade(engine)
        migrations.check(engine)
        with engine.connect() as conn:
            stored = set(conn.execute(text("SELECT extractor_version FROM versions")).scalars())
            assert stored == {URL_ESCAPE + "odd\x02fm-"}
            assert set(conn.execute(select(Version.extractor_version)).scalars()) == {"odd\x02fm-"}
            assert [f for _, f in _stored(engine)] == [f for _, f in coded]
        migrations.downgrade(engine, "0022")
        assert {e for e, _ in _stored(engine)} == {"odd\x02fm-"}
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE versions SET extractor_version = :v WHERE id = :i"),
                [{"v": e, "i": i} for i, (e, _) in enumerate(plain, 1)],
            )
        migrations.upgrade(engine)
        assert _stored(engine) == coded
    finally:
        engine.dispose()
    assert _seen(db_url) == seen
