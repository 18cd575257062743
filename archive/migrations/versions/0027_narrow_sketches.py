"""Near-duplicate sketches keep 4 bits of each of their 64 bins instead of 8.

A version's sketch (``versions.sketch``) lets a near-duplicate candidate be dropped
before its text is read when the two sketches agree on fewer than half their bins. With
4 bits a bin, two different bins agree by chance once in 16 instead of once in 256: an
unrelated pair then agrees on about a quarter of the bins, still far below the floor,
and a pair at the 0.8 threshold on about 0.81, far above it (``archive.dedup.pack``).
Each sketch takes 32 bytes instead of 64 (about 31 B/page on
``bench/archive_storage.py``).

Upgrading keeps the low 4 bits of each stored bin. Downgrading computes each sketch
again from its version's text (8 bits a bin).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04 23:59:00.000000
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BINS = 64
VERSIONS_AT_ONCE = 500


def upgrade() -> None:
    def narrow(_version_id: int, sketch: bytes) -> bytes | None:
        if len(sketch) != BINS:  # not revision 0026's width: leave it to the text
            return None
        return bytes((sketch[i] & 0xF) | (sketch[i + 1] & 0xF) << 4 for i in range(0, BINS, 2))

    _rewrite(lambda _rows: narrow)


def downgrade() -> None:
    from sqlalchemy.orm import Session

    from archive import dedup, texts
    from archive.schema import Version

    bind = op.get_bind()
    reader = texts.TextReader(Session(bind=bind))
    table = Version.__table__

    def wide(rows: Sequence[Any]) -> Callable[[int, bytes], bytes | None]:
        full = bind.execute(
            sa.select(table.c.id, *texts.columns()).where(table.c.id.in_([r[0] for r in rows]))
        ).all()
        found = {
            row.id: bytes(v & 0xFF for v in dedup.sketch(dedup.shingles(reader.text(row))))
            for row in full
        }
        return lambda version_id, _sketch: found.get(version_id)

    _rewrite(wide)


def _rewrite(
    converter: Callable[[Sequence[Any]], Callable[[int, bytes], bytes | None]],
) -> None:
    """Every stored sketch, converted, in batches by version id."""
    bind = op.get_bind()
    versions = sa.table(
        "versions", sa.column("id", sa.Integer), sa.column("sketch", sa.LargeBinary)
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(versions.c.id, versions.c.sketch)
            .where(versions.c.id > last, versions.c.sketch.is_not(None))
            .order_by(versions.c.id)
            .limit(VERSIONS_AT_ONCE)
        ).all()
        if not rows:
            return
        last = rows[-1][0]
        convert = converter(rows)
        bind.execute(
            sa.update(versions)
            .where(versions.c.id == sa.bindparam("_id"))
            .values(sketch=sa.bindparam("new")),
            [{"_id": i, "new": convert(i, bytes(s))} for i, s in rows],
        )
