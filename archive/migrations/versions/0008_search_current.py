"""PostgreSQL's search index knows which versions are current.

``search_vectors.current`` is true for the row of each document's current version, and a
second GIN index covers those rows alone (``WHERE current``). A search over current
texts (the reading room's default) then counts its matches from that index and ranks
only current versions, instead of counting every version's match and subtracting the
older versions found by joining versions and documents (which read and decompressed each
older version's vector: 60-80 ms of a first search for a common word at 25,000
documents). The versioning code keeps the flag in the transaction that writes a version
(``archive.search.index_version``); ``osce-archive index`` rebuilds it with the rest.

SQLite's FTS5 index is unchanged (its count of current matches is cheap already).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 12:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POSTGRES_UP = (
    "ALTER TABLE search_vectors ADD COLUMN current boolean NOT NULL DEFAULT false",
    "UPDATE search_vectors s SET current = true FROM versions v JOIN documents d "
    "ON d.id = v.document_id AND v.number = d.current_version WHERE s.version_id = v.id",
    "CREATE INDEX search_vectors_current_tsv ON search_vectors USING gin (tsv) WHERE current",
)
POSTGRES_DOWN = (
    "DROP INDEX IF EXISTS search_vectors_current_tsv",
    "ALTER TABLE search_vectors DROP COLUMN IF EXISTS current",
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for statement in POSTGRES_UP:
            bind.exec_driver_sql(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for statement in POSTGRES_DOWN:
            bind.exec_driver_sql(statement)
