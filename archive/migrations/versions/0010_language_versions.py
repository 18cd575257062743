"""Documents linked to their versions in other languages (``language_links``).

One row per direction for each pair of documents that are the same item in two
languages (``osce.org/55436`` and ``osce.org/ru/55436``), as an item page's hreflang
links or language switcher said, with when the archive first saw the link. Existing
archives start with no links: every English document kept its id, and pages under a
language prefix get theirs from the next fetch (or ``osce-archive reextract``, which
reads the links from the stored pages).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 12:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from archive.schema import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "language_links",
        sa.Column("document_id", sa.String(200), nullable=False),
        sa.Column("other_id", sa.String(200), nullable=False),
        sa.Column("first_seen", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("document_id", "other_id", name=op.f("pk_language_links")),
    )


def downgrade() -> None:
    op.drop_table("language_links")
