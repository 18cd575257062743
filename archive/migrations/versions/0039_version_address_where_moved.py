"""A version's address (``versions.url``) is kept only where it is no longer its
document's.

A version is written at the address its document is at, and documents rarely move: every
version repeated its document's address (``documents.url``), about 36 bytes a page on
``bench/run.py``'s loopback addresses. The column is NULL there now, and the program
reads ``coalesce(versions.url, documents.url)`` (``archive.schema.version_url_read``).
Before a document's address changes, the writer fills it into the document's versions
that left it unsaid (``archive.schema.moving_from``), so each version still reads the
address it was read at.

Upgrading makes the column nullable (on SQLite by copying the table, the expression index
on the text digest made again after it) and empties it where it equals the document's;
downgrading fills it back and makes it NOT NULL again.

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-07 00:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0039"
down_revision: str | None = "0038"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: As revision 0025 made it: SQLite's copy of the table would lose it (alembic's batch
#: mode does not reflect an index on an expression).
TEXT_KEY = "ix_versions_text_key"
PREFIX = 8
#: The document's address, in the form both columns store (revision 0019's coding).
DOCUMENT_URL = "(SELECT d.url FROM documents d WHERE d.id = versions.document_id)"


def _nullable(nullable: bool) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.drop_index(TEXT_KEY, table_name="versions")
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.alter_column("url", existing_type=sa.String(2000), nullable=nullable)
    if sqlite:
        op.create_index(TEXT_KEY, "versions", [sa.text(f"substr(text_hash, 1, {PREFIX})")])


def upgrade() -> None:
    _nullable(True)
    op.execute(f"UPDATE versions SET url = NULL WHERE url = {DOCUMENT_URL}")


def downgrade() -> None:
    op.execute(f"UPDATE versions SET url = {DOCUMENT_URL} WHERE url IS NULL")
    _nullable(False)
