"""SQLite keeps, for each frequent word, its best-ranked current versions.

FTS5 ranks with bm25, whose score depends on the whole index (the number of rows, the
mean length of each column, how many rows hold the word), so a word's scores move with
every version written and cannot be kept row by row as PostgreSQL keeps its lists
(revision 0013). But an archive stands still between crawls, and is read many times
in between: a first search of a frequent word spent most of its time ranking every
match by bm25 (28-44 ms of 35-56 for a word in all 25,000 documents, one request alone)
only to keep the first 200.

So the ranking itself is kept, together with the index's state it was computed from:
``search_best_words`` names each word in at least ``archive.search.KEPT_MIN_VERSIONS``
versions with the number of current versions holding it, ``search_best`` its first
``archive.search.KEPT_ROWS`` current versions in the order a search gives them (score
and each tie's order), and ``search_best_stamp`` the index's state when they were
ranked (FTS5's record of its totals, the newest row indexed and a mark of the ranking
code: ``archive.search._STAMP``), with the two bounds they were ranked with. The index
only grows (a version is never taken from it or rewritten in place; rebuilding it
empties these tables), so every version indexed moves the stamp, and with it every
score. A search reads a word's rows
only while the stamp is still the index's, and otherwise ranks as before; the
rows are ranked again when a crawl or ``reextract`` finishes or ``osce-archive index``
runs (``archive.search.rank_frequent_words``). Until then, and on an upgraded archive until
the first of those, searches take the old path, which gives the same answers.

PostgreSQL has its lists: nothing is created there.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 08:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_UP = (
    "CREATE TABLE search_best_words (word TEXT PRIMARY KEY, total INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE TABLE search_best (word TEXT NOT NULL, position INTEGER NOT NULL, "
    "version_id INTEGER NOT NULL, score REAL NOT NULL, PRIMARY KEY (word, position)) "
    "WITHOUT ROWID",
    "CREATE TABLE search_best_stamp (id INTEGER PRIMARY KEY CHECK (id = 1), "
    "stamp TEXT NOT NULL, min_versions INTEGER NOT NULL, best_rows INTEGER NOT NULL)",
)
SQLITE_DOWN = (
    "DROP TABLE IF EXISTS search_best_stamp",
    "DROP TABLE IF EXISTS search_best",
    "DROP TABLE IF EXISTS search_best_words",
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_UP:
            bind.exec_driver_sql(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_DOWN:
            bind.exec_driver_sql(statement)
