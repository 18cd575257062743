"""SQLite keeps every time as whole microseconds since 1970, not as text.

SQLAlchemy writes a SQLite ``DATETIME`` as 26 characters (``2026-12-03 08:30:00.123456``).
An archive holds about thirteen of them per page fetched (a version's first and last
sighting, the capture, the body, each address's three, the document's, the change log
and its index), some 340 bytes per page of a 2,900-byte archive. As an integer the same
instant, exact to the microsecond, takes 8 bytes, and integers sort in time order, so
every comparison and ``ORDER BY`` on these columns means what it meant.

The columns stay declared ``DATETIME`` (SQLite gives that declaration numeric affinity,
which keeps integers as integers), so no table is copied: upgrading rewrites the values
in place, each text value to the ``strftime('%s')`` of its whole seconds times a million
plus its fraction's digits (never strftime of the fraction, which SQLite rounds to the
millisecond); downgrading writes the text back. ``archive.schema.UTCDateTime`` converts at
the column, so the program still binds and reads aware UTC datetimes.

PostgreSQL keeps ``timestamp with time zone`` (8 bytes already): nothing changes there.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 13:00:00.000000
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Every time column at revision 0015, by table.
TIMES = {
    "documents": ("first_seen", "last_seen", "deleted_at"),
    "addresses": ("first_seen", "last_seen", "last_fetched"),
    "compression_dicts": ("created",),
    "bodies": ("stored_at",),
    "runs": ("started_at", "finished_at", "heartbeat_at"),
    "versions": ("first_seen", "last_seen"),
    "captures": ("fetched_at",),
    "changes": ("at",),
    "language_links": ("first_seen",),
    "locks": ("acquired_at", "heartbeat_at"),
    "furniture_models": ("learned_at",),
    "reports": ("found_at", "removed_at"),
}


def _to_integer(column: str) -> str:
    # '2026-12-03 08:30:00.123456': the whole seconds of the first 19 characters (strftime
    # given the fraction rounds it to the millisecond, so .9995 and above would count
    # the next second), then the six digits after the point (an empty fraction casts to 0).
    return (
        f"CAST(strftime('%s', substr({column}, 1, 19)) AS INTEGER) * 1000000"
        f" + CAST(substr({column} || '000000', 21, 6) AS INTEGER)"
    )


def _to_text(column: str) -> str:
    return (
        f"strftime('%Y-%m-%d %H:%M:%S', {column} / 1000000, 'unixepoch')"
        f" || '.' || printf('%06d', {column} % 1000000)"
    )


def _rewrite(convert: Callable[[str], str], stored: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, columns in TIMES.items():
        for column in columns:
            op.execute(
                f"UPDATE {table} SET {column} = {convert(column)} "
                f"WHERE typeof({column}) = '{stored}'"
            )


def upgrade() -> None:
    _rewrite(_to_integer, "text")


def downgrade() -> None:
    _rewrite(_to_text, "integer")
