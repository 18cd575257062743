"""Guarantee 3, the database failing: the run stops with one clear line and exit 1, and
the archive is consistent (``verify`` passes, nothing half-written); the next run
completes it.

- PostgreSQL: every connection of the crawl is terminated mid-run from a superuser
  connection (``pg_terminate_backend``), as a server restart or a failover would. A
  write in flight fails; a connection dropped between writes also drops the run lock
  (an advisory lock lives with its connection), so the run must stop rather than go on
  writing where a second run could now start.
- SQLite on a full disk: the archive lives on a small tmpfs that a filler file fills
  mid-run. Where ``mount`` is not allowed (not root), the equivalent fault is a file
  size limit (``RLIMIT_FSIZE``) on the crawl process, so its writes fail with EFBIG.
"""

from __future__ import annotations

import errno
import os
import resource
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.db import _pg_connect
from tests.reliability.conftest import (
    ENV,
    assert_records_equal_truth,
    crawl_args,
    query,
    runs,
    wanted_truth,
)

SLOWER = ["-s", "DOWNLOAD_DELAY=0.05"]


def assert_one_line_failure(returncode: int, stderr: str, *words: str) -> str:
    """Exit 1; stderr ends in one ``osce-archive:`` line; no traceback, no page dumps."""
    assert returncode == 1, stderr[-3000:]
    assert "Traceback" not in stderr, stderr[-3000:]
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("osce-archive: "), last
    assert any(w in last for w in words), last
    longest = max(len(line) for line in stderr.splitlines())
    assert longest < 1000, f"a log line of {longest} characters (a page dumped into the log?)"
    return last


def assert_consistent(db: str, cli: Any) -> None:
    """``verify`` passes and every row that should come with others has them."""
    verified = cli("verify", "--db", db)
    assert verified.returncode == 0, verified.stderr
    # a document's versions run 1..current_version, and each came from a capture
    assert (
        query(
            db,
            """
        select d.id from documents d left join versions v on v.document_id = d.id
        group by d.id, d.current_version
        having count(v.id) <> d.current_version or max(v.number) <> d.current_version""",
        )
        == []
    )
    assert (
        query(
            db,
            """
        select v.id from versions v where not exists
        (select 1 from captures c where c.version_id = v.id)""",
        )
        == []
    )
    assert (
        query(
            db,
            """
        select c.id from captures c where c.body_sha256 is not null and not exists
        (select 1 from bodies b where b.sha256 = c.body_sha256)""",
        )
        == []
    )


# --------------------------------------------------------------------------- PostgreSQL


def _terminate(dbname: str, which: str) -> int:
    """Terminate the crawl's connections: ``all``, or only the ``lock-holder`` (the one
    holding the advisory run lock, which the server frees with it)."""
    with _pg_connect() as admin:
        if which == "lock-holder":
            rows = admin.execute(
                "select pg_terminate_backend(l.pid) from pg_locks l "
                "join pg_database d on d.oid = l.database "
                "where l.locktype = 'advisory' and l.granted and d.datname = %s",
                (dbname,),
            ).fetchall()
        else:
            rows = admin.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity "
                "where datname = %s and pid <> pg_backend_pid()",
                (dbname,),
            ).fetchall()
    return sum(1 for (done,) in rows if done)


def _pg_documents(dbname: str) -> int:
    try:
        with _pg_connect(dbname) as conn:
            return int(conn.execute("select count(*) from documents").fetchone()[0])
    except Exception:  # noqa: BLE001 - the tables may not exist yet
        return 0


