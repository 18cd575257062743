"""PostgreSQL's lists of frequent words (revision 0013): a one-word search ranked from
its list gives what ranking every match gives (the same rows, order, scores and
totals), on the crawled replica, after new versions replace old ones, after deletions
and returns, after the index command, and after an upgrade of an archive with data.

Each test works on a copy of the crawled PostgreSQL archive (a database made from it as
a template), so the shared one is untouched; the lists' threshold is lowered so that the
small archive has frequent words."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

import archive.search as archive_search
from archive import migrations
from archive.db import make_engine
from archive.feed import Selection, snapshot
from archive.records import Capture, Record
from archive.search import (
    Filters,
    count,
    page_hits,
    parse_query,
    rebuild_index,
    refresh_lists,
    search,
)
from archive.store import Archive
from tests.fixtures.db import _pg_connect

pytestmark = pytest.mark.postgres

#: The lists' threshold on the 60-item replica: words in at least this many current
#: versions (a few hundred of them) are listed.
MIN_VERSIONS = 5


@pytest.fixture
def pg_copy(pg_web_archive: str) -> Iterator[str]:
    """A copy of the crawled PostgreSQL archive, dropped after the test."""
    source = make_url(pg_web_archive)
    name = f"osce_lists_{uuid.uuid4().hex[:10]}"
    with _pg_connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source.database}"')
    yield source.set(database=name).render_as_string(hide_password=False)
    with _pg_connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _listed_words(conn: Any) -> list[str]:
    return sorted(conn.execute(text("SELECT lexeme FROM search_top_lexemes")).scalars())


def _answers(conn: Any, word: str) -> list[Any]:
    """What searching ``word`` answers, snippets aside (cut from the hits, whichever
    path found them): the count, and pages (first, next, all, a deep one), each as
    (total or None, [(document, version, score)])."""
    out: list[Any] = [count(conn, word)]
    for offset, limit in ((0, 20), (20, 20), (0, 100), (14, 7)):
        hits, total = page_hits(conn, word, offset=offset, limit=limit, counted=True)
        out.append((total, [(h.document_id, h.version, h.score) for h in hits]))
    return out


def _page(conn: Any, word: str, offset: int, limit: int) -> list[Any]:
    hits, _ = page_hits(conn, word, offset=offset, limit=limit)
    return [(h.document_id, h.version, h.score) for h in hits]


def _assert_lists_answer_as_ranking(conn: Any, monkeypatch: pytest.MonkeyPatch) -> int:
    """For every listed word: the lists hold exactly the current versions' scores (as
    ``ts_rank`` gives them now), and every answer is the one the old path gives (the
    lists ignored); the number of words checked."""
    stale = conn.execute(
        text(
            "WITH truth AS (SELECT l.id, s.version_id, "
            "ts_rank(s.tsv, CAST(quote_literal(l.lexeme) AS tsquery), 1) AS score "
            "FROM search_top_lexemes l JOIN search_vectors s ON s.current "
            "AND s.tsv @@ CAST(quote_literal(l.lexeme) AS tsquery)), "
            "kept AS (SELECT lexeme AS id, version_id, score FROM search_top) "
            "SELECT count(*) FROM ((TABLE truth EXCEPT ALL TABLE kept) "
            "UNION ALL (TABLE kept EXCEPT ALL TABLE truth)) AS d"
        )
    ).scalar_one()
    assert stale == 0, f"{stale} rows differ between the lists and the vectors"
    # The words a search can ask for alone (a lexeme such as "e-mail" is a phrase).
    words = [w for w in _listed_words(conn) if re.fullmatch(r"[^\W_]+", w)]
    assert len(words) > 50, words
    for word in words:  # each is answered from its list
        assert archive_search._listed(conn, parse_query(word)) is not None, word
    listed = {w: _answers(conn, w) for w in words}
    with monkeypatch.context() as m:
        m.setattr(archive_search, "_listed", lambda conn, parsed: None)
        for word in words:
            assert _answers(conn, word) == listed[word], word
    # Every page of one row and of three, against the whole ranking: rows that tie on
    # score straddle the pages' edges, and each page is cut from its band of scores.
    ties = 0
    for word in words[:: max(1, len(words) // 12)]:
        with monkeypatch.context() as m:
            m.setattr(archive_search, "_listed", lambda conn, parsed: None)
            want = _page(conn, word, 0, 100)
        assert len(want) == count(conn, word) < 100, word
        ties += len(want) - len({score for _, _, score in want})
        for size in (1, 3):
            for offset in range(0, len(want) + size, size):
                got = _page(conn, word, offset, size)
                assert got == want[offset : offset + size], (word, size, offset)
    assert ties, "no two versions tied on score: ties at the pages' edges went untested"
    return len(words)


def _capture(url: str, when: datetime, run: int, status: int = 200) -> Capture:
    body = f"<html><p>{url} {when.isoformat()}</p></html>".encode()
    return Capture(url=url, status=status, fetched_at=when, body=body,
                   content_type="text/html", run_id=run)  # fmt: skip


@pytest.mark.timeout(900)  # the crawl of the shared archive, when this test sets it up
def test_lists_rank_as_ranking_every_match_while_versions_come_and_go(
    pg_copy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(pg_copy)
    try:
        with engine.begin() as conn:
            assert refresh_lists(conn, MIN_VERSIONS) > 50
            assert refresh_lists(conn, MIN_VERSIONS) == 0  # listed once
        with engine.connect() as conn:
            _assert_lists_answer_as_ranking(conn, monkeypatch)
            # Searches the lists do not answer still answer (and the same as before).
            others = [("osce", Filters(all_versions=True)), ("osce -vienna", Filters()),
                      ("security OR mission", Filters()), ("osce", Filters(kind="x"))]  # fmt: skip
            for q, filters in others:
                assert search(conn, q, filters).total == count(conn, q, filters)
        with snapshot(engine) as snap:
            records = [r for r in snap.records(Selection()) if not r["deleted"]]
    finally:
        engine.dispose()
    # A crawl's worth of change: a third of the documents get a new version (a frequent
    # word dropped from their text, another added to it), some are deleted, and one
    # deleted earlier comes back.
    words = ["osce", "security", "mission", "rights"]
    when = datetime(2027, 3, 1, 6, 0, tzinfo=timezone.utc)
    with Archive.open(pg_copy) as archive:
        run = archive.start_run({"test": "lists"})
        batch: list[tuple[Capture, Record | None]] = []
        for i, rec in enumerate(records[::3]):
            body = str(rec["text"]).replace(words[i % 4], "").replace(words[(i + 1) % 4], "")
            rec = {**rec, "text": body + f"\n\n{words[(i + 2) % 4]} " * (1 + i % 5)}
            fields = {k: rec[k] for k in Record.__dataclass_fields__ if k in rec}
            batch.append((_capture(str(rec["url"]), when, run), Record.from_json(fields)))
        gone = [r for r in records[1::7]]
        for rec in gone:
            batch.append((_capture(str(rec["url"]), when, run, status=404), None))
        archive.ingest_many(batch)
        back = gone[0]
        fields = {k: back[k] for k in Record.__dataclass_fields__ if k in back}
        later = when + timedelta(days=1)
        archive.ingest(_capture(str(back["url"]), later, run), Record.from_json(fields))
        archive.finish_run(run, "ok", {})
    engine = make_engine(pg_copy)
    try:
        with engine.connect() as conn:
            deleted = conn.execute(text("SELECT count(*) FROM documents WHERE deleted"))
            assert deleted.scalar_one() >= len(gone) - 1
            _assert_lists_answer_as_ranking(conn, monkeypatch)
        # The index command rebuilds the lists with the rest.
        with engine.begin() as conn:
            before = _listed_words(conn)
            conn.exec_driver_sql("UPDATE search_top SET score = score + 1")
            rebuild_index(conn)
            assert _listed_words(conn) == before
        with engine.connect() as conn:
            _assert_lists_answer_as_ranking(conn, monkeypatch)
    finally:
        engine.dispose()


@pytest.mark.timeout(900)
def test_revision_0013_lists_the_frequent_words_of_an_archive_with_data_and_back(
    pg_copy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archive_search, "LIST_MIN_VERSIONS", MIN_VERSIONS)
    engine = make_engine(pg_copy)
    try:
        migrations.downgrade(engine, "0012")
        assert migrations.current(engine) == "0012"
        with engine.connect() as conn:
            tables = conn.execute(text("SELECT to_regclass('search_top')")).scalar_one()
            assert tables is None
            frequent = conn.execute(
                text(
                    "SELECT word FROM ts_stat('SELECT tsv FROM search_vectors WHERE current') "
                    "WHERE ndoc >= :n"
                ),
                {"n": MIN_VERSIONS},
            ).scalars().all()  # fmt: skip
        migrations.upgrade(engine)
        migrations.check(engine)
        with engine.connect() as conn:
            assert _listed_words(conn) == sorted(
                w for w in frequent if "'" not in w and "\\" not in w
            )
            _assert_lists_answer_as_ranking(conn, monkeypatch)
        migrations.downgrade(engine, "0012")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT to_regclass('search_top_lexemes')")).scalar() is None
    finally:
        engine.dispose()


def test_a_failed_listing_leaves_the_run_recorded(pg_url: str, caplog: Any) -> None:
    """Listing frequent words comes after the run is closed: when it fails, the run stays
    recorded as it ended, and the failure is one warning line, not a crashed crawl."""
    with Archive.open(pg_url) as archive:
        run = archive.start_run({"test": "listing"})
        with archive.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE search_top_lexemes")  # every listing now fails
        with caplog.at_level("WARNING", logger="archive.store"):
            archive.finish_run(run, "ok", {"pages": 0})
        last = archive.previous_run(None)
    assert last is not None and last["id"] == run and last["outcome"] == "ok", last
    warned = [r.getMessage() for r in caplog.records if r.name == "archive.store"]
    assert len(warned) == 1 and "could not prepare frequent words" in warned[0], warned
    assert "\n" not in warned[0]
