"""The small JSON values kept beside each fetch are stored packed.

A crawl keeps, with every fetch, the status lines and headers of its answers
(``captures.http``, about 460 bytes of JSON text) and the listing entry that linked the
page (``captures.listing``, and on the page's addresses, ``addresses.listing``: about 330
bytes each). Their keys, the newsroom's address, header names and most values repeat
from one fetch to the next. They are stored as a format byte and a zstd frame compressed
against a prefix of those repeats written in ``archive.compression`` (``pack_json``):
about 115 and 160 bytes. No SQL reads inside them; the program reads the same values.

A capture's ETag, Last-Modified and media type, which its final answer's headers hold
too, are kept once: the columns are NULL where the header says the same
(the rule of ``archive.schema.to_header_column``, of which this revision keeps its own
copy; about 77 bytes a fetch).

Upgrading changes the three columns from JSON to binary and packs every value (a JSON
``null`` becomes SQL NULL), then empties the validator columns the answers repeat;
downgrading fills them again and unpacks the values back to JSON text.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 19:40:00.000000
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (("captures", "http"), ("captures", "listing"), ("addresses", "listing"))
BATCH = 1000
#: The format of ``archive.compression.pack_json`` this revision writes.
FORMAT = 1


def _postgres() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def _retype(table: str, columns: Sequence[str], new: Any, old: Any) -> None:
    """Change ``columns`` of ``table`` from ``old`` to ``new`` (on SQLite one copy)."""
    with op.batch_alter_table(table) as batch_op:
        for column in columns:
            batch_op.alter_column(column, type_=new, existing_type=old, existing_nullable=True)


def _batches(table: str, columns: Sequence[str], where: str) -> Iterator[Sequence[Any]]:
    """``(id, *columns)`` of the rows of ``table`` that ``where`` keeps, by id, a batch at
    a time."""
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.text(
                f"SELECT id, {', '.join(columns)} FROM {table} WHERE id > :last AND {where} "
                f"ORDER BY id LIMIT {BATCH}"
            ),
            {"last": last},
        ).all()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _update(table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Set ``columns`` of each row ``(id, *values)`` of ``table``."""
    if not rows:
        return
    target = sa.table(table, sa.column("id"), *(sa.column(c) for c in columns))
    op.get_bind().execute(
        sa.update(target)
        .where(target.c.id == sa.bindparam("key"))
        .values({c: sa.bindparam(f"v_{c}") for c in columns}),
        [
            {"key": row[0], **{f"v_{c}": v for c, v in zip(columns, row[1:], strict=True)}}
            for row in rows
        ],
    )


def _rewrite(table: str, column: str, convert: Any) -> None:
    """Every non-NULL value of ``table.column`` through ``convert``."""
    for rows in _batches(table, [column], f"{column} IS NOT NULL"):
        _update(table, [column], [(row[0], convert(row[1])) for row in rows])


def _text(value: bytes | memoryview | str) -> str:
    """A stored JSON text, whichever form the driver gives it in."""
    return value if isinstance(value, str) else bytes(value).decode("utf-8")


def _packed(value: bytes | memoryview | str) -> bytes | None:
    from archive.compression import pack_json

    parsed = json.loads(_text(value))
    return None if parsed is None else pack_json(parsed, FORMAT)


def _unpacked(value: bytes | memoryview) -> bytes:
    from archive.compression import unpack_json

    return json.dumps(unpack_json(bytes(value))).encode("utf-8")


# What ``archive.schema.to_header_column`` and ``from_header_column`` did at this
# revision, kept here so that a later change to them does not change this revision.
HEADERS = {"etag": "etag", "last_modified": "last-modified", "content_type": "content-type"}
MARK = "\x01"


def _header(answers: list[Any] | None, column: str) -> str | None:
    if not answers:
        return None
    for key, value in answers[-1].get("headers") or ():
        if str(key).lower() == HEADERS[column]:
            return str(value)
    return None


def _to_column(value: str | None, answers: list[Any] | None, column: str) -> str | None:
    if value == _header(answers, column):
        return None
    if value is None:
        return MARK
    return MARK + value if value.startswith(MARK) else value


def _from_column(stored: str | None, answers: list[Any] | None, column: str) -> str | None:
    if stored is None:
        return _header(answers, column)
    return (stored[1:] or None) if stored.startswith(MARK) else stored


def _validators(convert: Any) -> None:
    """Each capture with answers: its three header columns through ``convert(value,
    answers, column)`` (:func:`_to_column` or :func:`_from_column`)."""
    from archive.compression import unpack_json

    names = tuple(HEADERS)
    for rows in _batches("captures", ["http", *names], "http IS NOT NULL"):
        changed = []
        for row in rows:
            answers = unpack_json(bytes(row[1]))
            new = tuple(convert(value, answers, n) for n, value in zip(names, row[2:], strict=True))
            if new != tuple(row[2:]):
                changed.append((row[0], *new))
        _update("captures", names, changed)


def _tables() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for table, column in COLUMNS:
        found.setdefault(table, []).append(column)
    return found


def upgrade() -> None:
    for table, columns in _tables().items():
        if _postgres():
            for column in columns:
                op.execute(
                    f"ALTER TABLE {table} ALTER COLUMN {column} TYPE bytea "
                    f"USING convert_to({column}::text, 'UTF8')"
                )
        else:
            _retype(table, columns, sa.LargeBinary(), sa.JSON())
        for column in columns:
            _rewrite(table, column, _packed)
    _validators(_to_column)


def downgrade() -> None:
    _validators(_from_column)
    for table, columns in _tables().items():
        for column in columns:
            _rewrite(table, column, _unpacked)
        if _postgres():
            for column in columns:
                op.execute(
                    f"ALTER TABLE {table} ALTER COLUMN {column} TYPE json "
                    f"USING convert_from({column}, 'UTF8')::json"
                )
        else:
            _retype(table, columns, sa.JSON(), sa.LargeBinary())
            for column in columns:
                op.execute(f"UPDATE {table} SET {column} = CAST({column} AS TEXT)")
