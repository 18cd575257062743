"""Archives and servers for the reading room's tests, benchmark and screenshots.

``build_archive`` crawls a replica of the site with the real crawl command (a child
process, as cron runs it), moves the site on by some epochs of changes and crawls it
again, so the archive has edits, deletions, moves and duplicates; then it stores one
hostile page (script, iframe, meta refresh, CSS beacons pointing at ``beacon``) as a
capture of a real document, through the archive's own ingest. ``Server`` runs
``osce-archive serve`` on a free loopback port in a child process.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parents[1]
LOOPBACK_SETTINGS = [
    "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "DOWNLOAD_DELAY=0",
    "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16",
]  # fmt: skip

HOSTILE_TEMPLATE = """<!doctype html>
<html><head><title>Hostile stored page</title>
<meta http-equiv="refresh" content="0; url={beacon}/meta-refresh">
<link rel="stylesheet" href="{beacon}/link-stylesheet.css">
<link rel="prefetch" href="{beacon}/prefetch">
<style>body {{ background: url("{beacon}/css-background.png"); }}
@import url("{beacon}/css-import.css");
@font-face {{ font-family: x; src: url("{beacon}/font.woff"); }}
h1 {{ font-family: x; }}</style>
<script>document.title = "SCRIPT RAN"; fetch("{beacon}/script-fetch");
new Image().src = "{beacon}/script-image";</script>
<script src="{beacon}/external-script.js"></script>
<base href="{beacon}/base/">
</head><body>
<h1 id="hostile">A stored page that tries everything</h1>
<p id="marker">inert text</p>
<img src="{beacon}/img.png" alt="">
<img src="x" onerror="document.getElementById('marker').textContent='HANDLER RAN'">
<iframe src="{beacon}/iframe"></iframe>
<object data="{beacon}/object"></object>
<embed src="{beacon}/embed">
<video poster="{beacon}/poster.png"></video>
<form action="{beacon}/form" method="post"><input name="a" value="1"></form>
<a id="link" href="{beacon}/link">a link</a>
<svg><image href="{beacon}/svg-image.png"/></svg>
</body></html>
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def crawl(site: str, db: str, *extra: str, cwd: Path) -> None:
    cmd = [sys.executable, "-m", "crawler.cli", "crawl", "--site", site, "--db", db,
           "--json", "--quiet", "--kinds", "all", *LOOPBACK_SETTINGS, *extra]  # fmt: skip
    proc = subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"crawl failed ({proc.returncode}): {proc.stderr[-2000:]}")


def build_archive(
    db: str, *, items: int = 120, seed: int = 3, epochs: int = 2, workdir: Path
) -> list[str]:
    """Crawl a replica of ``items`` items into ``db`` through ``epochs`` epochs of
    change; the ids of the documents that gained a version."""
    from replica import ReplicaServer, Site

    site = Site(items=items, seed=seed, epoch=0)
    server = ReplicaServer(site).start()
    try:
        crawl(server.url, db, "--full", cwd=workdir)
        for epoch in range(1, epochs + 1):
            site.set_epoch(epoch)
            crawl(server.url, db, "--full", cwd=workdir)
    finally:
        server.stop()

    return changed_documents(db)


def store_hostile_capture(db: str, document_id: str, beacon: str) -> int:
    """Store the hostile page as a fresh capture of ``document_id``; its capture id."""
    from sqlalchemy import select, text

    from archive.records import Capture
    from archive.schema import Document
    from archive.store import Archive

    body = HOSTILE_TEMPLATE.format(beacon=beacon.rstrip("/")).encode()
    with Archive.open(db) as archive:
        with archive.engine.connect() as conn:
            url = conn.execute(select(Document.url).where(Document.id == document_id)).scalar_one()
        when = datetime.now(timezone.utc) + timedelta(seconds=1)
        # A capture of the page that is not an item (no record): kept with its body.
        capture = Capture(url=url, status=200, fetched_at=when, body=body,
                          content_type="text/html; charset=utf-8")  # fmt: skip
        archive.ingest(capture, None)
        with archive.engine.begin() as conn:
            capture_id = conn.execute(text("select max(id) from captures")).scalar_one()
            # The page is filed under the document so its page lists it.
            conn.execute(
                text("update captures set document_id = :d where id = :c"),
                {"d": document_id, "c": capture_id},
            )
    return int(capture_id)


