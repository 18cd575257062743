"""The group ingest (``archive.batch``, SQLAlchemy Core) writes exactly the rows the
per-page ORM ingest (``archive.ingest.ingest``) writes: the same fetches, in the same
groups, into two archives, and every table compared row for row, ids included.

The fetches cover every path of the rule: new documents, edits, unchanged revisits,
a document twice in one group, a move (301), a 304, deletions at a canonical address
and at an alias, a return, listing pages, failures, language links, exact and near
duplicates (one met after its original, one before), and both compression
dictionaries trained in the middle of a group.
"""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import inspect, text

from archive import bodies, texts
from archive.ingest import ingest
from archive.records import Capture, ListingEntry, Record
from archive.schema import CHANGE_KINDS
from archive.search import refresh_lists
from archive.store import Archive
from tests.archive.conftest import BASE, capture_for, make_record

#: Tables whose rows depend on the wall clock of the run, not on what was ingested.
CLOCK_TABLES = {"runs", "locks", "run_lock"}
#: SQLite's full-text index as stored: its b-tree of segments depends on how the rows
#: were inserted (one statement each or one executemany), not on what it finds; what it
#: finds is compared word by word (:func:`found`).
FTS_SEGMENTS = {"search_fts_data", "search_fts_idx"}

WORDS = (
    "mission office field report election observation dialogue security border police "
    "reform media freedom minority rights water energy youth gender training workshop "
    "ministry capital region community conference delegation governance project law "
    "court judge parliament budget transparency corruption trafficking migration cyber "
    "arms control weapons ammunition demining environment climate economy trade ports"
).split()


