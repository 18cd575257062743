"""Sources and fields of work stored as the numbers of their names (revision 0026): the
names table holds each name once; records, history, the ORM read, the reports' item list,
search filters and facets read names, in order, on both ingest paths; a name too long
for a number stays as it is; a failed transaction's new numbers are forgotten; revision
0026 converts an archive with data and back. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import text

from archive import migrations, names, search, versioning
from archive.api import open_archive
from archive.db import make_engine
from archive.search import Filters
from archive.store import Archive
from tests.archive.conftest import capture_for, make_record

SKOPJE = "OSCE Mission to Skopje"
CHAIR = "OSCE Chairpersonship"
BORDERS = "Border management"
POLICING = "Policing"
LONG = "A source named at length, " + "very " * 60 + "long"


def _stored(engine: Any) -> dict[str, tuple[Any, Any]]:
    """Document id -> its newest version's two lists as the database holds them."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT v.document_id, v.sources, v.fields_of_work FROM versions v "
                "JOIN documents d ON d.id = v.document_id AND v.number = d.current_version"
            )
        ).all()
    return {
        d: tuple(json.loads(x) if isinstance(x, str) else x for x in (s, f)) for d, s, f in rows
    }


def _names_table(engine: Any) -> dict[int, str]:
    with engine.connect() as conn:
        return {int(i): str(n) for i, n in conn.execute(text("SELECT id, name FROM names"))}


def _fill(archive: Archive) -> None:
    one = make_record(58001, sources=[SKOPJE, CHAIR], fields_of_work=[POLICING, BORDERS])
    two = make_record(58002, sources=[CHAIR], fields_of_work=[], text="A different text.")
    archive.ingest(capture_for(one, 0), one)
    archive.ingest(capture_for(two, 0), two)
    # The batch path, with a name too long for a number and a name already numbered.
    three = make_record(58003, sources=[LONG, SKOPJE], fields_of_work=[BORDERS], text="Third.")
    four = make_record(58004, sources=[], fields_of_work=[POLICING], text="Fourth one.")
    archive.ingest_many([(capture_for(three, 1), three), (capture_for(four, 1), four)])


