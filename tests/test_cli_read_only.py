"""Reading never writes: the read commands on a read-only copy of an archive, and on a
path where no archive is.

Tests run as root in CI, and root ignores file permissions, so a chmod'd folder proves
little: the copy sits behind a read-only bind mount (which root cannot write either) when
``mount`` is allowed, else in a chmod'd folder; either way the file's bytes and mtime must
be unchanged, and on the mount SQLite cannot even make its ``-shm`` file, so only the
``immutable`` opening can read it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from archive.db import open_read_only, sqlite_read_only_uri
from archive.errors import ArchiveError
from archive.store import Archive
from crawler.cli import main
from tests.archive.conftest import capture_for, make_record

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
READ_COMMANDS = [
    ["status"],
    ["status", "--json"],
    ["export"],
    ["history", "osce.org/55436"],
    ["history", "osce.org/55436", "--json"],
    ["verify"],
]


def _fill(url: str) -> None:
    with Archive.open(url) as archive:
        run = archive.start_run({"site": "https://www.osce.org"})
        record = make_record()
        archive.ingest(capture_for(record, 0, run_id=run), record)
        edited = replace(record, title="Edited title")
        archive.ingest(capture_for(edited, 1, run_id=run), edited)
        archive.finish_run(run, "ok", {"requests": 2})


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", *args],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=cwd,
        timeout=120,
    )


def _state(folder: Path) -> dict[str, tuple[str, int]]:
    return {
        p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(folder.iterdir())
    }


@pytest.fixture
def read_only_copy(tmp_path: Path) -> Iterator[tuple[Path, bool]]:
    """(archive file, on a read-only mount?) holding a finished archive."""
    source = tmp_path / "source"
    source.mkdir()
    _fill(f"sqlite:///{source / 'archive.sqlite'}")
    assert sorted(p.name for p in source.iterdir()) == ["archive.sqlite"]  # WAL closed
    target = tmp_path / "mounted"
    target.mkdir()
    bind = subprocess.run(["mount", "--bind", str(source), str(target)], capture_output=True)
    mounted = False
    if bind.returncode == 0:
        ro = subprocess.run(["mount", "-o", "remount,bind,ro", str(target)], capture_output=True)
        mounted = ro.returncode == 0
        if not mounted:
            subprocess.run(["umount", str(target)], check=False)
    if not mounted:
        target.rmdir()
        target = source
        (target / "archive.sqlite").chmod(0o444)
        target.chmod(0o555)
    try:
        yield target / "archive.sqlite", mounted
    finally:
        if mounted:
            if subprocess.run(["umount", str(target)], capture_output=True).returncode:
                subprocess.run(["umount", "-l", str(target)], check=False)  # still busy
        else:
            target.chmod(0o755)


def test_read_commands_work_on_a_read_only_copy(
    read_only_copy: tuple[Path, bool], capsys: pytest.CaptureFixture[str]
) -> None:
    path, mounted = read_only_copy
    if mounted:
        with pytest.raises(OSError):
            (path.parent / "probe").write_text("x")  # root cannot write here either
    before = _state(path.parent)
    outputs = {}
    for args in READ_COMMANDS:
        assert main([*args, "--db", str(path)]) == 0, args
        outputs[" ".join(args)] = capsys.readouterr().out
    proc = _cli("status", "--db", str(path))  # and the command itself, once
    assert proc.returncode == 0 and "documents 1" in proc.stdout, proc.stderr
    assert _state(path.parent) == before  # same files, same bytes, same mtimes
    assert json.loads(outputs["status --json"])["versions"] == 2
    assert json.loads(outputs["export"])["title"] == "Edited title"
    history = json.loads(outputs["history osce.org/55436 --json"])
    assert [v["version"] for v in history["versions"]] == [1, 2]
    assert all(v["first_seen"].endswith("Z") for v in history["versions"])
    runs = json.loads(outputs["status --json"])["runs"]
    assert runs[0]["started_at"].endswith("Z") and runs[0]["finished_at"].endswith("Z")
    if mounted:
        # Only the immutable opening reads a WAL archive whose -shm cannot be made.
        plain = f"file:{path}?mode=ro"
        conn = sqlite3.connect(plain, uri=True)
        try:
            with pytest.raises(sqlite3.OperationalError):
                conn.execute("select count(*) from runs").fetchone()
        finally:
            conn.close()
        assert "immutable=1" in sqlite_read_only_uri(path, immutable=True)


def test_read_only_engine_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "archive.sqlite"
    _fill(f"sqlite:///{path}")
    engine = open_read_only(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA query_only")).scalar() == 1
            with pytest.raises(SQLAlchemyError):
                conn.execute(text("DELETE FROM runs"))
    finally:
        engine.dispose()
    with sqlite3.connect(path) as conn:
        assert conn.execute("select count(*) from runs").fetchone()[0] == 1


@pytest.mark.postgres
def test_postgres_read_only_transactions(pg_url: str) -> None:
    _fill(pg_url)
    engine = open_read_only(pg_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SHOW transaction_read_only")).scalar() == "on"
            with pytest.raises(SQLAlchemyError, match="read-only"):
                conn.execute(text("DELETE FROM runs"))
    finally:
        engine.dispose()
    proc = _cli("status", "--json", "--db", pg_url)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["versions"] == 2


def test_no_archive_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for args in READ_COMMANDS:
        assert main([*args, "--db", "mistyped.sqlite"]) == 1
        out, err = capsys.readouterr()
        assert out == ""
        assert err.strip().splitlines() == [
            f"osce-archive: no archive at {tmp_path / 'mistyped.sqlite'}; crawl first"
        ]
    assert list(tmp_path.iterdir()) == []


def test_an_empty_database_is_no_archive(tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite"
    sqlite3.connect(empty).close()  # a database, but no archive in it
    with pytest.raises(ArchiveError, match="no archive at .*; crawl first"):
        open_read_only(f"sqlite:///{empty}")
    assert empty.stat().st_size == 0
    shutil.rmtree(tmp_path, ignore_errors=True)
