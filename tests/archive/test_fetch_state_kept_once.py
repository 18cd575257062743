"""An address's fetch state kept once (revision 0044): its ``etag``, ``last_modified``
and ``last_fetched`` are NULL where its newest capture says the same, and the frontier's
address states read them back from that capture. A 304 that does not repeat the
validators, a failed fetch, a 404 and the target of a redirect keep their own. The
per-page and the grouped ingest store the same; the revision converts an archive with
data and back. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import text

from archive.records import Capture, Record
from archive.store import Archive
from archive.urls import normalise_address
from tests.archive.conftest import (
    BASE,
    LAST_FETCHED,
    at,
    capture_for,
    make_record,
    revision_round_trip,
    written_both_ways,
)

DATE_1 = "Mon, 05 Jan 2026 10:00:00 GMT"
DATE_2 = "Tue, 06 Jan 2026 10:00:00 GMT"


def answered(capture: Capture, etag: str | None, last_modified: str | None) -> Capture:
    """``capture`` with its final answer's headers saying these validators, as a crawl's
    fetches keep them (the capture's own columns then store nothing)."""
    headers = [["Content-Type", "text/html; charset=utf-8"]]
    if etag is not None:
        headers.append(["ETag", etag])
    if last_modified is not None:
        headers.append(["Last-Modified", last_modified])
    answer = {"url": capture.url, "status": capture.status, "headers": headers}
    return replace(
        capture,
        etag=etag,
        last_modified=last_modified,
        content_type="text/html; charset=utf-8",
        answers=[answer],
    )


def _fetches() -> tuple[list[tuple[Capture, Record | None]], dict[str, tuple[Any, ...]]]:
    """Fetches of five items and what each address's state reads after them:
    (etag, last_modified, last_fetched, which of the three columns are NULL)."""
    a, b, c, d, e, f = (make_record(n, text=f"Text of item {n}.") for n in range(58001, 58007))
    moved = f"{BASE}/moved/58005"
    moved_f = f"{BASE}/moved/58006"
    fetches: list[tuple[Capture, Record | None]] = [
        # a: fetched, then a 304 that repeats its validators
        (answered(capture_for(a, 0), '"a1"', DATE_1), a),
        (answered(capture_for(None, 2, url=a.url, status=304), '"a1"', DATE_1), None),
        # b: fetched, then a 304 that says nothing: it keeps its validators
        (answered(capture_for(b, 0), '"b1"', DATE_1), b),
        (capture_for(None, 3, url=b.url, status=304), None),
        # c: fetched, then a fetch that failed: it keeps its validators
        (answered(capture_for(c, 0), '"c1"', DATE_1), c),
        (capture_for(None, 4, url=c.url, status=503, error="503 Service Unavailable"), None),
        # d: a 404 whose answer names an ETag: not a page's, the address has none
        (answered(capture_for(None, 1, url=d.url, status=404), '"gone"', None), None),
        # e: asked at an old address and redirected: the target keeps the fetch's own
        (
            answered(
                capture_for(e, 5, url=moved, final_url=e.url, redirects=[e.url]), '"e1"', DATE_2
            ),
            e,
        ),
        # f: the same, its answer without a Last-Modified: the target, which has no
        # capture of its own, keeps none as NULL
        (
            answered(
                capture_for(f, 6, url=moved_f, final_url=f.url, redirects=[f.url]), '"f1"', None
            ),
            f,
        ),
    ]
    expected = {
        a.url: ('"a1"', DATE_1, at(2), {"etag", "last_modified", "last_fetched"}),
        b.url: ('"b1"', DATE_1, at(3), {"last_fetched"}),
        c.url: ('"c1"', DATE_1, at(4), {"last_fetched"}),
        d.url: (None, None, at(1), {"last_modified", "last_fetched"}),
        moved: ('"e1"', DATE_2, at(5), {"etag", "last_modified", "last_fetched"}),
        e.url: ('"e1"', DATE_2, at(5), set()),
        f.url: ('"f1"', None, at(6), {"last_modified"}),
    }
    return fetches, expected


def _null_columns(archive: Archive) -> dict[str, set[str]]:
    with archive.engine.connect() as conn:
        rows = conn.execute(text("SELECT id, etag, last_modified, last_fetched FROM addresses"))
        nulls = {
            row[0]: {
                name
                for name, v in zip(("etag", "last_modified", "last_fetched"), row[1:], strict=True)
                if v is None
            }
            for row in rows
        }
    with archive.session() as s:
        from archive.schema import Address

        return {a.url: nulls[a.id] for a in s.query(Address)}


def _read(archive: Archive, urls: list[str]) -> dict[str, tuple[Any, ...]]:
    states = archive.address_states(urls)
    return {
        url: (state.etag, state.last_modified, state.last_fetched)
        for url, state in zip(urls, states, strict=True)
        if state is not None
    }


def test_a_fetch_state_is_read_from_the_newest_capture(db_url: str, tmp_path: Path) -> None:
    fetches, expected = _fetches()
    urls = list(expected)
    with written_both_ways(db_url, tmp_path, fetches, split=5) as archives:
        for archive in archives:
            assert _read(archive, urls) == {u: e[:3] for u, e in expected.items()}
            nulls = _null_columns(archive)
            assert {u: nulls[normalise_address(u)] for u in urls} == {
                u: e[3] for u, e in expected.items()
            }
            streamed = {s.url: (s.etag, s.last_modified) for s in archive.iter_address_states()}
            assert streamed[normalise_address(urls[1])] == ('"b1"', DATE_1)
            assert archive.verify() == []


def test_the_frontier_sends_what_the_state_reads(db_url: str) -> None:
    """A page fetched again after a silent 304 is asked with its first validators, read
    from the address (its newest capture names none)."""
    fetches, _ = _fetches()
    with Archive.open(db_url) as archive:
        archive.ingest_many(fetches)
        b = fetches[2][1]
        assert b is not None
        state = archive.address_state(b.url)
        assert state is not None and (state.etag, state.last_modified) == ('"b1"', DATE_1)
        # then a 200 with new validators: they are its newest capture's again
        archive.ingest(answered(capture_for(b, 6), '"b2"', DATE_2), b)
        state = archive.address_state(b.url)
        assert state is not None and (state.etag, state.last_modified) == ('"b2"', DATE_2)
        assert state.last_fetched == at(6)
        assert _null_columns(archive)[normalise_address(b.url)] == {
            "etag",
            "last_modified",
            "last_fetched",
        }


def _effective(engine: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(f"SELECT url, {LAST_FETCHED}, last_status FROM addresses ORDER BY url")
            )
        )


