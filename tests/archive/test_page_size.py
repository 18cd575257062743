"""A new SQLite archive is made of 8 KiB pages (``archive.db.SQLITE_PAGE_SIZE``), where
4 KiB pages of compressed bodies left about half a body empty at the end of each; an
archive made before keeps its own page size and works as before, and one rewritten with
the README's commands reads the same with the new size. Either way the write-ahead log
is copied back at the same size in bytes (a disk nearly full fills no sooner)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from archive.api import open_archive
from archive.db import SQLITE_PAGE_SIZE, SQLITE_WAL_CHECKPOINT_BYTES, make_engine
from archive.store import Archive
from tests.archive.conftest import capture_for, make_record


def _page_size(path: Path) -> int:
    con = sqlite3.connect(path)
    try:
        return int(con.execute("PRAGMA page_size").fetchone()[0])
    finally:
        con.close()


def _wal_bytes(url: str) -> int:
    """How many bytes the archive's connections let the log reach before a checkpoint."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            pages = conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one()
            size = conn.exec_driver_sql("PRAGMA page_size").scalar_one()
        return int(pages) * int(size)
    finally:
        engine.dispose()


def _fill(url: str, nodes: range) -> None:
    archive = Archive.open(url)
    try:
        for i, node in enumerate(nodes):
            record = make_record(node)
            archive.ingest(capture_for(record, i), record)
    finally:
        archive.close()


def _texts(url: str) -> list[tuple[str, int, str]]:
    with open_archive(url) as archive:
        return [(r["id"], r["version"], r["text"]) for r in archive.records()]


def test_a_new_archive_takes_the_larger_pages(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    _fill(f"sqlite:///{path}", range(55400, 55405))
    assert SQLITE_PAGE_SIZE == 8192
    assert _page_size(path) == SQLITE_PAGE_SIZE
    assert _wal_bytes(f"sqlite:///{path}") == SQLITE_WAL_CHECKPOINT_BYTES == 4096 * 1000


def test_an_archive_made_with_smaller_pages_keeps_them_and_works(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    con = sqlite3.connect(path)
    con.execute("PRAGMA page_size=4096")
    con.execute("PRAGMA journal_mode=WAL")  # as the archive made it: the header is written
    con.close()
    url = f"sqlite:///{path}"
    _fill(url, range(55400, 55405))
    _fill(url, range(55405, 55410))  # opened again: the archive is not rewritten
    assert _page_size(path) == 4096
    assert _wal_bytes(url) == SQLITE_WAL_CHECKPOINT_BYTES
    before = _texts(url)
    assert len(before) == 10

    # the README's rewrite: out of WAL, the new size, VACUUM, back to WAL
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=DELETE")
    con.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
    con.execute("VACUUM")
    con.execute("PRAGMA journal_mode=WAL")
    con.close()
    assert _page_size(path) == SQLITE_PAGE_SIZE
    assert _texts(url) == before
