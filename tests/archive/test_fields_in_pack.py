"""A version's title, byline and attachments kept in its compressed pack (revision 0024):
every reader (records and exports, history, search hits and snippets, the reports'
items, the reading room's pages through the ORM) reads them back; the columns hold
nothing for versions written since; pages fetched again still read back byte for byte;
and the revision moves the fields out of the packs and back, deltas and all, on an
archive with data. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import inspect, select, text

from archive import bodies, migrations, search, texts
from archive.api import open_archive
from archive.db import make_engine
from archive.records import Attachment
from archive.schema import Version
from archive.store import Archive
from archive.texts import TextReader
from tests.archive.conftest import capture_for, load_revision, make_record
from tests.archive.test_bodies_against_text import _fill as fill_with_refetches

REPORT = Attachment("Final report", "https://www.osce.org/files/f/documents/1/57101.pdf")


@pytest.fixture(autouse=True)
def _dictionaries_early(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bodies, "TRAIN_AFTER", 20)
    monkeypatch.setattr(texts, "TRAIN_AFTER", 20)


def test_a_pack_holds_its_fields_before_the_pack_it_was() -> None:
    provenance = {"date": {"source": "markup"}}
    fields = {"title": "Ein Titel\x00?", "byline": None, "attachments": [REPORT.to_json()]}
    before = texts.pack("Text\n\nzwei", provenance)
    packed = texts.pack("Text\n\nzwei", provenance, fields)
    assert packed.startswith(b"\x01") and packed.endswith(before)
    assert texts.split(packed) == (fields, before)
    assert texts.split(before) == (None, before)
    assert texts.unpack(packed) == texts.unpack(before) == ("Text\n\nzwei", provenance)
    assert texts.text_part(packed) == texts.text_part(before) == before
    # The revision's own copy is what the program writes.
    revision = load_revision("0024_fields_in_pack.py")
    assert revision.FIELDS == texts.PACKED_FIELDS
    assert revision._into_pack(before, fields) == (packed, {"title": ""})  # the rest dropped
    assert revision._out_of_pack(packed, {"title": ""}) == (before, fields)
    with pytest.raises(ValueError, match="does not hold"):
        revision._out_of_pack(before, fields)


def _add_documents(archive: Archive) -> None:
    """Two made-up items with what replica pages lack: a byline and attachments (one of
    them by the batched path)."""
    bylined = make_record(57101, title="Press conference", byline="By A. Reporter")
    bylined = replace(bylined, attachments=[REPORT])
    archive.ingest(capture_for(bylined, 300), bylined)
    other = make_record(57102, title="Second item, batched", byline="By B. Writer")
    (result,) = archive.ingest_many([(capture_for(other, 301), other)])
    assert not isinstance(result, Exception) and result.outcome == "new_document"


def _seen(db_url: str) -> dict[str, Any]:
    """What every reader makes of the archive."""
    with open_archive(db_url) as reader:
        records = sorted(
            (json.dumps(r, sort_keys=True) for r in reader.records(history=True)), key=str
        )
        history = reader.history("osce.org/57101")
    with Archive.open(db_url) as archive:
        items = sorted((i.id, i.title) for i in archive.report_items())
        with archive.session() as s:
            stored = s.scalars(select(Version).order_by(Version.id)).all()
            orm = [(v.id, v.title, v.byline, v.attachments) for v in TextReader(s).load(stored)]
        with archive.engine.connect() as conn:
            keys = sorted(
                bytes(k).hex() for k in conn.execute(text("SELECT sha256 FROM bodies")).scalars()
            )
            found = search.search(conn, "osce", size=50)
        raw = [archive.read_body("sha256:" + k) for k in keys]
        hits = [(h.document_id, h.version, h.title, h.title_marked) for h in found.hits]
        problems = archive.verify()
    return {
        "records": records,
        "history": [(r["version"], r["title"], r["byline"]) for r in history],
        "items": items,
        "orm": orm,
        "bodies": raw,
        "hits": hits,
        "verify": problems,
    }


def _columns(engine: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text("SELECT id, title, byline, attachments FROM versions ORDER BY id")
            )
        ]


def _has_columns(engine: Any) -> bool:
    """Whether ``versions`` has the byline's and attachments' columns (the title's stays,
    empty: it holds ``''`` wherever the pack holds the title)."""
    names = {column["name"] for column in inspect(engine).get_columns("versions")}
    if names >= {"byline", "attachments"}:
        return True
    with engine.connect() as conn:
        assert set(conn.execute(text("SELECT title FROM versions")).scalars()) == {""}
    return False


def _marked(engine: Any) -> list[bool]:
    """Whether each version's pack (decompressed) holds its fields."""
    with engine.connect() as conn:
        reader = TextReader(conn)
        rows = conn.execute(select(*texts.columns()).order_by(Version.__table__.c.id)).all()
        return [texts.split(reader.pack(row))[0] is not None for row in rows]


