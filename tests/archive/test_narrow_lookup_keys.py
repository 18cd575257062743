"""Narrower lookup keys (revision 0025): texts already archived are found through an
index on their digest's first 8 bytes, near-duplicate keys keep 23 bits; and narrower
sketches (revision 0027): 4 bits a bin; and the index over duplicates keeps only them
(revision 0030). Exact copies are still found on both ingest paths and near copies as
before, the databases use the new indexes, and revisions 0025, 0027 and 0030 convert an archive with
data and back. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import text

from archive import dedup, migrations, texts
from archive.api import open_archive
from archive.batch import _EXACT
from archive.db import make_engine
from archive.schema import Sha256
from archive.store import Archive
from tests.archive.conftest import capture_for, make_record
from tests.archive.test_dedup import MEETING_A
from tests.archive.test_lean_storage import _fill, _keys, _near_copy_is_found


def _index_sql(engine: Any) -> dict[str, str]:
    """Index name -> its definition, for the versions table."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.execute(
                text(
                    "SELECT name, sql FROM sqlite_master "
                    "WHERE type = 'index' AND tbl_name = 'versions'"
                )
            )
        else:
            rows = conn.execute(
                text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'versions'")
            )
        return {str(name): str(sql or "") for name, sql in rows}


def _plan(engine: Any, digest: str) -> str:
    """How the database runs the exact-copy lookup, as the archive sends it (sequential
    scans off on PostgreSQL, which would read its tiny test table whole)."""
    compiled = _EXACT.compile(dialect=engine.dialect)
    params = compiled.construct_params({"text_hash": digest, "document_id": "osce.org/1"})
    params["text_hash"] = Sha256().process_bind_param(digest, engine.dialect)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            values = tuple(params[name] for name in compiled.positiontup or ())
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", values).all()
            return " ".join(str(row[-1]) for row in rows)
        conn.exec_driver_sql("SET enable_seqscan = off")
        rows = conn.exec_driver_sql(f"EXPLAIN {compiled}", params).all()
        return " ".join(str(row[0]) for row in rows)


