"""Addresses keep their beginning as one character.

Nearly every address the archive keeps begins with one of the newsroom's four scheme
and host spellings (``https://www.osce.org/`` and the like), and an item's address is
written in up to six columns (documents, addresses and their unique index, versions,
captures as requested and as answered, moves in the change log). Each such beginning is
stored as one control character instead (``archive.schema.URL_PREFIXES``; the type
``archive.schema.Url`` codes and decodes, so the program, exports and the API see the
same addresses as before): 86 B/page on ``bench/archive_storage.py``.

Upgrading and downgrading rewrite the values in place, with SQL alone; no column
changes type.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 19:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: As ``archive.schema.URL_PREFIXES`` at this revision (a revision never changes).
PREFIXES = (
    "http://osce.org/",
    "http://www.osce.org/",
    "https://osce.org/",
    "https://www.osce.org/",
)
ESCAPE = 31
COLUMNS = (
    ("documents", "url"),
    ("addresses", "url"),
    ("versions", "url"),
    ("captures", "url"),
    ("captures", "final_url"),
    ("changes", "url"),
)


def _postgres() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def _char(code: int) -> str:
    return f"chr({code})" if _postgres() else f"char({code})"


def _first(column: str) -> str:
    """The code point of the value's first character (collation plays no part)."""
    return f"ascii({column})" if _postgres() else f"unicode({column})"


def upgrade() -> None:
    for table, column in COLUMNS:
        cases = [f"WHEN {_first(column)} < 32 THEN {_char(ESCAPE)} || {column}"]
        for code, prefix in enumerate(PREFIXES, 1):
            cases.append(
                f"WHEN substr({column}, 1, {len(prefix)}) = '{prefix}' "
                f"THEN {_char(code)} || substr({column}, {len(prefix) + 1})"
            )
        coded = " OR ".join(
            [f"{_first(column)} < 32"]
            + [f"substr({column}, 1, {len(p)}) = '{p}'" for p in PREFIXES]
        )
        op.execute(
            f"UPDATE {table} SET {column} = CASE {' '.join(cases)} ELSE {column} END "
            f"WHERE {column} IS NOT NULL AND {column} <> '' AND ({coded})"
        )


def downgrade() -> None:
    for table, column in COLUMNS:
        cases = [f"WHEN {_first(column)} = {ESCAPE} THEN substr({column}, 2)"]
        for code, prefix in enumerate(PREFIXES, 1):
            cases.append(f"WHEN {_first(column)} = {code} THEN '{prefix}' || substr({column}, 2)")
        op.execute(
            f"UPDATE {table} SET {column} = CASE {' '.join(cases)} ELSE {column} END "
            f"WHERE {column} IS NOT NULL AND {column} <> '' AND {_first(column)} < 32"
        )
