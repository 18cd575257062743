"""Third-party articles and the OSCE items they report on (``reports``).

One row per (article, item) pair with its evidence; a link that no longer holds keeps its
row with ``removed_at``. Nothing else changes: links are not versions of either document.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 13:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("article_id", sa.String(length=200), nullable=False),
        sa.Column("item_id", sa.String(length=200), nullable=False),
        sa.Column("evidence", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["documents.id"], name=op.f("fk_reports_article_id_documents")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["documents.id"], name=op.f("fk_reports_item_id_documents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("article_id", "item_id", name=op.f("uq_reports_article_id_item_id")),
    )
    op.create_index(op.f("ix_reports_item_id"), "reports", ["item_id"], unique=False)
    op.create_index(op.f("ix_reports_seq"), "reports", ["seq"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_reports_seq"), table_name="reports")
    op.drop_index(op.f("ix_reports_item_id"), table_name="reports")
    op.drop_table("reports")
