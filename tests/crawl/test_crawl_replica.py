"""End-to-end: the real crawl (a subprocess) against the replica over loopback HTTP.

What issue 5 calls done: a full crawl archives every ground-truth item once and right;
an incremental run after the site moves one epoch catches every change at the cost of
the listing pages it needed, the sitemap and the changed items; a run with no change
costs a handful of requests and creates nothing; a crawl killed halfway and run again
ends where an uninterrupted one ends; the run lock, bad addresses and the demo.
"""

from __future__ import annotations

import math
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from archive.records import CONTENT_FIELDS
from replica import Faults, Site
from tests.crawl.conftest import (
    KINDS,
    ROOT,
    archived_records,
    crawl_command,
    documents_and_versions,
    wanted_truth,
)

LISTING_ROWS = 50
MARGIN = 1  # OSCE_FRONTIER_LISTING_MARGIN's default
LISTINGS = ("/press-releases?", "/stories?")


def _item_gets(log: list[Any]) -> list[str]:
    discovery = ("/robots.txt", "/sitemap.xml", "/press-releases", "/stories", "/newsroom")
    return [e.path for e in log if not e.path.startswith(discovery)]


def _runs(db: str) -> list[tuple[int, str]]:
    from sqlalchemy import text

    from archive.db import make_engine

    engine = make_engine(db)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("select id, outcome from runs order by id"))
            return [(int(r[0]), str(r[1])) for r in rows]
    finally:
        engine.dispose()


def _documents(path: Path) -> int:
    """Documents in an SQLite archive another process is writing (0 before it exists)."""
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as conn:
            return int(conn.execute("select count(*) from documents").fetchone()[0])
    except sqlite3.Error:
        return 0


def _address_how(db: str, url: str) -> tuple[str | None, str | None]:
    from sqlalchemy import select

    from archive.db import make_engine
    from archive.schema import Address
    from archive.urls import normalise_address

    engine = make_engine(db)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                select(Address.document_id, Address.how).where(
                    Address.url == normalise_address(url)
                )
            ).first()
    finally:
        engine.dispose()
    return (row[0], row[1]) if row else (None, None)


def _assert_records_equal_truth(db: str, truth: dict[str, dict[str, Any]]) -> dict[str, Any]:
    records = archived_records(db)
    live = {k: r for k, r in records.items() if not r.get("deleted")}
    assert set(live) == set(truth), (
        f"missing {sorted(set(truth) - set(live))[:5]}, extra {sorted(set(live) - set(truth))[:5]}"
    )
    wrong = {k: [f for f in truth[k] if live[k].get(f) != truth[k][f]] for k in truth}
    wrong = {k: v for k, v in wrong.items() if v}
    assert not wrong, f"{len(wrong)} records differ from the truth: {list(wrong.items())[:3]}"
    return records


