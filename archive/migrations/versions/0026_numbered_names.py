"""A version's sources and fields of work keep the numbers of their names.

Each version listed its sources and fields of work by name, a few dozen names that
thousands of rows repeat (about 80 B/page on ``bench/archive_storage.py``). The names
are now stored once, in the new table ``names``, numbered in the order the archive first
met them, and the two columns hold JSON arrays of those numbers (``archive.names``). A
name longer than 200 characters stays in its list as it is.

Upgrading numbers every name the versions hold and rewrites the two lists of each
version; downgrading writes the names back and drops the table.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04 23:50:00.000000
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: As ``archive.names.NAME_MAX`` at this revision (a revision never changes).
NAME_MAX = 200
COLUMNS = ("sources", "fields_of_work")
VERSIONS_AT_ONCE = 1000

VERSIONS = sa.table(
    "versions",
    sa.column("id", sa.Integer),
    sa.column("sources", sa.JSON),
    sa.column("fields_of_work", sa.JSON),
)
NAMES = sa.table("names", sa.column("id", sa.Integer), sa.column("name", sa.String))


def upgrade() -> None:
    op.create_table(
        "names",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_names")),
        sa.UniqueConstraint("name", name=op.f("uq_names_name")),
    )
    numbers: dict[str, int] = {}

    def number(value: Any) -> Any:
        if not isinstance(value, str) or len(value) > NAME_MAX:
            return value
        if value not in numbers:
            numbers[value] = len(numbers) + 1
        return numbers[value]

    _rewrite(number)
    bind = op.get_bind()
    rows = [{"id": i, "name": name} for name, i in numbers.items()]
    for start in range(0, len(rows), VERSIONS_AT_ONCE):
        bind.execute(sa.insert(NAMES), rows[start : start + VERSIONS_AT_ONCE])
    if bind.dialect.name == "postgresql" and rows:
        # The rows above were given their ids: the sequence goes on after them.
        op.execute("SELECT setval(pg_get_serial_sequence('names', 'id'), max(id)) FROM names")


def downgrade() -> None:
    bind = op.get_bind()
    names = {int(i): str(n) for i, n in bind.execute(sa.select(NAMES.c.id, NAMES.c.name))}

    def name(value: Any) -> Any:
        return names[value] if isinstance(value, int) else value

    _rewrite(name)
    op.drop_table("names")


def _rewrite(convert: Callable[[Any], Any]) -> None:
    """Every version's two lists, each value converted, in batches by id."""
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.select(VERSIONS.c.id, *(VERSIONS.c[c] for c in COLUMNS))
            .where(VERSIONS.c.id > last)
            .order_by(VERSIONS.c.id)
            .limit(VERSIONS_AT_ONCE)
        ).all()
        if not rows:
            return
        last = rows[-1].id
        changed = []
        for row in rows:
            values = {c: _converted(getattr(row, c), convert) for c in COLUMNS}
            changed.append({"_id": row.id, **values})
        bind.execute(
            sa.update(VERSIONS)
            .where(VERSIONS.c.id == sa.bindparam("_id"))
            .values({c: sa.bindparam(c) for c in COLUMNS}),
            changed,
        )


def _converted(stored: Any, convert: Callable[[Any], Any]) -> list[Any]:
    values = json.loads(stored) if isinstance(stored, str) else stored
    return [convert(v) for v in values or []]
