"""A capture's answers leave out what the capture's own columns say.

``captures.http`` keeps the status line and headers of every answer a fetch met. Two of
its values repeat the capture's columns: the first answer's address is the address
requested (``captures.url``), and each ``Date`` header is the fetch time
(``captures.fetched_at``) give or take a few seconds. The first answer's address is now
left out when it is the one requested, and a ``Date`` header is kept as its offset in
seconds from the fetch time when that gives it back exactly
(``archive.schema.answers_to_store``; about 44 B/page on ``bench/archive_storage.py``).
Readers put both back (``answers_read_back``); this revision keeps its own copy of both.

Upgrading and downgrading rewrite every capture's answers through those two functions.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-05 00:10:00.000000
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CAPTURES_AT_ONCE = 1000
#: The format of ``archive.compression.pack_json`` at this revision (pinned by revision
#: 0032, which added format 2: the code before 0032 reads format 1 alone).
JSON_FORMAT = 1
#: What SQLite's times counted from at this revision (revision 0016).
UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


# What ``archive.schema.answers_to_store`` and ``answers_read_back`` do at this
# revision, kept here so that a later change to them does not change this revision.
SPAN = 3600


def _http_date(at: datetime, offset: int = 0) -> str:
    moment = at.astimezone(timezone.utc).replace(microsecond=0) + timedelta(seconds=offset)
    return format_datetime(moment, usegmt=True)


def _offset(value: Any, at: datetime) -> Any:
    if not isinstance(value, str):
        return value
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return value
    if moment.tzinfo is None or _http_date(moment) != value:
        return value
    offset = int((moment - at.astimezone(timezone.utc).replace(microsecond=0)).total_seconds())
    return value if abs(offset) > SPAN else offset


def _to_store(answers: Any, requested: str, at: datetime) -> Any:
    stored = []
    for i, answer in enumerate(answers or ()):
        answer = dict(answer)
        if i == 0 and answer.get("url") == requested:
            del answer["url"]
        if answer.get("headers"):
            answer["headers"] = [
                [k, _offset(v, at) if str(k).lower() == "date" else v] for k, v in answer["headers"]
            ]
        stored.append(answer)
    return stored if answers else answers


def _read_back(stored: Any, requested: str, at: datetime) -> Any:
    answers = []
    for i, answer in enumerate(stored or ()):
        answer = dict(answer)
        if i == 0 and "url" not in answer:
            answer = {"url": requested, **answer}
        if answer.get("headers"):
            answer["headers"] = [
                [k, _http_date(at, v) if isinstance(v, int) and str(k).lower() == "date" else v]
                for k, v in answer["headers"]
            ]
        answers.append(answer)
    return answers if stored else stored


def upgrade() -> None:
    _rewrite(_to_store)


def downgrade() -> None:
    _rewrite(_read_back)


def _rewrite(convert: Callable[[Any, str, datetime], Any]) -> None:
    """Every capture's answers through ``convert(answers, url requested, fetch time)``,
    in batches by id (the columns' own types decode them; they are packed in the JSON
    format of this revision, :data:`JSON_FORMAT`, whatever the program's is now)."""
    from archive.compression import pack_json
    from archive.schema import Capture

    columns = Capture.__table__.c
    # The fetch time as stored, read here as this revision stored it (not through the
    # program's type, whose SQLite origin moved in revision 0035).
    fetched_at = sa.type_coerce(columns.fetched_at, sa.types.NullType()).label("fetched_at")
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.select(columns.id, columns.url, fetched_at, columns.http)
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
            .values(http=sa.bindparam("new", type_=sa.LargeBinary)),
            [
                {
                    "_id": r.id,
                    "new": pack_json(convert(r.http, r.url, _time(r.fetched_at)), JSON_FORMAT),
                }
                for r in rows
            ],
        )


def _time(stored: Any) -> datetime:
    """A stored fetch time at this revision: PostgreSQL's own, or on SQLite whole
    microseconds since 1970 (revision 0016; since 2026 from revision 0035)."""
    if isinstance(stored, datetime):
        return (
            stored.astimezone(timezone.utc)
            if stored.tzinfo
            else stored.replace(tzinfo=timezone.utc)
        )
    return UNIX_EPOCH + timedelta(microseconds=int(stored))