def test_lists_are_stored_as_numbers_and_read_back_as_names(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        _fill(archive)
        stored = _stored(archive.engine)
        table = _names_table(archive.engine)
        items = {i.id: i.sources for i in archive.report_items()}
        with archive.engine.connect() as conn:
            found = {
                (name, value): sorted(h.document_id for h in search.search(conn, "", f).hits)
                for name, value, f in (
                    ("source", SKOPJE, Filters(source=SKOPJE)),
                    ("source", LONG, Filters(source=LONG)),
                    ("field", BORDERS, Filters(field=BORDERS)),
                    ("field", "Elections", Filters(field="Elections")),
                )
            }
            facets = search.facets(conn)
    # Each name once, numbered; the lists hold numbers, the long name as it is.
    assert sorted(table.values()) == sorted({SKOPJE, CHAIR, POLICING, BORDERS})
    number = {n: i for i, n in table.items()}
    assert stored["osce.org/58001"] == (
        [number[SKOPJE], number[CHAIR]],
        [number[POLICING], number[BORDERS]],
    )
    assert stored["osce.org/58003"] == ([LONG, number[SKOPJE]], [number[BORDERS]])
    assert stored["osce.org/58002"] == ([number[CHAIR]], [])
    # Every reader sees names, in the page's order.
    with open_archive(db_url) as reader:
        records = {r["id"]: r for r in reader.records()}
        history = reader.history("osce.org/58003")
    assert records["osce.org/58001"]["sources"] == [SKOPJE, CHAIR]
    assert records["osce.org/58001"]["fields_of_work"] == [POLICING, BORDERS]
    assert records["osce.org/58003"]["sources"] == [LONG, SKOPJE]
    assert records["osce.org/58004"]["sources"] == []
    assert history[0]["sources"] == [LONG, SKOPJE]
    assert items["osce.org/58003"] == (LONG, SKOPJE)
    assert found[("source", SKOPJE)] == ["osce.org/58001", "osce.org/58003"]
    assert found[("source", LONG)] == ["osce.org/58003"]
    assert found[("field", BORDERS)] == ["osce.org/58001", "osce.org/58003"]
    assert found[("field", "Elections")] == []
    assert facets["source"] == sorted([CHAIR, LONG, SKOPJE])
    assert facets["field"] == sorted([BORDERS, POLICING])
    with Archive.open(db_url) as archive:
        assert archive.verify() == []


def test_a_failed_transaction_forgets_the_numbers_it_gave(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Archive.open(db_url) as archive:
        first = make_record(58011, sources=[CHAIR])
        archive.ingest(capture_for(first, 0), first)
        # The next version's write fails after its new name was numbered: the number is
        # rolled back with it, and the archive must not use it again for that name.
        real = versioning.search.index_version

        def fail(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError("the disk is full")

        monkeypatch.setattr(versioning.search, "index_version", fail)
        lost = make_record(58012, sources=["Forum for Security Co-operation"], text="Lost.")
        with pytest.raises(RuntimeError):
            archive.ingest(capture_for(lost, 1), lost)
        monkeypatch.setattr(versioning.search, "index_version", real)
        # A name numbered after the rollback may take the lost number ...
        other = make_record(58013, sources=["Permanent Council"], text="Another text.")
        archive.ingest(capture_for(other, 2), other)
        again = replace(lost, id="osce.org/58014", url=lost.url.replace("58012", "58014"))
        archive.ingest(capture_for(again, 3), again)
        assert archive.verify() == []
    # ... and each version still reads its own names.
    with open_archive(db_url) as reader:
        sources = {r["id"]: r["sources"] for r in reader.records()}
    assert sources == {
        "osce.org/58011": [CHAIR],
        "osce.org/58013": ["Permanent Council"],
        "osce.org/58014": ["Forum for Security Co-operation"],
    }


def test_an_unknown_number_is_an_error_not_a_wrong_name(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        _fill(archive)
        with archive.engine.connect() as conn:
            reading = names.Naming(conn)
            assert reading.names([1, "kept"]) == [_names_table(archive.engine)[1], "kept"]
            with pytest.raises(Exception, match="unknown"):
                reading.names([999])


def test_revision_0026_converts_an_archive_with_data_and_back(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        _fill(archive)
    with open_archive(db_url) as reader:
        before = list(reader.records(history=True))
    engine = make_engine(db_url)
    try:
        migrations.downgrade(engine, "0025")
        assert migrations.current(engine) == "0025"
        with engine.connect() as conn:
            tables = (
                conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))
                if engine.dialect.name == "sqlite"
                else conn.execute(text("SELECT tablename FROM pg_tables"))
            )
            assert "names" not in set(tables.scalars())
        # 0025's lists: the names themselves.
        assert _stored(engine)["osce.org/58001"] == ([SKOPJE, CHAIR], [POLICING, BORDERS])
        assert _stored(engine)["osce.org/58003"] == ([LONG, SKOPJE], [BORDERS])
        migrations.upgrade(engine)
        migrations.check(engine)
        stored = _stored(engine)
        table = _names_table(engine)
    finally:
        engine.dispose()
    number = {n: i for i, n in table.items()}
    assert stored["osce.org/58003"] == ([LONG, number[SKOPJE]], [number[BORDERS]])
    with open_archive(db_url) as reader:
        assert list(reader.records(history=True)) == before
    # The numbering goes on after the numbers the upgrade gave.
    with Archive.open(db_url) as archive:
        new = make_record(58021, sources=["Secretary General", SKOPJE], text="After.")
        archive.ingest(capture_for(new, 5), new)
        assert archive.verify() == []
    with open_archive(db_url) as reader:
        records = {r["id"]: r for r in reader.records()}
    assert records["osce.org/58021"]["sources"] == ["Secretary General", SKOPJE]
    engine = make_engine(db_url)
    try:
        after = _names_table(engine)
    finally:
        engine.dispose()
    new_numbers = {after[i]: i for i in set(after) - set(table)}
    assert new_numbers == {"Secretary General": 5, "Conflict prevention and resolution": 6}
