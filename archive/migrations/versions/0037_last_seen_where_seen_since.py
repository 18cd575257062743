"""A version's ``last_seen`` is kept only where a fetch gave it after its ``first_seen``.

Most versions are seen once: the page changed, or the document was new, and the next
fetch (if any) made the next version. Their ``last_seen`` repeated ``first_seen``, a
time of 8 bytes (6 from revision 0035) in every such row. It is NULL there now, and the
program reads ``coalesce(last_seen, first_seen)`` (``archive.schema.Version.last_seen``;
the column is ``Version.seen_since`` in the model).

Upgrading makes the column nullable (on SQLite by copying the table, the expression index
on the text digest made again after it) and empties it where it equals ``first_seen``;
downgrading fills it back and makes it NOT NULL again.

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-06 04:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0037"
down_revision: str | None = "0036"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: As revision 0025 made it: SQLite's copy of the table would lose it (alembic's batch
#: mode does not reflect an index on an expression).
TEXT_KEY = "ix_versions_text_key"
PREFIX = 8


def _nullable(nullable: bool) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.drop_index(TEXT_KEY, table_name="versions")
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.alter_column(
            "last_seen", existing_type=sa.DateTime(timezone=True), nullable=nullable
        )
    if sqlite:
        op.create_index(TEXT_KEY, "versions", [sa.text(f"substr(text_hash, 1, {PREFIX})")])


def upgrade() -> None:
    _nullable(True)
    op.execute("UPDATE versions SET last_seen = NULL WHERE last_seen = first_seen")


def downgrade() -> None:
    op.execute("UPDATE versions SET last_seen = first_seen WHERE last_seen IS NULL")
    _nullable(False)
