"""``crawl --cluster``: three processes, one crawl of the replica, one PostgreSQL archive.

Each test starts three ``osce-archive crawl --cluster`` processes at once against a Redis
of its own and checks what the archive holds afterwards: every wanted item of the replica
exactly once (one document, one version), one run record, and, for the first test, the
same export as one process crawling the same replica alone. The others kill a worker
(SIGKILL) or the Redis server mid-crawl.
"""

from __future__ import annotations

import os
import pickle
import signal
import time
from typing import Any

import pytest

from replica import Faults
from tests.crawl.conftest import run_crawl, wanted_truth

pytestmark = pytest.mark.postgres

ITEMS = 200
#: Every answer of the replica 0.1 s late: the crawl lasts long enough to be hit mid-way.
SLOW = Faults(slow_rate=1.0, slow_seconds=0.1)
#: The single-process crawl reads with the model a cluster crawl reads with.
SAME_MODEL = ["-s", "OSCE_FURNITURE_WARMUP=0", "-s", "OSCE_EXTRACT_WORKERS=0"]
TIMES = ("version_seen", "first_seen", "last_seen")


def rows(db: str, sql: str) -> list[tuple[Any, ...]]:
    from sqlalchemy import text

    from archive.db import make_engine

    engine = make_engine(db)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql)).all()]
    finally:
        engine.dispose()


def count(db: str, sql: str) -> int:
    return int(rows(db, sql)[0][0])


def archived(db: str) -> int:
    """Documents archived so far (0 while the first process is still creating the tables)."""
    from sqlalchemy.exc import ProgrammingError

    try:
        return count(db, "select count(*) from documents")
    except ProgrammingError:
        return 0


def export(db: str) -> dict[str, dict[str, Any]]:
    """The archive's records, without the times of fetching."""
    from archive.api import open_archive

    with open_archive(db) as reader:
        return {r["id"]: {k: v for k, v in r.items() if k not in TIMES} for r in reader.records()}


def assert_every_item_once(db: str, truth: dict[str, Any]) -> None:
    """One document per wanted item, each with exactly one version, in one ok run."""
    ids = {r[0] for r in rows(db, "select id from documents")}
    assert ids == set(truth)
    versions = rows(db, "select document_id, count(*) from versions group by document_id")
    assert {d: n for d, n in versions if n != 1} == {}
    assert len(versions) == len(truth)
    runs = rows(db, "select id, outcome from runs")
    assert runs == [(1, "ok")], runs
    assert count(db, "select count(*) from locks") == 0


def coordinator_of(workers: list[Any]) -> Any:
    roles = [w.summary["role"] for w in workers]
    assert sorted(roles) == ["coordinator", "worker", "worker"], roles
    return workers[roles.index("coordinator")]


