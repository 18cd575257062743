"""Re-extraction runs the current extraction over stored raw bodies (no fetching) and
writes versions only where the record changes, stamped with the new extractor version."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from archive.records import Capture, ListingEntry, Record
from archive.store import Archive
from crawler.extraction import EXTRACTOR_VERSION
from crawler.sites import extract
from tests.archive.conftest import at
from tests.extraction.pages import Item, render

ITEMS = [
    Item(node=55436, title="OSCE Security Conference considers fresh options"),
    Item(node=55437, title="Forum adopts a decision on small arms", place="BRUSSELS"),
    Item(node=55438, title="Chairperson visits field operations", published="2003-07-02"),
]


def old_extract(body: bytes | str, url: str, listing: ListingEntry | None = None) -> Record:
    """Yesterday's extractor: it let the navigation menu leak into the text of even nodes."""
    record = extract(body, url, listing=listing)
    node = int(record.id.rsplit("/", 1)[-1]) if record.is_item else 0
    if node % 2 == 0:
        record = replace(record, text="Our work\n\nFields of work\n\n" + record.text)
    return replace(record, extractor_version="old-0")


def _crawl(archive: Archive, fn: Any) -> None:
    for i, item in enumerate(ITEMS):
        body = render(item).encode()
        url = f"https://www.osce.org/{item.section}/{item.node}"
        capture = Capture(url=url, status=200, fetched_at=at(i), body=body)
        archive.ingest(capture, fn(body, url))
    page = b"<html><body><h1>Partnerships</h1><p>Skip Links</p></body></html>"
    archive.ingest(
        Capture(url="https://www.osce.org/partnerships", status=200, fetched_at=at(5), body=page),
        extract(page, "x"),
    )


def test_reextract_writes_versions_only_where_the_record_changes(archive: Archive) -> None:
    _crawl(archive, old_extract)
    changed = [f"osce.org/{i.node}" for i in ITEMS if i.node % 2 == 0]
    counters = archive.reextract(extract, EXTRACTOR_VERSION)
    assert counters["new_versions"] == len(changed)
    assert counters["unchanged"] == len(ITEMS) - len(changed)
    assert counters["pages"] == 1 and counters["errors"] == 0
    for item in ITEMS:
        history = archive.history(f"osce.org/{item.node}")
        if f"osce.org/{item.node}" in changed:
            last = history.versions[-1]
            assert [v.number for v in history.versions] == [1, 2]
            assert (last.reason, last.extractor_version) == ("reextracted", EXTRACTOR_VERSION)
            assert set(last.changes) == {"text"}
            assert not last.record["text"].startswith("Our work")
        else:
            assert [v.extractor_version for v in history.versions] == ["old-0"]
    # Run again: the record no longer changes, so nothing is written.
    again = archive.reextract(extract, EXTRACTOR_VERSION)
    assert again["new_versions"] == 0 and again["unchanged"] == len(ITEMS)
    assert archive.verify() == []


def test_reextract_replays_only_the_newest_capture(archive: Archive) -> None:
    item = ITEMS[0]
    url = f"https://www.osce.org/{item.section}/{item.node}"
    old_body = render(item).encode()
    new_item = replace(item, title="OSCE Security Conference closes")
    new_body = render(new_item).encode()
    archive.ingest(
        Capture(url=url, status=200, fetched_at=at(0), body=old_body), extract(old_body, url)
    )
    archive.ingest(
        Capture(url=url, status=200, fetched_at=at(1), body=new_body), extract(new_body, url)
    )
    counters = archive.reextract(extract, EXTRACTOR_VERSION)
    assert counters["captures"] == 1 and counters["new_versions"] == 0
    assert archive.history(url).versions[-1].record["title"] == "OSCE Security Conference closes"


def test_reextract_takes_the_run_lock_and_logs_changes(archive: Archive) -> None:
    _crawl(archive, old_extract)
    before = archive.changes_since(0)
    archive.reextract(extract, EXTRACTOR_VERSION)
    after = archive.changes_since(before[-1].seq)
    assert {c.kind for c in after} == {"reextracted"}
    from archive.schema import Run

    with archive.session() as s:
        run = s.query(Run).order_by(Run.id.desc()).first()
        assert run is not None and run.outcome == "ok"
        assert run.options["extractor_version"] == EXTRACTOR_VERSION
        assert all(c.run_id == run.id for c in after)
