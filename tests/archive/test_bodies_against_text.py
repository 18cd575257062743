"""Pages fetched again compressed against an earlier page of their document and their own
text (revision 0017, codec ``zstd-ref``): every body still reads back byte for byte,
through every reader (``read_body``, ``verify``, ``reextract``), on both ingest paths,
costs at most half what the trained dictionary alone would store, never chains more than
one base deep, and the revision converts an archive with data and back. Runs on SQLite
and PostgreSQL."""

from __future__ import annotations

import random
import re

import pytest
from sqlalchemy import select

from archive import bodies, migrations, texts
from archive.api import open_archive
from archive.db import make_engine
from archive.records import Capture
from archive.schema import Body, Version
from archive.schema import Capture as CaptureRow
from archive.store import Archive
from crawler.extraction import EXTRACTOR_VERSION
from crawler.sites import extract
from replica import Site
from tests.archive.conftest import at
from tests.archive.test_fast_ingest import _replica_pages

EDITED = 24  # items fetched again twice: once with a text edit, once with new markup only


@pytest.fixture(autouse=True)
def _dictionaries_early(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bodies, "TRAIN_AFTER", 20)
    monkeypatch.setattr(texts, "TRAIN_AFTER", 20)


def _edit_text(body: bytes) -> bytes:
    """The first paragraph of the article gains a sentence: a new version."""
    return re.sub(rb"(<p>)([^<]{40,})", rb"\1A correction was published later. \2", body, count=1)


def _fill(archive: Archive) -> list[str]:
    """60 replica pages; then ``EDITED`` of them again, edited (one group, the batched
    path), and again with only their markup changed (one by one). Every body stored."""
    pairs = _replica_pages()
    for capture, record in pairs:
        archive.ingest(capture, record)
    edited = []
    for i, (capture, _) in enumerate(pairs[:EDITED]):
        body = _edit_text(capture.body or b"")
        assert body != capture.body
        again = Capture(url=capture.url, status=200, fetched_at=at(100 + i / 60), body=body)
        edited.append((again, extract(body, capture.url)))
    results = archive.ingest_many(edited)
    assert [r.outcome for r in results] == ["new_version"] * EDITED  # type: ignore[union-attr]
    for i, (capture, _) in enumerate(edited):
        body = (capture.body or b"").replace(b"</body>", b"<!-- served by node 7 --></body>")
        again = Capture(url=capture.url, status=200, fetched_at=at(200 + i / 60), body=body)
        assert archive.ingest(again, extract(body, capture.url)).outcome == "unchanged"
    with archive.session() as s:
        return [key for key in s.scalars(select(CaptureRow.body_sha256)).all() if key]


