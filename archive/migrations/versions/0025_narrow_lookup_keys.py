"""The two lookups of near-duplicate detection keep narrower keys.

* **Texts already archived** are found by their digest, ``versions.text_hash``: its
  index now keeps the digest's first 8 bytes (``ix_versions_text_key``, on
  ``substr(text_hash, 1, 8)``) instead of all 32; the query compares the prefix through
  the index, then the whole digest on the few rows it finds. About 24 B/page on
  ``bench/archive_storage.py``.
* **Near-duplicate keys** keep 23 bits instead of 31 (``archive.dedup.KEY_BITS``):
  SQLite stores a key in 3 bytes, not 4 (sixteen rows a version: about 16 B/page).
  Chance matches stay rare: 16 keys of a new text against 16 of each of 25,000
  versions give about 0.8 chance candidates a new text, which the stored sketch drops
  before any text is read. PostgreSQL's ``BIGINT`` keeps its width; its keys are
  narrowed too, so both databases find the same candidates.

Upgrading keeps each key's low 23 bits (two keys of one version that then agree become
one row). Downgrading computes the 31-bit keys again from each version's text.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04 23:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COPY = "near_dup_keys_narrow"
#: As ``archive.dedup.KEY_BITS`` at this revision and the one before.
NARROW = (1 << 23) - 1
WIDE = (1 << 31) - 1
PREFIX = 8
VERSIONS_AT_ONCE = 500


def upgrade() -> None:
    op.drop_index("ix_versions_text_hash", table_name="versions")
    op.create_index(
        "ix_versions_text_key", "versions", [sa.text(f"substr(text_hash, 1, {PREFIX})")]
    )
    _rewrite_keys(f"SELECT DISTINCT key & {NARROW} AS key, version_id FROM near_dup_keys")


def downgrade() -> None:
    op.drop_index("ix_versions_text_key", table_name="versions")
    op.create_index("ix_versions_text_hash", "versions", ["text_hash"])
    _wide_keys_again()


def _rewrite_keys(select_sql: str) -> None:
    op.execute(f"CREATE TABLE {COPY} AS {select_sql}")
    op.execute("DELETE FROM near_dup_keys")
    op.execute(f"INSERT INTO near_dup_keys (key, version_id) SELECT key, version_id FROM {COPY}")
    op.execute(f"DROP TABLE {COPY}")


def _wide_keys_again() -> None:
    """Every indexed version's 31-bit keys, computed again from its text."""
    from sqlalchemy.orm import Session

    from archive import dedup, texts
    from archive.schema import Version

    bind = op.get_bind()
    reader = texts.TextReader(Session(bind=bind))
    ids = list(
        bind.execute(sa.text("SELECT DISTINCT version_id FROM near_dup_keys ORDER BY 1")).scalars()
    )
    table = sa.table("near_dup_keys", sa.column("key"), sa.column("version_id"))
    for start in range(0, len(ids), VERSIONS_AT_ONCE):
        chunk = ids[start : start + VERSIONS_AT_ONCE]
        rows = bind.execute(
            sa.select(Version.__table__.c.id, *texts.columns()).where(
                Version.__table__.c.id.in_(chunk)
            )
        ).all()
        wide = [
            {"key": key, "version_id": row.id}
            for row in rows
            for key in dict.fromkeys(k & WIDE for k in dedup.wide_band_keys(reader.text(row)))
        ]
        bind.execute(sa.delete(table).where(table.c.version_id.in_(chunk)))
        if wide:
            bind.execute(sa.insert(table), wide)
