"""A document's first version keeps its text as the rest of its first page's zstd frame.

The text of a version is read from its page: the page's body holds it, in markup. The
archive kept it twice, in the body (``bodies.data``) and in the version's pack
(``versions.packed``), each compressed on its own. Now the first page of a document is
compressed as a zstd frame left open (body codec ``zstd-open``), and the pack of the
version read from it is stored in two parts (text codec ``zstd-page``): its fields and
provenance compressed with the text dictionary as before, then its text as the rest of
the page's frame, where what the page already holds costs a reference (about 95 bytes
less a first version on ``bench/archive_storage.py``). Reading the text decompresses
the page first; reading the page alone is as before.

Upgrading converts the first versions of documents whose first page and pack are each
compressed with their dictionary. Downgrading compresses those packs whole again and
closes their pages' frames. The conversions are frozen here: the codes of the codecs
(``archive.schema.TEXT_CODECS`` and ``BODY_CODECS``), the level and the pack's layout.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-05 04:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import zstandard
from alembic import op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEVEL = 10
#: Stored codes (revision 0022's ``Coded``): the n-th listed name is ``chr(n)``.
TEXT_ZSTD, TEXT_PAGE = "\x02", "\x04"
BODY_ZSTD, BODY_OPEN = "\x01", "\x04"
PAGE_OUTCOME = "new_document"
VERSIONS_AT_ONCE = 500

versions = sa.table(
    "versions",
    sa.column("id", sa.Integer),
    sa.column("document_id", sa.String),
    sa.column("number", sa.Integer),
    sa.column("packed", sa.LargeBinary),
    sa.column("codec", sa.String),
    sa.column("dict_id", sa.Integer),
)
bodies = sa.table(
    "bodies",
    sa.column("sha256", sa.LargeBinary),
    sa.column("codec", sa.String),
    sa.column("dict_id", sa.Integer),
    sa.column("data", sa.LargeBinary),
)
captures = sa.table(
    "captures",
    sa.column("id", sa.Integer),
    sa.column("document_id", sa.String),
    sa.column("version_id", sa.Integer),
    sa.column("outcome", sa.String),
    sa.column("body_sha256", sa.LargeBinary),
)
dictionaries = sa.table(
    "compression_dicts", sa.column("id", sa.Integer), sa.column("data", sa.LargeBinary)
)


def upgrade() -> None:
    _MADE.clear()
    bind = op.get_bind()
    held = _dictionaries(bind)
    for rows in _batches(bind, TEXT_ZSTD, versions.c.number == 1, versions.c.dict_id.is_not(None)):
        pages = _pages(bind, rows)
        texts, pages_done, followed = [], [], set()
        for row in rows:
            page = pages.get(row.id)
            if page is None or page.codec != BODY_ZSTD or page.dict_id is None:
                continue
            if page.sha256 in followed:  # one page, the first of two documents: one text
                continue
            text_dict, page_dict = held[row.dict_id], held[page.dict_id]
            pack = _decompress(bytes(row.packed), text_dict)
            cut = _text_start(pack)
            if cut is None:
                continue
            followed.add(page.sha256)
            body = _decompress(bytes(page.data), page_dict)
            head = _compressor(text_dict).compress(pack[:cut])
            stream = _compressor(page_dict).compressobj()
            first = stream.compress(body) + stream.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
            rest = stream.compress(pack[cut:]) + stream.flush(zstandard.COMPRESSOBJ_FLUSH_FINISH)
            texts.append({"_id": row.id, "packed": _length(len(head)) + head + rest})
            pages_done.append({"_sha": page.sha256, "data": first})
        _write(bind, texts, TEXT_PAGE, pages_done, BODY_OPEN)


def downgrade() -> None:
    _MADE.clear()
    bind = op.get_bind()
    held = _dictionaries(bind)
    for rows in _batches(bind, TEXT_PAGE):
        pages = _pages(bind, rows)
        texts = []
        for row in rows:
            page = pages.get(row.id)
            if page is None or page.codec != BODY_OPEN:
                raise RuntimeError(f"the page that version {row.id}'s text follows is missing")
            text_dict = held.get(row.dict_id) if row.dict_id is not None else None
            stored = bytes(row.packed)
            size, start = _read_length(stored)
            head = _decompress(stored[start : start + size], text_dict)
            stream = _decompressor(held[page.dict_id]).decompressobj()
            stream.decompress(bytes(page.data))
            pack = head + stream.decompress(stored[start + size :])
            texts.append({"_id": row.id, "packed": _compressor(text_dict).compress(pack)})
        _write(bind, texts, TEXT_ZSTD, [], BODY_ZSTD)
    while True:  # then close the pages' frames, their texts read
        rows = bind.execute(
            sa.select(bodies.c.sha256, bodies.c.data, bodies.c.dict_id)
            .where(bodies.c.codec == BODY_OPEN)
            .limit(VERSIONS_AT_ONCE)
        ).all()
        if not rows:
            return
        closed = []
        for row in rows:
            page_dict = held[row.dict_id]
            body = _decompressor(page_dict).decompressobj().decompress(bytes(row.data))
            closed.append({"_sha": row.sha256, "data": _compressor(page_dict).compress(body)})
        _write(bind, [], TEXT_ZSTD, closed, BODY_ZSTD)


def _batches(bind: Any, codec: str, *where: Any) -> Any:
    """The versions of text codec ``codec`` (and ``where``), VERSIONS_AT_ONCE at a time."""
    last = 0
    while True:
        rows = bind.execute(
            sa.select(
                versions.c.id,
                versions.c.document_id,
                versions.c.packed,
                versions.c.dict_id,
            )
            .where(versions.c.id > last, versions.c.codec == codec, *where)
            .order_by(versions.c.id)
            .limit(VERSIONS_AT_ONCE)
        ).all()
        if not rows:
            return
        last = rows[-1].id
        yield rows


def _pages(bind: Any, rows: Sequence[Any]) -> dict[int, Any]:
    """The first page of each version in ``rows`` (its capture's body), by version id."""
    found: dict[int, Any] = {}
    for row in bind.execute(
        sa.select(
            captures.c.version_id,
            bodies.c.sha256,
            bodies.c.codec,
            bodies.c.dict_id,
            bodies.c.data,
        )
        .join(bodies, bodies.c.sha256 == captures.c.body_sha256)
        .where(
            captures.c.document_id.in_({r.document_id for r in rows}),
            captures.c.version_id.in_([r.id for r in rows]),
            captures.c.outcome == PAGE_OUTCOME,
        )
        .order_by(captures.c.id)
    ):
        found.setdefault(row.version_id, row)
    return found


def _write(
    bind: Any,
    texts: list[dict[str, Any]],
    text_codec: str,
    pages: list[dict[str, Any]],
    body_codec: str,
) -> None:
    if texts:
        bind.execute(
            sa.update(versions)
            .where(versions.c.id == sa.bindparam("_id"))
            .values(packed=sa.bindparam("packed"), codec=text_codec),
            texts,
        )
    if pages:
        bind.execute(
            sa.update(bodies)
            .where(bodies.c.sha256 == sa.bindparam("_sha"))
            .values(data=sa.bindparam("data"), codec=body_codec),
            pages,
        )


def _dictionaries(bind: Any) -> dict[int, bytes]:
    return {
        int(i): bytes(d) for i, d in bind.execute(sa.select(dictionaries.c.id, dictionaries.c.data))
    }


#: (De)compressors by kind and dictionary, for one run of the revision (loading a
#: dictionary costs more than a page): emptied as each direction starts.
_MADE: dict[tuple[str, bytes | None], Any] = {}


def _compressor(dictionary: bytes | None) -> zstandard.ZstdCompressor:
    key = ("c", dictionary)
    if key not in _MADE:
        zdict = zstandard.ZstdCompressionDict(dictionary) if dictionary is not None else None
        _MADE[key] = zstandard.ZstdCompressor(level=LEVEL, dict_data=zdict)
    made: zstandard.ZstdCompressor = _MADE[key]
    return made


def _decompressor(dictionary: bytes | None) -> zstandard.ZstdDecompressor:
    key = ("d", dictionary)
    if key not in _MADE:
        zdict = zstandard.ZstdCompressionDict(dictionary) if dictionary is not None else None
        _MADE[key] = zstandard.ZstdDecompressor(dict_data=zdict)
    made: zstandard.ZstdDecompressor = _MADE[key]
    return made


def _decompress(data: bytes, dictionary: bytes | None) -> bytes:
    return _decompressor(dictionary).decompress(data)


def _text_start(pack: bytes) -> int | None:
    """Where the text of a pack begins: after its fields and its provenance."""
    if not pack.startswith(b"\x01"):
        return None
    first = pack.index(b"\x00")
    return pack.index(b"\x00", first + 1) + 1


def _length(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _read_length(data: bytes) -> tuple[int, int]:
    n = shift = 0
    for i, byte in enumerate(data[:5]):
        n |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return n, i + 1
        shift += 7
    raise RuntimeError("a page-following pack has no length for its head")
