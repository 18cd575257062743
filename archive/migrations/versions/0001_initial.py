"""The initial schema: documents, addresses, versions, captures, bodies, runs, changes, locks.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-22 06:12:57.843432
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Longer than 60 lines on purpose: one create_table per table, in dependency order, is
# how a revision reads best, and a shipped revision is never rearranged.
def upgrade() -> None:
    op.create_table(
        "compression_dicts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sha256", sa.String(length=71), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compression_dicts")),
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duplicate_of", sa.String(length=200), nullable=True),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["duplicate_of"], ["documents.id"], name=op.f("fk_documents_duplicate_of_documents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
    )
    op.create_index(op.f("ix_documents_duplicate_of"), "documents", ["duplicate_of"], unique=False)
    op.create_index(op.f("ix_documents_kind"), "documents", ["kind"], unique=False)

    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("counters", sa.JSON(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
    )
    op.create_index(op.f("ix_runs_outcome"), "runs", ["outcome"], unique=False)

    op.create_table(
        "addresses",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("document_id", sa.String(length=200), nullable=True),
        sa.Column("how", sa.String(length=16), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("etag", sa.String(length=500), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column("last_fetched", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("listing", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_addresses_document_id_documents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_addresses")),
        sa.UniqueConstraint("url", name=op.f("uq_addresses_url")),
    )
    op.create_index(op.f("ix_addresses_document_id"), "addresses", ["document_id"], unique=False)

    op.create_table(
        "bodies",
        sa.Column("sha256", sa.String(length=71), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("codec", sa.String(length=16), nullable=False),
        sa.Column("dict_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dict_id"], ["compression_dicts.id"], name=op.f("fk_bodies_dict_id_compression_dicts")
        ),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_bodies")),
    )
    op.create_table(
        "changes",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("document_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_changes_document_id_documents")
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_changes_run_id_runs")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_changes")),
    )
    op.create_index(op.f("ix_changes_at"), "changes", ["at"], unique=False)
    op.create_index(
        op.f("ix_changes_document_id_seq"), "changes", ["document_id", "seq"], unique=False
    )

    op.create_table(
        "locks",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_locks_run_id_runs")),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_locks")),
    )
    op.create_table(
        "versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("document_id", sa.String(length=200), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("published", sa.String(length=10), nullable=True),
        sa.Column("date_source", sa.String(length=16), nullable=True),
        sa.Column("place", sa.String(length=200), nullable=True),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("fields_of_work", sa.JSON(), nullable=False),
        sa.Column("byline", sa.Text(), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=71), nullable=False),
        sa.Column("text_hash", sa.String(length=71), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("extractor_version", sa.String(length=64), nullable=False),
        sa.Column("furniture_version", sa.String(length=64), nullable=True),
        sa.Column("provenance", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_versions_document_id_documents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_versions")),
        sa.UniqueConstraint("document_id", "number", name=op.f("uq_versions_document_id_number")),
    )
    op.create_index(op.f("ix_versions_content_hash"), "versions", ["content_hash"], unique=False)
    op.create_index(op.f("ix_versions_text_hash"), "versions", ["text_hash"], unique=False)

    op.create_table(
        "captures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("address_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("final_url", sa.String(length=2000), nullable=True),
        sa.Column("redirects", sa.JSON(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("etag", sa.String(length=500), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column("content_type", sa.String(length=200), nullable=True),
        sa.Column("body_sha256", sa.String(length=71), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("document_id", sa.String(length=200), nullable=True),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("listing", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["address_id"], ["addresses.id"], name=op.f("fk_captures_address_id_addresses")
        ),
        sa.ForeignKeyConstraint(
            ["body_sha256"], ["bodies.sha256"], name=op.f("fk_captures_body_sha256_bodies")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_captures_document_id_documents")
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_captures_run_id_runs")),
        sa.ForeignKeyConstraint(
            ["version_id"], ["versions.id"], name=op.f("fk_captures_version_id_versions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_captures")),
    )
    op.create_index(op.f("ix_captures_address_id"), "captures", ["address_id"], unique=False)
    op.create_index(op.f("ix_captures_body_sha256"), "captures", ["body_sha256"], unique=False)
    op.create_index(
        op.f("ix_captures_document_id_id"), "captures", ["document_id", "id"], unique=False
    )
    op.create_index(op.f("ix_captures_run_id"), "captures", ["run_id"], unique=False)

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
    op.create_index(
        op.f("ix_near_dup_keys_document_id"), "near_dup_keys", ["document_id"], unique=False
    )
    op.create_index(op.f("ix_near_dup_keys_key"), "near_dup_keys", ["key"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_near_dup_keys_key"), table_name="near_dup_keys")
    op.drop_index(op.f("ix_near_dup_keys_document_id"), table_name="near_dup_keys")

    op.drop_table("near_dup_keys")
    op.drop_index(op.f("ix_captures_run_id"), table_name="captures")
    op.drop_index(op.f("ix_captures_document_id_id"), table_name="captures")
    op.drop_index(op.f("ix_captures_body_sha256"), table_name="captures")
    op.drop_index(op.f("ix_captures_address_id"), table_name="captures")

    op.drop_table("captures")
    op.drop_index(op.f("ix_versions_text_hash"), table_name="versions")
    op.drop_index(op.f("ix_versions_content_hash"), table_name="versions")

    op.drop_table("versions")
    op.drop_table("locks")
    op.drop_index(op.f("ix_changes_document_id_seq"), table_name="changes")
    op.drop_index(op.f("ix_changes_at"), table_name="changes")

    op.drop_table("changes")
    op.drop_table("bodies")
    op.drop_index(op.f("ix_addresses_document_id"), table_name="addresses")

    op.drop_table("addresses")
    op.drop_index(op.f("ix_runs_outcome"), table_name="runs")

    op.drop_table("runs")
    op.drop_index(op.f("ix_documents_kind"), table_name="documents")
    op.drop_index(op.f("ix_documents_duplicate_of"), table_name="documents")

    op.drop_table("documents")
    op.drop_table("compression_dicts")
