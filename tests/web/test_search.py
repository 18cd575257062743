"""Full-text search: the query language, the index kept in step, both databases alike."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import text

from archive.api import open_archive
from archive.schema import from_sqlite_time
from archive.search import Filters, QueryError, parse_query, search
from tests.web.conftest import ITEMS, WebArchive
from web.db import readonly_engine


@pytest.mark.parametrize(
    "raw, fts5, tsquery",
    [
        ("Human Rights", '("human") AND ("rights")', "(human) & (rights)"),
        ('"human rights" OR election* -russia',
         '("human rights" OR "election"*) NOT "russia"',
         "((human <-> rights) | election:*) & !russia"),
        ("e-mail", '("e mail")', "((e <-> mail))"),
        ("x\x00y", '("x y")', "((x <-> y))"),
    ],
)  # fmt: skip
def test_one_query_tree_written_for_each_database(raw: str, fts5: str, tsquery: str) -> None:
    parsed = parse_query(raw)
    assert parsed.fts5() == fts5
    assert parsed.tsquery() == tsquery


@pytest.mark.parametrize(
    "raw, message",
    [
        ('"unbalanced', "unbalanced quotation mark"),
        ("NEAR(a b)", "parentheses and NEAR"),
        ("*", r"a \* must end a word"),
        ("a*b", r"a \* must end a word"),
        ("-only", "at least one word"),
        ("OR x", "OR must stand between"),
        ("x OR", "OR must stand between"),
        ("w " * 300, "longer than 500"),
        (" ".join(f"w{i}" for i in range(20)), "too many terms"),
    ],
)
def test_queries_that_cannot_run_say_why(raw: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        parse_query(raw)


def _ids(results: object) -> list[tuple[str, int]]:
    return [(h.document_id, h.version) for h in results.hits]  # type: ignore[attr-defined]


def _a_word_of(db: str, document_id: str, number: int) -> tuple[str, str]:
    """A word in version ``number`` of a document that its current text lacks, and the
    current title."""
    with open_archive(db) as reader:
        history = reader.history(document_id)
    rows = {r["version"]: r["text"] for r in history}
    title = max(history, key=lambda r: r["version"])["title"]
    import re

    old = set(re.findall(r"[^\W_]+", rows[number].lower()))
    new = set(re.findall(r"[^\W_]+", rows[max(rows)].lower()))
    gone = sorted(w for w in old - new if len(w) > 3)
    return (gone[0] if gone else ""), title


def test_search_ranks_finds_highlights_and_filters(web_archive: WebArchive) -> None:
    engine = readonly_engine(web_archive.db)
    with engine.connect() as conn:
        everything = search(conn, "", size=100)
        assert everything.total >= ITEMS
        results = search(conn, "osce", size=100)
        assert results.total > 0 and all(h.score is not None for h in results.hits)
        scores = [h.score for h in results.hits]
        assert scores == sorted(scores, reverse=True)
        assert any("\ue000" in (h.snippet + h.title_marked) for h in results.hits)
        # A phrase and a filter narrow; a kind filter keeps only that kind.
        kind = results.hits[0].kind
        narrowed = search(conn, "osce", Filters(kind=kind), size=100)
        assert 0 < narrowed.total <= results.total
        assert {h.kind for h in narrowed.hits} == {kind}
        dated = search(conn, "", Filters(date_from="2015-01-01", date_to="2016-12-31"), size=100)
        assert all("2015-01-01" <= (h.published or "") <= "2016-12-31" for h in dated.hits)
        by_date = search(conn, "osce", sort="date", size=100)
        dates = [h.published or "" for h in by_date.hits]
        assert dates == sorted(dates, reverse=True)
        assert by_date.total == results.total and {h.score for h in by_date.hits} == {None}
        # Paging: page 2 continues page 1 with no overlap.
        p1, p2 = search(conn, "osce", size=5), search(conn, "osce", size=5, page=2)
        assert not set(_ids(p1)) & set(_ids(p2)) and len(p2.hits) == 5
        # Every version, or only current text: an old version's vanished word.
        doc = web_archive.changed[0]
        word, title = _a_word_of(web_archive.db, doc, 1)
        if word:
            assert doc not in {h.document_id for h in search(conn, word, size=100).hits}
            old = search(conn, word, Filters(all_versions=True), size=100)
            assert (doc, 1) in _ids(old)
        # The current title finds its document, as a phrase.
        phrase = '"' + " ".join(title.split()[:4]) + '"'
        assert doc in {h.document_id for h in search(conn, phrase, size=100).hits}
        # Changed since the last run began: only what that run changed.
        last_run = conn.execute(text("select max(started_at) from runs")).scalar_one()
        # SQLite hands a raw query its stored integer.
        since = last_run if isinstance(last_run, datetime) else from_sqlite_time(last_run)
        later = search(conn, "", Filters(changed_since=since))
        assert 0 < later.total < everything.total
    engine.dispose()


def test_index_is_kept_in_step_and_rebuilt_by_the_index_command(
    web_archive: WebArchive, tmp_path: Path
) -> None:
    copy = tmp_path / "copy.sqlite"
    shutil.copy(web_archive.db.removeprefix("sqlite:///"), copy)
    db = f"sqlite:///{copy}"
    engine = readonly_engine(db)
    with engine.connect() as conn:
        versions = conn.execute(text("select count(*) from versions")).scalar_one()
        indexed = conn.execute(text("select count(*) from search_fts_docsize")).scalar_one()
        before = _ids(search(conn, "osce", size=100))
    engine.dispose()
    assert indexed == versions
    # Damage the index, see search miss, rebuild with the command, see it whole again.
    from archive.db import make_engine

    rw = make_engine(db)
    with rw.begin() as conn:
        conn.exec_driver_sql("INSERT INTO search_fts(search_fts) VALUES ('delete-all')")
    with rw.connect() as conn:
        assert search(conn, "osce").total == 0
    rw.dispose()
    proc = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "index", "--db", db],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert f"{versions} versions indexed" in proc.stdout
    engine = readonly_engine(db)
    with engine.connect() as conn:
        assert _ids(search(conn, "osce", size=100)) == before
    engine.dispose()


_FLAGS = (
    "SELECT s.version_id, s.current, v.number = d.current_version AS truth "
    "FROM search_vectors s JOIN versions v ON v.id = s.version_id "
    "JOIN documents d ON d.id = v.document_id"
)


@pytest.mark.postgres
def test_postgresql_index_of_current_versions_kept_in_step_and_rebuilt(
    pg_web_archive: str,
) -> None:
    """PostgreSQL counts and ranks current texts from an index of current versions
    alone, reading vectors kept in their rows: the flag it rests on is what the versions
    say after a crawl with edits, and the index command puts it right when it is wrong
    (in a transaction rolled back, so the shared archive is untouched)."""
    from archive.db import make_engine
    from archive.search import count, rebuild_index

    engine = make_engine(pg_web_archive)
    with engine.connect() as conn:
        # Every vector is kept in its row (revision 0012): none in the TOAST table, which
        # ranking a common word would read value by value.
        toast = conn.execute(
            text(
                "SELECT reltoastrelid::regclass::text FROM pg_class "
                "WHERE relname = 'search_vectors'"
            )
        ).scalar_one()
        assert conn.execute(text(f"SELECT count(*) FROM {toast}")).scalar_one() == 0
        assert (
            conn.execute(text("SELECT max(pg_column_size(tsv)) FROM search_vectors")).scalar_one()
            > 2100
        )
        rows = conn.execute(text(_FLAGS)).all()
        assert rows and all(r.current == r.truth for r in rows)
        assert any(not r.current for r in rows), "no edited document: the flag went untested"
        before = search(conn, "osce", size=100)
        try:
            conn.exec_driver_sql("UPDATE search_vectors SET current = NOT current")
            assert count(conn, "osce") != before.total  # the count reads the flag
            rebuild_index(conn)
            assert all(r.current == r.truth for r in conn.execute(text(_FLAGS)))
            again = search(conn, "osce", size=100)
            assert (again.total, _ids(again)) == (before.total, _ids(before))
        finally:
            conn.rollback()
    engine.dispose()


_SUPERSEDED = (
    "SELECT v.id, o.version_id IS NOT NULL AS listed, v.number <> d.current_version AS truth "
    "FROM versions v JOIN documents d ON d.id = v.document_id "
    "LEFT JOIN search_superseded o ON o.version_id = v.id"
)
#: Current versions matching a query, counted the slow way the list replaces.
_JOINED_COUNT = (
    "SELECT count(*) FROM (SELECT rowid AS fid FROM search_fts WHERE search_fts MATCH :q) s "
    "JOIN versions v ON v.id = s.fid JOIN documents d ON d.id = v.document_id "
    "WHERE v.number = d.current_version"
)


def test_sqlite_list_of_versions_no_longer_current_kept_in_step_and_rebuilt(
    web_archive: WebArchive, tmp_path: Path
) -> None:
    """SQLite counts the current versions a query matches as every match less the
    versions listed as no longer current (revision 0014): after a crawl with edits the
    list is what the versions say, every count equals the count by joining each match,
    the upgrade from 0013 lists an archive's older versions, and ``rebuild_index`` (what
    ``osce-archive index`` runs) puts the list right when it is wrong."""
    from archive import migrations
    from archive.db import make_engine
    from archive.search import _order_sql, count, parse_query, rebuild_index

    copy = tmp_path / "copy.sqlite"
    shutil.copy(web_archive.db.removeprefix("sqlite:///"), copy)
    engine = make_engine(f"sqlite:///{copy}")
    queries = ["osce", "mission OR election*", '"human rights"', "osce -vienna", "zzzz"]

    def assert_counts_true(conn: object) -> None:
        for q in queries:
            joined = conn.execute(  # type: ignore[attr-defined]
                text(_JOINED_COUNT), {"q": parse_query(q).fts5()}
            ).scalar_one()
            assert count(conn, q) == joined, q  # type: ignore[arg-type]

    try:
        with engine.connect() as conn:
            rows = conn.execute(text(_SUPERSEDED)).all()
            assert rows and all(bool(r.listed) == bool(r.truth) for r in rows)
            assert any(r.listed for r in rows), "no edited document: the list went untested"
            assert_counts_true(conn)
            before = search(conn, "osce", size=100)
            assert before.total > 0
        migrations.downgrade(engine, "0013")
        with engine.connect() as conn:
            gone = conn.execute(
                text("SELECT count(*) FROM sqlite_schema WHERE name = 'search_superseded'")
            ).scalar_one()
            assert gone == 0
        migrations.upgrade(engine)
        migrations.check(engine)
        with engine.connect() as conn:
            assert all(bool(r.listed) == bool(r.truth) for r in conn.execute(text(_SUPERSEDED)))
        with engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM search_superseded")
            conn.exec_driver_sql("INSERT INTO search_superseded SELECT id FROM versions")
            assert count(conn, "osce") == 0  # the count reads the list
            rebuild_index(conn)
            assert all(bool(r.listed) == bool(r.truth) for r in conn.execute(text(_SUPERSEDED)))
            assert_counts_true(conn)
            again = search(conn, "osce", size=100)
            assert (again.total, _ids(again)) == (before.total, _ids(before))
        # Pages in date order are sorted without their documents' rows: the same pages
        # as sorting every match joined to its document.
        with engine.connect() as conn:
            for q in ("osce", "mission OR election*"):
                for sort in ("date", "oldest", "seen"):
                    want = [
                        (r.doc, r.number)
                        for r in conn.execute(
                            text(
                                "SELECT d.id AS doc, v.number FROM (SELECT rowid AS fid "
                                "FROM search_fts WHERE search_fts MATCH :q) s "
                                "JOIN versions v ON v.id = s.fid "
                                "JOIN documents d ON d.id = v.document_id "
                                "WHERE v.number = d.current_version "
                                f"ORDER BY {_order_sql(sort, False)}"
                            ),
                            {"q": parse_query(q).fts5()},
                        )
                    ]
                    assert len(want) >= 21, (q, want)
                    got = [
                        hit
                        for page in (1, 2, 3)
                        for hit in _ids(search(conn, q, sort=sort, size=7, page=page))
                    ]
                    assert got == want[:21], (q, sort)
    finally:
        engine.dispose()


def _all(conn: object, q: str, filters: Filters) -> set[tuple[str, int]]:
    found: set[tuple[str, int]] = set()
    page = 1
    while True:
        results = search(conn, q, filters, size=100, page=page)  # type: ignore[arg-type]
        found |= set(_ids(results))
        if page >= results.pages:
            return found
        page += 1


QUERIES = [
    ("osce", Filters()),
    ('"human rights"', Filters()),
    ("election* OR monitoring", Filters()),
    ("osce -vienna", Filters()),
    ("", Filters(date_from="2012-01-01", date_to="2019-12-31")),
    ("osce", Filters(all_versions=True)),
    ("mission", Filters(changed_since=datetime(2026, 6, 5, tzinfo=timezone.utc))),
]


@pytest.mark.postgres
def test_same_results_on_sqlite_and_postgresql(
    web_archive: WebArchive, pg_web_archive: str
) -> None:
    lite, pg = readonly_engine(web_archive.db), readonly_engine(pg_web_archive)
    with lite.connect() as a, pg.connect() as b:
        facets = __import__("archive.search", fromlist=["facets"]).facets
        fa, fb = facets(a), facets(b)
        assert fa == fb
        queries = [*QUERIES]
        for name in ("kind", "source", "place", "field"):
            if fa[name]:
                queries.append(("", Filters(**{name: fa[name][0]})))
        for q, filters in queries:
            for sort in ("relevance", "date", "oldest"):
                ra = search(a, q, filters, sort=sort, size=100)
                rb = search(b, q, filters, sort=sort, size=100)
                assert ra.total == rb.total, (q, filters, sort)
                if sort == "relevance" and q:
                    # Rankings differ (bm25 and ts_rank); the set found must not.
                    assert _all(a, q, filters) == _all(b, q, filters), (q, filters)
                else:
                    assert _ids(ra) == _ids(rb), (q, filters, sort)
            assert search(a, q, filters).total > 0 or q == "osce -vienna", (q, filters)
    lite.dispose()
    pg.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_ranking_from_the_best_rows_pages_as_ranking_every_match(
    backend: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unfiltered search is ranked from the index's best rows alone, and rows that tie
    with the cut are settled by a second pass; taken from 3 rows at first, and then with
    the cut right after each row in turn (so versions of one document that tie on score
    straddle it), every page of every query is the one a full ranking of every match
    gives, with the same total, whether or not the total was known before."""
    import archive.search as archive_search

    db = (
        request.getfixturevalue("web_archive").db
        if backend == "sqlite"
        else request.getfixturevalue("pg_web_archive")
    )
    engine = readonly_engine(db)
    ties = 0
    with engine.connect() as conn:
        for q in ("osce", "security OR mission", '"human rights"', "co*"):
            for filters in (Filters(), Filters(all_versions=True)):
                monkeypatch.setattr(archive_search, "RANKED_DEPTH", 0)  # every match
                full = search(conn, q, filters, size=100)
                assert len(full.hits) == full.total, (q, filters)
                scores = [h.score for h in full.hits]
                ties += len(scores) - len(set(scores))
                monkeypatch.setattr(archive_search, "RANKED_DEPTH", 1000)
                monkeypatch.setattr(archive_search, "RANKED_FIRST", 3)
                for page in range(1, full.total // 4 + 3):
                    for total in (None, full.total):
                        part = search(conn, q, filters, size=4, page=page, total=total)
                        want = full.hits[(page - 1) * 4 : page * 4]
                        assert part.total == full.total, (q, filters, page)
                        assert [(h.document_id, h.version, h.score) for h in part.hits] == [
                            (h.document_id, h.version, h.score) for h in want
                        ], (q, filters, page)
                # The cut right after each row in turn: rows that tie with the last one
                # kept are not certain until the cut moves past them all.
                monkeypatch.setattr(archive_search, "RANKED_OVER", 1)
                if filters.all_versions:  # no row is dropped: the tie pass alone must do
                    monkeypatch.setattr(archive_search, "_sorted_page", None)
                for page in range(1, full.total + 1):
                    monkeypatch.setattr(archive_search, "RANKED_FIRST", page)
                    one = search(conn, q, filters, size=1, page=page, total=full.total)
                    row = full.hits[page - 1]
                    assert [(h.document_id, h.version) for h in one.hits] == [
                        (row.document_id, row.version)
                    ], (q, filters, page)
                assert archive_search.count(conn, q, filters) == full.total
                monkeypatch.undo()
    engine.dispose()
    assert ties, "no two versions tied on score: the cut's tie rule went untested"


def test_readonly_engine_cannot_write(web_archive: WebArchive) -> None:
    engine = readonly_engine(web_archive.db)
    with engine.connect() as conn:
        with pytest.raises(Exception, match="readonly|read-only|query_only|attempt to write"):
            conn.execute(text("delete from changes"))
    engine.dispose()


@pytest.mark.postgres
def test_readonly_engine_cannot_write_postgresql(pg_web_archive: str) -> None:
    engine = readonly_engine(pg_web_archive)
    with engine.connect() as conn:
        with pytest.raises(Exception, match="read-only transaction"):
            conn.execute(text("delete from changes"))
    engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_ranking_alone_is_the_hits_ids_and_scores(
    backend: str, request: pytest.FixtureRequest
) -> None:
    """What the reading room keeps of a query (``ranking``: ids and scores, read without
    the hits' other columns where it can be) is, page for page, the hits of
    ``page_hits``, in every order, filtered or not, with the same totals."""
    from archive.search import page_hits, ranking

    db = (
        request.getfixturevalue("web_archive").db
        if backend == "sqlite"
        else request.getfixturevalue("pg_web_archive")
    )
    engine = readonly_engine(db)
    checked = 0
    with engine.connect() as conn:
        for q in ("osce", "security OR mission", '"human rights"', "co*", ""):
            for filters in (Filters(), Filters(all_versions=True), Filters(kind="press-release")):
                for sort in ("relevance", "date", "oldest", "seen"):
                    for offset, limit in ((0, 7), (5, 9), (30, 100)):
                        hits, total = page_hits(
                            conn, q, filters, sort=sort, offset=offset, limit=limit, counted=True
                        )
                        ids, told = ranking(
                            conn, q, filters, sort=sort, offset=offset, limit=limit, counted=True
                        )
                        assert ids == [(h.version_id, h.score) for h in hits], (q, filters, sort)
                        assert told == total, (q, filters, sort, offset)
                        checked += len(ids)
    engine.dispose()
    assert checked > 1000