def test_fields_are_read_from_packs_and_revision_0024_moves_them_and_back(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        fill_with_refetches(archive)
        _add_documents(archive)
        with archive.session() as s:
            codecs = set(s.scalars(select(Version.codec)))
            ref_bodies = s.scalar(text("SELECT count(*) FROM bodies WHERE base IS NOT NULL"))
    assert {"zstd", "delta"} <= codecs and ref_bodies  # deltas and pages fetched again
    seen = _seen(db_url)
    assert seen["verify"] == []
    records = [json.loads(r) for r in seen["records"]]
    titles = {r["title"] for r in records}
    assert "Press conference" in titles and "" not in titles and len(titles) > 50
    bylined = next(r for r in records if r["id"] == "osce.org/57101")
    assert bylined["byline"] == "By A. Reporter"
    assert bylined["attachments"] == [REPORT.to_json()]
    assert seen["history"] == [(1, "Press conference", "By A. Reporter")]
    assert ("osce.org/57102", "Second item, batched") in seen["items"]
    assert all(title for _id, title in seen["items"])
    assert seen["hits"] and all(title for _d, _v, title, _m in seen["hits"])
    assert all(title and attachments is not None for _i, title, _b, attachments in seen["orm"])

    engine = make_engine(db_url)
    try:
        # Since revision 0024: the title column empty, no byline or attachments columns,
        # every pack holds the three.
        assert not _has_columns(engine)
        assert all(_marked(engine))
        migrations.downgrade(engine, "0023")
        columns = _columns(engine)
        assert not any(_marked(engine))
        by_id = {i: (t, b, a) for i, t, b, a in columns}
        for version_id, title, byline, attachments in seen["orm"]:
            stored = by_id[version_id]
            assert stored[:2] == (title, byline)
            assert (json.loads(stored[2]) if isinstance(stored[2], str) else stored[2]) == (
                attachments
            )
        # A version read before the archive read attachments (before revision 0006).
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE versions SET attachments = NULL WHERE document_id = :d"),
                {"d": "osce.org/57102"},
            )
        migrations.upgrade(engine)
        migrations.check(engine)
        assert all(_marked(engine)) and not _has_columns(engine)
    finally:
        engine.dispose()
    again = _seen(db_url)
    unread = [row for row in again["orm"] if row[3] is None]
    assert len(unread) == 1  # the NULL moved into the pack, and reads back as NULL
    assert again["orm"] == [
        row if row[0] != unread[0][0] else (*row[:3], None) for row in seen["orm"]
    ]
    assert {k: v for k, v in again.items() if k != "orm"} == {
        k: v for k, v in seen.items() if k != "orm"
    }  # records read unread attachments as none, as before


def test_attachments_never_read_are_a_correction_on_both_ingest_paths(db_url: str) -> None:
    """A version stored before the archive read attachments (NULL) that a later fetch
    finds attachments on gains them as an extraction correction, not a change at the
    source: the versioning rule reads the NULL from the pack."""
    first = make_record(57201)
    second = make_record(57202)
    with Archive.open(db_url) as archive:
        archive.ingest(capture_for(first, 0), first)
        archive.ingest(capture_for(second, 0), second)
    engine = make_engine(db_url)
    try:
        migrations.downgrade(engine, "0023")
        with engine.begin() as conn:
            conn.execute(text("UPDATE versions SET attachments = NULL"))
        migrations.upgrade(engine)
    finally:
        engine.dispose()
    with Archive.open(db_url) as archive:
        archive.ingest(
            capture_for(replace(first, attachments=[REPORT]), 1),
            replace(first, attachments=[REPORT]),
        )
        found = replace(second, attachments=[REPORT])
        archive.ingest_many([(capture_for(found, 1), found)])
        changed = replace(first, title="A new title", attachments=[REPORT])
        archive.ingest(capture_for(changed, 2), changed)
    with open_archive(db_url) as reader:
        reasons = {
            (r["id"], r["version"]): (r["reason"], r["title"]) for r in reader.records(history=True)
        }
    assert reasons[("osce.org/57201", 2)] == ("extraction", first.title)
    assert reasons[("osce.org/57202", 2)] == ("extraction", second.title)
    assert reasons[("osce.org/57201", 3)] == ("source", "A new title")
