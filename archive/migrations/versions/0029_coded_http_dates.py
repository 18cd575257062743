"""An address's ``Last-Modified`` is kept as seconds since 1970 when that gives it back.

Every address keeps the validators of its last fetch; its ``Last-Modified``
(``Mon, 29 Nov 2010 11:30:00 GMT``) took 29 characters. Where the value is an
IMF-fixdate that reads back exactly, it is now stored as one control character and its
seconds since 1970 (``archive.schema.HttpDate``: 11 characters; about 15 B/page on
``bench/archive_storage.py``); any other value as it is.

Upgrading and downgrading rewrite ``addresses.last_modified`` in place.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-05 00:20:00.000000
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ADDRESSES_AT_ONCE = 2000


# What ``archive.schema.HttpDate`` stores at this revision, kept here so that a later
# change to it does not change this revision.
MARK = "\x01"
ESCAPE = "\x1f"


def _http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(timezone.utc).replace(microsecond=0), usegmt=True)


def _encode(value: str) -> str:
    if value[:1] < " " and value:
        return ESCAPE + value
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return value
    if moment.tzinfo is None or _http_date(moment) != value:
        return value
    return MARK + str(int(moment.timestamp()))


def _decode(stored: str) -> str:
    if stored.startswith(MARK):
        return _http_date(datetime.fromtimestamp(int(stored[1:]), timezone.utc))
    return stored[1:] if stored.startswith(ESCAPE) else stored


def upgrade() -> None:
    _rewrite(_encode)


def downgrade() -> None:
    _rewrite(_decode)


def _rewrite(convert: Callable[[str], str]) -> None:
    """Every address's stored ``last_modified`` through ``convert``, in batches by id."""
    bind = op.get_bind()
    addresses = sa.table(
        "addresses", sa.column("id", sa.Integer), sa.column("last_modified", sa.String)
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(addresses.c.id, addresses.c.last_modified)
            .where(addresses.c.id > last, addresses.c.last_modified.is_not(None))
            .order_by(addresses.c.id)
            .limit(ADDRESSES_AT_ONCE)
        ).all()
        if not rows:
            return
        last = rows[-1].id
        changed = [{"_id": i, "new": new} for i, v in rows if (new := convert(v)) != v]
        if changed:
            bind.execute(
                sa.update(addresses)
                .where(addresses.c.id == sa.bindparam("_id"))
                .values(last_modified=sa.bindparam("new")),
                changed,
            )