def test_pages_fetched_again_are_stored_against_an_earlier_page_and_their_text(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        keys = _fill(archive)
        raw = {key: archive.read_body(key) for key in set(keys)}
        assert all(raw.values())
        with archive.session() as s:
            stored = s.execute(
                select(Body.sha256, Body.codec, Body.base, Body.text_of, Body.dict_id, Body.data)
            ).all()
            documents = dict(
                s.execute(
                    select(CaptureRow.body_sha256, CaptureRow.document_id).where(
                        CaptureRow.body_sha256.is_not(None)
                    )
                ).all()
            )
            version_documents = dict(s.execute(select(Version.id, Version.document_id)).all())
        refs = [row for row in stored if row.codec == bodies.CODEC_REF]
        # The pages fetched again, and only they, are stored against an earlier page of
        # their document and their text; first pages keep the trained dictionary alone
        # (their frame left open for their text once the archive has both dictionaries).
        assert len(refs) == 2 * EDITED
        assert all(row.base is not None and row.dict_id is None for row in refs)
        plain = [row for row in stored if row.codec in (bodies.CODEC_ZSTD, bodies.CODEC_OPEN)]
        assert len(plain) == len(stored) - len(refs)
        assert all(row.base is None and row.text_of is None for row in plain)
        for row in refs:
            assert version_documents[row.text_of] == documents[row.sha256]
        by_key = {row.sha256: row for row in stored}
        first_page = {}
        for key in keys:  # in capture order: a document's first page comes first
            first_page.setdefault(documents[key], key)
        for row in refs:
            # The document's first page: the latest page's own base, never a chain.
            assert row.base == first_page[documents[row.sha256]]
            assert by_key[row.base].base is None
        # Each at most half (BASE_SHARE) of what the dictionary alone would store.
        dictionary = _dictionary(archive, next(r.dict_id for r in plain if r.dict_id))
        for row in refs:
            alone = len(bodies.compress(raw[row.sha256], dictionary)[1])
            assert len(row.data) <= bodies.BASE_SHARE * alone
        against = sum(len(row.data) for row in refs)
        alone = sum(len(bodies.compress(raw[row.sha256], dictionary)[1]) for row in refs)
        assert against < 0.3 * alone, (against, alone)
        assert archive.verify() == []
        # Re-extraction reads every stored page back through the same door.
        counters = archive.reextract(extract, EXTRACTOR_VERSION)
        assert counters["errors"] == 0 and counters["unchanged"] == 60


def test_a_page_its_base_no_longer_helps_becomes_the_next_base(db_url: str) -> None:
    """A document's page redesigned and grown mostly new bytes (here a block of 64 KB its
    old page never had): its old page does not halve it, so it keeps the dictionary
    alone, and the document's next page is stored against it."""
    pairs = _replica_pages()[:30]
    capture, _ = pairs[25]
    path = capture.url.split("www.osce.org", 1)[1]
    _status, _headers, page = Site(items=60, seed=1, theme=3).render(path, host="www.osce.org")
    block = random.Random(7).randbytes(32 * 1024).hex().encode()
    redesigned = page.replace(b"</body>", b"<!-- " + block + b" --></body>")
    again = redesigned.replace(b"</body>", b"<!-- cached 5 min --></body>")
    with Archive.open(db_url) as archive:
        for c, r in pairs:
            archive.ingest(c, r)
        for hours, body in ((50, redesigned), (51, again)):
            fetched = Capture(url=capture.url, status=200, fetched_at=at(hours), body=body)
            archive.ingest(fetched, extract(body, capture.url))
        with archive.session() as s:
            rows = {
                key: s.get(Body, key)
                for key in map(bodies.body_hash, (capture.body or b"", redesigned, again))
            }
        first, second, third = rows.values()
        assert first is not None and second is not None and third is not None
        assert second.codec == bodies.CODEC_ZSTD and second.base is None
        assert third.codec == bodies.CODEC_REF and third.base == second.sha256
        assert len(third.data) < len(second.data) / 2
        for body in (capture.body, redesigned, again):
            assert archive.read_body(bodies.body_hash(body or b"")) == body
        assert archive.verify() == []


def _dictionary(archive: Archive, dict_id: int) -> bytes:
    from archive.schema import CompressionDict

    with archive.session() as s:
        return bytes(s.scalar(select(CompressionDict.data).where(CompressionDict.id == dict_id)))


def test_a_damaged_prefix_is_found_by_verify(db_url: str) -> None:
    """A ``zstd-ref`` body whose text no longer matches what it was compressed against
    fails to read, and ``verify`` names it rather than crashing."""
    with Archive.open(db_url) as archive:
        _fill(archive)
        with archive.session() as s:
            row = s.scalars(
                select(Body).where(Body.codec == bodies.CODEC_REF, Body.base.is_not(None))
            ).first()
            assert row is not None
            other = s.scalar(
                select(Version.id).where(Version.id != row.text_of).order_by(Version.id).limit(1)
            )
            row.text_of = other
            s.commit()
            damaged = row.sha256
        problems = archive.verify()
        assert any(damaged in line for line in problems), problems


def test_revision_0017_converts_an_archive_with_data_and_back(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        keys = _fill(archive)
        raw = {key: archive.read_body(key) for key in set(keys)}
    with open_archive(db_url) as reader:
        before = list(reader.records(history=True))
    engine = make_engine(db_url)
    try:
        migrations.downgrade(engine, "0016")
        with engine.connect() as conn:
            codecs = set(conn.exec_driver_sql("SELECT DISTINCT codec FROM bodies").scalars().all())
            assert codecs == {bodies.CODEC_ZSTD}
            # What the code before 0017 reads: the dictionary alone, byte for byte.
            rows = conn.exec_driver_sql(
                "SELECT b.data, d.data FROM bodies b JOIN compression_dicts d ON d.id = b.dict_id"
            ).all()
            assert len(rows) == len(raw)
            restored = {bodies.body_hash(bodies.decompress("zstd", b, d)) for b, d in rows}
            assert restored == set(raw)
        migrations.upgrade(engine)
        migrations.check(engine)
    finally:
        engine.dispose()
    with open_archive(db_url) as reader:
        assert list(reader.records(history=True)) == before
    with Archive.open(db_url) as archive:
        assert archive.verify() == []
        for key, data in raw.items():
            assert archive.read_body(key) == data