def test_full_then_epoch_then_noop(serve: Any, crawl: Any, tmp_path: Path) -> None:
    server = serve(items=200)
    site: Site = server.site
    base = server.url
    db = f"sqlite:///{tmp_path / 'archive.sqlite'}"

    # --- a full crawl of epoch 0: every item once, each equal to its ground truth
    first = crawl(base, db, "--full")
    assert first.returncode == 0, first.stderr[-2000:]
    truth0 = wanted_truth(site, base)
    _assert_records_equal_truth(db, truth0)
    summary = first.summary
    assert summary["new_documents"] == len(truth0)
    assert summary["failed"] == 0
    assert summary["requests"] == len(server.log)
    # Where the crawl's CPU went (bench/run.py splits it by stage): the archive thread's
    # ingest and commit are part of that thread's time, which is part of the process's.
    cpu = summary["cpu_s"]
    assert 0 < cpu["ingest"] + cpu["commit"] <= cpu["archive_thread"] <= cpu["process"]
    assert cpu["workers"] >= 0
    item_paths = [p for p in _item_gets(server.log) if not p.startswith("/node/")]
    assert len(item_paths) == len(set(item_paths)), "an item was fetched twice in one run"

    # --- the site moves one epoch; an incremental run catches every change
    site.set_epoch(1)
    changes = site.changes(1)
    truth1 = wanted_truth(site, base)
    server.log.clear()
    second = crawl(base, db)
    assert second.returncode == 0, second.stderr[-2000:]
    records = _assert_records_equal_truth(db, truth1)

    changed = {
        k
        for k in truth1
        if k in truth0 and any(truth0[k][f] != truth1[k][f] for f in CONTENT_FIELDS)
    }
    new = set(truth1) - set(truth0)
    # The site and epoch are chosen so that every kind of change hits a crawled kind.
    assert new and changed
    assert set(changes["deleted"]) & set(truth0)
    assert {m["id"] for m in changes["moved"]} & set(truth1)
    assert set(changes["markup_only"]) & set(truth1)
    assert {r["id"] for r in changes["republished"]} & set(truth1)
    assert {k for k, r in records.items() if r["version"] == 2} == changed
    unchanged = {k for k, r in records.items() if r["version"] == 1 and k in truth1}
    assert unchanged == set(truth1) - changed
    assert second.summary["new_documents"] == len(new)
    assert second.summary["new_versions"] == len(changed)
    for markup_only in changes["markup_only"]:
        if markup_only in records and markup_only not in changed:
            assert records[markup_only]["version"] == 1
    for gone in changes["deleted"]:
        if gone in records:
            assert records[gone]["deleted"] is True
    for move in changes["moved"]:
        if move["id"] in truth1:
            assert records[move["id"]]["url"] == base + move["new"]
            assert _address_how(db, base + move["old"]) in (
                (move["id"], "alias"),
                (move["id"], "redirect"),
            )
    for rep in changes["republished"]:
        if rep["id"] in truth1:
            assert records[rep["id"]]["duplicate_of"] == rep["duplicate_of"]

    # its cost: the listing pages it needed + the sitemap + the changed items + a constant
    log = server.log
    listing_requests = [e for e in log if e.path.startswith(LISTINGS)]
    per_kind_new = {kind: sum(1 for k in new if truth1[k]["kind"] == kind) for kind in KINDS}
    needed_pages = sum(math.ceil(n / LISTING_ROWS) + 1 + MARGIN for n in per_kind_new.values())
    assert len(listing_requests) <= needed_pages
    sitemap = [e for e in log if e.path.startswith("/sitemap.xml")]
    changed_anywhere = (
        len(changes["new"])
        + len(changes["edited"])
        + len(changes["deleted"])
        + len(changes["moved"])
    )
    # An item linked as /node/<n> costs a redirect and a fetch: twice each, at most.
    constant = 3  # robots.txt, the RSS feed, one spare
    budget = needed_pages + len(sitemap) + 2 * changed_anywhere + constant
    assert len(log) <= budget, [e.path for e in log]

    # --- again, with no change: nothing new, and only the discovery documents' first pages
    server.log.clear()
    third = crawl(base, db)
    assert third.returncode == 0, third.stderr[-2000:]
    assert third.summary["new_documents"] == third.summary["new_versions"] == 0
    paths = [e.path for e in server.log]
    n_files = len(site_files := [p for p in paths if p.startswith("/sitemap.xml?")])
    allowed = 1 + 1 + max(n_files, 1) + len(LISTINGS)  # robots, index, files, page 0 each
    assert len(paths) <= allowed, paths
    assert not site_files, "unchanged sitemap files were read again"
    for prefix in LISTINGS:
        pages = [p for p in paths if p.startswith(prefix)]
        assert len(pages) == 1 and "page=0" in pages[0], pages
    assert [r[1] for r in _runs(db)] == ["ok", "ok", "ok"]


