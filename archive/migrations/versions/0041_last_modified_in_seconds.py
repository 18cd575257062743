"""A fetch's answers keep a ``Last-Modified`` header as seconds since 1970.

``captures.http`` keeps the status line and headers of every answer a fetch met. Since
revision 0028 a ``Date`` header is kept as its offset from the fetch time; a
``Last-Modified`` header, an HTTP date as well but months or years before the fetch, was
kept as its 29 characters, which the packed JSON's compression hardly shortened. It is
now the number of seconds since 1970 where ``archive.schema.http_date`` writes that back
exactly (a number: a header value is otherwise always a string), as revision 0029 did
for the addresses' column (``archive.schema.answers_to_store``; about 13 B/item on
``bench/run.py``).

Upgrading and downgrading rewrite every capture's answers, in this revision's own copy of
the conversion.

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-07 00:20:00.000000
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0041"
down_revision: str | None = "0040"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CAPTURES_AT_ONCE = 1000
#: The format of ``archive.compression.pack_json`` since revision 0032.
FORMAT = 2
HEADER = "last-modified"


def _http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(timezone.utc).replace(microsecond=0), usegmt=True)


def _seconds(value: Any) -> Any:
    """An exact HTTP date as seconds since 1970; any other value as it is."""
    if not isinstance(value, str):
        return value
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return value
    if moment.tzinfo is None or _http_date(moment) != value:
        return value
    return int(moment.timestamp())


def _text(value: Any) -> Any:
    """Seconds since 1970 as the HTTP date they were; any other value as it is."""
    if isinstance(value, int) and not isinstance(value, bool):
        return _http_date(datetime.fromtimestamp(value, timezone.utc))
    return value


def _convert(change: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def convert(answers: Any) -> Any:
        if not isinstance(answers, list):
            return answers
        out = []
        for answer in answers:
            if isinstance(answer, dict) and answer.get("headers"):
                answer = {
                    **answer,
                    "headers": [
                        [name, change(value) if str(name).lower() == HEADER else value]
                        for name, value in answer["headers"]
                    ],
                }
            out.append(answer)
        return out

    return convert


def _rewrite(convert: Callable[[Any], Any]) -> None:
    """Every capture's answers through ``convert``, in batches by id."""
    from archive.compression import pack_json, unpack_json

    bind = op.get_bind()
    captures = sa.table("captures", sa.column("id", sa.Integer), sa.column("http", sa.LargeBinary))
    last = 0
    while True:
        rows = bind.execute(
            sa.select(captures.c.id, captures.c.http)
            .where(captures.c.id > last, captures.c.http.is_not(None))
            .order_by(captures.c.id)
            .limit(CAPTURES_AT_ONCE)
        ).all()
        if not rows:
            return
        last = rows[-1].id
        changed = []
        for r in rows:
            stored = bytes(r.http)
            packed = pack_json(convert(unpack_json(stored)), FORMAT)
            if packed != stored:
                changed.append({"_id": r.id, "new": packed})
        if changed:
            bind.execute(
                sa.update(captures)
                .where(captures.c.id == sa.bindparam("_id"))
                .values(http=sa.bindparam("new")),
                changed,
            )


def upgrade() -> None:
    _rewrite(_convert(_seconds))


def downgrade() -> None:
    _rewrite(_convert(_text))
