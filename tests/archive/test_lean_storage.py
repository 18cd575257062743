"""Leaner storage (revision 0011): near-duplicate keys as ``(key, version_id)`` only,
``WITHOUT ROWID`` on SQLite (until revision 0034 made them posting lists), and no index
nothing reads. Near duplicates are still found, and revision 0011 converts an archive
with data and back. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import inspect, select, text

from archive import bodies, dedup, lsh, migrations, texts
from archive.api import open_archive
from archive.db import make_engine
from archive.schema import Version
from archive.store import Archive
from tests.archive.conftest import capture_for, make_record
from tests.archive.test_dedup import MEETING_A, MEETING_B
from tests.archive.test_fast_ingest import _replica_pages

GONE = {
    ("captures", "ix_captures_body_sha256"),
    ("captures", "ix_captures_run_id"),
    ("versions", "ix_versions_content_hash"),
    ("near_dup_keys", "ix_near_dup_keys_key"),
}


def _indexes(engine: Any) -> set[tuple[str, str]]:
    found = inspect(engine)
    tables = {"captures", "versions", "near_dup_keys"} & set(found.get_table_names())
    return {(table, str(ix["name"])) for table in tables for ix in found.get_indexes(table)}


def _keys(engine: Any) -> set[tuple[int, str, int]]:
    """(key, document id, version number) of every near-duplicate key: read from the
    buckets' entries from revision 0034 on, from the rows of ``near_dup_keys`` before."""
    with engine.connect() as conn:
        versions = {
            int(i): (str(d), int(n))
            for i, d, n in conn.execute(text("SELECT id, document_id, number FROM versions"))
        }
        if "near_dup_buckets" in inspect(conn).get_table_names():
            pairs = [
                (lsh.key_of(bucket, entry), lsh.version_of(entry))
                for bucket, entries in conn.execute(
                    text("SELECT bucket, entries FROM near_dup_buckets")
                )
                for entry in lsh.decode(bytes(entries))
            ]
        else:
            pairs = list(conn.execute(text("SELECT key, version_id FROM near_dup_keys")))
    return {(int(k), *versions[int(v)]) for k, v in pairs}


DIGESTS = (
    ("bodies", "sha256"),
    ("captures", "body_sha256"),
    ("versions", "content_hash"),
    ("versions", "text_hash"),
    ("compression_dicts", "sha256"),
)


def _digest_lengths(engine: Any) -> dict[tuple[str, str], set[int]]:
    """The stored lengths of every digest column's values (32 bytes, or 71 characters)."""
    out = {}
    with engine.connect() as conn:
        for table, column in DIGESTS:
            lengths = conn.execute(
                text(f"SELECT DISTINCT length({column}) FROM {table} WHERE {column} IS NOT NULL")
            ).scalars()
            out[(table, column)] = set(lengths)
    return out


def _sketch_0010(body_text: str) -> bytes:
    """A sketch as revision 0010's code packed it: 64 bins of 16 bits, little-endian."""
    bins = dedup.sketch(dedup.shingles(body_text))
    return b"".join((v & 0xFFFF).to_bytes(2, "little") for v in bins)


def _fill(archive: Archive) -> None:
    for capture, item in _replica_pages()[:30]:
        archive.ingest(capture, item)
    original = make_record(55436, text=MEETING_A)
    archive.ingest(capture_for(original, 0), original)


def _near_copy_is_found(archive: Archive, node: int) -> bool:
    edited = MEETING_A.replace("today adopted", "on Friday adopted").replace("next year", "in 2004")
    copy = make_record(node, published="2003-07-01", text=edited)
    other = make_record(node + 1, published="2003-07-01", text=MEETING_B)
    found = archive.ingest(capture_for(copy, 1), copy).duplicate_of == "osce.org/55436"
    return found and archive.ingest(capture_for(other, 1), other).duplicate_of is None


