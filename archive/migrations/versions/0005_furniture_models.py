"""Learned furniture models, one row per host and model version.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 23:58:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "furniture_models",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("learned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("model", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_furniture_models_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_furniture_models")),
        sa.UniqueConstraint("host", "version", name=op.f("uq_furniture_models_host_version")),
    )
    op.create_index(op.f("ix_furniture_models_host"), "furniture_models", ["host"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_furniture_models_host"), table_name="furniture_models")
    op.drop_table("furniture_models")
