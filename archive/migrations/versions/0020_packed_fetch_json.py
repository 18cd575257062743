"""The small JSON values kept beside each fetch are stored packed.

A crawl keeps, with every fetch, the status lines and headers of its answers
(``captures.http``, about 460 bytes of JSON text) and the listing entry that linked the
page (``captures.listing``, and on the page's addresses, ``addresses.listing``: about 330
bytes each). Their keys, the newsroom's address, header names and most values repeat
from one fetch to the next. They are stored as a format byte and a zstd frame compressed
against a prefix of those repeats written in ``archive.compression`` (``pack_json``):
about 105 and 160 bytes. No SQL reads inside them; the program reads the same values.

A capture's ETag, Last-Modified and media type, which its final answer's headers hold
too, are kept once: the columns are NULL where the header says the same
(``archive.schema.to_header_column``; about 77 bytes a fetch).

Upgrading changes the three columns from JSON to binary and packs every value (a JSON
``null`` becomes SQL NULL), then empties the validator columns the answers repeat;
downgrading fills them again and unpacks the values back to JSON text.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 19:40:00.000000
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (("captures", "http"), ("captures", "listing"), ("addresses", "listing"))
BATCH = 1000


def _postgres() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def _retype(table: str, column: str, new: Any, old: Any) -> None:
    with op.batch_alter_table(table) as batch_op:
        batch_op.alter_column(column, type_=new, existing_type=old, existing_nullable=True)


def _rewrite(table: str, column: str, convert: Any) -> None:
    """Every non-NULL value of ``table.column`` through ``convert``, in batches by id."""
    bind = op.get_bind()
    target = sa.table(table, sa.column("id"), sa.column(column, sa.LargeBinary()))
    last = 0
    while True:
        rows = bind.execute(
            sa.text(
                f"SELECT id, {column} FROM {table} WHERE id > :last AND {column} IS NOT NULL "
                f"ORDER BY id LIMIT {BATCH}"
            ),
            {"last": last},
        ).all()
        if not rows:
            return
        bind.execute(
            sa.update(target)
            .where(target.c.id == sa.bindparam("key"))
            .values({column: sa.bindparam("value")}),
            [{"key": row[0], "value": convert(row[1])} for row in rows],
        )
        last = rows[-1][0]


def _text(value: bytes | memoryview | str) -> str:
    """A stored JSON text, whichever form the driver gives it in."""
    return value if isinstance(value, str) else bytes(value).decode("utf-8")


def _packed(value: bytes | memoryview | str) -> bytes | None:
    from archive.compression import pack_json

    parsed = json.loads(_text(value))
    return None if parsed is None else pack_json(parsed)


def _unpacked(value: bytes | memoryview) -> bytes:
    from archive.compression import unpack_json

    return json.dumps(unpack_json(bytes(value))).encode("utf-8")


def _validators(convert: Any) -> None:
    """Each capture with answers: its three header columns through ``convert(value,
    answers, column)`` (``archive.schema.to_header_column`` or ``from_header_column``)."""
    from archive.compression import unpack_json

    bind = op.get_bind()
    names = ("etag", "last_modified", "content_type")
    target = sa.table("captures", sa.column("id"), *(sa.column(n) for n in names))
    last = 0
    while True:
        rows = bind.execute(
            sa.text(
                f"SELECT id, http, {', '.join(names)} FROM captures "
                f"WHERE id > :last AND http IS NOT NULL ORDER BY id LIMIT {BATCH}"
            ),
            {"last": last},
        ).all()
        if not rows:
            return
        values = []
        for row in rows:
            answers = unpack_json(bytes(row[1]))
            new = {n: convert(row[2 + i], answers, n) for i, n in enumerate(names)}
            if any(new[n] != row[2 + i] for i, n in enumerate(names)):
                values.append({"key": row[0], **{f"v_{n}": new[n] for n in names}})
        if values:
            bind.execute(
                sa.update(target)
                .where(target.c.id == sa.bindparam("key"))
                .values({n: sa.bindparam(f"v_{n}") for n in names}),
                values,
            )
        last = rows[-1][0]


def upgrade() -> None:
    from archive.schema import to_header_column

    for table, column in COLUMNS:
        if _postgres():
            op.execute(
                f"ALTER TABLE {table} ALTER COLUMN {column} TYPE bytea "
                f"USING convert_to({column}::text, 'UTF8')"
            )
        else:
            _retype(table, column, sa.LargeBinary(), sa.JSON())
        _rewrite(table, column, _packed)
    _validators(to_header_column)


def downgrade() -> None:
    from archive.schema import from_header_column

    _validators(from_header_column)
    for table, column in COLUMNS:
        _rewrite(table, column, _unpacked)
        if _postgres():
            op.execute(
                f"ALTER TABLE {table} ALTER COLUMN {column} TYPE json "
                f"USING convert_from({column}, 'UTF8')::json"
            )
        else:
            _retype(table, column, sa.JSON(), sa.LargeBinary())
            op.execute(f"UPDATE {table} SET {column} = CAST({column} AS TEXT)")
