"""A page fetched again is compressed against an earlier page of its document and its text.

A raw body compressed with the site's trained dictionary costs what is its own: mostly
its article, which the archive also keeps as the text of the version read from it, and,
for a page fetched again, what it shares with an earlier fetch. ``bodies`` gains two
columns naming what a body of codec ``zstd-ref`` was compressed against instead of the
dictionary (``archive.bodies``): ``base``, an earlier body of the same document (itself
without a base), and ``text_of``, the version whose pack follows it. On the storage
bench this takes the stored bodies from 573 to 500 bytes a page
(``bench/archive_storage.py``).

Bodies stored before stay as they are (``zstd`` or ``identity``, both columns NULL); new
ones are written the new way. Downgrading rewrites every ``zstd-ref`` body with the
trained dictionary alone, then drops the columns.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 15:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FK_BASE = "fk_bodies_base_bodies"
FK_TEXT = "fk_bodies_text_of_versions"
BATCH = 500


def upgrade() -> None:
    with op.batch_alter_table("bodies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("base", sa.LargeBinary(32), nullable=True))
        batch_op.add_column(sa.Column("text_of", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f(FK_BASE), "bodies", ["base"], ["sha256"])
        batch_op.create_foreign_key(op.f(FK_TEXT), "versions", ["text_of"], ["id"])


def downgrade() -> None:
    from sqlalchemy.orm import Session

    from archive import bodies, compression
    from archive.schema import Body, CompressionDict

    bind = op.get_bind()
    session = Session(bind=bind)
    reader = bodies.BodyReader(session)
    # The codec as this revision stores it: the model's column codes its names since
    # revision 0022, which a statement written here must not do.
    plain = sa.table(
        "bodies",
        sa.column("sha256", Body.__table__.c.sha256.type),
        sa.column("codec", sa.String()),
        sa.column("data", sa.LargeBinary()),
        sa.column("dict_id", sa.Integer()),
        sa.column("base", sa.LargeBinary()),
        sa.column("text_of", sa.Integer()),
    )
    keys = list(session.scalars(sa.select(plain.c.sha256).where(plain.c.codec == bodies.CODEC_REF)))
    # The bodies' trained dictionary (a zstd-ref body exists only once there is one).
    dictionary = session.execute(
        sa.select(CompressionDict.id, CompressionDict.data)
        .where(CompressionDict.kind == bodies.KIND)
        .order_by(CompressionDict.id.desc())
        .limit(1)
    ).first()
    for start in range(0, len(keys), BATCH):
        rows = session.execute(
            sa.select(Body.sha256, *bodies.COLUMNS).where(
                Body.sha256.in_(keys[start : start + BATCH])
            )
        ).all()
        updates = []
        for row in rows:
            assert dictionary is not None, "a zstd-ref body in an archive without a dictionary"
            codec, data = bodies.compress(reader.decode(row), bytes(dictionary.data), named=True)
            dict_id = dictionary.id if codec == bodies.CODEC_ZSTD else None
            if codec == bodies.CODEC_ZSTD:  # as written before revision 0033, which the
                data = compression.with_magic(data)  # revisions between read
            updates.append({"key": row.sha256, "codec": codec, "data": data, "dict_id": dict_id})
        for values in updates:
            session.execute(
                sa.update(plain)
                .where(plain.c.sha256 == values["key"])
                .values(
                    codec=values["codec"],
                    data=values["data"],
                    dict_id=values["dict_id"],
                    base=None,
                    text_of=None,
                )
            )
    with op.batch_alter_table("bodies", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(FK_TEXT), type_="foreignkey")
        batch_op.drop_constraint(op.f(FK_BASE), type_="foreignkey")
        batch_op.drop_column("text_of")
        batch_op.drop_column("base")
