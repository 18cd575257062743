"""The change log's times lose their index (``ix_changes_at``).

Every query that reads ``changes.at`` reads one document's entries, through
``(document_id, seq)``, and compares their times there: a document's state as of a time,
its canonical address between two versions, the search filter "changed since", the feed
and the exports (which follow ``seq``). None looks entries up by time across documents,
so the index was written on every change and read by nothing: 16 B/page on
``bench/archive_storage.py`` at 25,000 items. Downgrading makes it again.

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-06 04:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0036"
down_revision: str | None = "0035"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index(op.f("ix_changes_at"), table_name="changes")


def downgrade() -> None:
    op.create_index(op.f("ix_changes_at"), "changes", ["at"], unique=False)