def long_text(seed: int, words: int = 180) -> str:
    rng = random.Random(seed)
    sentences = []
    for _ in range(words // 12):
        sentences.append(" ".join(rng.choice(WORDS) for _ in range(12)).capitalize() + ".")
    return "\n\n".join(" ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3))


def record(node: int, **changes: Any) -> Record:
    return make_record(node, **{"text": long_text(node), "title": f"Item {node}", **changes})


def scenario() -> list[list[tuple[Capture, Record | None]]]:
    """Groups of fetches, in order (their hours increase)."""
    groups: list[list[tuple[Capture, Record | None]]] = []
    hour = 0.0

    def fetch(rec: Record | None, **kw: Any) -> tuple[Capture, Record | None]:
        nonlocal hour
        hour += 0.01
        return capture_for(rec, hour, **kw), rec

    first = [fetch(record(n)) for n in range(1, 9)]
    listing = ListingEntry(url=f"{BASE}/fsc/9", title="Item 9", published="2003-06-27")
    first.append(fetch(record(9), listing=listing))
    first.append(fetch(record(10, language_versions=["osce.org/ru/10", "osce.org/fr/10"])))
    first.append(fetch(None, url=f"{BASE}/press-releases?page=1", body=b"<html>list</html>"))
    first.append(fetch(None, url=f"{BASE}/broken", status=500, error="HTTP 500"))
    # Exact duplicates: one published later than its original, one earlier.
    first.append(fetch(record(11, text=long_text(2), published="2004-01-01")))
    first.append(fetch(record(12, text=long_text(3), published="2001-01-01")))
    # A near duplicate: the text of 4 with one sentence changed.
    near = long_text(4).replace(".", " and the mission welcomed it.", 1)
    first.append(fetch(record(13, text=near, published="2005-01-01")))
    # The same document twice in the group, edited in between.
    first.append(fetch(record(1, title="Item 1, corrected")))
    groups.append(first)

    second = [
        fetch(record(1, title="Item 1, corrected"), token="t1"),  # unchanged
        fetch(record(2, title="Item 2, edited")),
        fetch(
            record(6, url=f"{BASE}/odihr/6"),
            url=f"{BASE}/fsc/6",
            final_url=f"{BASE}/odihr/6",
            redirects=[f"{BASE}/fsc/6"],
        ),
        fetch(None, url=f"{BASE}/fsc/7", status=304, etag='"e7"'),
        fetch(None, url=f"{BASE}/fsc/8", status=404),
        fetch(None, url=f"{BASE}/fsc/6", status=404),  # an alias gone: 6 lives on
        fetch(None, url=f"{BASE}/fsc/999", status=304),
        fetch(record(14, attachments=[{"title": "Report", "url": f"{BASE}/files/r.pdf"}])),
    ]
    groups.append(second)

    third = [
        fetch(record(8)),  # returns
        fetch(record(14, attachments=[])),
        *(fetch(record(n)) for n in range(15, 30)),
        fetch(record(3, text=long_text(3) + "\n\nA paragraph added.")),
    ]
    groups.append(third)
    groups.append([fetch(record(n, published="2010-02-02")) for n in range(30, 34)])
    return groups


def old_ingest_many(archive: Archive, pairs: list[tuple[Capture, Record | None]]) -> list[Any]:
    """What ``Archive.ingest_many`` did before the group ingest: the ORM ingest of each
    page in one session and transaction."""
    with archive._sessions() as s, s.begin():
        return [ingest(s, c, r, archive._bodies, archive._texts) for c, r in pairs]


def rows(archive: Archive) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows but the clock's, sorted."""
    names = inspect(archive.engine).get_table_names()
    out = {}
    with archive.engine.connect() as conn:
        for name in names:
            if name in CLOCK_TABLES or name in FTS_SEGMENTS:
                continue
            got = conn.execute(text(f'SELECT * FROM "{name}"')).all()
            out[name] = sorted((tuple(map(repr, row)) for row in got), key=repr)
    return out


def found(archive: Archive) -> dict[str, list[int]]:
    """The versions the search index finds for each word of the texts and titles."""
    out = {}
    with archive.engine.connect() as conn:
        for word in [*WORDS, "item", "corrected", "edited"]:
            if archive.dialect == "sqlite":
                query = "SELECT rowid FROM search_fts WHERE search_fts MATCH :w ORDER BY rowid"
            else:
                query = (
                    "SELECT version_id FROM search_vectors WHERE current AND "
                    "tsv @@ plainto_tsquery('simple', :w) ORDER BY version_id"
                )
            out[word] = [int(v) for (v,) in conn.execute(text(query), {"w": word})]
    return out


def fresh_copy(groups: list[list[tuple[Capture, Record | None]]]) -> list[list[Any]]:
    return [[(replace(c), r) for c, r in group] for group in groups]


@pytest.fixture
def small_dictionaries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both dictionaries trained after a few pages, in the middle of a group."""
    monkeypatch.setattr(bodies, "TRAIN_AFTER", 7)
    monkeypatch.setattr(texts, "TRAIN_AFTER", 9)


@pytest.mark.usefixtures("small_dictionaries")
def test_group_ingest_writes_the_rows_the_orm_ingest_writes(db_url: str, tmp_path: Any) -> None:
    groups = scenario()
    if db_url.startswith("sqlite"):
        other_url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    else:
        other_url = db_url + "_old"
        from tests.fixtures.db import _pg_connect

        with _pg_connect() as conn:
            conn.execute(f'CREATE DATABASE "{other_url.rsplit("/", 1)[1]}"')
    try:
        with Archive.open(db_url) as new, Archive.open(other_url) as old:
            run_new = new.start_run({})
            run_old = old.start_run({})
            assert run_new == run_old
            pairs = zip(fresh_copy(groups), fresh_copy(groups), strict=True)
            for n, (group_new, group_old) in enumerate(pairs):
                for c, _ in group_new + group_old:
                    c.run_id = run_new
                got = new.ingest_many(group_new)
                want = old_ingest_many(old, group_old)
                assert got == want
                if n == 0:
                    # PostgreSQL: the words of two versions get lists (revision 0013),
                    # which the next groups' new versions must keep exact on both paths.
                    for archive in (new, old):
                        with archive.engine.begin() as conn:
                            refresh_lists(conn, min_versions=2)
            new_rows, old_rows = rows(new), rows(old)
            assert sorted(new_rows) == sorted(old_rows)
            for name in old_rows:
                assert new_rows[name] == old_rows[name], name
            assert found(new) == found(old)
            assert any(found(old).values())
            # The scenario reached what it means to cover.
            # (Rows as stored: a change's kind is coded since revision 0022.)
            kinds = {r[2] for r in old_rows["changes"]}
            for kind in ("created", "changed", "moved", "deleted", "returned", "duplicate"):
                assert repr(chr(CHANGE_KINDS.index(kind) + 1)) in kinds, kind
            assert len(old_rows["compression_dicts"]) == 2
            with old.engine.connect() as conn:
                # Pages stored against an earlier page of their document are among the
                # rows compared above (a base within one group included: before the
                # group tracked its unwritten pages, the two paths chose differently).
                based = conn.execute(
                    text("SELECT count(*) FROM bodies WHERE base IS NOT NULL")
                ).scalar_one()
            assert based >= 2
            assert old_rows["language_links"]
            if not db_url.startswith("sqlite"):
                assert old_rows["search_top"] and old_rows["search_top_lexemes"]
            else:  # the versions no longer current (revision 0014), listed by both paths
                assert old_rows["search_superseded"]
                with old.engine.connect() as conn:
                    wrong = conn.execute(
                        text(
                            "SELECT count(*) FROM versions v JOIN documents d "
                            "ON d.id = v.document_id LEFT JOIN search_superseded o "
                            "ON o.version_id = v.id WHERE (o.version_id IS NOT NULL) "
                            "<> (v.number <> d.current_version)"
                        )
                    ).scalar_one()
                assert wrong == 0
    finally:
        if not db_url.startswith("sqlite"):
            from tests.fixtures.db import _pg_connect

            with _pg_connect() as conn:
                name = other_url.rsplit("/", 1)[1]
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.usefixtures("small_dictionaries")
def test_every_page_of_a_failed_group_is_stored_alone(archive: Archive) -> None:
    """A page the group cannot store fails alone: the others are stored one by one."""
    run_id = archive.start_run({})
    good = capture_for(record(1), 1.0, run_id=run_id)
    bad = capture_for(record(2), 1.1, run_id=run_id)
    bad.fetched_at = bad.fetched_at.replace(tzinfo=None)  # the archive refuses naive times
    results = archive.ingest_many([(good, record(1)), (bad, record(2))])
    assert results[0].outcome == "new_document"  # type: ignore[union-attr]
    assert isinstance(results[1], Exception)
    assert archive.history("osce.org/1").versions
