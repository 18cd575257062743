"""PostgreSQL keeps, for each frequent word, its current versions in order of score.

Ranking a common word meant ``ts_rank`` over every current version holding it (11,000
for "security" at 25,000 documents: 50-80 ms of a first search), only to keep the best
few hundred. Yet a one-word query's score, ``ts_rank(tsv, 'word', 1)``, depends on the
version's own vector alone, so it is a fixed property of (word, version), and can be
computed once, when the version is written. ``search_top_lexemes`` lists the words in
at least ``archive.search.LIST_MIN_VERSIONS`` current versions (each with a small id;
the upgrade lists those of the archive it finds), and ``search_top`` holds every
current version's score for each of them, indexed by (word, score): the best rows of a
one-word search are then an index range scan, and its count a count of that range
(``archive.search``). The lists are complete: a listed word has a row for
each current version that holds it, no more. The versioning code keeps them in the
transaction that changes which version is current (``archive.search.index_version``);
a word becomes listed when a crawl finishes or ``osce-archive index`` runs
(``archive.search.refresh_lists``); until then it takes the old path, which gives the
same answer.

Lexemes holding a quote or a backslash are never listed: a query never reaches them as
one word, and their score would need the query syntax's escapes. SQLite's FTS5 ranks
with bm25, whose score depends on the whole index: nothing is created there.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 15:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POSTGRES_UP = (
    'CREATE TABLE search_top_lexemes (id serial PRIMARY KEY, lexeme text COLLATE "C" '
    "NOT NULL UNIQUE)",
    "CREATE TABLE search_top (lexeme integer NOT NULL, score real NOT NULL, "
    "version_id integer NOT NULL)",
    # The best rows of a word: an index range scan, in the order a search asks for.
    "CREATE INDEX search_top_rank ON search_top (lexeme, score DESC, version_id)",
    # A version's rows, found when it stops being current; one row per word and version.
    "CREATE UNIQUE INDEX search_top_version ON search_top (version_id, lexeme)",
    "LOCK TABLE search_vectors IN SHARE MODE",
    "INSERT INTO search_top_lexemes (lexeme) SELECT word FROM "
    "ts_stat('SELECT tsv FROM search_vectors WHERE current') "
    "WHERE ndoc >= {min_versions} AND strpos(word, '''') = 0 AND strpos(word, '\\') = 0 "
    "ORDER BY word",
    "INSERT INTO search_top (lexeme, score, version_id) "
    "SELECT l.id, ts_rank(s.tsv, CAST('''' || l.lexeme || '''' AS tsquery), 1), s.version_id "
    "FROM search_vectors s CROSS JOIN LATERAL unnest(tsvector_to_array(s.tsv)) AS w(lexeme) "
    # In the order read (each word's rows together, best first), and the planner told.
    "JOIN search_top_lexemes l ON l.lexeme = w.lexeme WHERE s.current ORDER BY 1, 2 DESC",
    "ANALYZE search_top",
)
POSTGRES_DOWN = (
    "DROP TABLE IF EXISTS search_top",
    "DROP TABLE IF EXISTS search_top_lexemes",
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        from archive import search  # the threshold, read now (tests lower it)

        for statement in POSTGRES_UP:
            bind.exec_driver_sql(statement.format(min_versions=int(search.LIST_MIN_VERSIONS)))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for statement in POSTGRES_DOWN:
            bind.exec_driver_sql(statement)
