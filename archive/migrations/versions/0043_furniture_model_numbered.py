"""The furniture model that read a version is kept as its name's number.

Every version named the furniture model it was cleaned with (``fm-`` and a 16-digit
digest, 17 characters once revision 0023 abbreviated the ``fm-``), and a crawl's
versions nearly all name the same model: 13.5 B/item on ``bench/run.py``. The name is
now stored once, in ``names`` (``archive.names``, as the sources and fields of work are
since revision 0026), and the column ``versions.furniture`` keeps its number; the
program reads the name back (``archive.texts.TextReader.name``), and the search for
versions read with another model than the newest (``archive.furniture.stale_documents``)
compares numbers in SQL.

Upgrading numbers each distinct name (the few a crawl's models have) and drops the
column ``furniture_version``; downgrading writes the names back, abbreviated as
revision 0023 stored them, and drops ``furniture``. Names stay in ``names``.

Revision ID: 0043
Revises: 0042
Create Date: 2026-12-06 16:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0043"
down_revision: str | None = "0042"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: As revision 0023 stored the names (``archive.schema.Abbreviated`` then).
PIECES = ("osce-extract-", "+trafilatura-", "+generic-", "fm-")
ESCAPE = "\x1f"
#: The width of ``names.name`` (revision 0026), and of ``versions.furniture_version``.
NAME_MAX = 200
WIDTH = 64


def _decode(stored: str) -> str:
    if stored.startswith(ESCAPE):
        return stored[1:]
    for code, piece in enumerate(PIECES, 1):
        stored = stored.replace(chr(code), piece)
    return stored


def _encode(name: str) -> str:
    if any(c < " " for c in name):
        return ESCAPE + name
    for code, piece in enumerate(PIECES, 1):
        name = name.replace(piece, chr(code))
    return name


def _drop(column: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE versions DROP COLUMN {column}")
    else:
        op.drop_column("versions", column)


def _number(conn: sa.Connection, name: str) -> int:
    if len(name) > NAME_MAX:
        raise RuntimeError(f"a furniture model's name longer than {NAME_MAX}: {name[:40]!r}")
    find = sa.text("SELECT id FROM names WHERE name = :name")
    found = conn.execute(find, {"name": name}).scalar()
    if found is None:
        conn.execute(sa.text("INSERT INTO names (name) VALUES (:name)"), {"name": name})
        found = conn.execute(find, {"name": name}).scalar_one()
    return int(found)


def upgrade() -> None:
    conn = op.get_bind()
    op.add_column("versions", sa.Column("furniture", sa.Integer(), nullable=True))
    stored = conn.execute(
        sa.text(
            "SELECT DISTINCT furniture_version FROM versions WHERE furniture_version IS NOT NULL"
        )
    ).scalars()
    for value in list(stored):
        conn.execute(
            sa.text("UPDATE versions SET furniture = :n WHERE furniture_version = :v"),
            {"n": _number(conn, _decode(value)), "v": value},
        )
    _drop("furniture_version")


def downgrade() -> None:
    conn = op.get_bind()
    op.add_column("versions", sa.Column("furniture_version", sa.String(WIDTH), nullable=True))
    numbers = conn.execute(
        sa.text(
            "SELECT DISTINCT v.furniture, n.name FROM versions v JOIN names n ON n.id = v.furniture"
        )
    ).all()
    for number, name in numbers:
        stored = _encode(name)
        if len(stored) > WIDTH:
            raise RuntimeError(f"a furniture model's name longer than {WIDTH}: {name[:40]!r}")
        conn.execute(
            sa.text("UPDATE versions SET furniture_version = :v WHERE furniture = :n"),
            {"v": stored, "n": number},
        )
    _drop("furniture")
