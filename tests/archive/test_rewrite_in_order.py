"""Rows made smaller once a dictionary is trained are put back in order on SQLite
(``archive.db.rewrite_rows``), so their pages are filled instead of left mostly empty;
every text and body reads back the same, and the foreign keys that point at the rows
hold. ``bodies`` is a row-id table (revision 0038), its rows appended as they arrive."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text, update

from archive import bodies, texts
from archive.api import open_archive
from archive.store import Archive
from tests.archive.test_fast_ingest import _replica_pages

TRAINED_AFTER = 120
PAGES = 240


@pytest.fixture(autouse=True)
def _dictionaries_early(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bodies, "TRAIN_AFTER", TRAINED_AFTER)
    monkeypatch.setattr(texts, "TRAIN_AFTER", TRAINED_AFTER)


def _in_place(db: Any, model: Any, key: str, values: list[dict[str, Any]]) -> None:
    """What the archive did before: each row updated where it lies."""
    db.execute(update(model), values)


def _build(url: str, pairs: list[Any]) -> list[dict[str, Any]]:
    with Archive.open(url) as archive:
        archive.ingest_many(pairs[: TRAINED_AFTER + 20])
        archive.ingest_many(pairs[TRAINED_AFTER + 20 :])
        assert archive.verify() == []
        with archive.engine.connect() as conn:
            trained = conn.execute(text("SELECT kind FROM compression_dicts ORDER BY kind"))
            assert [k for (k,) in trained] == ["body", "text"]
            if archive.engine.dialect.name == "sqlite":
                assert list(conn.execute(text("PRAGMA foreign_key_check"))) == []
    with open_archive(url) as reader:
        return list(reader.records(history=True))


def _pages(path: Path, table: str) -> int:
    con = sqlite3.connect(path)
    try:
        return int(
            con.execute("SELECT count(*) FROM dbstat WHERE name = ?", (table,)).fetchone()[0]
        )
    finally:
        con.close()


def test_trained_rows_are_put_back_in_order_and_fill_their_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pairs = _replica_pages(PAGES)
    ordered = tmp_path / "ordered.sqlite"
    records = _build(f"sqlite:///{ordered}", pairs)
    with monkeypatch.context() as m:
        m.setattr(texts, "rewrite_rows", _in_place)
        m.setattr(bodies, "rewrite_rows", _in_place)
        in_place = tmp_path / "in-place.sqlite"
        assert _build(f"sqlite:///{in_place}", pairs) == records
    assert len(records) > PAGES / 2
    # The first texts shrink to a third once trained: updated where they lay, their
    # pages kept two thirds empty.
    assert _pages(ordered, "versions") < 0.8 * _pages(in_place, "versions")
    # The bodies compressed again moved to the end of their table: the first pages are
    # those stored after them. (These, compressed with a dictionary of 120 pages, shrink
    # less than a crawl's, but none takes more room.)
    assert min(_first_bodies_row_ids(ordered)) > TRAINED_AFTER
    assert max(_first_bodies_row_ids(in_place)) <= TRAINED_AFTER
    assert _pages(ordered, "bodies") <= _pages(in_place, "bodies")


def _first_bodies_row_ids(path: Path) -> list[int]:
    """The row ids of the bodies stored before the dictionary was trained."""
    con = sqlite3.connect(path)
    try:
        rows = con.execute(
            "SELECT b.rowid FROM bodies b JOIN captures c ON c.body_sha256 = b.sha256 "
            "GROUP BY b.rowid ORDER BY min(c.id) LIMIT ?",
            (TRAINED_AFTER,),
        )
        return [int(r) for (r,) in rows]
    finally:
        con.close()


def test_trained_rows_read_back_on_either_database(db_url: str) -> None:
    """PostgreSQL updates the rows (this checks only that the path works there); SQLite
    moves or takes them out and puts them back: the same records either way, ``verify``
    finds every body and text whole, and no foreign key is left dangling."""
    records = _build(db_url, _replica_pages(PAGES))
    assert len(records) > PAGES / 2
    assert all(r["text"] for r in records)


def test_bodies_are_a_row_id_table(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    Archive.open(f"sqlite:///{path}").close()
    con = sqlite3.connect(path)
    try:
        (sql,) = con.execute("SELECT sql FROM sqlite_master WHERE name = 'bodies'").fetchone()
    finally:
        con.close()
    assert "WITHOUT ROWID" not in sql.upper()


def test_objects_held_by_the_session_read_the_rewritten_values(db_url: str) -> None:
    from sqlalchemy import select

    from archive.db import rewrite_rows
    from archive.schema import Body, Version

    with Archive.open(db_url) as archive:
        archive.ingest_many(_replica_pages(3))
        with archive.session() as s:
            version = s.scalars(select(Version).limit(1)).one()
            body = s.scalars(select(Body).limit(1)).one()
            rewrite_rows(s, Version, "id", [{"id": version.id, "packed": b"new", "dict_id": None}])
            rewrite_rows(
                s, Body, "sha256", [{"sha256": body.sha256, "data": b"new", "dict_id": None}]
            )
            assert (version.packed, version.dict_id) == (b"new", None)
            assert (body.data, body.dict_id) == (b"new", None)
            s.rollback()
