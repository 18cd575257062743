"""Each capture keeps the status lines and headers of its answers (``captures.http``).

A web archive's WARC holds every answer as the server gave it: the redirects on the
way and the final answer, each with its status line and headers. ``captures.http``
is a JSON list of those answers, redirects first, each
``{"url", "status", "reason", "protocol", "headers": [[name, value], ...]}``. Captures
written before this revision stay ``NULL``; the WARC export rebuilds their headers from
the columns the archive always kept (status, Content-Type, ETag, Last-Modified).

``changes.url`` keeps the new canonical address of a ``moved`` entry, so that the
archive "as of T" names the address a document had then, also between two versions
(entries written before stay ``NULL``: as of a time between such a move and the next
fetch, the export falls back to the version's address).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 23:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("captures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("http", sa.JSON(), nullable=True))
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("url", sa.String(length=2000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.drop_column("url")
    with op.batch_alter_table("captures", schema=None) as batch_op:
        batch_op.drop_column("http")
