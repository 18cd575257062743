"""Re-extraction runs the current extraction over stored raw bodies (no fetching) and
writes versions only where the record changes, stamped with the new extractor version."""

from __future__ import annotations

import os
import shutil
import signal
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

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


# --------------------------------------------------------------------------- in parallel

MANY = [
    Item(
        node=56000 + n,
        title=f"Mission {n} reports on the {['border', 'election', 'media', 'water'][n % 4]} talks",
        paragraphs=[
            f"VIENNA, {1 + n % 28} May 2004 - Delegation {n} met the parties in round {n * 7}.",
            f"The talks on item {n} covered {['policing', 'demining', 'trade', 'schools'][n % 4]}"
            f" and {n % 5 + 2} further points of the agenda agreed in session {n * 3}.",
        ],
    )
    for n in range(40)
]
#: An item whose newest capture was read as a page: re-extraction makes it a document.
MISSED = MANY[5]
#: The item whose extraction raises (flaky_extract) or kills its worker (killing_extract).
BAD = MANY[23]


def _node(url: str) -> int:
    tail = url.rstrip("/").rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def flaky_extract(body: bytes | str, url: str, listing: ListingEntry | None = None) -> Record:
    if _node(url) == BAD.node:
        raise ValueError("this page breaks the extraction")
    return extract(body, url, listing=listing)


def killing_extract(body: bytes | str, url: str, listing: ListingEntry | None = None) -> Record:
    """Kills the worker process that reads BAD (in the parent it reads it normally)."""
    import multiprocessing

    if _node(url) == BAD.node and multiprocessing.parent_process() is not None:
        os.kill(os.getpid(), signal.SIGKILL)
    return extract(body, url, listing=listing)


def _crawl_many(archive: Archive) -> None:
    for i, item in enumerate(MANY):
        body = render(item).encode()
        url = f"https://www.osce.org/{item.section}/{item.node}"
        capture = Capture(url=url, status=200, fetched_at=at(i), body=body)
        record = extract(b"<html><body><p>Skip Links</p></body></html>", "x")
        archive.ingest(capture, record if item is MISSED else old_extract(body, url))
    page = b"<html><body><h1>Partnerships</h1><p>Skip Links</p></body></html>"
    archive.ingest(
        Capture(url="https://www.osce.org/partnerships", status=200, fetched_at=at(50), body=page),
        extract(page, "x"),
    )


def _copy(db_url: str, request: pytest.FixtureRequest) -> str:
    """A copy of the (closed) archive at ``db_url``."""
    if db_url.startswith("sqlite"):
        path = Path(db_url.removeprefix("sqlite:///"))
        copy = path.with_name("copy.sqlite")
        shutil.copy(path, copy)
        return f"sqlite:///{copy}"
    from sqlalchemy.engine import make_url

    from tests.fixtures.db import _pg_connect

    url = make_url(db_url)
    name = f"{url.database}_copy"
    with _pg_connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{url.database}"')

    def drop() -> None:
        with _pg_connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    request.addfinalizer(drop)
    return url.set(database=name).render_as_string(hide_password=False)


