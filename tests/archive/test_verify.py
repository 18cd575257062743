"""``verify`` recomputes every stored hash and names what is wrong."""

from __future__ import annotations

from dataclasses import replace

import pytest
import zstandard
from sqlalchemy import select, text, update

from archive import texts
from archive.schema import Body, Version
from archive.store import Archive
from crawler.cli import main
from tests.archive.conftest import capture_for, make_record


def _fill(archive: Archive) -> None:
    record = make_record()
    archive.ingest(capture_for(record, 0), record)
    edited = replace(record, title="Edited")
    archive.ingest(capture_for(edited, 1), edited)


def test_a_sound_archive_verifies(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with Archive.open(db_url) as archive:
        _fill(archive)
        assert archive.verify() == []
    assert main(["verify", "--db", db_url]) == 0


def test_verify_catches_a_corrupted_body(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with Archive.open(db_url) as archive:
        _fill(archive)
        with archive.session() as s, s.begin():
            body = s.query(Body).order_by(Body.sha256).first()
            assert body is not None
            victim = body.sha256
            forged = zstandard.ZstdCompressor().compress(b"<html>tampered</html>" * 10)
            s.execute(update(Body).where(Body.sha256 == victim).values(data=forged))
        problems = archive.verify()
    assert len(problems) == 1 and victim in problems[0]
    assert main(["verify", "--db", db_url]) == 1
    assert victim in capsys.readouterr().err


def test_verify_catches_a_corrupted_version(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with Archive.open(db_url) as archive:
        _fill(archive)
        forged = texts.encode(texts.pack("Somebody rewrote history.", {}))
        with archive.session() as s, s.begin():
            s.execute(
                update(Version)
                .where(Version.number == 2)
                .values(packed=forged.packed, codec=forged.codec, dict_id=None, base_id=None)
            )
        problems = archive.verify()
    assert any("version 2 of osce.org/55436" in p for p in problems)
    assert all("version 1" not in p for p in problems)
    assert main(["verify", "--db", db_url]) == 1
    assert "version 2 of osce.org/55436" in capsys.readouterr().err


def test_verify_catches_an_undecodable_body(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        _fill(archive)
        with archive.session() as s, s.begin():
            s.execute(update(Body).values(data=b"\x28\xb5\x2f\xfd garbage"))
        problems = archive.verify()
    assert problems and all("cannot be decompressed" in p for p in problems)


def test_verify_catches_an_undecodable_version_text(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        _fill(archive)
        with archive.session() as s, s.begin():
            s.execute(
                update(Version)
                .where(Version.number == 1)
                .values(packed=b"\x28\xb5\x2f\xfd garbage", codec=texts.CODEC_ZSTD)
            )
        problems = archive.verify()
    # Version 2 is stored as a delta of version 1: losing a base loses its deltas too.
    assert problems and all("text cannot be read" in p for p in problems)
    assert any("version 1 of osce.org/55436" in p for p in problems)


def test_verify_finds_a_search_index_out_of_step_and_index_mends_it(db_url: str) -> None:
    """A version missing from the search index, an old version marked current there and
    the current one marked superseded are each named, with the command that rebuilds
    the index; after ``osce-archive index`` the archive verifies again."""
    with Archive.open(db_url) as archive:
        _fill(archive)
        other = make_record(55437, text="Another text, about a meeting in Tbilisi.")
        archive.ingest(capture_for(other, 2), other)
        with archive.session() as s, s.begin():
            old, new = s.scalars(
                select(Version.id)
                .where(Version.document_id == "osce.org/55436")
                .order_by(Version.number)
            ).all()
            lone = s.scalars(select(Version.id).where(Version.document_id == other.id)).one()
            pg = s.bind.dialect.name == "postgresql"
            if pg:
                statements = [
                    ("DELETE FROM search_vectors WHERE version_id = :v", lone),
                    ("UPDATE search_vectors SET current = true WHERE version_id = :v", old),
                    ("UPDATE search_vectors SET current = false WHERE version_id = :v", new),
                ]
            else:
                statements = [
                    ("DELETE FROM search_fts_docsize WHERE id = :v", lone),
                    ("DELETE FROM search_superseded WHERE version_id = :v", old),
                    ("INSERT INTO search_superseded (version_id) VALUES (:v)", new),
                    ("INSERT INTO search_fts_docsize (id, sz) VALUES (:v, x'00')", new + 1000),
                ]
            for sql, version_id in statements:
                s.execute(text(sql), {"v": version_id})
        found = archive.verify()
    assert found == [
        "search index: 1 version not in the search index (version 1 of osce.org/55437); "
        "`osce-archive index` rebuilds it",
        "search index: 1 version marked current in the search index but superseded "
        "(version 1 of osce.org/55436); `osce-archive index` rebuilds it",
        "search index: 1 version current but marked superseded in the search index "
        "(version 2 of osce.org/55436); `osce-archive index` rebuilds it",
    ] + ([] if pg else ["search index: 1 row without a version; `osce-archive index` rebuilds it"])
    assert main(["verify", "--db", db_url]) != 0
    assert main(["index", "--db", db_url]) == 0
    with Archive.open(db_url) as archive:
        assert archive.verify() == []
