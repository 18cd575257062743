"""The full-text search index of the reading room (``archive.search``).

SQLite: an FTS5 table over the title and text of every version, with the versions
table as its external content (the text is stored once), kept in step by triggers on
insert, delete and on changes of the title or text (a ``last_seen`` touch does not
reindex). PostgreSQL: a ``search_vectors`` table holding each version's weighted
``tsvector`` (title A, text B), a GIN index over it, kept in step by a trigger.
Both index text split on every non-alphanumeric character, lower-cased, without
stemming, stop words or accent folding, so the two databases find the same versions.
``osce-archive index`` rebuilds either from the versions table.

These objects are not SQLAlchemy models (a virtual table, a tsvector): the Alembic
environment leaves every ``search_*`` table out of ``alembic check``.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 23:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


SQLITE_UP = (
    "CREATE VIRTUAL TABLE search_fts USING fts5(title, text, content='versions', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER search_fts_insert AFTER INSERT ON versions BEGIN "
    "INSERT INTO search_fts(rowid, title, text) VALUES (new.id, new.title, new.text); END",
    "CREATE TRIGGER search_fts_delete AFTER DELETE ON versions BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, text) "
    "VALUES ('delete', old.id, old.title, old.text); END",
    "CREATE TRIGGER search_fts_update AFTER UPDATE OF title, text ON versions BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, text) "
    "VALUES ('delete', old.id, old.title, old.text); "
    "INSERT INTO search_fts(rowid, title, text) VALUES (new.id, new.title, new.text); END",
    "INSERT INTO search_fts(search_fts) VALUES ('rebuild')",
)
SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS search_fts_update",
    "DROP TRIGGER IF EXISTS search_fts_delete",
    "DROP TRIGGER IF EXISTS search_fts_insert",
    "DROP TABLE IF EXISTS search_fts",
)
# Every run of non-alphanumerics becomes one space before the 'simple' parser reads the
# text, so PostgreSQL splits words where FTS5's unicode61 does ("3.5", "e-mail", URLs).
POSTGRES_UP = (
    "CREATE FUNCTION search_tsv(title text, body text) RETURNS tsvector "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT "
    "setweight(to_tsvector('simple'::regconfig, "
    "regexp_replace(coalesce(title, ''), '[^[:alnum:]]+', ' ', 'g')), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, "
    "regexp_replace(coalesce(body, ''), '[^[:alnum:]]+', ' ', 'g')), 'B') $$",
    "CREATE TABLE search_vectors (version_id integer PRIMARY KEY "
    "REFERENCES versions(id) ON DELETE CASCADE, tsv tsvector NOT NULL)",
    "CREATE INDEX search_vectors_tsv ON search_vectors USING gin (tsv)",
    "CREATE FUNCTION search_vectors_sync() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "INSERT INTO search_vectors (version_id, tsv) VALUES (NEW.id, search_tsv(NEW.title, NEW.text)) "
    "ON CONFLICT (version_id) DO UPDATE SET tsv = EXCLUDED.tsv; RETURN NULL; END $$",
    "CREATE TRIGGER search_vectors_sync AFTER INSERT OR UPDATE OF title, text ON versions "
    "FOR EACH ROW EXECUTE FUNCTION search_vectors_sync()",
    "INSERT INTO search_vectors (version_id, tsv) SELECT id, search_tsv(title, text) FROM versions",
)
POSTGRES_DOWN = (
    "DROP TRIGGER IF EXISTS search_vectors_sync ON versions",
    "DROP FUNCTION IF EXISTS search_vectors_sync()",
    "DROP TABLE IF EXISTS search_vectors",
    "DROP FUNCTION IF EXISTS search_tsv(text, text)",
)


def upgrade() -> None:
    bind = op.get_bind()
    # Driver-level execution: ``[:alnum:]`` would read as a bind parameter in text().
    for statement in POSTGRES_UP if bind.dialect.name == "postgresql" else SQLITE_UP:
        bind.exec_driver_sql(statement)


def downgrade() -> None:
    bind = op.get_bind()
    for statement in POSTGRES_DOWN if bind.dialect.name == "postgresql" else SQLITE_DOWN:
        bind.exec_driver_sql(statement)
