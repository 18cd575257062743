"""An address's fetch state is kept once: where its newest capture says the same, its
``etag``, ``last_modified`` and ``last_fetched`` are NULL.

Every fetch wrote its time and its final answer's validators twice: on the capture
(``fetched_at``, and the ETag and Last-Modified headers in ``http``) and on the address
fetched, for the frontier's next conditional request. On ``bench/run.py``'s crawl under
the site's addresses the address's copies took 41 B/item. They are NULL now where the
address's newest capture (``archive.schema.newest_capture``) says the same; a validator
the address has not while that capture names one is the empty string (an address with
no capture of its own keeps its values as before). The program reads them with
``archive.schema.state_read``.

Upgrading compares each address with its newest capture, in this revision's own copy of
how the capture's columns and answers are read; downgrading writes every value back.
No column changes.

Revision ID: 0044
Revises: 0043
Create Date: 2026-12-06 18:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0044"
down_revision: str | None = "0043"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ADDRESSES_AT_ONCE = 1000
#: ``captures.etag`` and ``last_modified`` (revision 0020): a value that begins with it is
#: one the final answer does not say (the rest; nothing for none).
NOT_IN_ANSWER = "\x01"
#: ``addresses.last_modified`` (revision 0029): an exact HTTP date as this and its
#: seconds since 1970; a value that begins with a control character behind ``ESCAPE``.
MARK = "\x01"
ESCAPE = "\x1f"
#: What an address keeps for a validator it has not while its newest capture has one.
NONE = ""
#: The id of the newest capture of the address being updated.
NEWEST = "(SELECT max(c.id) FROM captures c WHERE c.address_id = addresses.id)"


def _http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(timezone.utc).replace(microsecond=0), usegmt=True)


def _coded_date(value: str) -> str:
    """``value`` as ``addresses.last_modified`` stores it."""
    if value[:1] < " " and value:
        return ESCAPE + value
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return value
    if moment.tzinfo is None or _http_date(moment) != value:
        return value
    return MARK + str(int(moment.timestamp()))


def _header(http: Any, name: str) -> str | None:
    """The final answer's header ``name`` (as ``captures.http`` keeps it since 0041)."""
    from archive.compression import unpack_json

    answers = unpack_json(bytes(http)) if http is not None else None
    if not answers:
        return None
    for key, value in answers[-1].get("headers") or ():
        if str(key).lower() == name:
            if name == "last-modified" and isinstance(value, int):
                return _http_date(datetime.fromtimestamp(value, timezone.utc))
            return str(value)
    return None


def _said(stored: str | None, http: Any, name: str) -> str | None:
    """A capture's validator from its column and its answers."""
    if stored is None:
        return _header(http, name)
    if stored.startswith(NOT_IN_ANSWER):
        return stored[1:] or None
    return stored


def _rewrite(upgrade: bool) -> None:
    bind = op.get_bind()
    addresses = sa.table(
        "addresses",
        sa.column("id", sa.Integer),
        sa.column("etag", sa.String),
        sa.column("last_modified", sa.String),
    )
    query = sa.text(
        "SELECT a.id, a.etag, a.last_modified, c.etag, c.last_modified, c.http "
        "FROM addresses a JOIN captures c ON c.id = "
        "(SELECT max(n.id) FROM captures n WHERE n.address_id = a.id) "
        "WHERE a.id > :last ORDER BY a.id LIMIT :n"
    )
    last = 0
    while True:
        rows = bind.execute(query, {"last": last, "n": ADDRESSES_AT_ONCE}).all()
        if not rows:
            return
        last = rows[-1][0]
        changed = []
        for address_id, etag, last_modified, c_etag, c_last_modified, http in rows:
            said_etag = _said(c_etag, http, "etag")
            said_date = _said(c_last_modified, http, "last-modified")
            coded_date = None if said_date is None else _coded_date(said_date)
            if upgrade:
                new = (_kept(etag, said_etag), _kept(last_modified, coded_date))
            else:
                new = (_whole(etag, said_etag), _whole(last_modified, coded_date))
            if new != (etag, last_modified):
                changed.append({"_id": address_id, "e": new[0], "m": new[1]})
        if changed:
            bind.execute(
                sa.update(addresses)
                .where(addresses.c.id == sa.bindparam("_id"))
                .values(etag=sa.bindparam("e"), last_modified=sa.bindparam("m")),
                changed,
            )


def _kept(value: str | None, said: str | None) -> str | None:
    """What the address keeps for ``value`` (as stored) beside what its capture says."""
    if value == said:
        return None
    return NONE if value is None else value


def _whole(stored: str | None, said: str | None) -> str | None:
    if stored is None:
        return said
    return stored or None


def upgrade() -> None:
    _rewrite(upgrade=True)
    op.execute(
        "UPDATE addresses SET last_fetched = NULL WHERE last_fetched = "
        f"(SELECT fetched_at FROM captures WHERE id = {NEWEST})"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE addresses SET last_fetched = "
        f"(SELECT fetched_at FROM captures WHERE id = {NEWEST}) WHERE last_fetched IS NULL"
    )
    _rewrite(upgrade=False)
