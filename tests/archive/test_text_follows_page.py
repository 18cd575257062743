"""A document's first version keeps its text as the rest of its first page's zstd frame
(revision 0031: text codec ``zstd-page``, body codec ``zstd-open``): every reader reads
the same texts and bodies as before, through every path (ORM versions, Core rows selected
with ``texts.columns()``, a delta whose base follows its page), the texts take less, a
page shared by two documents carries one text, a damaged page is found by ``verify``,
and the revision converts an archive with data and back. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from archive import bodies, compression, migrations, texts
from archive.api import open_archive
from archive.db import make_engine
from archive.errors import ArchiveError
from archive.records import Capture
from archive.schema import Body, CompressionDict, Version
from archive.schema import Capture as CaptureRow
from archive.store import Archive
from crawler.extraction import EXTRACTOR_VERSION
from crawler.sites import extract
from tests.archive.conftest import at, ingest_both_ways
from tests.archive.test_fast_ingest import _replica_pages

EDITED = 10  # of the last pages: edited once, so that deltas have bases that follow pages


@pytest.fixture(autouse=True)
def _dictionaries_early(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bodies, "TRAIN_AFTER", 20)
    monkeypatch.setattr(texts, "TRAIN_AFTER", 20)


def _fill(archive: Archive) -> list[tuple[Capture, Any]]:
    """60 replica pages, through both writers; then the last ``EDITED`` edited (one
    group) and fetched again unchanged (one by one)."""
    pairs = _replica_pages()
    ingest_both_ways(archive, pairs)
    edited = []
    for i, (capture, _) in enumerate(pairs[-EDITED:]):
        body = re.sub(
            rb"(<p>)([^<]{40,})", rb"\1A correction was published later. \2", capture.body or b""
        )
        again = Capture(url=capture.url, status=200, fetched_at=at(100 + i / 60), body=body)
        edited.append((again, extract(body, capture.url)))
    assert {r.outcome for r in archive.ingest_many(edited)} == {"new_version"}  # type: ignore[union-attr]
    for i, (capture, record) in enumerate(edited):
        again = Capture(url=capture.url, status=200, fetched_at=at(200 + i / 60), body=capture.body)
        assert archive.ingest(again, record).outcome == "unchanged"
    return pairs


def _whole_packs(archive: Archive) -> dict[int, bytes]:
    """Every version's pack, read one version at a time by id (``pack_of``: the path a
    page fetched again and a delta's base take)."""
    with archive.session() as s:
        reader = texts.TextReader(s)
        return {i: reader.pack_of(i) for i in s.scalars(select(Version.id))}


