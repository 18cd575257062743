"""A version's title, byline and attachments are kept in its compressed pack.

No query filters, sorts or groups on them: like the text and the provenance (revision
0007) they are read back through ``archive.texts``, so they join the version's pack,
compressed with them, instead of plain columns (the title alone took about 94 B/page on
``bench/archive_storage.py``). A pack that holds them begins with one byte (1), then the
three as one compact JSON array and a NUL; the rest is the pack as before.

Upgrading moves the three into every version's pack, empties the column ``title`` (kept,
``''``, for scripts that select it) and drops ``byline`` and ``attachments``;
downgrading adds those again and moves the fields back.
Each pack is decompressed and compressed again as it was (with the trained dictionary it
named, or, for a delta, against its base's new pack; a pack kept uncompressed that grows
past the program's threshold, or a delta zstd refuses, is compressed without a
dictionary). A page fetched again (``zstd-ref``,
revision 0017) was compressed against its version's pack without these fields, which
this revision leaves as it was: no body is touched.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04 21:00:00.000000
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
import zstandard
from alembic import op
from sqlalchemy.engine import Connection

from archive import compression

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: As ``archive.texts`` at this revision (a revision never changes).
FIELDS = ("title", "byline", "attachments")
MARK = b"\x01"
SEPARATOR = b"\x00"
#: The columns dropped (``title`` stays, empty).
DROPPED = ("byline", "attachments")
#: ``versions.codec`` as stored since revision 0022 (``archive.schema.TEXT_CODECS``).
CODECS = {"\x01": "identity", "\x02": "zstd", "\x03": "delta"}
DOCUMENTS_AT_ONCE = 500

#: ``versions`` with the columns the fields were kept in before this revision.
VERSIONS = sa.table(
    "versions",
    sa.column("id", sa.Integer),
    sa.column("document_id", sa.String),
    sa.column("number", sa.Integer),
    sa.column("packed", sa.LargeBinary),
    sa.column("codec", sa.String),
    sa.column("dict_id", sa.Integer),
    sa.column("base_id", sa.Integer),
    sa.column("title", sa.Text),
    sa.column("byline", sa.Text),
    sa.column("attachments", sa.JSON(none_as_null=True)),
)
DICTIONARIES = sa.table(
    "compression_dicts", sa.column("id", sa.Integer), sa.column("data", sa.LargeBinary)
)

#: (a pack, its row's fields' columns) -> (the new pack, the columns' new values).
Convert = Callable[[bytes, dict[str, Any]], "tuple[bytes, dict[str, Any]]"]


def _into_pack(data: bytes, columns: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
    values = [columns[name] for name in FIELDS]
    head = json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return MARK + head + SEPARATOR + data, {"title": ""}  # the other two are dropped next


def _out_of_pack(data: bytes, columns: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
    if not data.startswith(MARK):
        raise ValueError("a version's pack does not hold its title, byline and attachments")
    head, _, rest = data[1:].partition(SEPARATOR)
    return rest, dict(zip(FIELDS, json.loads(head), strict=True))


def upgrade() -> None:
    _rewrite(op.get_bind(), _into_pack)
    for name in DROPPED:
        op.execute(f"ALTER TABLE versions DROP COLUMN {name}")


def downgrade() -> None:
    # As revisions 0001 and 0006 made them.
    op.add_column("versions", sa.Column("byline", sa.Text(), nullable=True))
    op.add_column("versions", sa.Column("attachments", sa.JSON(), nullable=True))
    _rewrite(op.get_bind(), _out_of_pack)


def _documents(bind: Connection) -> Iterator[list[str]]:
    ids = sorted(bind.execute(sa.select(VERSIONS.c.document_id).distinct()).scalars())
    for start in range(0, len(ids), DOCUMENTS_AT_ONCE):
        yield ids[start : start + DOCUMENTS_AT_ONCE]


def _rewrite(bind: Connection, convert: Convert) -> None:
    """Every version's pack converted and compressed again as it was stored, and the
    fields' columns set as ``convert`` says."""
    codes = {name: code for code, name in CODECS.items()}
    dictionaries = {
        int(row.id): bytes(row.data)
        for row in bind.execute(sa.select(DICTIONARIES.c.id, DICTIONARIES.c.data))
    }
    written = FIELDS if convert is _out_of_pack else ("title",)
    update = (
        sa.update(VERSIONS)
        .where(VERSIONS.c.id == sa.bindparam("vid"))
        .values(
            packed=sa.bindparam("p"),
            codec=sa.bindparam("c"),
            dict_id=sa.bindparam("d"),
            base_id=sa.bindparam("b"),
            **{name: sa.bindparam("f_" + name) for name in written},
        )
    )
    for documents in _documents(bind):
        rows = bind.execute(
            sa.select(VERSIONS)
            .where(VERSIONS.c.document_id.in_(documents))
            .order_by(VERSIONS.c.document_id, VERSIONS.c.number)
        ).all()
        old: dict[int, bytes] = {}  # packs as they were, by version id
        new: dict[int, bytes] = {}  # packs as they become
        changes: list[dict[str, Any]] = []
        for row in rows:  # a base comes before its deltas (a lower number, same document)
            codec = CODECS.get(row.codec, row.codec)
            dictionary = dictionaries.get(row.dict_id) if row.dict_id is not None else None
            if codec == "delta":
                data = compression.decompress_with_prefix(row.packed, old[row.base_id])
            else:
                data = compression.decompress(codec, bytes(row.packed), dictionary)
            old[row.id] = data
            pack, columns = convert(data, {name: getattr(row, name) for name in FIELDS})
            new[row.id] = pack
            stored, codec_out, dict_id = _encode(pack, codec, dictionary, row, new)
            changes.append(
                {
                    "vid": row.id,
                    "p": stored,
                    "c": codes[codec_out],
                    "d": dict_id,
                    "b": row.base_id if codec_out == "delta" else None,
                    **{"f_" + name: columns[name] for name in written},
                }
            )
        if changes:
            bind.execute(update, changes)


def _encode(
    pack: bytes, codec: str, dictionary: bytes | None, row: Any, new: dict[int, bytes]
) -> tuple[bytes, str, int | None]:
    """(stored bytes, codec, dictionary id) of ``pack``, compressed as ``row`` was."""
    # Frames open with zstd's magic number, as the program wrote them before revision
    # 0033 (the revisions between read only such frames).
    if codec == "delta":
        try:
            delta = compression.compress_with_prefix(pack, new[row.base_id])
            return compression.with_magic(delta), "delta", None
        except zstandard.ZstdError:  # a base zstd will not take: whole, as the program does
            pass
    out_codec, stored = compression.compress(pack, dictionary, named=True)
    if out_codec == "zstd":
        stored = compression.with_magic(stored)
    return stored, out_codec, row.dict_id if out_codec == "zstd" and dictionary else None
