"""Names from the program's short lists stored as one character (revision 0022): kinds,
reasons, codecs, date sources, address roles and change kinds. The
program, exports, search and its filters see the names; the database holds codes for
listed ones and the name itself for others; revision 0022 converts an archive with data
and back. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import pytest
import tomllib
from sqlalchemy import select, text

from archive import bodies, migrations, records, search, texts
from archive.api import open_archive
from archive.db import make_engine
from archive.errors import ArchiveError
from archive.schema import (
    ADDRESS_ROLES,
    BODY_CODECS,
    CHANGE_KINDS,
    DATE_SOURCES,
    KINDS,
    TEXT_CODECS,
    URL_ESCAPE,
    VERSION_REASONS,
    Base,
    Change,
    Coded,
    Document,
    Version,
)
from archive.store import Archive
from tests.archive.conftest import capture_for, load_revision, make_record, stored_values

#: (table, column): the coded columns, as revision 0022 lists them.
COLUMNS = (
    ("documents", "kind"),
    ("versions", "kind"),
    ("versions", "reason"),
    ("versions", "codec"),
    ("versions", "date_source"),
    ("addresses", "how"),
    ("changes", "kind"),
    ("bodies", "codec"),
)
ROOT = Path(__file__).resolve().parents[2]
#: A content type no list names: stored as it is.
UNLISTED = "bulletin"


def test_a_name_round_trips_and_every_list_covers_the_program() -> None:
    coded = Coded(KINDS)
    for name in (*KINDS, UNLISTED, "\x02odd", "", "story "):
        assert coded.decode(coded.encode(name)) == name
    assert coded.encode("press-release") == "\x01"
    assert coded.encode(UNLISTED) == UNLISTED
    assert coded.encode("\x02odd") == URL_ESCAPE + "\x02odd"
    with pytest.raises(ArchiveError, match="unknown code"):
        coded.decode(chr(len(KINDS) + 1))
    # The lists name everything the program writes.
    assert set(records.DATE_SOURCES) <= set(DATE_SOURCES)
    assert {texts.CODEC_IDENTITY, texts.CODEC_ZSTD, texts.CODEC_DELTA, texts.CODEC_PAGE} <= set(
        TEXT_CODECS
    )
    assert {bodies.CODEC_ZSTD, bodies.CODEC_REF, bodies.CODEC_IDENTITY, bodies.CODEC_OPEN} <= set(
        BODY_CODECS
    )
    lists = (KINDS, VERSION_REASONS, CHANGE_KINDS, DATE_SOURCES, ADDRESS_ROLES, TEXT_CODECS)
    for values in (*lists, BODY_CODECS):
        assert len(values) == len(set(values)) < 31
    # Every content type the crawler's labels name, in every language.
    labels = tomllib.loads((ROOT / "crawler" / "data" / "labels.toml").read_text("utf-8"))
    named = {kind for language in labels.values() for kind in language.get("kinds", {})}
    assert named and named <= set(KINDS)


def test_revision_0022_codes_with_the_lists_the_models_use() -> None:
    """The revision keeps its own copy of the lists (a revision never changes); the copy
    must be what the models code with, or upgraded rows would read as other names. A list
    only grows at its end (revision 0031 appended two codecs, which it alone writes)."""
    revision = load_revision("0022_coded_names.py")
    columns = {(t.name, c.name): c.type for t in Base.metadata.tables.values() for c in t.c}
    coded = {key for key, kind in columns.items() if isinstance(kind, Coded)}
    assert {(table, column) for table, column, _ in revision.COLUMNS} == coded
    for table, column, values in revision.COLUMNS:
        now = cast(Coded, columns[(table, column)]).values
        assert now[: len(values)] == tuple(values), (table, column)


def _fill(archive: Archive) -> None:
    first = make_record(56001)
    archive.ingest(capture_for(first, 0), first)
    edited = replace(first, text=first.text + "\n\nA paragraph added later.")
    archive.ingest(capture_for(edited, 1), edited)
    story = make_record(56002, kind="story", date_source="json-ld")
    archive.ingest(capture_for(story, 2), story)
    bulletin = make_record(56003, kind=UNLISTED, date_source=None, published=None)
    archive.ingest(capture_for(bulletin, 3), bulletin)
    archive.ingest(capture_for(None, 4, url=make_record(56002).url, status=404))


def _stored(engine: Any) -> dict[tuple[str, str], list[str]]:
    return stored_values(engine, COLUMNS)


def _seen(db_url: str) -> tuple[Any, ...]:
    """What readers see: records with history, the change feed, search hits, filters and
    facets (SQL written as text), and the ORM's columns."""
    with open_archive(db_url) as reader:
        recs = list(reader.records(history=True))
        feed = list(reader.changes())
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            hits = sorted((h.document_id, h.kind) for h in search.search(conn, "").hits)
            stories = [
                h.document_id for h in search.search(conn, "", search.Filters(kind="story")).hits
            ]
            bulletins = [
                h.document_id for h in search.search(conn, "", search.Filters(kind=UNLISTED)).hits
            ]
            facets = search.facets(conn)["kind"]
            kinds = sorted(conn.execute(select(Document.kind)).scalars())
            changes = sorted(conn.execute(select(Change.kind)).scalars())
            versions = sorted(
                (r.reason, r.codec, r.date_source or "")
                for r in conn.execute(select(Version.reason, Version.codec, Version.date_source))
            )
            # A lookup by a coded column through the ORM's type.
            found = sorted(
                conn.execute(
                    select(Document.id).where(Document.kind.in_(["story", UNLISTED]))
                ).scalars()
            )
    finally:
        engine.dispose()
    return recs, feed, hits, stories, bulletins, facets, kinds, changes, versions, found


