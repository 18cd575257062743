"""Two times kept once: an address's ``last_seen`` only where it moved on from its
``first_seen``, and no storing time of its own for a raw body.

Most addresses are met by one fetch: a crawl lists them and fetches each once, and a
daily run fetches the few its listings show changed. Their ``last_seen`` repeated
``first_seen`` (24,763 of 25,065 rows on ``bench/run.py``'s crawl), 6 bytes in each.
It is NULL there now, and the program reads ``coalesce(last_seen, first_seen)``
(``archive.schema.Address.last_seen``; the column is ``Address.seen_since`` in the
model), as revision 0037 did for versions.

A body's ``stored_at`` was the time of the fetch that brought it: the capture's
``fetched_at`` says the same. Only the training of the bodies' dictionary read it, to
take the first bodies; it takes them in the order of their digests now (it trains on
every body stored without one when it trains on time). The column is dropped; on
downgrade it is filled back from the first capture of each body.

Upgrading rebuilds ``addresses`` and ``bodies`` on SQLite (``addresses`` to make the
column nullable, ``bodies`` to drop one: their rows are packed again); PostgreSQL alters
them in place.

Revision ID: 0042
Revises: 0041
Create Date: 2026-12-06 16:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0042"
down_revision: str | None = "0041"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("addresses", schema=None) as batch_op:
        batch_op.alter_column("last_seen", existing_type=TIME, nullable=True)
    op.execute("UPDATE addresses SET last_seen = NULL WHERE last_seen = first_seen")
    with op.batch_alter_table("bodies", schema=None) as batch_op:
        batch_op.drop_column("stored_at")


def downgrade() -> None:
    op.execute("UPDATE addresses SET last_seen = first_seen WHERE last_seen IS NULL")
    with op.batch_alter_table("addresses", schema=None) as batch_op:
        batch_op.alter_column("last_seen", existing_type=TIME, nullable=False)
    op.add_column("bodies", sa.Column("stored_at", TIME, nullable=True))
    # Every body came with a fetch: its first. One pass over the captures (their digest is
    # not indexed), joined to the bodies (SQLite 3.33 and PostgreSQL update from a join).
    op.execute(
        "UPDATE bodies SET stored_at = f.at FROM ("
        "SELECT body_sha256, min(fetched_at) AS at FROM captures "
        "WHERE body_sha256 IS NOT NULL GROUP BY body_sha256"
        ") AS f WHERE f.body_sha256 = bodies.sha256"
    )
    # The first run's start stands in for a body no capture brought (none should be).
    op.execute(
        "UPDATE bodies SET stored_at = (SELECT min(started_at) FROM runs) WHERE stored_at IS NULL"
    )
    with op.batch_alter_table("bodies", schema=None) as batch_op:
        batch_op.alter_column("stored_at", existing_type=TIME, nullable=False)
