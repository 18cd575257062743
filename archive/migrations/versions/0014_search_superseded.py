"""SQLite lists the versions that are no longer their document's current one.

A search of current text counted its matches by joining every match to its version and
document to ask whether it was current: 22-26 ms for a word in all 25,000 documents of
an archive of 28,000 versions, as long as ranking the match. FTS5 counts every version
of a match from its index in about 1 ms, and the versions that are not current are few
(an older version stays only when its document changed): ``search_superseded`` holds
their ids, so the current matches are every match less those of its rows (3.7 ms for
that word, 0.6 for one in 3,900 documents; the SQL alone, best of 5). The versioning
code adds a document's older versions in the transaction that writes its new one
(``archive.search.index_version``), as it moves PostgreSQL's flag of current versions
(revision 0008), and ``osce-archive index`` rebuilds it. PostgreSQL has that flag
already: nothing is created there.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 19:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_UP = (
    "CREATE TABLE search_superseded (version_id INTEGER PRIMARY KEY)",
    "INSERT INTO search_superseded (version_id) SELECT v.id FROM versions v "
    "JOIN documents d ON d.id = v.document_id WHERE v.number <> d.current_version",
)
SQLITE_DOWN = ("DROP TABLE IF EXISTS search_superseded",)


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