def test_names_are_stored_coded_and_revision_0022_converts_them(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        _fill(archive)
    seen = _seen(db_url)
    recs, feed, hits, stories, bulletins, facets, kinds, changes, versions, found = seen
    assert {r["kind"] for r in recs} >= {"press-release", "story", UNLISTED}
    assert feed and changes == sorted(["created", "changed", "created", "created", "deleted"])
    assert {("osce.org/56002", "story"), ("osce.org/56003", UNLISTED)} <= set(hits)
    assert stories == ["osce.org/56002"] and bulletins == ["osce.org/56003"]
    assert facets == sorted({"press-release", "story", UNLISTED})
    assert kinds == sorted(["press-release", "story", UNLISTED])
    assert [v[0] for v in versions].count("changed") == 1
    assert {(v[1], v[2]) for v in versions} >= {("zstd", "markup"), ("zstd", "json-ld")}
    assert found == ["osce.org/56002", "osce.org/56003"]

    engine = make_engine(db_url)
    try:
        coded = _stored(engine)
        for key, values in coded.items():
            assert values, f"{key} holds nothing in this scenario"
            for value in values:
                assert (len(value) == 1 and value < " ") or value == UNLISTED, (key, value)
        assert UNLISTED in coded[("documents", "kind")]
        migrations.downgrade(engine, "0021")
        plain = _stored(engine)
        for key, values in plain.items():
            assert not any(v[:1] < " " for v in values), key
        assert plain[("changes", "kind")] == sorted(
            ["created", "changed", "created", "created", "deleted"]
        )
        migrations.upgrade(engine)
        migrations.check(engine)
        assert _stored(engine) == coded
    finally:
        engine.dispose()
    assert _seen(db_url) == seen
    with Archive.open(db_url) as archive:
        assert archive.verify() == []


def test_revision_0022_keeps_a_name_that_begins_with_a_control_character(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        _fill(archive)
    engine = make_engine(db_url)
    try:
        migrations.downgrade(engine, "0021")
        with engine.begin() as conn:
            conn.execute(text("UPDATE documents SET kind = :k"), {"k": "\x02odd"})
        migrations.upgrade(engine)
        with engine.connect() as conn:
            assert set(conn.execute(text("SELECT kind FROM documents")).scalars()) == {
                URL_ESCAPE + "\x02odd"
            }
            assert set(conn.execute(select(Document.kind)).scalars()) == {"\x02odd"}
        migrations.downgrade(engine, "0021")
        with engine.connect() as conn:
            assert set(conn.execute(text("SELECT kind FROM documents")).scalars()) == {"\x02odd"}
    finally:
        engine.dispose()
