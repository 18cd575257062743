"""`export --format warc`: the archive's raw captures as WARC, read back with warcio and
compared with the captures the archive itself holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator

from archive.db import make_engine
from archive.export import REVISIT_IDENTICAL, REVISIT_NOT_MODIFIED, iso_time
from archive.feed import read_body
from archive.records import Capture
from archive.schema import Capture as CaptureRow
from archive.store import Archive
from crawler.cli import main
from tests.export.builders import at, feed, gone, make_record, not_modified, ok, paragraphs, url_of


def build(url: str) -> dict[str, Any]:
    """Captures of every kind: new body, same body again, 304, new bytes, 404, redirect,
    a failed fetch. Returns what was sent, to compare with what comes back."""
    one = make_record(1, "Release 1", paragraphs(1))
    two = make_record(2, "Release 2", paragraphs(2))
    three = make_record(3, "Story 3", paragraphs(3), kind="story", section="stories")
    fetches = [
        ok(one, at(0)),
        ok(two, at(0.5)),
        ok(one, at(1)),  # identical bytes: a revisit
        gone(url_of(2), at(1.5)),
        not_modified(url_of(1), at(2)),  # a 304: a revisit of the first response
        ok(one, at(3), salt="token-2"),  # new bytes, same content: a response again
        ok(three, at(3.5), url=f"{url_of(3).rsplit('/', 2)[0]}/node/3"),
    ]
    fetches[-1].capture.final_url = three.url
    failed = Capture(url=url_of(9), status=0, fetched_at=at(4), error="timed out")
    archive = Archive.open(url)
    try:
        feed(archive, *fetches)
        archive.ingest(failed, None)
    finally:
        archive.close()
    return {"fetches": fetches}


def read_warc(path: Path) -> list[dict[str, Any]]:
    out = []
    with open(path, "rb") as handle:
        for record in ArchiveIterator(handle, check_digests=True):
            payload = record.content_stream().read()
            assert record.digest_checker.passed is not False, record.digest_checker.problems
            headers = record.rec_headers
            out.append(
                {
                    "type": record.rec_type,
                    "uri": headers.get_header("WARC-Target-URI"),
                    "date": headers.get_header("WARC-Date"),
                    "profile": headers.get_header("WARC-Profile"),
                    "digest": headers.get_header("WARC-Payload-Digest"),
                    "refers_uri": headers.get_header("WARC-Refers-To-Target-URI"),
                    "refers_date": headers.get_header("WARC-Refers-To-Date"),
                    "refers_id": headers.get_header("WARC-Refers-To"),
                    "id": headers.get_header("WARC-Record-ID"),
                    "status": record.http_headers.get_statuscode() if record.http_headers else None,
                    "etag": record.http_headers.get_header("ETag") if record.http_headers else None,
                    "payload": payload,
                }
            )
    return out


def test_warc_round_trip_against_the_archives_captures(db_url: str, tmp_path: Path) -> None:
    sent = build(db_url)["fetches"]
    out = tmp_path / "captures.warc.gz"
    assert main(["export", "--db", db_url, "--format", "warc", "--output", str(out)]) == 0
    records = read_warc(out)
    assert records[0]["type"] == "warcinfo"
    body = records[1:]

    # One WARC record per stored answer, in fetch order; the failed fetch has none.
    engine = make_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(select(CaptureRow).order_by(CaptureRow.fetched_at)).all()
        stored = {
            row.body_sha256: read_body(conn, row.body_sha256) for row in rows if row.body_sha256
        }
    engine.dispose()
    answered = [row for row in rows if row.status != 0]
    assert len(rows) == len(answered) + 1
    # The redirected fetch (these captures predate stored headers) is its 301, rebuilt
    # from the hops the archive kept, then the answer, both at the fetch's time.
    redirect, body = body[-2], body[:-2] + body[-1:]
    assert (redirect["type"], redirect["status"]) == ("response", "301")
    assert redirect["uri"] == f"{url_of(3).rsplit('/', 2)[0]}/node/3"
    assert redirect["date"] == iso_time(at(3.5)) and redirect["payload"] == b""
    assert [r["date"] for r in body] == [iso_time(row.fetched_at) for row in answered]
    assert [r["uri"] for r in body] == [row.final_url or row.url for row in answered]

    kinds = [(r["type"], r["status"]) for r in body]
    assert kinds == [
        ("response", "200"),
        ("response", "200"),
        ("revisit", "200"),
        ("response", "404"),
        ("revisit", "304"),  # the block holds the 304's status line and headers
        ("response", "200"),
        ("response", "200"),
    ]
    # Responses carry exactly the bytes that were fetched, and what the archive stores.
    by_time = {iso_time(f.capture.fetched_at): f.capture for f in sent}
    for record, row in zip(body, answered, strict=True):
        if record["type"] == "response":
            assert record["payload"] == by_time[record["date"]].body
            assert record["payload"] == stored[row.body_sha256]
            assert record["etag"] == row.etag
    # Revisits point at the response holding their payload, by address, date and id.
    responses = {(r["uri"], r["date"]): r for r in body if r["type"] == "response"}
    same, not_mod = body[2], body[4]
    assert same["profile"] == REVISIT_IDENTICAL and same["payload"] == b""
    assert not_mod["profile"] == REVISIT_NOT_MODIFIED and not_mod["payload"] == b""
    for revisit in (same, not_mod):
        original = responses[(revisit["refers_uri"], revisit["refers_date"])]
        assert original["digest"] == revisit["digest"]
        assert original["id"] == revisit["refers_id"]
        assert original["date"] == iso_time(at(0)) and original["uri"] == url_of(1)
    # The redirected fetch's answer is recorded at the address that answered.
    assert body[-1]["uri"] == url_of(3, "stories")


def test_warc_as_of_and_kinds(sqlite_url: str, tmp_path: Path) -> None:
    build(sqlite_url)
    out = tmp_path / "early.warc.gz"
    args = ["export", "--db", sqlite_url, "--format", "warc", "--output", str(out)]
    assert main([*args, "--as-of", at(1.2).isoformat()]) == 0
    early = read_warc(out)[1:]
    assert [r["type"] for r in early] == ["response", "response", "revisit"]
    assert main([*args, "--kinds", "story"]) == 0
    stories = read_warc(out)[1:]
    assert [r["uri"] for r in stories] == [
        f"{url_of(3).rsplit('/', 2)[0]}/node/3",
        url_of(3, "stories"),
    ]
    assert [r["status"] for r in stories] == ["301", "200"]


def test_warc_needs_a_file(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--db", sqlite_url, "--format", "warc"]) == 1
    assert "needs --output" in capsys.readouterr().err
