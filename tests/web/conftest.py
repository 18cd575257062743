"""The reading room's fixtures: one archive of the replica through three epochs of
change, built once per session, a beacon server that records every request a hostile
stored page might make, and ``osce-archive serve`` on loopback over that archive."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from web.testing import Server, build_archive_direct, store_hostile_capture

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


@dataclass
class WebArchive:
    db: str
    changed: list[str]  # documents with more than one version
    hostile_doc: str
    hostile_capture: int
    beacon: Beacon


@pytest.fixture(scope="session")
def beacon() -> Iterator[Beacon]:
    b = Beacon().start()
    yield b
    assert b.server is not None
    b.server.shutdown()


@pytest.fixture(scope="session")
def web_archive(tmp_path_factory: pytest.TempPathFactory, beacon: Beacon) -> WebArchive:
    folder = tmp_path_factory.mktemp("reading-room")
    db = f"sqlite:///{folder / 'archive.sqlite'}"
    changed = build_archive_direct(db, items=ITEMS, epochs=EPOCHS)
    assert len(changed) >= 3, "the replica's epochs edited too few items for these tests"
    hostile_doc = changed[-1]
    capture = store_hostile_capture(db, hostile_doc, beacon.url)
    return WebArchive(db, changed, hostile_doc, capture, beacon)


@pytest.fixture(scope="session")
def server(web_archive: WebArchive) -> Iterator[Server]:
    srv = Server(web_archive.db).start()
    yield srv
    stderr = srv.stop()
    assert "Traceback" not in stderr, stderr[-3000:]


@pytest.fixture(scope="session")
def pg_web_archive(pg_server: str, web_archive: WebArchive) -> Iterator[str]:
    """The same archive built on PostgreSQL (same site, epochs and times)."""
    import uuid

    from sqlalchemy.engine import make_url

    from tests.fixtures.db import _pg_connect

    name = f"osce_web_{uuid.uuid4().hex[:10]}"
    with _pg_connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(pg_server).set(database=name).render_as_string(hide_password=False)
    try:
        build_archive_direct(url, items=ITEMS, epochs=EPOCHS)
        yield url
    finally:
        with _pg_connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
