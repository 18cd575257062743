"""Runs and the one-crawl-at-a-time lock.

``RunLock.start`` takes a lock held in the database itself. On PostgreSQL that is a
session advisory lock on a connection kept open for the run (the server frees it the
moment the holder's connection dies, on any host), plus a ``locks`` row that says who
holds it. On SQLite it is the ``locks`` row alone, written under ``BEGIN IMMEDIATE``;
a row whose holder is a dead process on this host, or whose heartbeat is older than
``stale_after``, is taken over and its run marked ``interrupted``.

Imports: the schema, ``archive.db`` and ``archive.errors`` only.
"""

from __future__ import annotations

import os
import socket
import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, select, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from archive.db import is_postgres
from archive.errors import ArchiveLocked
from archive.records import utcnow
from archive.schema import Lock, Run

LOCK_NAME = "crawl"
#: pg_try_advisory_lock key of the crawl lock (any constant unique to this project).
PG_LOCK_KEY = 0x05CE_A2C1_0002
#: A lock whose heartbeat is older than this is taken over when its holder's liveness
#: cannot be checked directly (another host). Ingest beats at most once a minute.
DEFAULT_STALE_AFTER = timedelta(minutes=15)
HEARTBEAT_EVERY_S = 60.0
OUTCOMES = ("ok", "failed", "interrupted")


def _pid_alive(pid: int) -> bool:
    """True when ``pid`` is a live (not zombie) process on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return True


class RunLock:
    """The runs of one archive and the lock the current one holds."""

    def __init__(
        self,
        engine: Engine,
        sessions: sessionmaker[Session],
        stale_after: timedelta = DEFAULT_STALE_AFTER,
    ) -> None:
        self.engine = engine
        self.stale_after = stale_after
        self._sessions = sessions
        self._lock_conn: Connection | None = None
        self.run_id: int | None = None
        self._last_beat = 0.0

    def start(self, options: dict[str, Any]) -> int:
        """Take the lock and open a run; :class:`ArchiveLocked` if another holds it."""
        now = utcnow()
        host, pid = socket.gethostname(), os.getpid()
        if is_postgres(self.engine):
            self._take_pg_lock()
        try:
            run_id = self._claim(now, host, pid, options)
        except Exception:
            self.release_pg_lock()
            raise
        self.run_id = run_id
        self._last_beat = time.monotonic()
        return run_id

    def _claim(self, now: datetime, host: str, pid: int, options: dict[str, Any]) -> int:
        with self.engine.connect() as conn:
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")
            with Session(bind=conn) as s, conn.begin():
                held = s.get(Lock, LOCK_NAME)
                if held is not None:
                    if not self._is_stale(held, now):
                        raise ArchiveLocked(
                            f"run {held.run_id} (pid {held.pid} on {held.host}, started "
                            f"{held.acquired_at:%Y-%m-%d %H:%M:%S} UTC) holds the archive"
                        )
                    s.execute(
                        update(Run)
                        .where(Run.id == held.run_id, Run.outcome == "running")
                        .values(outcome="interrupted", finished_at=now)
                    )
                    s.delete(held)
                    s.flush()
                run = Run(
                    started_at=now,
                    heartbeat_at=now,
                    outcome="running",
                    counters={},
                    options=dict(options),
                    host=host,
                    pid=pid,
                )
                s.add(run)
                s.flush()
                s.add(
                    Lock(
                        name=LOCK_NAME,
                        run_id=run.id,
                        host=host,
                        pid=pid,
                        acquired_at=now,
                        heartbeat_at=now,
                    )
                )
                s.flush()
                return run.id

    def _is_stale(self, held: Lock, now: datetime) -> bool:
        if is_postgres(self.engine):
            return True  # we hold the advisory lock, so the row's holder is gone
        if held.host == socket.gethostname():
            return not _pid_alive(held.pid)
        return now - held.heartbeat_at > self.stale_after

    def _take_pg_lock(self) -> None:
        conn = self.engine.connect()
        try:
            got = conn.execute(select(func.pg_try_advisory_lock(PG_LOCK_KEY))).scalar()
            conn.commit()
        except Exception:
            conn.close()
            raise
        if not got:
            conn.close()
            with self._sessions() as s:
                held = s.get(Lock, LOCK_NAME)
            who = f"run {held.run_id} (pid {held.pid} on {held.host})" if held else "another run"
            raise ArchiveLocked(f"{who} holds the archive")
        self._lock_conn = conn

    def release_pg_lock(self) -> None:
        """Let go of the PostgreSQL advisory lock (closing its connection), if held."""
        if self._lock_conn is None:
            return
        try:
            self._lock_conn.execute(select(func.pg_advisory_unlock(PG_LOCK_KEY)))
            self._lock_conn.commit()
        except SQLAlchemyError:
            pass
        finally:
            self._lock_conn.close()
            self._lock_conn = None

    def holds(self) -> bool:
        """Whether the lock this archive took is still ours.

        On PostgreSQL the lock lives as long as the one connection that took it: if the
        server drops that connection (a restart, ``pg_terminate_backend``), another run
        may start, so the crawl must stop rather than keep writing (it asks every few
        seconds). On SQLite the ``locks`` row is the lock; it must still name our run.
        """
        if self.run_id is None:
            return False
        try:
            if self._lock_conn is not None:
                self._lock_conn.execute(text("SELECT 1"))
                self._lock_conn.commit()
                return True
            with self._sessions() as s:
                held = s.get(Lock, LOCK_NAME)
                return held is not None and held.run_id == self.run_id
        except SQLAlchemyError:
            return False

    def heartbeat(self, run_id: int) -> None:
        now = utcnow()
        with self._sessions() as s, s.begin():
            s.execute(update(Run).where(Run.id == run_id).values(heartbeat_at=now))
            s.execute(
                update(Lock)
                .where(Lock.name == LOCK_NAME, Lock.run_id == run_id)
                .values(heartbeat_at=now)
            )
        self._last_beat = time.monotonic()

    def beat_if_due(self, run_id: int | None) -> None:
        if run_id is not None and time.monotonic() - self._last_beat > HEARTBEAT_EVERY_S:
            self.heartbeat(run_id)

    def finish(self, run_id: int, outcome: str, counters: dict[str, Any]) -> None:
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown run outcome {outcome!r}")
        with self._sessions() as s, s.begin():
            s.execute(
                update(Run)
                .where(Run.id == run_id)
                .values(outcome=outcome, finished_at=utcnow(), counters=dict(counters))
            )
            s.execute(delete(Lock).where(Lock.name == LOCK_NAME, Lock.run_id == run_id))
        if run_id == self.run_id:
            self.run_id = None
            self.release_pg_lock()

    def close(self) -> None:
        """A run still open is finished as ``interrupted`` (its lock released)."""
        if self.run_id is not None:
            try:
                self.finish(self.run_id, "interrupted", {})
            except SQLAlchemyError:
                pass
        self.release_pg_lock()
