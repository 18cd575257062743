"""Each version keeps the item's attachments (``versions.attachments``).

A JSON list of the files the item links to for download, ``[{"title", "url"}, ...]`` in
page order. Versions written before this revision stay ``NULL``: the archive did not read
attachments then. Nothing is rewritten: a version's content hash covers its attachments
only when there are some, so every stored hash stays valid, and ``osce-archive
reextract`` (or the next fetch of a page) reads them from the stored pages, as an
extraction correction, where a page has some.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE on both databases, no batch mode: on SQLite a batch operation may copy
# ``versions`` into a new table, which would drop the search index's triggers (0004).


def upgrade() -> None:
    op.add_column("versions", sa.Column("attachments", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("versions", "attachments")  # SQLite 3.35 or newer
