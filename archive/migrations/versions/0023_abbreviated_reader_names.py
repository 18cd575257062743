"""The names of the code that read a version keep their known pieces as one character.

Every version names its extractor (``osce-extract-3+trafilatura-2.3.1``: 32 bytes, the
same on nearly every row) and the furniture model it was cleaned with (``fm-`` and a
digest). Each known piece of these names is stored as one control character instead
(``archive.schema.READER_PIECES``; the type ``archive.schema.Abbreviated`` converts, so
the program, exports and the API see the same names): about 30 B/page on
``bench/archive_storage.py``.

Upgrading and downgrading rewrite the values in place, with SQL alone; no column changes
type. A value that holds a control character (none should) is kept whole behind one.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04 17:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: As ``archive.schema.READER_PIECES`` at this revision (a revision never changes).
PIECES = ("osce-extract-", "+trafilatura-", "+generic-", "fm-")
ESCAPE = 31
COLUMNS = ("extractor_version", "furniture_version")


def _postgres() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def _char(code: int) -> str:
    return f"chr({code})" if _postgres() else f"char({code})"


def _has_control(column: str) -> str:
    """Whether the value holds a character below U+0020 (never true of a name written by
    the program before this revision)."""
    if _postgres():
        return f"{column} ~ '[\\x01-\\x1f]'"
    return f"{column} GLOB '*[' || char(1) || '-' || char(31) || ']*'"


def upgrade() -> None:
    for column in COLUMNS:
        op.execute(
            f"UPDATE versions SET {column} = {_char(ESCAPE)} || {column} "
            f"WHERE {column} IS NOT NULL AND {_has_control(column)}"
        )
        value = column
        for code, piece in enumerate(PIECES, 1):
            value = f"replace({value}, '{piece}', {_char(code)})"
        op.execute(
            f"UPDATE versions SET {column} = {value} "
            f"WHERE {column} IS NOT NULL AND NOT ({_has_control(column)})"
        )


def downgrade() -> None:
    first = "ascii" if _postgres() else "unicode"
    for column in COLUMNS:
        value = column
        for code, piece in enumerate(PIECES, 1):
            value = f"replace({value}, {_char(code)}, '{piece}')"
        op.execute(
            f"UPDATE versions SET {column} = {value} "
            f"WHERE {column} IS NOT NULL AND {column} <> '' AND {first}({column}) <> {ESCAPE} "
            f"AND {_has_control(column)}"
        )
        op.execute(
            f"UPDATE versions SET {column} = substr({column}, 2) "
            f"WHERE {column} IS NOT NULL AND {column} <> '' AND {first}({column}) = {ESCAPE}"
        )
