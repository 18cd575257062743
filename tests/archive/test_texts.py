"""Version texts stored compressed (``archive.texts``, revision 0007): whatever goes in
comes out of every reader byte for byte, deltas and the trained dictionary included;
the search index is fed without triggers; revision 0007 converts an archive with data
and back. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select, text

from archive import migrations, texts
from archive.api import open_archive
from archive.db import make_engine
from archive.schema import CompressionDict, Version
from archive.search import Filters, rebuild_index, search
from archive.store import Archive
from archive.versioning import normalise_text
from tests.archive.conftest import BODY_TEXT, capture_for, make_record
from tests.archive.test_fast_ingest import _replica_pages

#: Texts a pack must carry unchanged: accents, scripts, quotes, a NUL, nothing at all.
AWKWARD = [
    "Zürich – «Ελλάδα» — Україна: “quoted” text, 1½ × 2 ≠ 3.\n\nSecond paragraph 🕊.",
    "A NUL \x00 inside, a tab-free line, and \\ backslashes \\n that are not newlines.",
    "",
    BODY_TEXT * 40,
]
WORD_OLD, WORD_NEW = "zebrafishology", "quokkanomics"


def _history(db: str) -> list[dict[str, Any]]:
    with open_archive(db) as reader:
        return list(reader.records(history=True))


def _edits(record: Any, n: int) -> list[Any]:
    """``n`` versions of one document, each changing a few words of a long text."""
    paragraphs = (BODY_TEXT * 6).split("\n\n")
    out = []
    for i in range(n):
        changed = list(paragraphs)
        changed[i % len(changed)] = f"Paragraph rewritten in edit {i}. " + changed[i % len(changed)]
        out.append(replace(record, text="\n\n".join(changed)))
    return out


def test_texts_come_back_byte_for_byte_from_every_reader(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        for i, body in enumerate(AWKWARD):
            record = make_record(1000 + i, text=body, byline="Ann Author, «Office»")
            archive.ingest(capture_for(record, i), record)
        assert archive.verify() == []
        history = archive.history("osce.org/1000")
        assert history.versions[0].record["text"] == normalise_text(AWKWARD[0])
    exported = {r["id"]: r for r in _history(db_url)}
    for i, body in enumerate(AWKWARD):
        assert exported[f"osce.org/{1000 + i}"]["text"] == normalise_text(body)
    with Archive.open(db_url) as archive, archive.session() as s:
        rows = s.scalars(select(Version).order_by(Version.id)).all()
        assert {v.codec for v in rows} <= {texts.CODEC_ZSTD, texts.CODEC_IDENTITY}
        texts.TextReader(s).load(rows)
        # The provenance rides in the same pack and comes back as it went in.
        expected = make_record(1000, text="", byline="Ann Author, «Office»").provenance_json()
        assert expected and all(v.provenance == expected for v in rows)


def test_small_edits_are_stored_as_deltas_of_one_base(db_url: str) -> None:
    record = make_record(2000, text=BODY_TEXT * 6)
    versions = [record, *_edits(record, 6)]
    with Archive.open(db_url) as archive:
        for i, version in enumerate(versions):
            archive.ingest(capture_for(version, i), version)
        with archive.session() as s:
            rows = s.scalars(select(Version).order_by(Version.number)).all()
            assert [v.codec for v in rows][1:] == [texts.CODEC_DELTA] * 6
            base = rows[0]
            assert base.codec == texts.CODEC_ZSTD and base.base_id is None
            assert {v.base_id for v in rows[1:]} == {base.id}  # never a delta of a delta
            assert max(len(v.packed) for v in rows[1:]) < len(base.packed) / 4
        assert archive.verify() == []
    history = [r for r in _history(db_url) if r["id"] == "osce.org/2000"]
    assert [r["text"] for r in history] == [normalise_text(v.text) for v in versions]


def test_a_trained_dictionary_compresses_texts_and_everything_reads_the_same(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pairs = [(c, r) for c, r in _replica_pages() if r is not None]
    with Archive.open(db_url) as archive:
        for capture, record in pairs[:20]:
            archive.ingest(capture, record)
        before = _history(db_url)
    monkeypatch.setattr(texts, "TRAIN_AFTER", 20)
    with Archive.open(db_url) as archive:  # a new store counts the packs without one
        for capture, record in pairs[20:]:
            archive.ingest(capture, record)
        with archive.session() as s:
            dictionaries = s.scalars(select(CompressionDict).where(CompressionDict.kind == "text"))
            (dictionary,) = dictionaries.all()
            plain = s.scalar(
                select(func.count())
                .select_from(Version)
                .where(Version.codec == texts.CODEC_ZSTD, Version.dict_id.is_(None))
            )
            assert plain == 0  # the first 20 were recompressed with it
            with_it = s.scalar(
                select(func.avg(func.length(Version.packed))).where(
                    Version.dict_id == dictionary.id
                )
            )
            without = sum(
                len(texts.encode(texts.pack(r.text, r.provenance_json())).packed) for _, r in pairs
            ) / len(pairs)
            assert with_it < without * 0.7
        assert archive.verify() == []
    after = _history(db_url)
    kept = {(r["id"], r["version"]): (r["text"], r["content_hash"]) for r in after}
    assert all(kept[(r["id"], r["version"])] == (r["text"], r["content_hash"]) for r in before)
    by_id = {r["id"]: r["text"] for r in after}
    for _, record in pairs:
        assert by_id[record.id] == normalise_text(record.text)


def _search_ids(db: str, word: str, *, all_versions: bool) -> set[tuple[str, int]]:
    engine = make_engine(db)
    try:
        with engine.connect() as conn:
            found = search(conn, word, Filters(all_versions=all_versions), size=100)
            return {(h.document_id, h.version) for h in found.hits}
    finally:
        engine.dispose()


def test_search_finds_current_and_old_words_and_rebuilds_from_the_texts(db_url: str) -> None:
    record = make_record(3000, text=f"The {WORD_OLD} report. " + BODY_TEXT)
    newer = replace(record, text=f"The {WORD_NEW} report. " + BODY_TEXT)
    with Archive.open(db_url) as archive:
        archive.ingest(capture_for(record, 0), record)
        archive.ingest(capture_for(newer, 1), newer)
    doc = "osce.org/3000"
    assert _search_ids(db_url, WORD_NEW, all_versions=False) == {(doc, 2)}
    assert _search_ids(db_url, WORD_OLD, all_versions=False) == set()
    assert _search_ids(db_url, WORD_OLD, all_versions=True) == {(doc, 1)}
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            hit = search(conn, WORD_NEW).hits[0]
            assert "\ue000" in hit.snippet
            assert WORD_NEW in hit.snippet
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("DELETE FROM search_vectors"))
            else:
                conn.execute(text("INSERT INTO search_fts(search_fts) VALUES ('delete-all')"))
        assert _search_ids(db_url, WORD_NEW, all_versions=True) == set()
        with engine.begin() as conn:
            assert rebuild_index(conn) == 2
    finally:
        engine.dispose()
    assert _search_ids(db_url, WORD_OLD, all_versions=True) == {(doc, 1)}
    assert _search_ids(db_url, WORD_NEW, all_versions=True) == {(doc, 2)}


def _raw_index_hits(engine: Any, word: str) -> set[int]:
    """Version ids revision 0004's index finds for ``word`` (its own SQL, no search code)."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            sql = "select version_id from search_vectors where tsv @@ to_tsquery('simple', :w)"
        else:
            sql = "select rowid from search_fts where search_fts match :w"
        return set(conn.execute(text(sql), {"w": word}).scalars())