def _dump(db_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row the archive keeps, but the runs and the lock (times of this run)."""
    from sqlalchemy import select

    from archive.schema import Base

    with Archive.open(db_url) as opened, opened.session() as s:
        return {
            table.name: sorted(tuple(row) for row in s.execute(select(table)))
            for table in Base.metadata.sorted_tables
            if table.name not in ("runs", "locks")
        }


def _two_copies(db_url: str, request: pytest.FixtureRequest) -> tuple[str, str]:
    with Archive.open(db_url) as opened:
        _crawl_many(opened)
    return db_url, _copy(db_url, request)


def _run(db_url: str, fn: Any, workers: int) -> dict[str, int]:
    with Archive.open(db_url) as opened:
        return opened.reextract(fn, EXTRACTOR_VERSION, workers=workers)


def test_parallel_replay_writes_what_the_serial_one_writes(
    db_url: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    from archive import reextract

    monkeypatch.setattr(reextract, "BATCH", 7)  # several batches, chunks across workers
    monkeypatch.setattr(reextract, "CHUNK", 3)
    serial_url, parallel_url = _two_copies(db_url, request)
    serial = _run(serial_url, flaky_extract, workers=1)
    parallel = _run(parallel_url, flaky_extract, workers=2)
    assert serial == parallel
    assert serial["captures"] == len(MANY) + 1 and serial["errors"] == 1
    assert serial["new_documents"] == 1 and serial["pages"] == 1
    assert serial["new_versions"] == len([i for i in MANY if i.node % 2 == 0 and i is not BAD])
    assert _dump(serial_url) == _dump(parallel_url)
    # The page the old extraction missed is a document now, its address linked to it.
    with Archive.open(parallel_url) as opened:
        assert [v.reason for v in opened.history(f"osce.org/{MISSED.node}").versions] == ["created"]
        assert opened.verify() == []


def test_a_worker_killed_mid_run_loses_and_duplicates_nothing(
    db_url: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from archive import reextract

    monkeypatch.setattr(reextract, "BATCH", 7)
    monkeypatch.setattr(reextract, "CHUNK", 3)
    serial_url, parallel_url = _two_copies(db_url, request)
    serial = _run(serial_url, extract, workers=1)
    with caplog.at_level("WARNING", logger="archive.reextract"):
        parallel = _run(parallel_url, killing_extract, workers=2)  # the rest: in-process
    assert "extraction workers died" in caplog.text
    assert parallel == serial and serial["errors"] == 0
    assert _dump(serial_url) == _dump(parallel_url)
    again = _run(parallel_url, extract, workers=2)
    assert again["new_versions"] == again["new_documents"] == 0
    assert again["unchanged"] == len(MANY)


def test_a_replay_that_fails_mid_batch_leaves_nothing_half_written(
    db_url: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that fails (the process dies, the database goes away) in the third batch:
    the two batches before stand, the third rolls back whole, a rerun completes, and
    the archive ends as an uninterrupted run leaves it, nothing written twice."""
    from archive import reextract

    monkeypatch.setattr(reextract, "BATCH", 7)
    monkeypatch.setattr(reextract, "CHUNK", 3)
    serial_url, parallel_url = _two_copies(db_url, request)
    _run(serial_url, extract, workers=1)
    calls = {"n": 0}
    real = reextract.record_version

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 17:
            raise RuntimeError("the database went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(reextract, "record_version", failing)
    with pytest.raises(RuntimeError):
        _run(parallel_url, extract, workers=2)
    monkeypatch.setattr(reextract, "record_version", real)
    with Archive.open(parallel_url) as opened:
        written = {c.document_id for c in opened.changes_since(0) if c.kind == "reextracted"}
    assert written and len(written) < len(MANY) // 2  # the first two batches only
    rerun = _run(parallel_url, extract, workers=2)
    assert rerun["errors"] == 0
    serial_rows, parallel_rows = _dump(serial_url), _dump(parallel_url)
    for table in ("documents", "addresses", "captures", "bodies"):
        assert serial_rows[table] == parallel_rows[table], table
    # Versions and changes differ only in the run that wrote them and the change order.
    from archive.schema import Version

    for url in (serial_url, parallel_url):
        with Archive.open(url) as opened, opened.session() as s:
            versions = sorted(
                (v.document_id, v.number, v.content_hash, v.reason, v.extractor_version)
                for v in s.query(Version)
            )
        if url == serial_url:
            expected = versions
    assert versions == expected
    with Archive.open(parallel_url) as opened:
        assert opened.verify() == []


def test_parallel_replay_needs_a_function_that_pickles(archive: Archive) -> None:
    _crawl(archive, old_extract)
    with pytest.raises(TypeError, match="pickle"):
        archive.reextract(lambda body, url, listing=None: extract(body, url), "x", workers=2)


def test_the_command_takes_workers(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from crawler.cli import main

    with Archive.open(db_url) as opened:
        _crawl(opened, old_extract)
    assert main(["reextract", "--db", db_url, "--workers", "2", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    changed = len([i for i in ITEMS if i.node % 2 == 0])
    assert (got["captures"], got["new_versions"], got["pages"]) == (len(ITEMS) + 1, changed, 1)
    assert main(["reextract", "--db", db_url, "--workers", "0", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["new_versions"] == 0
    with pytest.raises(SystemExit):
        main(["reextract", "--db", db_url, "--workers", "-1"])
