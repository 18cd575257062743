"""The index over ``documents.duplicate_of`` keeps only the documents that duplicate one.

Nearly every document duplicates none, and the index held a row for each (about 9
B/page on ``bench/archive_storage.py``). It is now a partial index, ``WHERE
duplicate_of IS NOT NULL``: what it finds (the duplicates of a document, their count)
it finds as before, on SQLite and PostgreSQL.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-05 00:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_documents_duplicate_of"
WHERE = sa.text("duplicate_of IS NOT NULL")


def upgrade() -> None:
    op.drop_index(NAME, table_name="documents")
    op.create_index(NAME, "documents", ["duplicate_of"], sqlite_where=WHERE, postgresql_where=WHERE)


def downgrade() -> None:
    op.drop_index(NAME, table_name="documents")
    op.create_index(NAME, "documents", ["duplicate_of"])