def _version_ids(engine: Any, document_id: str, number: int) -> set[int]:
    with engine.connect() as conn:
        return set(
            conn.execute(
                text("select id from versions where document_id = :d and number = :n"),
                {"d": document_id, "n": number},
            ).scalars()
        )


def _plain_texts(db: str) -> dict[tuple[str, int], str]:
    engine = make_engine(db)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("select document_id, number, text from versions")).all()
            return {(d, n): t for d, n, t in rows}
    finally:
        engine.dispose()


def test_revision_0007_converts_an_archive_with_data_and_back(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(texts, "TRAIN_AFTER", 20)
    pairs = [(c, r) for c, r in _replica_pages() if r is not None][:30]
    record = make_record(4000, text=f"The {WORD_OLD} report. " + BODY_TEXT * 4)
    edits = [replace(record, text=f"The {WORD_NEW} report. " + BODY_TEXT * 4)]
    with Archive.open(db_url) as archive:
        for capture, item in pairs:
            archive.ingest(capture, item)
        for i, item in enumerate([record, *edits]):
            archive.ingest(capture_for(item, 10 + i), item)
    before = _history(db_url)
    engine = make_engine(db_url)
    try:
        migrations.downgrade(engine, "0006")
        assert migrations.current(engine) == "0006"
        # At 0006 the text is a plain column again, and the old index finds it.
        plain = _plain_texts(db_url)
        assert {(r["id"], r["version"]): r["text"] for r in before} == plain
        with engine.connect() as conn:
            assert conn.execute(text("select count(*) from compression_dicts")).scalar() == 0
        assert _raw_index_hits(engine, WORD_OLD) == _version_ids(engine, "osce.org/4000", 1)
        # What an archive written by 0006's code holds: a version added with plain text.
        with engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE versions SET text = :t WHERE document_id = 'osce.org/4000' "
                    "AND number = 2"
                ),
                {"t": f"The {WORD_NEW} report, as 0005 stored it.\n\n" + BODY_TEXT},
            )
        migrations.upgrade(engine)
        migrations.check(engine)
        with engine.connect() as conn:
            kinds = conn.execute(text("select kind from compression_dicts")).scalars().all()
            assert kinds == ["text"]  # trained by the migration (30 + 2 versions >= 20)
            # Made now, whatever form times took at 0007 and took on since (0016, 0035).
            made = conn.execute(select(CompressionDict.created)).scalar_one()
            assert abs(made - datetime.now(timezone.utc)) < timedelta(hours=1)
            codecs = conn.execute(select(Version.codec)).scalars().all()
            assert set(codecs) <= {texts.CODEC_ZSTD, texts.CODEC_DELTA}
    finally:
        engine.dispose()
    after = _history(db_url)
    moved = [r for r in after if (r["id"], r["version"]) == ("osce.org/4000", 2)]
    assert moved[0]["text"].startswith(f"The {WORD_NEW} report, as 0005 stored it.")
    same = [r for r in after if (r["id"], r["version"]) != ("osce.org/4000", 2)]
    assert same == [r for r in before if (r["id"], r["version"]) != ("osce.org/4000", 2)]
    assert _search_ids(db_url, WORD_OLD, all_versions=True) == {("osce.org/4000", 1)}
    assert _search_ids(db_url, WORD_NEW, all_versions=False) == {("osce.org/4000", 2)}
    with Archive.open(db_url) as archive:
        problems = archive.verify()
        # The hand-made edit of version 2 changed its text, not its stored hashes.
        assert problems and all("version 2 of osce.org/4000" in p for p in problems)
        newest = make_record(4001, text=f"After the upgrade, {WORD_NEW} again. " + BODY_TEXT)
        archive.ingest(capture_for(newest, 20), newest)
    assert ("osce.org/4001", 1) in _search_ids(db_url, WORD_NEW, all_versions=False)
