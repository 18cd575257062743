"""What the speed and storage work must not change: grouped ingest stores exactly what
one-by-one ingest stores (and a bad page fails alone), the trained body dictionary keeps
every raw body byte for byte, and the sketch filter never hides a near-duplicate."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import func, select, text

from archive import bodies, dedup
from archive.schema import Body, CompressionDict, Version
from archive.store import Archive
from archive.texts import TextReader
from replica import Site
from tests.archive.conftest import BASE, at, capture_for, make_record, page_html

SITE_ITEMS = 60


def _replica_pages(items: int = SITE_ITEMS) -> list[tuple[Any, Any]]:
    """(capture, record) pairs of real replica pages through the real extraction."""
    from archive.records import Capture
    from crawler.sites import extract

    site = Site(items=items, seed=1)
    pairs = []
    for i, path in enumerate(site.item_paths()):
        status, headers, body = site.render(path, host="www.osce.org")
        url = BASE + path
        record = extract(body, url)
        pairs.append(
            (
                Capture(
                    url=url,
                    status=status,
                    fetched_at=at(i / 60),
                    body=body,
                    etag=dict(headers).get("ETag"),
                ),
                record if record.is_item else None,
            )
        )
    return pairs


def _snapshot(archive: Archive) -> tuple[list[Any], ...]:
    with archive.engine.connect() as conn:
        return tuple(
            sorted(
                (
                    tuple(bytes(v) if isinstance(v, memoryview) else v for v in r)
                    for r in conn.execute(text(sql))
                ),
                key=repr,
            )
            for sql in (
                "select id, kind, url, deleted, duplicate_of, current_version from documents",
                "select document_id, number, content_hash, text_hash, url, reason, sketch "
                "from versions",
                "select url, document_id, how, etag from addresses",
                "select id, url, status, document_id, outcome, body_sha256 from captures",
                "select seq, document_id, kind, version from changes",
                "select b.bucket, b.entries from near_dup_buckets b",
            )
        )


def test_grouped_ingest_stores_what_one_by_one_ingest_stores(db_url: str, tmp_path: Any) -> None:
    pairs = _replica_pages()
    one = Archive.open(f"sqlite:///{tmp_path / 'one.sqlite'}")
    grouped = Archive.open(db_url)
    try:
        singles = [one.ingest(c, r) for c, r in pairs]
        groups: list[Any] = []
        for start in range(0, len(pairs), 7):
            groups.extend(grouped.ingest_many(pairs[start : start + 7]))
        assert [(r.outcome, r.document_id, r.version) for r in singles] == [
            (r.outcome, r.document_id, r.version)
            for r in groups  # type: ignore[union-attr]
        ]
        assert _snapshot(one) == _snapshot(grouped)
        assert grouped.verify() == []
    finally:
        one.close()
        grouped.close()


def test_a_bad_page_in_a_group_fails_alone(archive: Archive) -> None:
    good = make_record(1)
    other = make_record(
        2,
        text="A different statement about elections in the region, "
        "with observers from many participating States present.",
    )
    naive = replace(capture_for(other, 1), fetched_at=at(1).replace(tzinfo=None))
    results = archive.ingest_many(
        [(capture_for(good, 0), good), (naive, other), (capture_for(other, 2), other)]
    )
    assert results[0].outcome == "new_document"  # type: ignore[union-attr]
    assert isinstance(results[1], Exception)
    assert results[2].outcome == "new_document"  # type: ignore[union-attr]
    with archive.session() as s:
        assert s.scalar(select(func.count()).select_from(Version)) == 2


def test_bodies_compressed_with_a_trained_dictionary_stay_byte_for_byte(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bodies, "TRAIN_AFTER", 25)
    pairs = _replica_pages()
    with Archive.open(db_url) as archive:
        for capture, record in pairs:
            archive.ingest(capture, record)
        with archive.session() as s:
            dicts = s.scalars(select(CompressionDict)).all()
            assert len(dicts) == 1
            rows = s.scalars(select(Body)).all()
            # every body, the first 25 included (recompressed when the dictionary came)
            assert {b.dict_id for b in rows if b.codec == bodies.CODEC_ZSTD} == {dicts[0].id}
        for capture, _ in pairs:
            assert archive.read_body(bodies.body_hash(capture.body)) == capture.body
        assert archive.verify() == []
        plain = sum(len(bodies.compress(c.body)[1]) for c, _ in pairs)
        with archive.session() as s:
            stored = s.scalar(select(func.sum(func.length(Body.data))))
        assert stored < plain / 2  # the shared markup is stored once, in the dictionary
    # a second open finds the dictionary and keeps using it
    with Archive.open(db_url) as archive:
        extra = make_record(999999)
        archive.ingest(capture_for(extra, 5, body=pairs[0][0].body + b"<!-- x -->"), extra)
        with archive.session() as s:
            assert s.scalar(select(func.count()).select_from(CompressionDict)) == 1
            assert (
                s.scalar(
                    select(func.count())
                    .select_from(Body)
                    .where(Body.dict_id.is_(None), Body.codec == bodies.CODEC_ZSTD)
                )
                == 0
            )


def test_bodies_written_before_the_dictionary_stay_readable(archive: Archive) -> None:
    record = make_record(7)
    capture = capture_for(record, 0, body=page_html(record) * 3)
    archive.ingest(capture, record)
    with archive.session() as s:
        body = s.get(Body, bodies.body_hash(capture.body))
        assert body is not None and body.dict_id is None and body.codec == bodies.CODEC_ZSTD
    assert archive.read_body(bodies.body_hash(capture.body)) == capture.body


def test_sketch_filter_keeps_near_duplicates_and_drops_chance_candidates() -> None:
    truth = Site(items=400, seed=1).ground_truth()
    texts = [r["text"] for r in truth.values()]
    sigs = [dedup.signature(t) for t in texts]
    checked = 0
    for body_text, sig in zip(texts[:60], sigs[:60], strict=True):
        words = body_text.split(" ")
        edited = " ".join(words[:40] + ["revised", "sentence", "here"] + words[48:])
        other = dedup.signature(edited)
        if dedup.similarity(body_text, edited) < dedup.JACCARD_THRESHOLD:
            continue
        assert sig.near_duplicate_of(edited)
        if sig.packed and other.packed:  # a text without a sketch is always read
            assert dedup.agreement(sig.packed, other.packed) >= dedup.SKETCH_FLOOR
            checked += 1
    assert checked > 20
    by_key: dict[int, list[int]] = {}
    chance = []
    for i, sig in enumerate(sigs):
        for j in {j for k in sig.keys for j in by_key.get(k, [])}:
            if sig.packed and sigs[j].packed and not dedup.is_near_duplicate(texts[i], texts[j]):
                chance.append(dedup.agreement(sig.packed, sigs[j].packed))
        for k in sig.keys:
            by_key.setdefault(k, []).append(i)
    assert chance, "no chance candidates: the test says nothing"
    assert max(chance) < dedup.SKETCH_FLOOR
    assert dedup.band_keys(texts[0]) == sigs[0].keys


def test_versions_keep_their_sketch(archive: Archive) -> None:
    long_text = " ".join(f"word{i} common phrase number {i % 7}" for i in range(60))
    record = make_record(11, text=long_text)
    archive.ingest(capture_for(record, 0), record)
    with archive.session() as s:
        (version,) = TextReader(s).load(s.scalars(select(Version)))
        assert version.sketch == dedup.signature(version.text).packed
        assert version.sketch is not None and len(version.sketch) == dedup.BINS // 2
