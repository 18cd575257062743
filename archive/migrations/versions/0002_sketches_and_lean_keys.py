"""Near-duplicate sketches on versions; no document index on near_dup_keys.

``versions.sketch`` keeps each text's packed MinHash sketch (``archive.dedup``), so
candidates are ruled out without reading their text; versions written before stay
``NULL`` and are confirmed on their text as before. The index on
``near_dup_keys.document_id`` served no query and was a third of that table's bytes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 07:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sketch", sa.LargeBinary(), nullable=True))
    op.drop_index(op.f("ix_near_dup_keys_document_id"), table_name="near_dup_keys")


def downgrade() -> None:
    op.create_index(
        op.f("ix_near_dup_keys_document_id"), "near_dup_keys", ["document_id"], unique=False
    )
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.drop_column("sketch")
