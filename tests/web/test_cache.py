"""The reading room keeps answers in memory only while the archive stands still.

Between two crawls the archive does not move, so the server answers a page, a search or
an API call it has already answered from memory; the first request after a crawl commits
anything (a new version, capture or run) must see the new archive, never the old answer.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from archive.feed import Selection, snapshot
from archive.records import Capture, Record
from archive.store import Archive
from tests.web.conftest import WebArchive
from web.app import create_app
from web.db import readonly_engine

WORD = "zanzibarquux"


def test_answers_are_kept_until_the_archive_moves(web_archive: WebArchive, tmp_path: Path) -> None:
    copy = tmp_path / "copy.sqlite"
    shutil.copy(web_archive.db.removeprefix("sqlite:///"), copy)
    db = f"sqlite:///{copy}"
    engine = readonly_engine(db)
    client = TestClient(create_app(engine))
    doc = web_archive.changed[0]
    room = client.app.state.room  # type: ignore[attr-defined]

    first = client.get(f"/search?q={WORD}")
    assert first.status_code == 200 and "0 results" in first.text
    page = client.get(f"/doc/{doc}")
    api = client.get(f"/api/search?q={WORD}")
    assert api.json()["total"] == 0
    kept = len(room._reads)
    # Asked again while nothing changed: the same bytes, from memory (nothing new kept).
    assert client.get(f"/doc/{doc}").content == page.content
    assert client.get(f"/api/search?q={WORD}").json() == api.json()
    assert len(room._reads) == kept

    # A crawl commits a new version of the document with a new word in it.
    with Archive.open(db) as archive:
        with snapshot(archive.engine) as snap:
            record = next(iter(snap.records(Selection(), only=doc)))
        fields = {k: record[k] for k in Record.__dataclass_fields__ if k in record}
        fields["text"] = record["text"] + f"\n\nA new paragraph about {WORD}."
        run = archive.start_run({"test": "cache"})
        when = datetime.now(timezone.utc)
        capture = Capture(url=str(record["url"]), status=200, fetched_at=when,
                          body=f"<p>{WORD}</p>".encode(), content_type="text/html",
                          run_id=run)  # fmt: skip
        archive.ingest(capture, Record.from_json(fields))
        archive.finish_run(run, "ok", {})

    # The very next requests see it: the search finds the word, the page shows it.
    assert client.get(f"/api/search?q={WORD}").json()["total"] == 1
    after = client.get(f"/doc/{doc}")
    assert after.status_code == 200 and WORD in after.text and after.content != page.content
    engine.dispose()


def test_conditional_feed_requests_are_never_answered_from_memory(
    web_archive: WebArchive,
) -> None:
    engine = readonly_engine(web_archive.db)
    client = TestClient(create_app(engine))
    doc = web_archive.changed[0]
    feed = client.get(f"/doc/{doc}/feed.atom")
    assert feed.status_code == 200 and feed.headers["ETag"]
    again = client.get(f"/doc/{doc}/feed.atom", headers={"If-None-Match": feed.headers["ETag"]})
    assert again.status_code == 304
    engine.dispose()


def test_pages_cut_from_a_kept_window_are_the_pages_search_gives(
    web_archive: WebArchive, monkeypatch: object
) -> None:
    """The server ranks a query once for a window of hits and cuts its next pages from
    it; with windows of 3 then 7 (so pages of 5 straddle windows) every page of every
    order is the page :func:`archive.search.search` gives, with the same total."""
    import pytest

    import web.app
    from archive.search import Filters, search

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setattr(web.app, "SEARCH_FIRST", 3)
    monkeypatch.setattr(web.app, "SEARCH_WINDOW", 7)
    # Windows [0, 3), [3, 10), [10, 17), ...; a page of 5 takes whole ones.
    assert [web.app.search_window(b, b + 5) for b in (0, 5, 10, 15)] == [
        (0, 10), (3, 7), (10, 7), (10, 14)
    ]  # fmt: skip
    engine = readonly_engine(web_archive.db)
    client = TestClient(create_app(engine))
    with engine.connect() as conn:
        for q, extra, filters in (
            ("osce", "", Filters()),
            ("security OR mission", "&versions=all", Filters(all_versions=True)),
            ("", "", Filters()),
        ):
            for sort in ("relevance", "date", "oldest"):
                want_total = search(conn, q, filters, sort=sort, size=5).total
                for page in range(1, want_total // 5 + 3):
                    want = search(conn, q, filters, sort=sort, size=5, page=page)
                    got = client.get(
                        f"/api/search?q={q}{extra}&sort={sort}&size=5&page={page}"
                    ).json()
                    assert got["total"] == want.total == want_total, (q, sort, page)
                    assert got["results"] == [h.to_json() for h in want.hits], (q, sort, page)
    engine.dispose()


def test_requests_missing_the_same_answer_at_once_build_it_once(
    web_archive: WebArchive,
) -> None:
    """Eight requests for the same answer at once (readers paging a common query
    together): one builds it, the others wait for it and read it; when the one building
    fails, the next request builds it instead of failing too."""
    import threading
    import time

    engine = readonly_engine(web_archive.db)
    room = create_app(engine).state.room
    builds = []
    started = threading.Barrier(8)

    def build() -> str:
        builds.append(threading.get_ident())
        time.sleep(0.3)  # long enough for every other request to arrive meanwhile
        return "answer"

    got = []

    def request() -> None:
        started.wait()
        with room.read() as r:
            got.append(room.cached(r, ("test", "same"), build))

    threads = [threading.Thread(target=request) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == ["answer"] * 8
    assert len(builds) == 1, builds

    calls: list[str] = []

    def failing() -> str:
        calls.append("fail")
        time.sleep(0.3)
        raise RuntimeError("the database went away")

    def built() -> str:
        calls.append("built")
        return "built again"

    def second(out: list[str]) -> None:
        with room.read() as r:
            out.append(room.cached(r, ("test", "after a failure"), built))

    # A second request arrives while the first builds: it waits for the first, and when
    # that fails it builds its own answer (a request that did not wait would have built
    # before the first failed).
    answers: list[str] = []
    waiter = threading.Thread(target=second, args=(answers,))
    with room.read() as r:
        threading.Timer(0.05, waiter.start).start()
        with pytest.raises(RuntimeError):
            room.cached(r, ("test", "after a failure"), failing)
    waiter.join(5)
    assert answers == ["built again"] and calls == ["fail", "built"], calls
    engine.dispose()
