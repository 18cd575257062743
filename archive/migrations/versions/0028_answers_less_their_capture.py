"""A capture's answers leave out what the capture's own columns say.

``captures.http`` keeps the status line and headers of every answer a fetch met. Two of
its values repeat the capture's columns: the first answer's address is the address
requested (``captures.url``), and each ``Date`` header is the fetch time
(``captures.fetched_at``) give or take a few seconds. The first answer's address is now
left out when it is the one requested, and a ``Date`` header is kept as its offset in
seconds from the fetch time when that gives it back exactly
(``archive.schema.answers_to_store``; about 44 B/page on ``bench/archive_storage.py``).
Readers put both back (``answers_read_back``).

Upgrading and downgrading rewrite every capture's answers through those two functions.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-05 00:10:00.000000
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CAPTURES_AT_ONCE = 1000


def upgrade() -> None:
    from archive.schema import answers_to_store

    _rewrite(answers_to_store)


def downgrade() -> None:
    from archive.schema import answers_read_back

    _rewrite(answers_read_back)


def _rewrite(convert: Callable[[Any, str, datetime], Any]) -> None:
    """Every capture's answers through ``convert(answers, url requested, fetch time)``,
    in batches by id (the columns' own types decode and encode them)."""
    from archive.schema import Capture

    columns = Capture.__table__.c
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.select(columns.id, columns.url, columns.fetched_at, columns.http)
            .where(columns.id > last, columns.http.is_not(None))
            .order_by(columns.id)
            .limit(CAPTURES_AT_ONCE)
        ).all()
        if not rows:
            return
        last = rows[-1].id
        bind.execute(
            sa.update(Capture)
            .where(columns.id == sa.bindparam("_id"))
            .values(http=sa.bindparam("new", type_=columns.http.type)),
            [{"_id": r.id, "new": convert(r.http, r.url, r.fetched_at)} for r in rows],
        )