@pytest.mark.postgres
@pytest.mark.parametrize(("which", "after_documents"), [("all", 8), ("lock-holder", 25)])
def test_postgresql_connections_dropped_mid_run(
    serve: Any,
    crawl: Any,
    cli: Any,
    pg_url: str,
    tmp_path: Path,
    which: str,
    after_documents: int,
) -> None:
    from sqlalchemy.engine import make_url

    dbname = str(make_url(pg_url).database)
    server = serve(items=60)
    proc = subprocess.Popen(
        crawl_args(server.url, pg_url, *SLOWER),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    try:
        deadline = time.monotonic() + 120
        while _pg_documents(dbname) < after_documents and time.monotonic() < deadline:
            assert proc.poll() is None, "the crawl ended before its connections were dropped"
            time.sleep(0.02)
        dropped = _terminate(dbname, which)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    last = assert_one_line_failure(
        proc.returncode, err, "archive write failed", "run lock", "cannot record the run"
    )
    assert dropped >= 1
    if which == "lock-holder":
        assert "run lock" in last, last
    print(f"\n{dropped} connections ({which}) dropped after {after_documents} documents: {last}")
    assert_consistent(pg_url, cli)
    ((_, outcome, *_),) = runs(pg_url)
    assert outcome in ("failed", "running")  # "running" if even the end could not be noted

    again = crawl(server.url, pg_url)
    assert again.returncode == 0, again.stderr[-2000:]
    assert_records_equal_truth(pg_url, wanted_truth(server.site, server.url))
    assert [r[1] for r in runs(pg_url)] in (["failed", "ok"], ["interrupted", "ok"])
    assert_consistent(pg_url, cli)


# --------------------------------------------------------------------------- SQLite, disk full


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """(folder, how): a 6 MB tmpfs when this process may mount one, else a plain folder
    and "rlimit" (the crawl then runs under a file size limit instead)."""
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = False
    if os.geteuid() == 0:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(folder)], capture_output=True
        )
        mounted = done.returncode == 0
    try:
        yield folder, ("tmpfs" if mounted else "rlimit")
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(folder)], check=False)


def _fill(folder: Path) -> int:
    """Write a filler file until the filesystem says it is full; bytes written."""
    written = 0
    chunk = b"\0" * 65536
    with open(folder / "filler", "wb", buffering=0) as fh:
        try:
            while True:
                written += fh.write(chunk)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
    return written


def _sqlite_documents(path: Path) -> int:
    import sqlite3

    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.5) as conn:
            return int(conn.execute("select count(*) from documents").fetchone()[0])
    except sqlite3.Error:
        return 0


def test_sqlite_archive_on_a_full_disk(
    serve: Any, crawl: Any, cli: Any, small_disk: tuple[Path, str], tmp_path: Path
) -> None:
    folder, how = small_disk
    db_path = folder / "archive.sqlite"
    db = f"sqlite:///{db_path}"
    server = serve(items=100)
    limit = 700_000

    def under_limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG, not death, past the limit
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = subprocess.Popen(
        crawl_args(server.url, db, *SLOWER),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
        preexec_fn=under_limit if how == "rlimit" else None,
    )
    filled = 0
    try:
        if how == "tmpfs":
            deadline = time.monotonic() + 120
            while _sqlite_documents(db_path) < 15 and time.monotonic() < deadline:
                assert proc.poll() is None, "the crawl ended before the disk filled"
                time.sleep(0.02)
            filled = _fill(folder)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    last = assert_one_line_failure(
        proc.returncode, err, "archive write failed", "cannot record the run", "disk", "full"
    )
    kept = _sqlite_documents(db_path)
    print(f"\ndisk full by {how} ({filled} filler bytes) after {kept} documents: {last}")
    assert 0 < kept < len(wanted_truth(server.site, server.url))

    # Still full: the archive reads back whole.
    verified = cli("verify", "--db", db)
    assert verified.returncode == 0, verified.stderr
    if how == "tmpfs":
        (folder / "filler").unlink()
    assert_consistent(db, cli)
    again = crawl(server.url, db)
    assert again.returncode == 0, again.stderr[-2000:]
    assert_records_equal_truth(db, wanted_truth(server.site, server.url))
    assert runs(db)[-1][1] == "ok"
    assert_consistent(db, cli)
