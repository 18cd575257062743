"""Near-duplicate keys keep 31 bits instead of 64.

Each version of a text long enough has 16 rows in ``near_dup_keys``, ``(key,
version_id)``: on SQLite a 64-bit key takes 8 bytes of a row of about 16. Two texts'
keys need only to differ when their bands differ; 31 bits keep chance matches rare (about
one chance candidate in 300 new texts at 25,000 versions, dropped by the sketch before
any text is read) and fit SQLite's 4-byte integers: about 62 B/page on the storage bench
(``archive.dedup.KEY_BITS``). PostgreSQL's ``BIGINT`` column keeps its width; its keys
are narrowed too, so both databases find the same candidates.

Upgrading keeps each key's low 31 bits (two keys of one version that then agree become
one row). Downgrading computes the 64-bit keys again from each version's text.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 16:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COPY = "near_dup_keys_narrow"
MASK = (1 << 31) - 1
BATCH = 500


def upgrade() -> None:
    op.execute(
        f"CREATE TABLE {COPY} AS SELECT DISTINCT key & {MASK} AS key, version_id FROM near_dup_keys"
    )
    op.execute("DELETE FROM near_dup_keys")
    op.execute(f"INSERT INTO near_dup_keys (key, version_id) SELECT key, version_id FROM {COPY}")
    op.execute(f"DROP TABLE {COPY}")


def downgrade() -> None:
    from sqlalchemy.orm import Session

    from archive import dedup, texts
    from archive.schema import Version

    bind = op.get_bind()
    session = Session(bind=bind)
    reader = texts.TextReader(session)
    ids = list(
        bind.execute(sa.text("SELECT DISTINCT version_id FROM near_dup_keys ORDER BY 1")).scalars()
    )
    table = sa.table("near_dup_keys", sa.column("key"), sa.column("version_id"))
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        rows = bind.execute(
            sa.select(Version.__table__.c.id, *texts.columns()).where(
                Version.__table__.c.id.in_(chunk)
            )
        ).all()
        wide = [
            {"key": key, "version_id": row.id}
            for row in rows
            for key in dict.fromkeys(dedup.wide_band_keys(reader.text(row)))
        ]
        bind.execute(sa.delete(table).where(table.c.version_id.in_(chunk)))
        if wide:
            bind.execute(sa.insert(table), wide)