def test_revision_0044_converts_an_archive_with_data_and_back(db_url: str) -> None:
    fetches, expected = _fetches()
    with Archive.open(db_url) as archive:
        archive.ingest_many(fetches)
        before = _read(archive, list(expected))

    def stored(engine: Any) -> Any:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT url, etag, last_modified, last_fetched FROM addresses ORDER BY url")
            )
            return [tuple(r) for r in rows], _effective(engine)

    def at_0043(engine: Any, now: Any) -> None:
        rows, effective = now
        assert _effective(engine) == effective
        with engine.connect() as conn:
            # every address fetched keeps its time and its validators whole again
            assert (
                conn.execute(
                    text("SELECT count(*) FROM addresses WHERE last_fetched IS NULL")
                ).scalar_one()
                == 0
            )
            kept = dict(conn.execute(text("SELECT url, etag FROM addresses")).all())
        assert sorted(v for v in kept.values() if v is not None) == sorted(
            ['"a1"', '"b1"', '"c1"', '"e1"', '"e1"', '"f1"', '"f1"']
        )
        assert "" not in kept.values()

    rows, _ = revision_round_trip(db_url, "0043", stored, at_0043)
    assert any(r[1] is None and r[2] is None for r in rows)
    with Archive.open(db_url) as archive:
        assert _read(archive, list(expected)) == before