def wait_for(condition: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_three_workers_archive_what_one_process_archives(
    replica_factory: Any, redis_server: Any, start_workers: Any, pg_url: str, second_pg_url: str
) -> None:
    server = replica_factory(items=ITEMS)
    truth = wanted_truth(server.site, server.url)
    workers = start_workers(3, server.url, pg_url, redis_server.url)
    for worker in workers:
        assert worker.finish().returncode == 0, worker.stderr[-2000:]
    coordinator = coordinator_of(workers)
    summary = coordinator.summary
    assert summary["outcome"] == "ok"
    assert summary["new_documents"] == len(truth)
    assert summary["failed"] == 0
    # The work was shared: each of the other two archived items of its own.
    assert all(w.summary["items"] > 0 for w in workers if w is not coordinator)
    assert_every_item_once(pg_url, truth)
    # No page fetched twice: each address captured once.
    assert rows(pg_url, "select url from captures group by url having count(*) > 1") == []
    # The run record is the run's: the coordinator's counters summed over the processes.
    counters = rows(pg_url, "select counters from runs")[0][0]
    assert counters["new_documents"] == len(truth)
    assert counters["items"] == len(truth)
    assert counters["items"] > sum(w.summary["items"] for w in workers if w is not coordinator)

    alone = run_crawl(server.url, second_pg_url, *SAME_MODEL, cwd=coordinator.out.parent)
    assert alone.returncode == 0, alone.stderr[-2000:]
    assert export(pg_url) == export(second_pg_url)
    # Redis keeps nothing of a finished run but its record.
    client = redis_server.client()
    assert client.zcard("osce-archive:newsroom:requests") == 0
    assert client.hlen("osce-archive:newsroom:inflight") == 0
    assert client.hget("osce-archive:newsroom:run", "state") == b"closed"


def test_a_killed_workers_pages_are_finished_by_the_others_and_a_stopped_one_leaves(
    replica_factory: Any, redis_server: Any, start_workers: Any, pg_url: str
) -> None:
    server = replica_factory(items=ITEMS, faults=SLOW)
    truth = wanted_truth(server.site, server.url)
    workers = start_workers(3, server.url, pg_url, redis_server.url)
    client = redis_server.client()
    coordinator_pid = int(
        wait_for(lambda: client.get("osce-archive:newsroom:coordinator"), 60, "a coordinator")
        .decode()
        .split(":")[1]
    )
    coordinator = next(w for w in workers if w.proc.pid == coordinator_pid)
    victims = [w for w in workers if w.proc.pid != coordinator_pid]

    def victim_busy() -> Any:
        if archived(pg_url) < 20:
            return None
        held = client.hgetall("osce-archive:newsroom:inflight")
        for worker in victims:
            mine = [f for f in held if f.decode().split(":")[1] == str(worker.proc.pid)]
            if mine:
                return worker
        return None

    victim = wait_for(victim_busy, 120, "a worker with pages in flight, mid-crawl")
    victim.kill()
    # What it held when it died (it may have taken one more page since the look above).
    held = client.hgetall("osce-archive:newsroom:inflight")
    lost = {
        pickle.loads(entry.partition(b"|")[2])["url"]
        for f, entry in held.items()
        if f.decode().split(":")[1] == str(victim.proc.pid)
    }
    assert lost, "the killed worker held no page in flight"
    # Once the others have taken its pages back, the last worker is stopped gracefully
    # (SIGTERM, as systemctl stop): it archives what it fetched and leaves.
    stopped = next(w for w in victims if w is not victim)
    wait_for(lambda: "re-queued" in coordinator.stderr + stopped.stderr, 60, "the pages re-queued")
    os.killpg(stopped.proc.pid, signal.SIGTERM)
    assert stopped.finish().returncode == 130, stopped.stderr[-2000:]
    assert stopped.summary["outcome"] == "interrupted"
    assert coordinator.finish().returncode == 0, coordinator.stderr[-2000:]
    assert coordinator.summary["outcome"] == "ok"
    # One process did the rest: every item once, the dead worker's pages among them.
    assert_every_item_once(pg_url, truth)
    captured = {r[0] for r in rows(pg_url, "select url from captures")}
    assert lost <= captured
    assert client.hlen("osce-archive:newsroom:inflight") == 0


def test_redis_restarted_mid_crawl_loses_nothing(
    replica_factory: Any, redis_server: Any, start_workers: Any, pg_url: str
) -> None:
    server = replica_factory(items=ITEMS, faults=SLOW)
    truth = wanted_truth(server.site, server.url)
    workers = start_workers(3, server.url, pg_url, redis_server.url)
    client = redis_server.client()
    wait_for(
        lambda: archived(pg_url) >= 30 and client.hlen("osce-archive:newsroom:inflight") > 0,
        120,
        "the crawl under way",
    )
    before = archived(pg_url)
    redis_server.kill()
    time.sleep(2.0)
    redis_server.start()
    # What the server acknowledged before the crash is back (appendfsync always).
    assert redis_server.client().hget("osce-archive:newsroom:run", "state") == b"running"
    for worker in workers:
        assert worker.finish().returncode == 0, worker.stderr[-2000:]
    coordinator_of(workers)
    assert_every_item_once(pg_url, truth)
    assert before < len(truth)  # the outage was mid-crawl


def test_redis_gone_for_good_stops_every_process_with_one_line(
    replica_factory: Any, redis_server: Any, start_workers: Any, pg_url: str
) -> None:
    """Past ``OSCE_CLUSTER_OUTAGE`` seconds without Redis, each process stops (exit 1)
    rather than wait for ever; the run is recorded failed, what was archived stays."""
    server = replica_factory(items=ITEMS, faults=SLOW)
    workers = start_workers(3, server.url, pg_url, redis_server.url, "-s", "OSCE_CLUSTER_OUTAGE=3")
    wait_for(lambda: archived(pg_url) >= 20, 120, "the crawl under way")
    redis_server.kill()
    started = time.monotonic()
    for worker in workers:
        assert worker.finish(timeout=120).returncode == 1, worker.stderr[-2000:]
        last = worker.stderr.strip().splitlines()[-1]
        assert last.startswith("osce-archive: lost Redis at redis://127.0.0.1:"), last
    assert time.monotonic() - started < 90
    assert rows(pg_url, "select outcome from runs") == [("failed",)]
    assert count(pg_url, "select count(*) from locks") == 0
    assert archived(pg_url) >= 20
