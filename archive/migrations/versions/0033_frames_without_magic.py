"""zstd frames are stored without zstd's magic number.

Every body and every version's pack is a zstd frame (or, for a text that follows its
page, a frame and the rest of the page's frame) beside a codec that already says it is
one: the 4 bytes zstd opens each frame with say nothing the archive does not know. The
program writes frames without them from this revision on (``archive.compression``) and
reads both forms, telling them apart by those bytes.

Upgrading takes them off every stored frame; downgrading puts them back, since the
program before reads only frames that open with them (``archive.compression``'s
``without_magic`` and ``with_magic``). Nothing else in a frame changes, so both
directions are exact. The stored codes of the codecs (``archive.schema``'s
``BODY_CODECS``, ``TEXT_CODECS``) and the layout of a page-following pack are frozen
here.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-06 01:10:00.000000
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from archive import compression  # zstd's magic number: a constant of the format

revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Stored codes (revision 0022's ``Coded``): the n-th listed name is ``chr(n)``.
BODY_FRAMES = ("\x01", "\x02", "\x04")  # zstd, zstd-ref, zstd-open (not identity)
TEXT_FRAMES = ("\x02", "\x03")  # zstd, delta (not identity)
TEXT_PAGE = "\x04"  # zstd-page: a varint length, the head frame, the rest of a frame
ROWS_AT_ONCE = 500

bodies = sa.table(
    "bodies",
    sa.column("sha256", sa.LargeBinary),
    sa.column("codec", sa.String),
    sa.column("data", sa.LargeBinary),
)
versions = sa.table(
    "versions",
    sa.column("id", sa.Integer),
    sa.column("codec", sa.String),
    sa.column("packed", sa.LargeBinary),
)


def upgrade() -> None:
    _convert(compression.without_magic)


def downgrade() -> None:
    _convert(compression.with_magic)


def _convert(change: Callable[[bytes], bytes]) -> None:
    """``change`` applied to every stored frame: each body's, each pack's (a page-following
    pack's head frame)."""

    def body(stored: bytes, codec: str) -> bytes:
        return change(stored) if codec in BODY_FRAMES else stored

    def pack(stored: bytes, codec: str) -> bytes:
        if codec in TEXT_FRAMES:
            return change(stored)
        if codec != TEXT_PAGE:
            return stored
        size, start = _read_length(stored)
        head = change(stored[start : start + size])
        return _length(len(head)) + head + stored[start + size :]

    bind = op.get_bind()
    for table, key, column, convert in (
        (bodies, bodies.c.sha256, "data", body),
        (versions, versions.c.id, "packed", pack),
    ):
        for rows in _rows(bind, table, key, table.c[column], table.c.codec):
            done = []
            for row_key, data, codec in rows:
                stored = bytes(data)
                new = convert(stored, codec)
                if new != stored:
                    done.append({"_key": row_key, column: new})
            _write(bind, table, key, column, done)


def _rows(bind: Any, table: Any, key: Any, data: Any, codec: Any) -> Any:
    """(key, data, codec) of every row of ``table``, ROWS_AT_ONCE at a time, in key order."""
    last = None
    while True:
        query = sa.select(key, data, codec).order_by(key).limit(ROWS_AT_ONCE)
        if last is not None:
            query = query.where(key > last)
        rows = bind.execute(query).all()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _write(bind: Any, table: Any, key: Any, column: str, rows: list[dict[str, Any]]) -> None:
    if rows:
        bind.execute(
            sa.update(table)
            .where(key == sa.bindparam("_key"))
            .values({column: sa.bindparam(column)}),
            rows,
        )


def _length(n: int) -> bytes:
    """``n`` as a base-128 varint, low group first."""
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _read_length(data: bytes) -> tuple[int, int]:
    """(the varint at the start of ``data``, where what follows it begins)."""
    n = shift = 0
    for i, byte in enumerate(data[:5]):
        n |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return n, i + 1
        shift += 7
    raise RuntimeError("a page-following pack has no length for its head")
