"""``bodies`` is a row-id table again on SQLite: its rows are kept in the order they
arrive, beside an index on their digest, instead of in the tree of the digest itself.

Revision 0021 made it ``WITHOUT ROWID`` to keep each digest once (about 40 bytes a page,
measured on an archive rewritten packed). An archive as a crawl leaves it is not packed:
bodies arrive in the random order of their digests, so every insert lands inside a full
page of the digest's tree and splits it; a 25,000-item crawl left the table's pages a
quarter empty, and its rows larger than a quarter of a page spilled onto overflow pages
(``bench/run.py``: 834 bytes of pages for 639 of rows per item). Rows kept in row-id
order are appended, their pages filled; only the index on the digest, a few dozen bytes
a row, takes the random inserts.

Both directions rebuild the table on SQLite; PostgreSQL has no such choice and is left as
it is.

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-06 11:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0038"
down_revision: str | None = "0037"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rowid(*, keep: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "bodies", recreate="always", table_kwargs={"sqlite_with_rowid": keep}
    ):
        pass


def upgrade() -> None:
    _rowid(keep=True)


def downgrade() -> None:
    _rowid(keep=False)
