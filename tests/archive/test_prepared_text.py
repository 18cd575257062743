"""A record's text prepared where the record is made (``archive.normalise.prepare``: the
text normalised and its near-duplicate signature, computed in the crawl's extraction
workers): the archive uses it only for the very text it was prepared from, and an
archive fed prepared records is the archive fed plain ones, near-duplicates included,
on both ingest paths. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from archive import dedup
from archive.api import open_archive
from archive.normalise import PreparedText, normalise_text, prepare, signature_of, text_of
from archive.records import Record
from archive.store import Archive
from crawler.pipelines import run_task
from tests.archive.conftest import capture_for, make_record
from tests.archive.test_dedup import MEETING_A, MEETING_B
from tests.archive.test_fast_ingest import _replica_pages

AWKWARD = "  VIENNA,\u00a027 June\r\n2003 -  the\u200b text.\n\n\n Second\tparagraph. " + MEETING_A


def test_a_prepared_text_is_what_the_archive_would_compute() -> None:
    for source in (AWKWARD, MEETING_B, "Too short.", ""):
        prepared = prepare(source)
        computed = dedup.signature(normalise_text(source))
        assert prepared.text == normalise_text(source)
        sig = prepared.signature()
        assert (sig.n_words, sig.keys, sig.packed) == (
            computed.n_words,
            computed.keys,
            computed.packed,
        )
        assert sig.shingle_set == computed.shingle_set  # made again, from the text
    record = replace(make_record(55436, text=AWKWARD), prepared=prepare(AWKWARD))
    text = text_of(record)
    assert text == normalise_text(AWKWARD)
    assert signature_of(record, text).keys == list(prepare(AWKWARD).keys)


def test_a_record_whose_text_changed_after_preparing_is_computed_again() -> None:
    record = replace(make_record(55436, text=MEETING_A), prepared=prepare(MEETING_A))
    changed = replace(record, text=MEETING_B)  # the stale preparation travels along
    assert changed.prepared is not None and changed.prepared.source != changed.text
    text = text_of(changed)
    sig = signature_of(changed, text)
    assert text == normalise_text(MEETING_B)
    assert sig.keys == dedup.signature(normalise_text(MEETING_B)).keys
    assert sig.keys != list(record.prepared.keys)


def _feed(db_url: str, prepared: bool) -> list[dict[str, Any]]:
    """Replica pages, a near-copy of one and a republished text: one by one and in a
    group, with or without their texts prepared."""
    pairs = _replica_pages(24)
    original = make_record(70001, text=MEETING_A)
    edited = MEETING_A.replace("today adopted", "on Friday adopted").replace("next year", "2004")
    near = make_record(70002, published="2003-07-01", text=edited)
    again = make_record(70003, published="2003-07-02", text=MEETING_A)
    extra = [(capture_for(r, 10 + i), r) for i, r in enumerate((original, near, again))]

    def ready(record: Record | None) -> Record | None:
        if record is None or not prepared:
            return record
        return replace(record, prepared=prepare(record.text))

    with Archive.open(db_url) as archive:
        for capture, record in pairs[:12] + extra[:1]:
            archive.ingest(capture, ready(record))
        results = archive.ingest_many([(c, ready(r)) for c, r in pairs[12:] + extra[1:]])
        assert not any(isinstance(r, Exception) for r in results)
        assert archive.verify() == []
    with open_archive(db_url) as reader:
        return sorted((dict(r) for r in reader.records(history=True)), key=lambda r: json.dumps(r))


def test_an_archive_fed_prepared_records_is_the_same(db_url: str, tmp_path: Any) -> None:
    with_prepared = _feed(db_url, prepared=True)
    plain = _feed(f"sqlite:///{tmp_path / 'plain.sqlite'}", prepared=False)
    assert with_prepared == plain
    duplicates = {r["id"]: r["duplicate_of"] for r in with_prepared}
    assert duplicates["osce.org/70002"] == "osce.org/70001"  # near: its shingles made later
    assert duplicates["osce.org/70003"] == "osce.org/70001"  # exact


def test_the_extraction_workers_task_prepares_an_items_text() -> None:
    capture, record = _replica_pages(3)[0]
    assert record is not None
    got = run_task(("extract", capture.body, capture.url, None, None, None))
    assert isinstance(got.prepared, PreparedText) and got.prepared.source == got.text
    assert got.prepared.text == normalise_text(record.text)
