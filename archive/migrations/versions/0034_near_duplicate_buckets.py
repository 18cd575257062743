"""Near-duplicate keys as posting lists by bucket (``near_dup_buckets``, ``archive.lsh``).

``near_dup_keys`` kept one row per (key, version): sixteen a version, each paying its
b-tree cell, its record header and its 3-byte key, 172 B/page on
``bench/archive_storage.py`` at 25,000 items. Now a key's top 16 bits name a bucket,
one row, whose ``entries`` are base-128 varints of ``version_id << 7 | the key's low 7
bits``: about 75 B/page, with the same candidates found by reading the new text's
sixteen buckets by primary key.

Upgrading groups the keys by bucket (read in bucket order, one bucket in memory at a
time), each bucket's entries in (version, key) order;
downgrading makes the rows again from the entries (the table as revision 0011 made it).

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-06 04:20:00.000000
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0034"
down_revision: str | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: As ``archive.lsh.LOW_BITS`` at this revision: keys of 23 bits (revision 0025), 16 of
#: them naming the bucket.
LOW_BITS = 7
LOW_MASK = (1 << LOW_BITS) - 1
ROWS_AT_ONCE = 10_000

KEYS = sa.table("near_dup_keys", sa.column("key"), sa.column("version_id"))
BUCKETS = sa.table("near_dup_buckets", sa.column("bucket"), sa.column("entries"))


def upgrade() -> None:
    op.create_table(
        "near_dup_buckets",
        sa.Column("bucket", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("entries", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", name=op.f("pk_near_dup_buckets")),
    )
    bind = op.get_bind()
    # Bucket by bucket, each one's entries in (version, key) order, as the program appends
    # them; one bucket in memory at a time.
    bucket = KEYS.c.key.op(">>")(LOW_BITS)
    rows = bind.execute(
        sa.select(bucket, KEYS.c.key, KEYS.c.version_id).order_by(
            bucket, KEYS.c.version_id, KEYS.c.key
        ),
        execution_options={"stream_results": True, "yield_per": ROWS_AT_ONCE},
    )
    batch: list[dict[str, object]] = []
    current, entries = None, bytearray()
    for number, key, version_id in rows:
        if number != current:
            if current is not None:
                batch.append({"bucket": current, "entries": bytes(entries)})
            current, entries = number, bytearray()
            if len(batch) >= ROWS_AT_ONCE:
                bind.execute(sa.insert(BUCKETS), batch)
                batch = []
        entries += _encode(version_id << LOW_BITS | key & LOW_MASK)
    if current is not None:
        batch.append({"bucket": current, "entries": bytes(entries)})
    if batch:
        bind.execute(sa.insert(BUCKETS), batch)
    op.drop_table("near_dup_keys")


def downgrade() -> None:
    op.create_table(
        "near_dup_keys",
        sa.Column("key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("version_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"], ["versions.id"], name=op.f("fk_near_dup_keys_version_id_versions")
        ),
        sa.PrimaryKeyConstraint("key", "version_id", name=op.f("pk_near_dup_keys")),
        sqlite_with_rowid=False,
    )
    bind = op.get_bind()
    keys = sorted(
        (bucket << LOW_BITS | entry & LOW_MASK, entry >> LOW_BITS)
        for bucket, entries in bind.execute(sa.select(BUCKETS.c.bucket, BUCKETS.c.entries))
        for entry in _decode(bytes(entries))
    )
    for start in range(0, len(keys), ROWS_AT_ONCE):
        bind.execute(
            sa.insert(KEYS),
            [{"key": k, "version_id": v} for k, v in keys[start : start + ROWS_AT_ONCE]],
        )
    op.drop_table("near_dup_buckets")


def _encode(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _decode(data: bytes) -> Iterator[int]:
    n = shift = 0
    for byte in data:
        n |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
        else:
            yield n
            n = shift = 0