@pytest.fixture(autouse=True)
def _dictionaries_early(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both dictionaries trained within the 30 pages, so their digests are stored too."""
    monkeypatch.setattr(bodies, "TRAIN_AFTER", 20)
    monkeypatch.setattr(texts, "TRAIN_AFTER", 20)


def test_lean_storage_still_finds_near_copies(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        _fill(archive)
        assert _near_copy_is_found(archive, 70002)
        assert not GONE & _indexes(archive.engine)
        keys = _keys(archive.engine)
        lengths = _digest_lengths(archive.engine)
        assert all(v == {32} for v in lengths.values()), lengths
        with archive.session() as s:
            digests = set(s.scalars(select(Version.content_hash)))
    # The program still sees sha256:<hex>, and a string no digest has finds nothing.
    assert digests and all(d.startswith("sha256:") and len(d) == 71 for d in digests)
    with Archive.open(db_url) as archive:
        first = _replica_pages(10)[0][0].body
        assert archive.read_body(bodies.body_hash(first)) == first
        for wrong in ("sha256:" + "A" * 64, "sha256:xyz", "", "md5:" + "0" * 64):
            assert archive.read_body(wrong) is None
    # Sixteen per version of a text long enough, none of them twice.
    assert len(keys) % 16 == 0 and len(keys) >= 16 * 30


def test_revision_0011_converts_an_archive_with_data_and_back(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        _fill(archive)
    with open_archive(db_url) as reader:
        before = list(reader.records(history=True))
    engine = make_engine(db_url)
    try:
        keys = _keys(engine)
        migrations.downgrade(engine, "0010")
        assert migrations.current(engine) == "0010"
        lengths = _digest_lengths(engine)
        assert all(v == {71} for v in lengths.values()), lengths
        assert GONE <= _indexes(engine)
        with engine.connect() as conn:
            # 0010's shape: a row id and the document id beside each key, and it is right.
            wrong = conn.execute(
                text(
                    "SELECT count(*) FROM near_dup_keys k JOIN versions v "
                    "ON v.id = k.version_id WHERE v.document_id <> k.document_id"
                )
            ).scalar_one()
            ids = conn.execute(text("SELECT count(DISTINCT id) FROM near_dup_keys")).scalar_one()
        assert wrong == 0 and ids == len(keys)
        # 0010's keys are 64-bit (revision 0018's downgrade computed them again).
        assert {(k & dedup.KEY_MASK, d, n) for k, d, n in _keys(engine)} == keys
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(sketch) FROM versions")).scalar_one() == 0
        # What 0010's code wrote: each sketch as 64 bins of 16 bits.
        with engine.begin() as conn:
            for record in before:
                if record["text"] and dedup.signature(record["text"]).packed is not None:
                    conn.execute(
                        text(
                            "UPDATE versions SET sketch = :s WHERE document_id = :d AND number = :n"
                        ),
                        {
                            "s": _sketch_0010(record["text"]),
                            "d": record["id"],
                            "n": record["version"],
                        },
                    )
        migrations.upgrade(engine)
        migrations.check(engine)
        assert _keys(engine) == keys
        assert not GONE & _indexes(engine)
        lengths = _digest_lengths(engine)
        assert all(v == {32} for v in lengths.values()), lengths
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT document_id, number, sketch FROM versions")).all()
        sketches = {(d, n): None if s is None else bytes(s) for d, n, s in rows}
    finally:
        engine.dispose()
    # The narrowed sketches are what the new code computes from the same texts.
    expected = {(r["id"], r["version"]): dedup.signature(r["text"]).packed for r in before}
    assert sketches == expected
    assert sum(1 for v in sketches.values() if v is not None) >= 20
    with open_archive(db_url) as reader:
        assert list(reader.records(history=True)) == before
    with Archive.open(db_url) as archive:
        assert _near_copy_is_found(archive, 70004)
        assert archive.verify() == []


def _wide_keys(records: list[dict[str, Any]]) -> set[tuple[int, str, int]]:
    """The 64-bit keys the code before revision 0018 stored for these versions."""
    return {
        (key, r["id"], r["version"])
        for r in records
        if r["text"]
        for key in dedup.wide_band_keys(r["text"])
    }


def test_near_duplicate_keys_are_narrowed_and_revision_0018_converts_them(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        _fill(archive)
    with open_archive(db_url) as reader:
        before = list(reader.records(history=True))
    wide = _wide_keys(before)
    assert any(k < 0 or k > dedup.KEY_MASK for k, _, _ in wide)
    narrow = {(k & dedup.KEY_MASK, d, n) for k, d, n in wide}
    engine = make_engine(db_url)
    try:
        assert _keys(engine) == narrow
        assert all(0 <= k <= dedup.KEY_MASK for k, _, _ in narrow)
        migrations.downgrade(engine, "0017")
        assert _keys(engine) == wide
        migrations.upgrade(engine)
        migrations.check(engine)
        assert _keys(engine) == narrow
    finally:
        engine.dispose()
    with Archive.open(db_url) as archive:
        assert _near_copy_is_found(archive, 70006)
        assert archive.verify() == []