def test_sigkill_halfway_then_rerun_equals_uninterrupted(
    serve: Any, crawl: Any, tmp_path: Path
) -> None:
    server = serve(items=100)
    base = server.url
    whole = f"sqlite:///{tmp_path / 'whole.sqlite'}"
    killed = f"sqlite:///{tmp_path / 'killed.sqlite'}"

    assert crawl(base, whole).returncode == 0

    proc = subprocess.Popen(
        crawl_command(base, killed),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        start_new_session=True,
    )
    half = len(wanted_truth(server.site, base)) // 2
    deadline = time.monotonic() + 120
    while _documents(tmp_path / "killed.sqlite") < half and time.monotonic() < deadline:
        assert proc.poll() is None, "the crawl ended before it could be killed"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    partial = archived_records(killed)
    assert 0 < len(partial) < len(wanted_truth(server.site, base))

    again = crawl(base, killed)
    assert again.returncode == 0, again.stderr[-2000:]
    assert documents_and_versions(killed) == documents_and_versions(whole)
    assert [r[1] for r in _runs(killed)] == ["interrupted", "ok"]
    # the extraction workers did not outlive their parent
    time.sleep(1.5)
    orphans = subprocess.run(["pgrep", "-s", str(proc.pid)], capture_output=True, text=True)
    assert orphans.stdout.strip() == "", "extraction workers outlived the killed crawl"


