"""One crawl at a time: a second run is refused at once and changes nothing; a lock
left by a killed run is recognised and taken over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from archive.errors import ArchiveLocked
from archive.records import utcnow
from archive.schema import Lock, Run
from archive.store import Archive
from crawler.cli import main

HOLDER = textwrap.dedent(
    """
    import sys, time
    from archive.store import Archive
    archive = Archive.open(sys.argv[1])
    run_id = archive.start_run({"holder": True})
    print(run_id, flush=True)
    time.sleep(120)
    """
)


@pytest.fixture
def holder(db_url: str) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """Another process that opened a run and holds the lock."""
    Archive.open(db_url).close()  # migrate first, so the child only takes the lock
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, db_url], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip().isdigit(), "the holder process did not start a run"
    yield proc, int(line)
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def _runs(archive: Archive) -> list[tuple[int, str]]:
    with archive.session() as s:
        return [(r.id, r.outcome) for r in s.scalars(select(Run).order_by(Run.id))]


def test_a_second_run_is_refused_and_changes_nothing(
    db_url: str, holder: tuple[subprocess.Popen[str], int]
) -> None:
    _, held_run = holder
    with Archive.open(db_url) as archive:
        before = _runs(archive)
        started = time.monotonic()
        with pytest.raises(ArchiveLocked) as exc:
            archive.start_run({"second": True})
        assert time.monotonic() - started < 5  # at once, not after a timeout
        assert f"run {held_run}" in str(exc.value)
        assert _runs(archive) == before == [(held_run, "running")]
    # Through the command line: exit 75, one line.
    assert main(["reextract", "--db", db_url]) == 75


def test_a_killed_runs_lock_is_taken_over(
    db_url: str, holder: tuple[subprocess.Popen[str], int]
) -> None:
    proc, held_run = holder
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with Archive.open(db_url) as archive:
        deadline = time.monotonic() + 10
        while True:  # PostgreSQL frees the advisory lock once it sees the socket close
            try:
                run_id = archive.start_run({"after": "kill"})
                break
            except ArchiveLocked:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert run_id != held_run
        assert _runs(archive) == [(held_run, "interrupted"), (run_id, "running")]
        with archive.session() as s:
            lock = s.get(Lock, "crawl")
            assert lock is not None and lock.run_id == run_id and lock.pid == os.getpid()
        archive.finish_run(run_id, "ok", {"requests": 0})
        with archive.session() as s:
            assert s.get(Lock, "crawl") is None


def test_finish_releases_the_lock_for_the_next_run(db_url: str) -> None:
    with Archive.open(db_url) as first, Archive.open(db_url) as second:
        run = first.start_run({})
        with pytest.raises(ArchiveLocked):
            second.start_run({})
        first.finish_run(run, "ok", {"requests": 3})
        again = second.start_run({})
        second.finish_run(again, "failed", {})
        assert _runs(first) == [(run, "ok"), (again, "failed")]


def test_a_lock_from_another_host_is_taken_over_only_when_stale(db_url: str) -> None:
    with Archive.open(db_url, stale_after=timedelta(minutes=10)) as archive:
        run = archive.start_run({})
        archive.runs.release_pg_lock()  # the holder's connection is gone (PostgreSQL)
        archive.runs.run_id = None
        with archive.session() as s, s.begin():
            s.execute(update(Lock).values(host="elsewhere.example", pid=1))
        with Archive.open(db_url, stale_after=timedelta(minutes=10)) as other:
            if archive.dialect == "sqlite":
                # Another host: its pid means nothing here; the heartbeat decides.
                with pytest.raises(ArchiveLocked):
                    other.start_run({})
                with archive.session() as s, s.begin():
                    s.execute(update(Lock).values(heartbeat_at=utcnow() - timedelta(hours=1)))
            taken = other.start_run({})
            assert taken != run
            other.finish_run(taken, "ok", {})
        with archive.session() as s:
            assert s.scalar(select(func.count()).select_from(Lock)) == 0
            assert s.get(Run, run).outcome == "interrupted"  # type: ignore[union-attr]


def test_heartbeat_refreshes_the_lock(db_url: str) -> None:
    with Archive.open(db_url) as archive:
        run = archive.start_run({})
        old = utcnow() - timedelta(hours=2)
        with archive.session() as s, s.begin():
            s.execute(update(Lock).values(heartbeat_at=old))
        archive.heartbeat(run)
        with archive.session() as s:
            lock = s.get(Lock, "crawl")
            assert lock is not None and lock.heartbeat_at > old
        archive.finish_run(run, "ok", {})