@dataclass
class Server:
    """``osce-archive serve`` in a child process on a free loopback port."""

    db: str
    port: int = 0
    proc: subprocess.Popen[str] | None = None
    workers: int = 1

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> Server:
        self.port = self.port or free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "crawler.cli", "serve", "--db", self.db,
             "--port", str(self.port), "--workers", str(self.workers)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                said = self.proc.stderr.read() if self.proc.stderr else ""
                raise RuntimeError(f"serve exited {self.proc.returncode}: {said}")
            try:
                with urlopen(self.url + "/api", timeout=2):
                    return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("serve did not answer in time")

    def stop(self) -> str:
        """Stop the server; what it wrote on stderr."""
        if self.proc is None:
            return ""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        err = self.proc.stderr.read() if self.proc.stderr else ""
        self.proc = None
        return err


def build_archive_direct(
    db: str,
    *,
    items: int = 80,
    seed: int = 1,
    epochs: int = 3,
    start: datetime | None = None,
    edit_rate: float = 0.12,
) -> list[str]:
    """An archive like the tests' crawled one (``tests/web/conftest.py``), for the
    screenshot script, without HTTP or Scrapy: every page of each epoch fetched from the
    replica's router (the answers its server gives, redirects followed), read by the
    crawl's own extraction and ingested, a day apart. Seconds instead of minutes."""
    from urllib.parse import urljoin

    from sqlalchemy import text

    from archive.records import Capture
    from archive.store import Archive
    from crawler.sites import DEFAULT as SITE
    from replica import Site
    from replica.generator import Rates

    base = "http://127.0.0.1:8000"
    when = start or datetime(2026, 6, 1, 6, 0, tzinfo=timezone.utc)
    rates = Rates(edit=edit_rate, delete=0.02, markup=0.03)
    site = Site(items=items, seed=seed, epoch=0, rates=rates)
    seen: set[str] = set()
    with Archive.open(db) as archive:
        for epoch in range(epochs + 1):
            site.set_epoch(epoch)
            moved = [m["old"] for m in site.changes(epoch).get("moved", [])] if epoch else []
            paths = sorted(set(site.item_paths()) | seen | set(moved))
            seen |= set(paths)
            run_id = archive.start_run({"site": base, "epoch": epoch})
            for path in paths:
                url, hops = base + path, []
                for _ in range(5):
                    status, headers, body = site.render(url[len(base) :], host="127.0.0.1:8000")
                    if status in (301, 302, 307, 308) and headers.get("Location"):
                        hops.append(url)
                        url = urljoin(url, headers["Location"])
                        continue
                    break
                capture = Capture(
                    url=base + path, status=status, fetched_at=when,
                    final_url=url if hops else None, redirects=hops,
                    etag=headers.get("ETag"), last_modified=headers.get("Last-Modified"),
                    body=body, content_type=headers.get("Content-Type"), run_id=run_id,
                )  # fmt: skip
                record = SITE.extract(body, capture.answered_url) if status == 200 else None
                archive.ingest(capture, record)
            archive.finish_run(run_id, "ok", {"epoch": epoch, "pages": len(paths)})
            when += timedelta(days=9)
        with archive.engine.connect() as conn:
            rows = conn.execute(
                text("select id from documents where current_version > 1 order by id")
            )
            return [r[0] for r in rows]


def changed_documents(db: str) -> list[str]:
    """The documents of ``db`` with more than one version, sorted."""
    from sqlalchemy import text

    from archive.db import make_engine

    engine = make_engine(db)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("select id from documents where current_version > 1 order by id")
            )
            return [r[0] for r in rows]
    finally:
        engine.dispose()
