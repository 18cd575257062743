"""SQLite's kept rankings of frequent words (revision 0015): a one-word search answered
from them gives what ranking every match gives (the same rows, order, scores and
totals), on the crawled replica; they are not read once the index has moved on (a new
version, a deletion), and are ranked again when a run or a ``reextract`` finishes and by
``osce-archive index``; an upgraded archive answers as before until they are.

Each test works on a copy of the crawled SQLite archive; the threshold and the number
of rows kept are lowered so that the small archive has frequent words, and most of them
more matches than rows kept (so pages past the kept rows, which rank as before, are
asked too)."""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

import archive.search as archive_search
from archive import migrations
from archive.db import make_engine
from archive.feed import Selection, snapshot
from archive.records import Capture, Record
from archive.search import (
    count,
    keep_rankings,
    page_hits,
    parse_query,
    rank_frequent_words,
    ranking,
    rebuild_index,
    refresh_rankings,
)
from archive.store import Archive
from tests.web.conftest import WebArchive
from web.serve import rebuild

#: Words in at least this many versions of the 60-item replica have rows kept.
MIN_VERSIONS = 5
#: Rows kept of each (fewer than most of those words' matches).
ROWS = 12


@pytest.fixture
def copy(web_archive: WebArchive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A copy of the crawled SQLite archive, its kept rows ranked at the lowered bounds."""
    path = tmp_path / "copy.sqlite"
    shutil.copy(web_archive.db.removeprefix("sqlite:///"), path)
    monkeypatch.setattr(archive_search, "KEPT_MIN_VERSIONS", MIN_VERSIONS)
    monkeypatch.setattr(archive_search, "KEPT_ROWS", ROWS)
    yield f"sqlite:///{path}"


def _kept_words(conn: Any) -> list[str]:
    return sorted(conn.execute(text("SELECT word FROM search_best_words")).scalars())


def _answers(conn: Any, word: str) -> list[Any]:
    """What searching ``word`` answers, snippets aside: the count, and pages (first,
    within the kept rows, straddling their end, past it, all), each as (total or None,
    [(document, version, score)]); :func:`ranking` of each page is checked against it."""
    out: list[Any] = [count(conn, word)]
    for offset, limit in ((0, 5), (5, 7), (10, 5), (12, 3), (0, 100)):
        hits, total = page_hits(conn, word, offset=offset, limit=limit, counted=True)
        out.append((total, [(h.document_id, h.version, h.score) for h in hits]))
        # What the reading room keeps of a query (ids and scores alone) says the same.
        ids, told = ranking(conn, word, offset=offset, limit=limit, counted=True)
        assert ids == [(h.version_id, h.score) for h in hits], (word, offset, limit)
        assert told is None or told == out[0], (word, offset, limit)
    return out


def _assert_kept_rows_answer_as_ranking(conn: Any, monkeypatch: pytest.MonkeyPatch) -> int:
    """Every kept word is answered from its rows, and every answer is the one ranking
    every match gives; the number of words checked."""
    words = _kept_words(conn)
    assert len(words) > 50, words
    for word in words:
        assert archive_search._kept(conn, parse_query(word)) is not None, word
    kept = {w: _answers(conn, w) for w in words}
    over = [w for w in words if kept[w][0] > ROWS]
    assert len(over) > 20, "too few words with more matches than rows kept"
    within = [w for w in words if 10 < kept[w][0] <= ROWS]
    assert within, "no word whose page (10, 5) straddles the end of a whole kept ranking"
    with monkeypatch.context() as m:
        m.setattr(archive_search, "_kept", lambda conn, parsed: None)  # rank as before 0015
        for word in words:
            assert _answers(conn, word) == kept[word], word
    return len(words)


def _capture(url: str, when: datetime, run: int, status: int = 200) -> Capture:
    body = f"<html><p>{url} {when.isoformat()}</p></html>".encode()
    return Capture(url=url, status=status, fetched_at=when, body=body,
                   content_type="text/html", run_id=run)  # fmt: skip


def test_kept_rows_answer_as_ranking_and_stop_when_the_index_moves(
    copy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(copy)
    try:
        with engine.begin() as conn:
            assert refresh_rankings(conn) > 50
            assert refresh_rankings(conn) == 0  # the index stands still: nothing to do
        with engine.connect() as conn:
            _assert_kept_rows_answer_as_ranking(conn, monkeypatch)
            words = _kept_words(conn)
            # Ranked now (with another bound, so ranked at all), offered after a write.
            stale = rank_frequent_words(conn, MIN_VERSIONS + 1)
            assert stale is not None and 0 < len(stale.words) < len(words)
            # The comparison can fail: a kept score one higher is an answer that differs.
            word = words[0]
            truth = _answers(conn, word)
        with engine.connect() as conn:
            with conn.begin() as tx:
                conn.exec_driver_sql("UPDATE search_best SET score = score + 1")
                assert _answers(conn, word) != truth
                tx.rollback()
            assert _answers(conn, word) == truth
        with snapshot(engine) as snap:
            records = [r for r in snap.records(Selection()) if not r["deleted"]]
    finally:
        engine.dispose()
    # One new version moves the index: no kept row is read, and the answers (now with
    # that version) are the ranking's. The run's end ranks them again.
    common = "osce"
    with Archive.open(copy) as archive:
        when = datetime(2027, 3, 1, 6, 0, tzinfo=timezone.utc)
        run = archive.start_run({"test": "kept rows"})
        rec = records[0]
        rec = {**rec, "text": str(rec["text"]) + f"\n\n{common} {common} {common}"}
        fields = {k: rec[k] for k in Record.__dataclass_fields__ if k in rec}
        archive.ingest(_capture(str(rec["url"]), when, run), Record.from_json(fields))
        with archive.engine.connect() as conn:
            assert all(archive_search._kept(conn, parse_query(w)) is None for w in words)
            ranking, _ = page_hits(conn, common, limit=100)
            assert (rec["id"], 2) in [(h.document_id, h.version) for h in ranking]
        # Rankings made before the index moved are not kept over it.
        with archive.engine.connect() as conn:
            assert keep_rankings(conn, stale) == 0
            conn.commit()
            assert all(archive_search._kept(conn, parse_query(w)) is None for w in words)
        # A deletion too (a 404 takes nothing from the index, but the run's end must
        # still leave every answer as the ranking's).
        gone = records[1]
        archive.ingest(_capture(str(gone["url"]), when + timedelta(hours=1), run, 404), None)
        archive.finish_run(run, "ok", {})
        with archive.engine.connect() as conn:
            assert _kept_words(conn)
            _assert_kept_rows_answer_as_ranking(conn, monkeypatch)
            assert archive_search._kept(conn, parse_query(common)) is not None
    # Rebuilding the index empties them (it may end as it was); the index command ranks
    # them again once the rebuilt index is committed.
    engine = make_engine(copy)
    try:
        with engine.begin() as conn:
            before = _kept_words(conn)
            rebuild_index(conn)
            assert _kept_words(conn) == []
        rebuild(argparse.Namespace(db=copy))
        with engine.connect() as conn:
            assert _kept_words(conn) == before
            _assert_kept_rows_answer_as_ranking(conn, monkeypatch)
    finally:
        engine.dispose()


def test_revision_0015_keeps_nothing_until_ranked_and_goes_back(
    copy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Upgrading an archive with data creates the tables empty (searches rank as before,
    with the same answers), the first refresh fills them, and the downgrade drops them."""
    engine = make_engine(copy)
    names = "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'search_best%'"
    try:
        with engine.connect() as conn, monkeypatch.context() as m:
            m.setattr(archive_search, "_kept", lambda conn, parsed: None)
            before = _answers(conn, "osce")
        migrations.downgrade(engine, "0014")
        with engine.connect() as conn:
            assert conn.execute(text(names)).scalar_one() == 0
        migrations.upgrade(engine)
        migrations.check(engine)
        with engine.connect() as conn:
            assert _kept_words(conn) == []
            assert _answers(conn, "osce") == before
        with engine.begin() as conn:
            assert refresh_rankings(conn) > 50
        with engine.connect() as conn:
            assert archive_search._kept(conn, parse_query("osce")) is not None
            assert _answers(conn, "osce") == before
            _assert_kept_rows_answer_as_ranking(conn, monkeypatch)
        migrations.downgrade(engine, "0014")
        with engine.connect() as conn:
            assert conn.execute(text(names)).scalar_one() == 0
    finally:
        engine.dispose()


def test_a_failed_ranking_leaves_the_run_recorded(copy: str, caplog: Any) -> None:
    """Keeping the best rows comes after the run is closed: when it fails, the run stays
    recorded as it ended, and the failure is one warning line."""
    with Archive.open(copy) as archive:
        run = archive.start_run({"test": "kept rows"})
        with archive.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE search_best_stamp")  # every ranking now fails
        with caplog.at_level("WARNING", logger="archive.store"):
            archive.finish_run(run, "ok", {"pages": 0})
        last = archive.previous_run(None)
    assert last is not None and last["id"] == run and last["outcome"] == "ok", last
    warned = [r.getMessage() for r in caplog.records if r.name == "archive.store"]
    assert len(warned) == 1 and "could not prepare frequent words" in warned[0], warned
    assert "\n" not in warned[0]


def test_reextract_ranks_them_again(copy: str) -> None:
    """A ``reextract`` writes versions as a crawl does, and ranks the kept rows again
    when it finishes, as a crawl's end does."""
    from crawler.cli.reextract import extractor
    from crawler.extraction import EXTRACTOR_VERSION

    with Archive.open(copy) as archive:
        with archive.engine.begin() as conn:
            assert refresh_rankings(conn) > 50
        with snapshot(archive.engine) as snap:
            rec = next(r for r in snap.records(Selection()) if not r["deleted"])
        run = archive.start_run({"test": "kept rows"})
        rec = {**rec, "text": str(rec["text"]) + "\n\nosce osce"}
        fields = {k: rec[k] for k in Record.__dataclass_fields__ if k in rec}
        when = datetime(2027, 3, 1, 6, 0, tzinfo=timezone.utc)
        archive.ingest(_capture(str(rec["url"]), when, run), Record.from_json(fields))
        archive.runs.finish(run, "ok", {})  # the run closed without its end's ranking
        with archive.engine.connect() as conn:
            assert archive_search._kept(conn, parse_query("osce")) is None
        archive.reextract(extractor(archive), EXTRACTOR_VERSION)
        with archive.engine.connect() as conn:
            assert archive_search._kept(conn, parse_query("osce")) is not None
            assert len(_kept_words(conn)) > 50
