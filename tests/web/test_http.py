"""The reading room over HTTP: ``osce-archive serve`` on loopback, read as clients do."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from urllib.parse import quote

import feedparser
import httpx
import pytest
from jsonschema import Draft202012Validator
from lxml import etree
from sqlalchemy import text

from archive.api import open_archive
from tests.web.conftest import WebArchive
from web.db import readonly_engine
from web.testing import Server

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def client(server: Server) -> httpx.Client:
    with httpx.Client(base_url=server.url, timeout=60) as c:
        yield c  # type: ignore[misc]


def _db(web_archive: WebArchive, sql: str, **params: object) -> list[tuple]:  # type: ignore[type-arg]
    engine = readonly_engine(web_archive.db)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text(sql), params)]
    engine.dispose()
    return rows


def test_binds_loopback_and_says_so(web_archive: WebArchive) -> None:
    srv = Server(web_archive.db).start()
    err = srv.stop()
    assert f"read-only at http://127.0.0.1:{srv.port}/" in err and "loopback only" in err


def test_several_server_processes_answer_alike(web_archive: WebArchive) -> None:
    """``serve --workers 2``: two processes behind one port, each with its own read-only
    engine, give the same answers as one; Ctrl-C (SIGTERM here) stops them all."""
    one = Server(web_archive.db).start()
    two = Server(web_archive.db, workers=2).start()
    try:
        paths = ["/search?q=osce", f"/api/doc/{web_archive.changed[0]}", "/api/search?q=mission"]
        for path in paths * 3:  # several requests, so both processes answer some
            a, b = httpx.get(one.url + path), httpx.get(two.url + path)
            assert a.status_code == b.status_code == 200, path
            assert a.text == b.text.replace(str(two.port), str(one.port)), path
    finally:
        one.stop()
        err = two.stop()
    assert "2 processes" in err and "Traceback" not in err, err[-2000:]


def test_server_processes_answer_without_waiting_for_acknowledgements() -> None:
    """The socket ``serve --workers N`` shares says it is TCP, so the event loop turns
    Nagle's algorithm off on every connection it accepts (uvicorn's own socket does not,
    and each answer then waited 40 ms for the client's delayed acknowledgement)."""
    import asyncio
    import socket

    from web.serve import TcpConfig

    config = TcpConfig("web.serve:worker_app", host="127.0.0.1", port=0, workers=2)
    listener = config.bind_socket()
    assert listener.proto == socket.IPPROTO_TCP
    listener.listen()

    async def accept_one() -> int:
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def on_connect(_r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            sock = w.get_extra_info("socket")
            accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            w.close()

        server = await asyncio.start_server(on_connect, sock=listener)
        _reader, writer = await asyncio.open_connection(*listener.getsockname()[:2])
        nodelay = await asyncio.wait_for(accepted, 10)
        writer.close()
        server.close()
        return nodelay

    assert asyncio.run(accept_one()) == 1


def test_server_processes_take_connections_one_at_a_time_the_busier_one_later() -> None:
    """Each process of ``serve --workers N`` accepts one connection per wake-up, and one
    that holds ``k`` connections waits ``k`` steps first, so the less busy process of
    two sharing the socket takes a burst's connections in turn (asyncio's own loop took
    every waiting connection at once)."""
    import asyncio
    import socket

    from web.serve import BalancedLoop

    loop = BalancedLoop()
    step = BalancedLoop.ACCEPT_STEP
    accepted: list[float] = []

    class Held(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            accepted.append(loop.time())

    async def burst() -> tuple[list[float], float, int, int]:
        server = await loop.create_server(Held, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        # Five connections queued in the kernel before the loop looks at the socket.
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(5)]
        started = loop.time()
        while len(accepted) < 5:
            await asyncio.sleep(step / 4)
        held = loop.open_connections
        for c in clients:
            c.close()
        for _ in range(200):
            if loop.open_connections == 0:
                break
            await asyncio.sleep(0.005)
        server.close()
        await server.wait_closed()
        return accepted, started, held, loop.open_connections

    try:
        times, started, held, after = loop.run_until_complete(burst())
    finally:
        loop.close()
    assert held == 5 and after == 0
    # The k-th connection (k already held) waited at least k steps: 0+1+2+3+4 in all.
    gaps = [b - a for a, b in zip([started, *times], times, strict=False)]
    assert times[-1] - started >= 10 * step * 0.95, gaps
    for k in range(1, 5):
        assert times[k] - times[k - 1] >= k * step * 0.95, gaps


def test_two_server_processes_share_a_burst_of_connections(web_archive: WebArchive) -> None:
    """Eight clients connecting at once, as the latency benchmark's do, split evenly
    between ``serve --workers 2``'s processes (with asyncio's own loop 4/4 came in 2
    trials of 12, and 6/2 or 7/1 in 3; each count by ``ss``, per process)."""
    import shutil
    import subprocess
    import threading
    from collections import Counter

    if shutil.which("ss") is None:
        pytest.skip("needs ss (iproute2) to count each process's connections")
    server = Server(web_archive.db, workers=2).start()
    splits = []
    statuses: list[int] = []
    try:
        for _ in range(6):
            clients = [httpx.Client(base_url=server.url, timeout=60) for _ in range(8)]
            barrier = threading.Barrier(8)

            def ask(c: httpx.Client, barrier: threading.Barrier) -> None:
                barrier.wait()
                for _ in range(2):
                    statuses.append(c.get("/api/search?q=osce").status_code)

            threads = [threading.Thread(target=ask, args=(c, barrier)) for c in clients]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            listing = subprocess.run(
                ["ss", "-tnpH", "state", "established", "(", "sport", "=", f":{server.port}", ")"],
                capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            held = Counter(re.findall(r"pid=(\d+)", listing))
            if not held:
                pytest.skip("ss shows no process of a connection here (no permission)")
            splits.append(tuple(sorted(held.values(), reverse=True)))
            for c in clients:
                c.close()
    finally:
        server.stop()
    assert statuses == [200] * 96
    assert all(sum(split) == 8 for split in splits), splits
    assert sum(split == (4, 4) for split in splits) >= 4, splits


def test_home_counts_chart_and_last_run(client: httpx.Client, web_archive: WebArchive) -> None:
    page = client.get("/")
    assert page.status_code == 200
    docs = _db(web_archive, "select count(*) from documents where current_version > 0")[0][0]
    versions = _db(web_archive, "select count(*) from versions")[0][0]
    outcome = _db(web_archive, "select outcome from runs order by id desc limit 1")[0][0]
    assert f'id="count-documents">{docs}<' in page.text
    assert f'id="count-versions">{versions}<' in page.text
    assert re.search(rf'id="last-run">#\d+, .*{outcome}', page.text)
    assert page.text.count('<rect x="') > 10 and "<svg" in page.text  # the bars
    assert "<script" not in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]


def test_document_page_fields_timeline_and_permalinks(
    client: httpx.Client, web_archive: WebArchive
) -> None:
    doc = web_archive.changed[0]
    versions = _db(
        web_archive,
        "select number, content_hash, reason, title from versions where document_id = :d "
        "order by number",
        d=doc,
    )
    page = client.get(f"/doc/{doc}")
    assert page.status_code == 200
    timeline = page.text.split('id="timeline"')[1].split("</ol>")[0]
    assert timeline.count("<li") == len(versions) >= 2
    assert "source change" in timeline
    for heading in ("Record", "Text", "Cite this version", "Version timeline",
                    "Addresses and aliases", "Captures"):  # fmt: skip
        assert f">{heading}</h2>" in page.text
    assert "(date from " in page.text
    # Version 1 by number and by content hash: the same page, the same citation.
    number, stored_hash, _, _ = versions[0]
    content_hash = "sha256:" + bytes(stored_hash).hex()  # 32 raw bytes in SQL (revision 0011)
    by_number = client.get(f"/doc/{doc}/v/1")
    by_hash = client.get(f"/doc/{doc}/h/{content_hash}")
    assert by_number.status_code == by_hash.status_code == 200
    cite = re.search(r'<p class="cite" id="cite">(.*?)</p>', by_number.text, re.S)
    assert cite and content_hash in cite.group(1) and "version 1" in cite.group(1)
    assert cite.group(1) == re.search(r'id="cite">(.*?)</p>', by_hash.text, re.S).group(1)
    # A node number leads to the permalink; unknown documents and versions are 404.
    node = doc.split("/")[-1]
    assert client.get(f"/doc/{node}", follow_redirects=False).headers["location"] == f"/doc/{doc}"
    assert client.get(f"/doc/{doc}/v/{len(versions) + 1}").status_code == 404
    assert client.get("/doc/osce.org/0").status_code == 404
    assert client.get(f"/doc/{doc}/h/sha256:{'0' * 64}").status_code == 404


def test_tombstones_and_duplicates_are_shown(client: httpx.Client, web_archive: WebArchive) -> None:
    deleted = _db(web_archive, "select id from documents where deleted limit 1")
    dup = _db(web_archive, "select id, duplicate_of from documents where duplicate_of is not null")
    assert deleted and dup, "the replica's epochs deleted or republished nothing"
    assert "Deleted at the source" in client.get(f"/doc/{deleted[0][0]}").text
    page = client.get(f"/doc/{dup[0][0]}").text
    assert f'href="/doc/{dup[0][1]}"' in page and "Duplicate of" in page
    assert f'href="/doc/{dup[0][0]}"' in client.get(f"/doc/{dup[0][1]}").text


def test_word_diff_in_three_modes_and_json(client: httpx.Client, web_archive: WebArchive) -> None:
    doc = web_archive.changed[0]
    inline = client.get(f"/doc/{doc}/diff?a=1&b=2")
    assert inline.status_code == 200
    assert "<ins>" in inline.text or "<del>" in inline.text
    summary = re.search(r'id="diff-summary"[^>]*><strong>(.*?)</strong>', inline.text).group(1)
    api = client.get(f"/api/doc/{doc}/diff?a=1&b=2").json()
    assert api["summary"] == summary and api["a"] == 1 and api["b"] == 2
    # The word segments rebuild both texts exactly.
    with open_archive(web_archive.db) as reader:
        texts = {r["version"]: r["text"] for r in reader.history(doc)}
    for block in api["text"]:
        if block["op"] == "replace":
            old = "".join(p for op, p in block["words"] if op != "insert")
            new = "".join(p for op, p in block["words"] if op != "delete")
            assert old == "\n\n".join(block["old"]) and old in texts[1]
            assert new == "\n\n".join(block["new"]) and new in texts[2]
    side = client.get(f"/doc/{doc}/diff?a=1&b=2&mode=side")
    assert '<table class="side"' in side.text or "The text did not change" in side.text
    changes = client.get(f"/doc/{doc}/diff?a=1&b=2&mode=changes")
    assert changes.status_code == 200
    assert len(changes.text) <= len(inline.text)
    assert client.get(f"/api/diff?id={doc}&a=2&b=1").json()["a"] == 2
    assert client.get(f"/doc/{doc}/diff?a=1&b=99").status_code == 404
    assert client.get(f"/doc/{doc}/diff?mode=weird").status_code == 400


def test_json_api_records_match_the_export_schema(
    client: httpx.Client, web_archive: WebArchive
) -> None:
    schema = json.loads((ROOT / "archive" / "record.schema.json").read_text())
    validator = Draft202012Validator(schema)
    doc = web_archive.changed[0]
    record = client.get(f"/api/doc/{doc}").json()
    validator.validate(record)
    assert record["id"] == doc and record["version"] >= 2
    versions = client.get(f"/api/doc/{doc}/versions").json()["versions"]
    assert [v["version"] for v in versions] == list(range(1, record["version"] + 1))
    for v in versions:
        validator.validate(v["record"])
        assert v["reason"] in ("source", "extraction")
    found = client.get("/api/search", params={"q": "osce", "size": 5}).json()
    assert found["total"] > 5 and len(found["results"]) == 5
    assert client.get("/api/search", params={"size": 1000}).status_code == 400
    assert client.get("/api/doc/osce.org/0").status_code == 404
    assert client.get("/api/search", params={"q": '"'}).json()["error"].startswith("cannot search")


def test_atom_feeds_are_valid_and_conditional(
    client: httpx.Client, web_archive: WebArchive
) -> None:
    schema = etree.RelaxNG(etree.parse(str(ROOT / "web" / "atom.rng")))
    # The schema must be able to fail: a feed without its id is refused.
    broken = etree.fromstring(client.get("/feed.atom").content)
    broken.remove(broken.find("{http://www.w3.org/2005/Atom}id"))
    assert not schema.validate(broken)
    doc = web_archive.changed[0]
    for path in ("/feed.atom", f"/doc/{doc}/feed.atom", "/search.atom?q=osce"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["content-type"].startswith("application/atom+xml")
        tree = etree.fromstring(answer.content)
        assert schema.validate(tree), (path, schema.error_log.last_error)
        parsed = feedparser.parse(answer.content)
        assert not parsed.bozo, (path, parsed.get("bozo_exception"))
        assert parsed.entries, path
        etag = answer.headers["etag"]
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    entries = feedparser.parse(client.get(f"/doc/{doc}/feed.atom").content).entries
    assert "changed" in entries[0].summary
    assert "<ins>" in entries[0].content[0].value or "<del>" in entries[0].content[0].value
    assert entries[0].link.endswith(f"/doc/{doc}/v/{len(entries)}")


HOSTILE = [
    "' OR 1=1 --",
    "'; DROP TABLE versions; --",
    '" OR ""="',
    "Robert'); DROP TABLE documents;--",
    "x" * 100_00,
    "a " * 400,
    "\x00\x01\x02\x1b[31m",
    "\u202e\ufeff\ud7ff",
    '"unbalanced',
    "NEAR(",
    "NEAR(a b, 3)",
    "*",
    "**",
    "a AND OR NOT",
    "title:secret",
    "^x",
    "{x}",
    "<script>alert(1)</script>",
    "%00",
    "../../etc/passwd",
]
HOSTILE_PATHS = [
    "/doc/../../etc/passwd",
    "/doc/%2e%2e/%2e%2e/etc/passwd",
    "/doc/..%2f..%2fetc%2fpasswd",
    "/doc/osce.org/1/v/-1",
    "/doc/osce.org/1/v/99999999999999999999",
    "/doc/osce.org/1/captures/../../raw",
    "/doc/" + "a/" * 500,
    "/doc/%00",
    "/doc/'%20OR%201=1",
    "/api/doc/%2e%2e%2f",
    "/static/../app.py",
    "/static/%2e%2e/app.py",
    "/search?page=-1",
    "/search?page=abc",
    "/search?size=1000000",
    "/search?from=2020-02-30",
    "/search?since=yesterday",
    "/search?sort=random()",
    "/search?kind=%00",
    "/search?q=osce&source=" + "x" * 5000,
    "/search.atom?q=%22",
    "/api/diff?id=osce.org/1&a=x",
    "/api/diff",
]


@pytest.mark.parametrize("q", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_queries_get_an_answer_not_a_traceback(client: httpx.Client, q: str) -> None:
    for path in ("/search", "/api/search", "/search.atom"):
        answer = client.get(path, params={"q": q})
        assert answer.status_code in (200, 400), (path, q[:40], answer.status_code)
        assert "Traceback" not in answer.text
        if path == "/search":
            assert "<script>alert" not in answer.text  # escaped wherever it is shown


@pytest.mark.parametrize("path", HOSTILE_PATHS, ids=range(len(HOSTILE_PATHS)))
def test_hostile_paths_are_400_or_404(client: httpx.Client, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code in (400, 404), (path, answer.status_code)
    assert "Traceback" not in answer.text and "def " not in answer.text


def test_archive_unchanged_by_all_routes(client: httpx.Client, web_archive: WebArchive) -> None:
    path = Path(web_archive.db.removeprefix("sqlite:///"))
    before = path.read_bytes()
    doc = web_archive.changed[1]
    for url in ("/", "/search?q=osce", f"/doc/{doc}", f"/doc/{doc}/diff", "/feed.atom",
                f"/doc/{quote(doc)}/feed.atom", f"/api/doc/{doc}/versions"):  # fmt: skip
        assert client.get(url).status_code == 200
    assert client.post("/search", data={"q": "x"}).status_code == 405
    assert path.read_bytes() == before


def test_every_answer_says_how_long_the_server_spent(client: httpx.Client) -> None:
    """``Server-Timing`` on each answer, fresh or from memory, page or API, is the server's
    own time: never more than the client waited in all."""
    for path in ("/", "/search?q=osce", "/search?q=osce", "/api/search?q=mission", "/nope"):
        started = time.perf_counter()
        answer = client.get(path)
        waited = (time.perf_counter() - started) * 1000
        name, _, duration = answer.headers["server-timing"].partition(";dur=")
        assert name == "app", answer.headers["server-timing"]
        assert 0 <= float(duration) <= waited, (path, duration, waited)
