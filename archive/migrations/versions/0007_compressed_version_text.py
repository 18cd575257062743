"""Version texts stored compressed; the search index fed by the archive, not by triggers.

A version's text and provenance become one compressed pack (``archive.texts``):
``versions.packed`` with its ``codec`` (``identity``, ``zstd`` or ``delta``), the trained
text dictionary ``dict_id`` and, for a delta, the version ``base_id`` it was compressed
against. ``versions.text`` and ``versions.provenance`` go. ``compression_dicts.kind``
tells the bodies' dictionary (``body``, every dictionary before this revision) from the
texts' (``text``).

Upgrading converts every row: a text dictionary is trained from the first
``archive.texts.TRAIN_AFTER`` versions when the archive holds that many (else the
archive trains it later, as it writes), each document's versions are packed in order,
as deltas of their base where that helps, exactly as the archive writes new ones.
Downgrading restores the plain columns from the packs and drops the text dictionary.

The search index can no longer read the text from SQL. SQLite: the FTS5 table becomes
contentless (it keeps the index, not a copy of the text) and its triggers go; it is
filled here from the texts and, from now on, by the versioning code in each version's
transaction (``archive.search.index_version``). PostgreSQL: the ``search_vectors`` rows
stay as they are (same title and text), only the trigger that filled them goes.
Downgrading brings back revision 0004's index and triggers.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 06:00:00.000000
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.engine import Connection

from archive import compression, texts
from archive.bodies import body_hash

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Documents converted per statement batch.
DOCUMENTS_AT_ONCE = 200

VERSIONS = sa.table(
    "versions",
    sa.column("id", sa.Integer()),
    sa.column("document_id", sa.String()),
    sa.column("number", sa.Integer()),
    sa.column("title", sa.Text()),
    sa.column("text", sa.Text()),
    sa.column("provenance", sa.JSON()),
    sa.column("packed", sa.LargeBinary()),
    sa.column("codec", sa.String()),
    sa.column("dict_id", sa.Integer()),
    sa.column("base_id", sa.Integer()),
)
DICTIONARIES = sa.table(
    "compression_dicts",
    sa.column("id", sa.Integer()),
    # As this revision's code wrote a time (text on SQLite until revision 0016, which
    # converts it), not through the program's type, whose form moved since.
    sa.column("created", sa.DateTime(timezone=True)),
    sa.column("sha256", sa.String()),
    sa.column("data", sa.LargeBinary()),
    sa.column("kind", sa.String()),
)

# Revision 0004's index upkeep, which read versions.text.
SQLITE_TRIGGERS_DOWN = (
    "DROP TRIGGER IF EXISTS search_fts_update",
    "DROP TRIGGER IF EXISTS search_fts_delete",
    "DROP TRIGGER IF EXISTS search_fts_insert",
    "DROP TABLE IF EXISTS search_fts",
)
SQLITE_CONTENTLESS = (
    "CREATE VIRTUAL TABLE search_fts USING fts5(title, text, content='', "
    "tokenize='unicode61 remove_diacritics 0')"
)
SQLITE_0004 = (
    "CREATE VIRTUAL TABLE search_fts USING fts5(title, text, content='versions', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER search_fts_insert AFTER INSERT ON versions BEGIN "
    "INSERT INTO search_fts(rowid, title, text) VALUES (new.id, new.title, new.text); END",
    "CREATE TRIGGER search_fts_delete AFTER DELETE ON versions BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, text) "
    "VALUES ('delete', old.id, old.title, old.text); END",
    "CREATE TRIGGER search_fts_update AFTER UPDATE OF title, text ON versions BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, text) "
    "VALUES ('delete', old.id, old.title, old.text); "
    "INSERT INTO search_fts(rowid, title, text) VALUES (new.id, new.title, new.text); END",
    "INSERT INTO search_fts(search_fts) VALUES ('rebuild')",
)
POSTGRES_TRIGGER_DOWN = (
    "DROP TRIGGER IF EXISTS search_vectors_sync ON versions",
    "DROP FUNCTION IF EXISTS search_vectors_sync()",
)
POSTGRES_0004 = (
    "CREATE FUNCTION search_vectors_sync() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "INSERT INTO search_vectors (version_id, tsv) VALUES (NEW.id, search_tsv(NEW.title, NEW.text)) "
    "ON CONFLICT (version_id) DO UPDATE SET tsv = EXCLUDED.tsv; RETURN NULL; END $$",
    "CREATE TRIGGER search_vectors_sync AFTER INSERT OR UPDATE OF title, text ON versions "
    "FOR EACH ROW EXECUTE FUNCTION search_vectors_sync()",
)
FK_DICT = "fk_versions_dict_id_compression_dicts"
FK_BASE = "fk_versions_base_id_versions"


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    for statement in POSTGRES_TRIGGER_DOWN if postgres else SQLITE_TRIGGERS_DOWN:
        bind.exec_driver_sql(statement)
    if not postgres:
        bind.exec_driver_sql(SQLITE_CONTENTLESS)
    with op.batch_alter_table("compression_dicts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="body", nullable=False)
        )
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("packed", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("codec", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("dict_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("base_id", sa.Integer(), nullable=True))
    _pack_every_version(bind, index=not postgres)
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.alter_column("packed", existing_type=sa.LargeBinary(), nullable=False)
        batch_op.alter_column("codec", existing_type=sa.String(length=16), nullable=False)
        batch_op.create_foreign_key(op.f(FK_DICT), "compression_dicts", ["dict_id"], ["id"])
        batch_op.create_foreign_key(op.f(FK_BASE), "versions", ["base_id"], ["id"])
        batch_op.drop_column("text")
        batch_op.drop_column("provenance")


def downgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("text", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("provenance", sa.JSON(), nullable=True))
    _unpack_every_version(bind)
    if not postgres:
        bind.exec_driver_sql("DROP TABLE IF EXISTS search_fts")
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.alter_column("text", existing_type=sa.Text(), nullable=False)
        batch_op.alter_column("provenance", existing_type=sa.JSON(), nullable=False)
        batch_op.drop_constraint(op.f(FK_BASE), type_="foreignkey")
        batch_op.drop_constraint(op.f(FK_DICT), type_="foreignkey")
        batch_op.drop_column("base_id")
        batch_op.drop_column("dict_id")
        batch_op.drop_column("codec")
        batch_op.drop_column("packed")
    bind.execute(sa.delete(DICTIONARIES).where(DICTIONARIES.c.kind == texts.KIND))
    with op.batch_alter_table("compression_dicts", schema=None) as batch_op:
        batch_op.drop_column("kind")
    for statement in POSTGRES_0004 if postgres else SQLITE_0004:
        bind.exec_driver_sql(statement)


# --------------------------------------------------------------------------- converting


def _documents(bind: Connection) -> Iterator[list[str]]:
    ids = list(bind.execute(sa.select(VERSIONS.c.document_id).distinct()).scalars())
    ids.sort()
    for start in range(0, len(ids), DOCUMENTS_AT_ONCE):
        yield ids[start : start + DOCUMENTS_AT_ONCE]


def _train(bind: Connection) -> tuple[int, bytes] | None:
    """The text dictionary, trained as the archive would (from the first packs), or None
    when there are too few versions yet (the archive trains it later)."""
    rows = bind.execute(
        sa.select(VERSIONS.c.text, VERSIONS.c.provenance)
        .order_by(VERSIONS.c.id)
        .limit(texts.TRAIN_AFTER)
    ).all()
    if len(rows) < texts.TRAIN_AFTER:
        return None
    try:
        trained = texts.train([texts.pack(text, provenance) for text, provenance in rows])
    except Exception:  # noqa: BLE001 - zstd refuses samples too alike: no dictionary yet
        return None
    sha = body_hash(trained)
    bind.execute(
        sa.insert(DICTIONARIES).values(
            created=datetime.now(timezone.utc), sha256=sha, data=trained, kind=texts.KIND
        )
    )
    found = bind.execute(
        sa.select(sa.func.max(DICTIONARIES.c.id)).where(DICTIONARIES.c.sha256 == sha)
    ).scalar_one()
    return int(found), trained


def _pack_every_version(bind: Connection, *, index: bool) -> None:
    dictionary = _train(bind)
    update = (
        sa.update(VERSIONS)
        .where(VERSIONS.c.id == sa.bindparam("vid"))
        .values(
            packed=sa.bindparam("p"),
            codec=sa.bindparam("c"),
            dict_id=sa.bindparam("d"),
            base_id=sa.bindparam("b"),
        )
    )
    for documents in _documents(bind):
        rows = bind.execute(
            sa.select(
                VERSIONS.c.id,
                VERSIONS.c.document_id,
                VERSIONS.c.title,
                VERSIONS.c.text,
                VERSIONS.c.provenance,
            )
            .where(VERSIONS.c.document_id.in_(documents))
            .order_by(VERSIONS.c.document_id, VERSIONS.c.number)
        ).all()
        changes: list[dict[str, Any]] = []
        packs: dict[int, bytes] = {}
        previous: tuple[str, int] | None = None  # (document, the base its next version uses)
        for row in rows:
            data = texts.pack(row.text, row.provenance)
            base = None
            if previous is not None and previous[0] == row.document_id:
                base = (previous[1], packs[previous[1]])
            encoded = texts.encode(data, dictionary, base)
            packs[row.id] = data
            previous = (row.document_id, encoded.base_id or row.id)
            changes.append(
                {
                    "vid": row.id,
                    "p": _framed(encoded.packed, encoded.codec),
                    "c": encoded.codec,
                    "d": encoded.dict_id,
                    "b": encoded.base_id,
                }
            )
        if changes:
            bind.execute(update, changes)
        if index and rows:
            bind.execute(
                sa.text("INSERT INTO search_fts(rowid, title, text) VALUES (:id, :title, :body)"),
                [{"id": r.id, "title": r.title, "body": r.text} for r in rows],
            )


def _unpack_every_version(bind: Connection) -> None:
    dictionaries = {
        row.id: bytes(row.data)
        for row in bind.execute(sa.select(DICTIONARIES.c.id, DICTIONARIES.c.data))
    }
    update = (
        sa.update(VERSIONS)
        .where(VERSIONS.c.id == sa.bindparam("vid"))
        .values(text=sa.bindparam("t"), provenance=sa.bindparam("pv"))
    )
    for documents in _documents(bind):
        rows = bind.execute(
            sa.select(
                VERSIONS.c.id,
                VERSIONS.c.packed,
                VERSIONS.c.codec,
                VERSIONS.c.dict_id,
                VERSIONS.c.base_id,
            )
            .where(VERSIONS.c.document_id.in_(documents))
            .order_by(VERSIONS.c.document_id, VERSIONS.c.number)
        ).all()
        wholes: dict[int, bytes] = {}
        changes: list[dict[str, Any]] = []
        for row in rows:  # a base comes before its deltas (a lower number, same document)
            dictionary = dictionaries.get(row.dict_id) if row.dict_id is not None else None
            base = wholes.get(row.base_id) if row.base_id is not None else None
            data = texts.decode(row.codec, row.packed, dictionary, base)
            if row.codec != texts.CODEC_DELTA:
                wholes[row.id] = data
            text, provenance = texts.unpack(data)
            changes.append({"vid": row.id, "t": text, "pv": provenance})
        if changes:
            bind.execute(update, changes)


def _framed(stored: bytes, codec: str) -> bytes:
    """A compressed pack as the program of this revision wrote it: a zstd frame that
    opens with zstd's magic number, which frames written since revision 0033 leave out
    (the revisions between read only frames that have it)."""
    return stored if codec == texts.CODEC_IDENTITY else compression.with_magic(stored)
