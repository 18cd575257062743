"""PostgreSQL keeps each version's search vector in its row, not in the TOAST table.

A vector of a version's title and text takes about 2 KB (5 KB for the longest replica
texts). PostgreSQL moves any row over 2 KB out of line, and a vector hardly compresses,
so ranking a common word (``ts_rank`` over every matching current version) fetched
thousands of out-of-line values one by one: most of a first search's time. With
``toast_tuple_target`` at its maximum, a row up to a page stays in the table itself;
longer ones are still compressed and moved out as before. Ranking the 11,000 current
versions of a common word at 25,000 documents took 73-139 ms, and 40-62 ms with the
vectors in their rows.

Upgrading rewrites every vector once (the same value, stored anew, so it lands in its
row); the old out-of-line copies are left to autovacuum. SQLite is unchanged.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 14:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The largest row PostgreSQL keeps in a heap page of 8 KB without toasting it.
TOAST_TUPLE_TARGET = 8160


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql(
            f"ALTER TABLE search_vectors SET (toast_tuple_target = {TOAST_TUPLE_TARGET})"
        )
        # A new value of the same vector (concatenating the empty one builds it afresh).
        bind.exec_driver_sql("UPDATE search_vectors SET tsv = tsv || ''::tsvector")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql("ALTER TABLE search_vectors RESET (toast_tuple_target)")