def test_first_versions_follow_their_pages_and_read_the_same_every_way(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        pairs = _fill(archive)
        with archive.session() as s:
            rows = s.execute(
                select(Version.id, Version.number, Version.codec, Version.base_id, Version.packed)
            ).all()
            page_bodies = dict(
                s.execute(
                    select(CaptureRow.version_id, Body.codec)
                    .join(Body, Body.sha256 == CaptureRow.body_sha256)
                    .where(CaptureRow.outcome == "new_document")
                ).all()
            )
            text_dict = s.scalar(select(CompressionDict.data).where(CompressionDict.kind == "text"))
        following = [r for r in rows if r.codec == texts.CODEC_PAGE]
        # Once both dictionaries exist, every document's first version follows its page,
        # and that page is stored as an open frame; before them, none does.
        assert len(following) >= 30
        assert all(r.number == 1 for r in following)
        assert all(page_bodies[r.id] == bodies.CODEC_OPEN for r in following)
        assert {
            page_bodies[r.id] for r in rows if r.number == 1 and r.codec != texts.CODEC_PAGE
        } <= {
            bodies.CODEC_ZSTD,
            bodies.CODEC_IDENTITY,
        }
        page_ids = {r.id for r in following}
        deltas = [r for r in rows if r.codec == texts.CODEC_DELTA]
        assert deltas and all(r.base_id in page_ids for r in deltas)

        # The same pack by id (pack_of), from Core rows (columns()) and ORM versions (load).
        whole = _whole_packs(archive)
        with archive.session() as s:
            reader = texts.TextReader(s)
            core = {
                row.id: reader.pack(row)
                for row in s.execute(select(Version.id, *texts.columns())).all()
            }
            orm = texts.TextReader(s).load(s.scalars(select(Version)).all())
            for version in orm:
                assert version.text == texts.unpack(whole[version.id])[0]
        assert core == whole
        # Smaller than each pack whole with the text dictionary.
        assert text_dict is not None
        after = sum(len(r.packed) for r in following)
        alone = sum(len(compression.compress(whole[r.id], bytes(text_dict))[1]) for r in following)
        assert after < 0.8 * alone, (after, alone)
        # Every page reads back byte for byte; verify and re-extraction find nothing amiss.
        for capture, _ in pairs:
            assert archive.read_body(bodies.body_hash(capture.body or b"")) == capture.body
        assert archive.verify() == []
        counters = archive.reextract(extract, EXTRACTOR_VERSION)
        assert counters["errors"] == 0 and counters["unchanged"] == 60


def test_a_page_two_documents_share_carries_one_text(db_url: str) -> None:
    """The same bytes served as the first page of two documents are one body: only the
    first document's text follows it; the second is compressed whole."""
    pairs = _replica_pages()[:30]
    capture, _record = pairs[25]
    twin_url = capture.url.rsplit("/", 1)[0] + "/999999"
    twin = replace(_record, id="osce.org/999999", url=twin_url)
    with Archive.open(db_url) as archive:
        for c, r in pairs:
            archive.ingest(c, r)
        fetched = Capture(url=twin_url, status=200, fetched_at=at(50), body=capture.body)
        assert archive.ingest(fetched, twin).outcome == "new_document"
        with archive.session() as s:
            codecs = dict(
                s.execute(
                    select(Version.document_id, Version.codec).where(
                        Version.document_id.in_([_record.id, twin.id])
                    )
                ).all()
            )
        assert codecs == {_record.id: texts.CODEC_PAGE, twin.id: texts.CODEC_ZSTD}
        assert archive.read_body(bodies.body_hash(capture.body or b"")) == capture.body
        assert archive.verify() == []


def test_a_damaged_page_is_found_with_the_text_that_follows_it(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        _fill(archive)
        with archive.session() as s:
            row = s.execute(
                select(Body.sha256, Version.number, Version.document_id)
                .join(CaptureRow, CaptureRow.body_sha256 == Body.sha256)
                .join(Version, Version.id == CaptureRow.version_id)
                .where(Body.codec == bodies.CODEC_OPEN, Version.codec == texts.CODEC_PAGE)
                .limit(1)
            ).one()
            body = s.get(Body, row.sha256)
            assert body is not None
            body.data = bytes(body.data)[: len(body.data) // 2]  # a frame cut short
            s.commit()
        problems = archive.verify()
        assert any(row.sha256 in line for line in problems), problems
        assert any(f"version 1 of {row.document_id}" in line for line in problems), problems


def test_revision_0031_converts_an_archive_with_data_and_back(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        pairs = _fill(archive)
        whole = _whole_packs(archive)
        with archive.session() as s:
            following = set(s.scalars(select(Version.id).where(Version.codec == texts.CODEC_PAGE)))
    with open_archive(db_url) as reader:
        before = list(reader.records(history=True))
    engine = make_engine(db_url)
    try:
        migrations.downgrade(engine, "0030")
        with engine.connect() as conn:
            # What the code before 0031 reads: each pack whole, each page a closed frame.
            codecs = set(conn.exec_driver_sql("SELECT DISTINCT codec FROM versions").scalars())
            assert codecs == {"\x02", "\x03"}  # zstd and delta, as revision 0022 codes them
            rows = conn.exec_driver_sql(
                "SELECT v.id, v.packed, d.data FROM versions v "
                "JOIN compression_dicts d ON d.id = v.dict_id WHERE v.codec = '\x02'"
            ).all()
            for version_id, packed, dictionary in rows:
                assert compression.decompress("zstd", packed, dictionary) == whole[version_id]
            pages = conn.exec_driver_sql(
                "SELECT b.codec, b.data, d.data FROM bodies b "
                "JOIN compression_dicts d ON d.id = b.dict_id"
            ).all()
            assert {codec for codec, _, _ in pages} == {"\x01"}
            restored = {bodies.body_hash(compression.decompress("zstd", b, d)) for _, b, d in pages}
            assert restored == {bodies.body_hash(c.body or b"") for c, _ in pairs}
        with open_archive(db_url) as reader:
            assert list(reader.records(history=True)) == before
        migrations.upgrade(engine)
        migrations.check(engine)
    finally:
        engine.dispose()
    with Archive.open(db_url) as archive:
        # Upgrading converts those first versions again, and the earlier ones, written
        # before the dictionaries existed (trained since, their packs and pages with them).
        with archive.session() as s:
            converted = s.execute(
                select(Version.id, Version.number).where(Version.codec == texts.CODEC_PAGE)
            ).all()
        assert following < {i for i, _ in converted}
        assert {number for _, number in converted} == {1}
        assert len(converted) == 60
        assert _whole_packs(archive) == whole
        assert archive.verify() == []
    with open_archive(db_url) as reader:
        assert list(reader.records(history=True)) == before


def test_a_group_reads_back_the_texts_it_wrote_after_their_pages(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One group (the crawl's batched writer) whose later pages read texts that follow
    pages written earlier in the same group, before the group writes its bodies and
    captures: an edit of a new document (a delta of it), the same article in new markup
    (a page stored against it), and a near-duplicate of it at another address. The group
    is written as one, never page by page."""
    pairs = _replica_pages()
    with Archive.open(db_url) as archive:
        for capture, record in pairs[:40]:
            archive.ingest(capture, record)

        def fell_back(*_args: Any) -> Any:
            raise AssertionError("the group was written page by page")

        monkeypatch.setattr(Archive, "ingest", fell_back)
        (first, first_record), (second, second_record), (third, third_record) = pairs[40:43]
        edited = re.sub(rb"(<p>)([^<]{40,})", rb"\1A correction followed. \2", first.body or b"")
        markup = (second.body or b"").replace(b"</body>", b"<!-- node 7 --></body>")
        twin_body = re.sub(rb"(<p>)([^<]{40,})", rb"\1Reposted. \2", third.body or b"", count=1)
        twin_url = third.url.rsplit("/", 1)[0] + "/999998"
        twin = replace(extract(twin_body, third.url), id="osce.org/999998", url=twin_url)
        group = [
            (first, first_record),
            (Capture(url=first.url, status=200, fetched_at=at(60), body=edited), None),
            (second, second_record),
            (Capture(url=second.url, status=200, fetched_at=at(61), body=markup), second_record),
            (third, third_record),
            (Capture(url=twin_url, status=200, fetched_at=at(62), body=twin_body), twin),
        ]
        group[1] = (group[1][0], extract(edited, first.url))
        results = archive.ingest_many(group)
        assert [getattr(r, "outcome", r) for r in results] == [
            "new_document",
            "new_version",
            "new_document",
            "unchanged",
            "new_document",
            "new_document",
        ]
        assert getattr(results[5], "duplicate_of", None) == third_record.id
        with archive.session() as s:
            codecs = dict(
                s.execute(
                    select(Version.document_id, Version.codec).where(Version.number == 1)
                ).all()
            )
            refetched = s.get(Body, bodies.body_hash(markup))
        assert codecs[first_record.id] == codecs[second_record.id] == texts.CODEC_PAGE
        assert codecs[third_record.id] == texts.CODEC_PAGE
        assert refetched is not None and refetched.codec == bodies.CODEC_REF
        for body in (first.body, edited, second.body, markup, third.body, twin_body):
            assert archive.read_body(bodies.body_hash(body or b"")) == body
        assert archive.verify() == []


def test_a_page_another_writer_stored_meanwhile_fails_the_transaction(db_url: str) -> None:
    """The page-by-page writer found a first page new, its text followed it, and another
    writer stored the same page before this one did: the text would follow bytes never
    stored, so the transaction fails instead of committing it."""
    pairs = _replica_pages()[:30]
    with Archive.open(db_url) as archive:
        for capture, record in pairs[:25]:
            archive.ingest(capture, record)
        body = pairs[25][0].body or b""
        sha = bodies.body_hash(body)
        store = bodies.BodyStore()
        with archive.session() as s:
            page = store.page(s, body, sha)
            assert page is not None
            page.stored = compression.compress_open(page.data, page.dictionary, b"the text")[0]
            other = bodies.BodyStore()
            with archive.session() as meanwhile, meanwhile.begin():
                other.store(meanwhile, body, at(90), sha=sha)
            s.rollback()  # SQLite reads a snapshot; PostgreSQL's each statement sees commits
            with pytest.raises(ArchiveError, match="another writer stored"):
                store.store(s, body, at(90), sha=sha, page=page)


def test_a_pack_with_a_short_head_follows_its_page() -> None:
    """Fields and provenance under zstd's threshold still make a frame the reader opens."""
    page_text = b"<html><body><h1>Title</h1><p>" + b"Some words of the article. " * 40
    dictionary = compression.train([page_text + str(i).encode() * 50 for i in range(200)], 4096)
    pack = texts.pack(
        "Some words of the article. " * 20, {}, {"title": "T", "byline": None, "attachments": []}
    )
    assert texts._text_start(pack) < compression.MIN_COMPRESS
    page = texts.FirstPage("sha256:" + "0" * 64, page_text, 1, dictionary)
    encoded = texts.encode_page(pack, (2, dictionary), page)
    assert page.stored is not None
    assert texts.decode_page(encoded.packed, dictionary, page.stored, dictionary) == pack
