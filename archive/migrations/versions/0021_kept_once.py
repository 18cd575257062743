"""What the archive stored twice is kept once: listing entries and the bodies' digests.

An address's listing entry (``addresses.listing``: the newsroom listing's entry that last
linked it, which the frontier compares with the listing of the next run) is the entry
its newest capture that had one was fetched with (``captures.listing``), in all but one
case: an entry that reached the address through a fetch of another address (a page's
canonical address, when an alias or a redirect was requested). The address now keeps
NULL where its own newest capture with an entry holds the same, and the frontier reads
that capture's (``archive.schema.address_listing``; about 110 bytes a page). The
captures' index on their address becomes one on (address, id), so that capture is the
first the index meets, read backwards, on PostgreSQL as on SQLite.

``bodies`` becomes a ``WITHOUT ROWID`` table on SQLite: its rows live in the tree of
their primary key, the body's digest, instead of a row-id tree beside an index that
repeated the digest (about 40 bytes a page). PostgreSQL has no such choice; there this
revision changes only the listing entries. (``documents`` stays as it is: its two other
indexes would repeat each document id instead of a row id, costing what it saves.)

Upgrading empties the addresses' entries their captures hold; downgrading copies them
back from the captures. Both rebuild ``bodies`` on SQLite.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04 17:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Tables keyed by their primary key alone on SQLite from this revision.
WITHOUT_ROWID = ("bodies",)
#: The listing entry of an address's newest capture with one.
NEWEST_OWN = (
    "(SELECT c.listing FROM captures c WHERE c.address_id = addresses.id "
    "AND c.listing IS NOT NULL ORDER BY c.id DESC LIMIT 1)"
)


def _sqlite() -> bool:
    return bool(op.get_bind().dialect.name == "sqlite")


def _rowid(*, keep: bool) -> None:
    if not _sqlite():
        return
    for table in WITHOUT_ROWID:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_with_rowid": keep}
        ):
            pass


def upgrade() -> None:
    op.drop_index("ix_captures_address_id", table_name="captures")
    op.create_index("ix_captures_address_id_id", "captures", ["address_id", "id"], unique=False)
    # Equal values are equal bytes: packed by the same code (revision 0020) with the
    # same prefix. An entry packed otherwise stays where it is, read as before.
    op.execute(
        f"UPDATE addresses SET listing = NULL WHERE listing IS NOT NULL AND listing = {NEWEST_OWN}"
    )
    _rowid(keep=False)


def downgrade() -> None:
    _rowid(keep=True)
    op.execute(f"UPDATE addresses SET listing = {NEWEST_OWN} WHERE listing IS NULL")
    op.drop_index("ix_captures_address_id_id", table_name="captures")
    op.create_index("ix_captures_address_id", "captures", ["address_id"], unique=False)
