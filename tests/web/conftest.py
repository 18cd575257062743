"""The reading room's fixtures: one archive made by crawling the replica on loopback
through three epochs of change (a full crawl, then two daily runs, each the real
``osce-archive crawl`` in a child process), built once per session on SQLite and once on
PostgreSQL; a beacon server that records every request a hostile stored page might
make; and ``osce-archive serve`` on loopback over that archive."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from replica import ReplicaServer, Site
from replica.generator import Rates
from tests.crawl.conftest import run_crawl
from web.testing import Server, changed_documents, store_hostile_capture

ITEMS = 60
EPOCHS = 2


@dataclass
class Beacon:
    """A loopback HTTP server standing for "anywhere else": it records every request."""

    hits: list[str] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> Beacon:
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def _hit(self) -> None:
                hits.append(f"{self.command} {self.path}")
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"beacon")

            do_GET = do_POST = do_HEAD = _hit

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self


def crawl_archive(
    dbs: list[str], workdir: Path, *, items: int = ITEMS, epochs: int = EPOCHS
) -> list[str]:
    """Crawl a fresh replica (seed 1) into each of ``dbs`` side by side: a first run at
    epoch 0, then one incremental run after each of ``epochs`` epochs of edits,
    deletions, moves and new items. Returns the documents of the first archive with more
    than one version, sorted."""
    from concurrent.futures import ThreadPoolExecutor

    site = Site(items=items, seed=1, epoch=0, rates=Rates(edit=0.12, delete=0.02, markup=0.03))
    server = ReplicaServer(site).start()
    try:
        with ThreadPoolExecutor(len(dbs)) as pool:
            for epoch in range(epochs + 1):
                site.set_epoch(epoch)
                runs = [
                    pool.submit(run_crawl, server.url, db, "--kinds", "all", cwd=workdir)
                    for db in dbs
                ]
                for db, run in zip(dbs, runs, strict=True):
                    done = run.result()
                    assert done.returncode == 0, (db, done.stderr[-3000:])
    finally:
        server.stop()
    return changed_documents(dbs[0])


@dataclass
class WebArchive:
    db: str
    changed: list[str]  # documents with more than one version
    hostile_doc: str
    hostile_capture: int
    beacon: Beacon
    pg_db: str | None = None  # the same crawl into PostgreSQL, when it runs here


@pytest.fixture(scope="session")
def beacon() -> Iterator[Beacon]:
    b = Beacon().start()
    yield b
    assert b.server is not None
    b.server.shutdown()


@pytest.fixture(scope="session")
def web_archive(tmp_path_factory: pytest.TempPathFactory, beacon: Beacon) -> Iterator[WebArchive]:
    """The replica crawled into SQLite and, when the server runs, into a scratch
    PostgreSQL database at the same time (the two crawls run side by side)."""
    import uuid

    from sqlalchemy.engine import make_url

    from tests.fixtures.db import PG_ADMIN_URL, _pg_available, _pg_connect

    folder = tmp_path_factory.mktemp("reading-room")
    db = f"sqlite:///{folder / 'archive.sqlite'}"
    pg_name = None if _pg_available() else f"osce_web_{uuid.uuid4().hex[:10]}"
    pg_db = None
    if pg_name:
        with _pg_connect() as conn:
            conn.execute(f'CREATE DATABASE "{pg_name}"')
        pg_db = make_url(PG_ADMIN_URL).set(database=pg_name).render_as_string(hide_password=False)
    try:
        changed = crawl_archive([db, *([pg_db] if pg_db else [])], folder)
        assert len(changed) >= 3, "the replica's epochs edited too few items for these tests"
        hostile_doc = changed[-1]
        capture = store_hostile_capture(db, hostile_doc, beacon.url)
        yield WebArchive(db, changed, hostile_doc, capture, beacon, pg_db)
    finally:
        if pg_name:
            with _pg_connect() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def server(web_archive: WebArchive) -> Iterator[Server]:
    srv = Server(web_archive.db).start()
    yield srv
    stderr = srv.stop()
    assert "Traceback" not in stderr, stderr[-3000:]


@pytest.fixture(scope="session")
def pg_web_archive(pg_server: str, web_archive: WebArchive) -> str:
    """The same crawl of the same replica, into PostgreSQL."""
    assert web_archive.pg_db, "PostgreSQL answered for pg_server but not for web_archive"
    return web_archive.pg_db


def chromium_path() -> str | None:
    for path in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if os.path.exists(path):
            return path
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """A headless Chromium driven through Debian's chromium-driver (Selenium)."""
    binary, driver_path = chromium_path(), shutil.which("chromedriver")
    if not binary or not driver_path:
        why = "chromium and chromium-driver are not installed (apt-get install both)"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,1000", "--no-first-run", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update"):  # fmt: skip
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def web_root() -> Path:
    return Path(__file__).resolve().parents[2] / "web"
