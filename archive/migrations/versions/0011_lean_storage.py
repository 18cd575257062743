"""Leaner storage: digests as raw bytes, near-duplicate keys keyed by themselves,
narrower sketches, three unused indexes gone.

``near_dup_keys`` becomes ``(key, version_id)``, both the primary key and the whole row,
``WITHOUT ROWID`` on SQLite: each key is stored once, in key order, with no row id, no
document id (the version gives it: the candidates' query joins versions anyway) and no
separate index on the key. Upgrading copies the keys over; downgrading brings back the
row ids, the document ids (from the versions) and the key index.

No query looks captures up by body or by run, nor versions by content hash without
their document (the unique ``(document_id, number)`` key finds those first), and bodies
and runs are never deleted: ``ix_captures_body_sha256``, ``ix_captures_run_id`` and
``ix_versions_content_hash`` go (downgrading makes them again).

Every sha256 digest (``bodies.sha256``, ``captures.body_sha256``, ``versions.content_hash``
and ``text_hash``, ``compression_dicts.sha256``) is stored as its 32 raw bytes instead of
the 71 characters of ``sha256:<hex>``, in the rows and in the indexes over them; the
program still sees ``sha256:<hex>`` (``archive.schema.Sha256`` converts at the column).
Upgrading and downgrading convert every value; on SQLite the values are converted before
the declared type changes, so the table copy never casts a digest between text and bytes.

Near-duplicate sketches keep 8 bits of each of their 64 bins instead of 16 (64 bytes per
version instead of 128; ``archive.dedup.pack``): upgrading keeps the low byte of each
stored bin, which is what the new code computes. Downgrading cannot bring back the bits
dropped, so it empties the sketches: a version without one is confirmed on its text, as
every version written before revision 0002 is.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 14:00:00.000000
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COPY = "near_dup_keys_copy"
DROPPED_INDEXES = (
    ("ix_captures_body_sha256", "captures", ["body_sha256"]),
    ("ix_captures_run_id", "captures", ["run_id"]),
    ("ix_versions_content_hash", "versions", ["content_hash"]),
)
#: (table, digest column, nullable).
DIGESTS = (
    ("bodies", "sha256", False),
    ("captures", "body_sha256", True),
    ("versions", "content_hash", False),
    ("versions", "text_hash", False),
    ("compression_dicts", "sha256", False),
)
#: Rows converted per statement, so a large archive is never read into memory at once.
BATCH = 5000
FK_BODY = "fk_captures_body_sha256_bodies"
PREFIX = "sha256:"
TEXT_TYPE = sa.String(length=71)
BINARY_TYPE = sa.LargeBinary(length=32)


def upgrade() -> None:
    for name, table, _columns in DROPPED_INDEXES:
        op.drop_index(name, table_name=table)
    # Through a plain copy, so that the new table takes the old one's name and its
    # constraint names (PostgreSQL keeps those per schema) once the old one is gone.
    op.execute(f"CREATE TABLE {COPY} AS SELECT DISTINCT key, version_id FROM near_dup_keys")
    op.drop_index("ix_near_dup_keys_key", table_name="near_dup_keys")
    op.drop_table("near_dup_keys")
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
    op.execute(
        "INSERT INTO near_dup_keys (key, version_id) "
        f"SELECT key, version_id FROM {COPY} ORDER BY key, version_id"
    )
    op.drop_table(COPY)
    _digests(binary=True)
    _narrow_sketches()


def downgrade() -> None:
    op.execute("UPDATE versions SET sketch = NULL")
    _digests(binary=False)
    op.execute(
        f"CREATE TABLE {COPY} AS SELECT k.key, v.document_id, k.version_id "
        "FROM near_dup_keys k JOIN versions v ON v.id = k.version_id"
    )
    op.drop_table("near_dup_keys")
    op.create_table(
        "near_dup_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.BigInteger(), nullable=False),
        sa.Column("document_id", sa.String(length=200), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_near_dup_keys_document_id_documents")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"], ["versions.id"], name=op.f("fk_near_dup_keys_version_id_versions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_near_dup_keys")),
    )
    op.execute(
        "INSERT INTO near_dup_keys (key, document_id, version_id) "
        f"SELECT key, document_id, version_id FROM {COPY} ORDER BY version_id, key"
    )
    op.drop_table(COPY)
    op.create_index(op.f("ix_near_dup_keys_key"), "near_dup_keys", ["key"], unique=False)
    for name, table, columns in reversed(DROPPED_INDEXES):
        op.create_index(name, table, columns, unique=False)


def _to_binary(value: str | bytes) -> bytes:
    if isinstance(value, (bytes, memoryview)):  # text a table copy cast to bytes
        value = bytes(value).decode("ascii")
    if len(value) != 71 or not value.startswith(PREFIX):
        raise ValueError(f"not a sha256:<64 hex> digest: {value[:80]!r}")
    return bytes.fromhex(value[len(PREFIX) :])


def _to_text(value: bytes) -> str:
    return PREFIX + bytes(value).hex()


def _digests(*, binary: bool) -> None:
    """Every digest column to 32 raw bytes (``binary``) or back to ``sha256:<hex>``."""
    bind = op.get_bind()
    new, old = (BINARY_TYPE, TEXT_TYPE) if binary else (TEXT_TYPE, BINARY_TYPE)
    if bind.dialect.name == "postgresql":
        op.drop_constraint(FK_BODY, "captures", type_="foreignkey")
        for table, column, _nullable in DIGESTS:
            using = (
                f"decode(substr({column}, {len(PREFIX) + 1}), 'hex')"
                if binary
                else f"'{PREFIX}' || encode({column}, 'hex')"
            )
            op.alter_column(table, column, type_=new, existing_type=old, postgresql_using=using)
        op.create_foreign_key(FK_BODY, "captures", "bodies", ["body_sha256"], ["sha256"])
        return
    # SQLite keeps a value as it was given whatever the declared type: convert the
    # values first, then declare the type (the table copy's CAST is then a no-op).
    convert = _to_binary if binary else _to_text
    for table, column, _nullable in DIGESTS:
        for rows in _batches(table, "rowid", column):
            bind.execute(
                sa.text(f"UPDATE {table} SET {column} = :value WHERE rowid = :key"),
                [{"key": k, "value": convert(v)} for k, v in rows],
            )
    for table in dict.fromkeys(t for t, *_ in DIGESTS):
        with op.batch_alter_table(table) as batch:
            for t, column, nullable in DIGESTS:
                if t == table:
                    batch.alter_column(
                        column, type_=new, existing_type=old, existing_nullable=nullable
                    )


def _narrow_sketches() -> None:
    """Each stored sketch's 64 little-endian 16-bit bins to their low bytes."""
    bind = op.get_bind()
    for rows in _batches("versions", "id", "sketch"):
        narrowed = [
            {"id": version_id, "sketch": bytes(sketch)[0::2]}
            for version_id, sketch in rows
            if len(sketch) == 2 * 64
        ]
        if narrowed:
            bind.execute(sa.text("UPDATE versions SET sketch = :sketch WHERE id = :id"), narrowed)


def _batches(table: str, key: str, column: str) -> Iterator[list[Any]]:
    """(key, value) of every non-null ``column`` of ``table`` in ``key`` order (a unique
    integer), :data:`BATCH` rows at a time, each batch read before the caller updates it."""
    bind = op.get_bind()
    query = f"SELECT {key}, {column} FROM {table} WHERE {column} IS NOT NULL"
    last = None
    while True:
        after = "" if last is None else f" AND {key} > :last"
        rows = bind.execute(
            sa.text(f"{query}{after} ORDER BY {key} LIMIT {BATCH}"),
            {} if last is None else {"last": last},
        ).all()
        if not rows:
            return
        yield list(rows)
        last = rows[-1][0]
