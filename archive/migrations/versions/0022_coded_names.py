"""The names the program writes from short lists are stored as one character.

A document's and a version's kind (``press-release``), a version's reason and codec and
where its date came from, an address's role (``canonical``), a change-log entry's kind
and a body's codec: each row repeats one of a few names, some in an index too. A listed
name is stored as one control character (``archive.schema.Coded`` and its lists; the
program, exports and the API see the same names): about 64 B/page on
``bench/archive_storage.py``. A name not listed (a content type the newsroom adds) is
stored as it is.

Upgrading and downgrading rewrite the values in place, with SQL alone; no column changes
type. (A fetch's outcome stays as it is: scripts, the reliability suite among them,
read the captures' outcomes in SQL.)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 17:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As ``archive.schema``'s lists at this revision (a revision never changes).
KINDS = (
    "press-release", "story", "news", "spot-report", "daily-report", "statement", "page",
    "feature", "speech", "interview", "op-ed", "opinion", "announcement", "media-advisory",
    "report", "article",
)  # fmt: skip
COLUMNS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("documents", "kind", KINDS),
    ("versions", "kind", KINDS),
    ("versions", "reason", ("created", "changed", "returned", "reextracted")),
    ("versions", "codec", ("identity", "zstd", "delta")),
    ("versions", "date_source", ("markup", "meta", "json-ld", "listing", "dateline", "heuristic")),
    ("addresses", "how", ("canonical", "redirect", "alias", "page")),
    (
        "changes",
        "kind",
        ("created", "changed", "deleted", "returned", "moved", "reextracted", "duplicate"),
    ),
    ("bodies", "codec", ("zstd", "zstd-ref", "identity")),
)
ESCAPE = 31


def _postgres() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def _char(code: int) -> str:
    return f"chr({code})" if _postgres() else f"char({code})"


def _first(column: str) -> str:
    """The code point of the value's first character (collation plays no part)."""
    return f"ascii({column})" if _postgres() else f"unicode({column})"


def upgrade() -> None:
    for table, column, values in COLUMNS:
        cases = [f"WHEN {_first(column)} < 32 THEN {_char(ESCAPE)} || {column}"]
        cases += [f"WHEN {column} = '{v}' THEN {_char(code)}" for code, v in enumerate(values, 1)]
        listed = ", ".join(f"'{v}'" for v in values)
        op.execute(
            f"UPDATE {table} SET {column} = CASE {' '.join(cases)} ELSE {column} END "
            f"WHERE {column} IS NOT NULL AND {column} <> '' "
            f"AND ({_first(column)} < 32 OR {column} IN ({listed}))"
        )


def downgrade() -> None:
    for table, column, values in COLUMNS:
        cases = [f"WHEN {_first(column)} = {ESCAPE} THEN substr({column}, 2)"]
        cases += [f"WHEN {column} = {_char(code)} THEN '{v}'" for code, v in enumerate(values, 1)]
        op.execute(
            f"UPDATE {table} SET {column} = CASE {' '.join(cases)} ELSE {column} END "
            f"WHERE {column} IS NOT NULL AND {column} <> '' AND {_first(column)} < 32"
        )
