"""SQLite counts times from the start of 2026 instead of 1970.

Since revision 0016 SQLite keeps every time as whole microseconds, an integer. Counted
from 1970 an instant of this decade needs 51 bits, which SQLite stores in 8 bytes; counted
from 2026-01-01 it fits in 48 (SQLite's 6-byte integers reach 2^47 microseconds, 4.46
years, either side): every time from mid-2021 to mid-2030 takes 6 bytes, and those
outside 8 as before. An archive keeps about thirteen times a page fetched (a version's
first and last sighting, the capture, the body, the document's two, each address's
three, the change log and its index).

Upgrading subtracts the new origin from every stored time, downgrading adds it back:
exact, and order-preserving, so every comparison and ``ORDER BY`` means what it meant.
``archive.schema.UTCDateTime`` converts at the column, so the program still binds and
reads aware UTC datetimes.

PostgreSQL keeps ``timestamp with time zone``: nothing changes there.

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-06 04:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0035"
down_revision: str | None = "0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: 2026-01-01 in microseconds since 1970 (``archive.schema.EPOCH_UNIX_MICROS`` at this
#: revision).
ORIGIN = 1_767_225_600_000_000

#: Every time column at revision 0034, by table.
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


def _shift(sign: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, columns in TIMES.items():
        for column in columns:
            op.execute(
                f"UPDATE {table} SET {column} = {column} {sign} {ORIGIN} "
                f"WHERE typeof({column}) = 'integer'"
            )


def upgrade() -> None:
    _shift("-")


def downgrade() -> None:
    _shift("+")