def test_sigterm_stops_cleanly_and_is_recorded_interrupted(
    serve: Any, crawl: Any, tmp_path: Path
) -> None:
    server = serve(items=160)
    base = server.url
    db = f"sqlite:///{tmp_path / 'archive.sqlite'}"
    # Slow enough (about 10 requests/s) that the stop always leaves pages unfetched,
    # however loaded the machine: archiving must not catch up with fetching first.
    proc = subprocess.Popen(
        [*crawl_command(base, db), "-s", "DOWNLOAD_DELAY=0.1"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    deadline = time.monotonic() + 120
    while _documents(tmp_path / "archive.sqlite") < 20 and time.monotonic() < deadline:
        assert proc.poll() is None
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-2000:]
    assert '"outcome": "interrupted"' in out
    assert _runs(db) == [(1, "interrupted")]
    assert 0 < len(archived_records(db)) < len(wanted_truth(server.site, base))

    again = crawl(base, db)
    assert again.returncode == 0
    _assert_records_equal_truth(db, wanted_truth(server.site, base))


def test_faults_retried_until_every_item_is_archived_right(
    serve: Any, crawl: Any, tmp_path: Path
) -> None:
    faults = Faults(
        error_rate=0.1,
        retry_after=1,
        truncate_rate=0.05,
        malformed_rate=0.1,
        wrong_charset_rate=0.1,
        redirect_loop=True,
        offsite_links=True,
    )
    server = serve(items=100, faults=faults)
    db = f"sqlite:///{tmp_path / 'archive.sqlite'}"
    result = crawl(server.url, db)
    assert result.returncode == 0, result.stderr[-2000:]
    _assert_records_equal_truth(db, wanted_truth(server.site, server.url))
    assert result.summary["failed"] == 0
    statuses = {e.status for e in server.log}
    assert {500, 503} & statuses, "the faults did not fire"
    retried = [e for e in server.log if e.status in (500, 503)]
    for failure in retried:
        later = [e for e in server.log if e.path == failure.path and e.time > failure.time]
        assert later, f"{failure.path} was not retried"
        assert later[0].time - failure.time >= 0.15, "Retry-After was not honoured"


def test_second_run_exits_75_while_another_holds_the_archive(
    serve: Any, crawl: Any, db_url: str
) -> None:
    from archive.store import Archive

    server = serve(items=20)
    archive = Archive.open(db_url)
    run_id = archive.start_run({"test": "holder"})
    try:
        started = time.monotonic()
        result = crawl(server.url, db_url)
        assert result.returncode == 75, result.stderr[-2000:]
        assert "holds the archive" in result.stderr.strip().splitlines()[-1]
        assert result.stdout == ""
        assert time.monotonic() - started < 30
        assert [e for e in server.log if e.path != "/robots.txt"] == []
    finally:
        archive.finish_run(run_id, "ok", {})
        archive.close()


def test_small_crawl_on_postgresql(serve: Any, crawl: Any, pg_url: str) -> None:
    server = serve(items=60)
    result = crawl(server.url, pg_url)
    assert result.returncode == 0, result.stderr[-2000:]
    _assert_records_equal_truth(pg_url, wanted_truth(server.site, server.url))
    server.log.clear()
    again = crawl(server.url, pg_url)
    assert again.summary["new_versions"] == again.summary["new_documents"] == 0
    assert len(server.log) <= 5


def test_unreachable_site_and_bad_address_fail_in_one_line(crawl: Any, tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    db = f"sqlite:///{tmp_path / 'archive.sqlite'}"
    result = crawl(f"http://127.0.0.1:{port}", db, "--quiet")
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("osce-archive: cannot reach http://127.0.0.1:"), last
    assert "Traceback" not in result.stderr
    assert _runs(db) == [(1, "failed")]

    bad = crawl("not-a-site", db)
    assert bad.returncode == 1
    assert bad.stderr.strip().count("\n") == 0 and "not a site address" in bad.stderr


def test_max_items_and_scrapy_crawl_entry_point(serve: Any, tmp_path: Path) -> None:
    """``scrapy crawl newsroom`` (scrapy.cfg) works as the command line does."""
    server = serve(items=60)
    db = f"sqlite:///{tmp_path / 'archive.sqlite'}"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "newsroom",
            "-a",
            f"site={server.url}",
            "-a",
            "max_items=7",
            "-s",
            f"OSCE_ARCHIVE_DB={db}",
            "-s",
            "AUTOTHROTTLE_ENABLED=0",
            "-s",
            "DOWNLOAD_DELAY=0",
            "-s",
            "LOG_LEVEL=WARNING",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(archived_records(db)) == 7
    assert len(_item_gets(server.log)) <= 7 + 2  # /node/<n> links cost a redirect


def test_demo_crawls_the_bundled_copy(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    proc = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "demo", "--items", "40", "--db", db],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "PYTHONPATH": str(ROOT), "OSCE_PROGRESS": "off"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "new documents" in proc.stdout
    records = archived_records(db)
    truth = wanted_truth(Site(items=40, seed=1), "")
    assert set(records) == set(truth)
    assert all(records[k]["title"] == truth[k]["title"] for k in truth)


def test_pages_failed_for_good_are_recorded_and_retried_next_run(
    serve: Any, crawl: Any, tmp_path: Path
) -> None:
    server = serve(items=60, faults=Faults(error_rate=0.25, seed=3))
    db = f"sqlite:///{tmp_path / 'archive.sqlite'}"
    first = crawl(server.url, db, "-s", "RETRY_TIMES=0")
    assert first.returncode == 0, first.stderr[-2000:]
    assert first.summary["failed"] > 0
    failed = _failed_captures(db)
    assert len(failed) == first.summary["failed"]
    assert all(status in (500, 503) and error.startswith("HTTP 50") for _, status, error in failed)

    server.faults = Faults()
    server.log.clear()
    second = crawl(server.url, db)
    assert second.returncode == 0, second.stderr[-2000:]
    _assert_records_equal_truth(db, wanted_truth(server.site, server.url))
    fetched = {e.path for e in server.log}
    for url, _, _ in failed:
        path = url.removeprefix(server.url)
        node = path.rstrip("/").rsplit("/", 1)[-1]
        # An alias (/node/<n>) is retried at the item's own address, which the archive or
        # the sitemap gives: no redirect hop.
        own = path.startswith("/node/") and any(p.rstrip("/").endswith("/" + node) for p in fetched)
        assert path in fetched or own, f"{url} was not retried"


def _failed_captures(db: str) -> list[tuple[str, int, str]]:
    from sqlalchemy import select

    from archive.db import make_engine
    from archive.schema import Capture

    engine = make_engine(db)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(Capture.url, Capture.status, Capture.error).where(
                    Capture.outcome == "failed"
                )
            )
            return [(str(r[0]), int(r[1]), str(r[2])) for r in rows]
    finally:
        engine.dispose()