def test_exact_copies_are_found_through_the_digest_prefix(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        original = make_record(56001, text=MEETING_A)
        archive.ingest(capture_for(original, 0), original)
        # Each ingest path: one at a time (the ORM's) and a batch (ingest_many's).
        copy = make_record(56002, published="2003-07-01", text=MEETING_A)
        assert archive.ingest(capture_for(copy, 1), copy).duplicate_of == "osce.org/56001"
        batch = make_record(56003, published="2003-07-02", text=MEETING_A)
        other = make_record(56004, published="2003-07-02", text=MEETING_A + " Unlike the rest.")
        results = archive.ingest_many(
            [(capture_for(batch, 2), batch), (capture_for(other, 2), other)]
        )
        assert results[0].duplicate_of == "osce.org/56001"
        # One sentence more: not the same digest, a near copy, found through the keys.
        assert results[1].duplicate_of == "osce.org/56001"
        digest = texts_digest(archive, "osce.org/56001")
        indexes = _index_sql(archive.engine)
        plan = _plan(archive.engine, digest)
    assert "ix_versions_text_key" in indexes and "ix_versions_text_hash" not in indexes
    assert "substr(text_hash, 1, 8)" in indexes["ix_versions_text_key"]
    assert "ix_versions_text_key" in plan, plan


def texts_digest(archive: Archive, document_id: str) -> str:
    with archive.engine.connect() as conn:
        stored = conn.execute(
            text("SELECT text_hash FROM versions WHERE document_id = :d"), {"d": document_id}
        ).scalar_one()
    return "sha256:" + bytes(stored).hex()


def test_near_duplicate_keys_keep_23_bits_and_still_find_near_copies(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        _fill(archive)
        assert _near_copy_is_found(archive, 70010)
        keys = _keys(archive.engine)
    assert keys and all(0 <= k <= dedup.KEY_MASK for k, _, _ in keys)
    assert dedup.KEY_MASK == (1 << 23) - 1
    # A near copy differs from the original in some bands only: the keys it shares are
    # what the lookup found.
    with open_archive(db_url) as reader:
        records = {r["id"]: r["text"] for r in reader.records()}
    shared = set(dedup.band_keys(records["osce.org/55436"])) & set(
        dedup.band_keys(records["osce.org/70010"])
    )
    assert 0 < len(shared) < dedup.BANDS


def _wide(records: list[dict[str, Any]]) -> set[tuple[int, str, int]]:
    """The 31-bit keys revision 0024's code stored for these versions."""
    return {
        (key & ((1 << 31) - 1), r["id"], r["version"])
        for r in records
        if r["text"]
        for key in dedup.wide_band_keys(r["text"])
    }


@pytest.fixture(autouse=True)
def _dictionaries_early(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(texts, "TRAIN_AFTER", 20)


def test_revision_0025_converts_an_archive_with_data_and_back(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        _fill(archive)
    with open_archive(db_url) as reader:
        before = list(reader.records(history=True))
    wide = _wide(before)
    narrow = {(k & dedup.KEY_MASK, d, n) for k, d, n in wide}
    assert any(k > dedup.KEY_MASK for k, _, _ in wide)
    engine = make_engine(db_url)
    try:
        assert _keys(engine) == narrow
        migrations.downgrade(engine, "0024")
        assert migrations.current(engine) == "0024"
        assert _keys(engine) == wide
        indexes = _index_sql(engine)
        assert "ix_versions_text_hash" in indexes and "ix_versions_text_key" not in indexes
        migrations.upgrade(engine)
        migrations.check(engine)
        assert _keys(engine) == narrow
        indexes = _index_sql(engine)
        assert "ix_versions_text_key" in indexes and "ix_versions_text_hash" not in indexes
    finally:
        engine.dispose()
    with open_archive(db_url) as reader:
        assert list(reader.records(history=True)) == before
    with Archive.open(db_url) as archive:
        assert _near_copy_is_found(archive, 70020)
        assert archive.verify() == []


def _sketches(engine: Any) -> dict[tuple[str, int], bytes | None]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT document_id, number, sketch FROM versions")).all()
    return {(d, n): None if s is None else bytes(s) for d, n, s in rows}


def test_revision_0027_converts_sketches_and_back(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        _fill(archive)
    with open_archive(db_url) as reader:
        before = list(reader.records(history=True))
    # What revision 0026's code stored: 8 bits a bin; and what this code stores.
    eight = {
        (r["id"], r["version"]): bytes(v & 0xFF for v in dedup.sketch(dedup.shingles(r["text"])))
        for r in before
        if dedup.signature(r["text"]).packed is not None
    }
    four = {k: dedup.signature(r["text"]).packed for r in before for k in [(r["id"], r["version"])]}
    assert len(eight) >= 20
    engine = make_engine(db_url)
    try:
        assert _sketches(engine) == four
        assert all(s is None or len(s) == 32 for s in four.values())
        migrations.downgrade(engine, "0026")
        stored = _sketches(engine)
        assert {k: v for k, v in stored.items() if v is not None} == eight
        migrations.upgrade(engine)
        migrations.check(engine)
        assert _sketches(engine) == four
    finally:
        engine.dispose()
    with Archive.open(db_url) as archive:
        assert _near_copy_is_found(archive, 70030)
        assert archive.verify() == []


def _pg_plan_once_usable(engine: Any, sql: str, index: str, wait: float = 30.0) -> str:
    """PostgreSQL's plan for ``sql`` (sequential scans off), asked again on new
    connections until it names ``index`` or ``wait`` seconds pass. An index just built
    over rows updated in place is hidden from transactions until those older than it end,
    anywhere on the server (``pg_index.indcheckxmin``): with other tests running, that
    can take a moment."""
    deadline = time.monotonic() + wait
    while True:
        with engine.connect() as conn:
            conn.exec_driver_sql("SET enable_seqscan = off")
            plan = str(conn.exec_driver_sql(f"EXPLAIN {sql}").all())
        if index in plan or time.monotonic() > deadline:
            return plan
        time.sleep(0.2)


def test_the_duplicate_index_keeps_only_duplicates_and_revision_0030_converts_it(
    db_url: str,
) -> None:
    with Archive.open(db_url) as archive:
        _fill(archive)
        assert _near_copy_is_found(archive, 70040)
    engine = make_engine(db_url)
    sql = "SELECT id FROM documents WHERE duplicate_of = 'osce.org/55436'"
    try:
        for revision in ("0029", None):
            if revision is not None:
                migrations.downgrade(engine, revision)
            else:
                migrations.upgrade(engine)
                migrations.check(engine)
            with engine.connect() as conn:
                if engine.dialect.name == "sqlite":
                    definition = conn.execute(
                        text(
                            "SELECT sql FROM sqlite_master WHERE name = 'ix_documents_duplicate_of'"
                        )
                    ).scalar_one()
                    plan = str(conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all())
                else:
                    definition = conn.execute(
                        text(
                            "SELECT indexdef FROM pg_indexes "
                            "WHERE indexname = 'ix_documents_duplicate_of'"
                        )
                    ).scalar_one()
                    plan = _pg_plan_once_usable(engine, sql, "ix_documents_duplicate_of")
                found = conn.execute(text(sql)).scalars().all()
            assert ("IS NOT NULL" in definition.upper()) == (revision is None), definition
            assert "ix_documents_duplicate_of" in plan, plan
            assert found == ["osce.org/70040"]
    finally:
        engine.dispose()
