"""A fetch's listing entry keeps only what the version the fetch recorded does not say.

``captures.listing`` kept the whole entry a listing page gave the item fetched: its
address, title, date, kind, "Where we are" and "What we do". The version read from the
same page says most of it: the title is the version's, "What we do" its fields of work
joined by ", ", "Where we are" one of its sources, the date nearly always the version's,
and the address the one fetched. Now
an entry beside a capture that made or confirmed a version leaves those out (their
letters under the key ``~``; "Where we are" as the index of that source), and readers
put them back from the version (``archive.listings``). An entry that would not read back
the same stays whole. JSON values are packed against a prefix that also holds what such
entries repeat (format 2, ``archive.compression.JSON_PREFIX_2``). Together about 115
B/page less on ``bench/archive_storage.py``.

Upgrading rewrites the entries of captures with a version and packs every JSON value
(the answers and the addresses' entries too) in format 2; downgrading puts every left
out field back and packs every value in format 1 again. The two conversions are this
revision's own copy of ``archive.listings.to_store`` and ``restore``; a version's labels
are read by ``archive.listings.ListingReader.labels``, through ``archive.texts``, the one
reader of its title and names.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-05 22:40:00.000000
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CAPTURES_AT_ONCE = 1000
#: The formats of ``archive.compression.pack_json`` this revision writes and the one before.
FORMAT, FORMAT_BEFORE = 2, 1

# What ``archive.listings`` does at this revision, kept here so that a later change to
# it does not change this revision.
ELIDED = "~"
TITLE, WHAT, URL, PUBLISHED = "t", "w", "u", "p"
FIELDS = ("url", "title", "published", "kind_label", "where", "what", "lastmod", "source")
DEFAULT_SOURCE = "listing"
#: A version's title, sources, fields of work and date (``archive.listings.VersionLabels``).
Labels = Any


def _what(labels: Labels) -> str | None:
    return ", ".join(labels.fields_of_work) or None


def _to_store(entry: Any, url: str, labels: Labels) -> Any:
    if not isinstance(entry, dict) or ELIDED in entry or set(entry) != set(FIELDS):
        return entry
    kept: dict[str, Any] = {}
    elided = ""
    for name in FIELDS:
        value = entry[name]
        if name == "title" and value is not None and value == labels.title:
            elided += TITLE
        elif name == "what" and value is not None and value == _what(labels):
            elided += WHAT
        elif name == "url" and value == url:
            elided += URL
        elif name == "published" and value is not None and value == labels.published:
            elided += PUBLISHED
        elif name == "where" and value in labels.sources:
            kept[name] = labels.sources.index(value)
        elif name == "source":
            if value != DEFAULT_SOURCE:
                kept[name] = value
        elif value is not None:
            kept[name] = value
    stored = {ELIDED: elided, **kept}
    return stored if _restore(stored, url, labels) == entry else entry


def _restore(stored: Any, url: str, labels: Labels) -> Any:
    if not isinstance(stored, dict) or ELIDED not in stored:
        return stored
    entry: dict[str, Any] = {name: None for name in FIELDS}
    entry["source"] = DEFAULT_SOURCE
    entry.update((k, v) for k, v in stored.items() if k != ELIDED)
    if TITLE in stored[ELIDED]:
        entry["title"] = labels.title
    if WHAT in stored[ELIDED]:
        entry["what"] = _what(labels)
    if URL in stored[ELIDED]:
        entry["url"] = url
    if PUBLISHED in stored[ELIDED]:
        entry["published"] = labels.published
    if isinstance(entry["where"], int):
        entry["where"] = labels.sources[entry["where"]]
    return entry


#: The other columns of JSON values (``archive.schema.PackedJson``), repacked each way.
OTHER_JSON = (("captures", "http"), ("addresses", "listing"))


def upgrade() -> None:
    _rewrite(_to_store, FORMAT)
    for table, column in OTHER_JSON:
        _repack(table, column, FORMAT)


def downgrade() -> None:
    _rewrite(_restore, FORMAT_BEFORE)
    for table, column in OTHER_JSON:  # the code before reads format 1 alone
        _repack(table, column, FORMAT_BEFORE)


def _rewrite(convert: Callable[[Any, str, Labels], Any], fmt: int) -> None:
    """Every entry kept beside a capture, through ``convert(entry, address requested,
    the labels of the capture's version)`` where it has a version, packed in format
    ``fmt``; in batches by capture id."""
    from archive.compression import pack_json, unpack_json
    from archive.listings import ListingReader
    from archive.schema import Url  # addresses as the program reads them

    bind = op.get_bind()
    captures = sa.table(
        "captures",
        sa.column("id", sa.Integer),
        sa.column("url", Url()),
        sa.column("listing", sa.LargeBinary),
        sa.column("version_id", sa.Integer),
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(captures.c.id, captures.c.url, captures.c.listing, captures.c.version_id)
            .where(captures.c.id > last, captures.c.listing.is_not(None))
            .order_by(captures.c.id)
            .limit(CAPTURES_AT_ONCE)
        ).all()
        if not rows:
            return
        last = rows[-1].id
        wanted = {r.version_id for r in rows if r.version_id is not None}
        labels = ListingReader(bind).labels(wanted)  # a reader a batch: memory stays flat
        changed = []
        for r in rows:
            stored = bytes(r.listing)
            entry = unpack_json(stored)
            found = labels.get(r.version_id) if r.version_id is not None else None
            new = convert(entry, r.url, found) if found is not None else entry
            packed = pack_json(new, fmt)
            if packed != stored:
                changed.append({"_id": r.id, "new": packed})
        if changed:
            bind.execute(
                sa.update(captures)
                .where(captures.c.id == sa.bindparam("_id"))
                .values(listing=sa.bindparam("new")),
                changed,
            )


def _repack(table_name: str, column: str, fmt: int) -> None:
    """Every value of ``table_name.column`` packed in another format, packed in ``fmt``."""
    from archive.compression import pack_json, unpack_json

    bind = op.get_bind()
    table = sa.table(table_name, sa.column("id", sa.Integer), sa.column(column, sa.LargeBinary))
    values = table.c[column]
    last = 0
    while True:
        rows = bind.execute(
            sa.select(table.c.id, values)
            .where(table.c.id > last, values.is_not(None))
            .order_by(table.c.id)
            .limit(CAPTURES_AT_ONCE)
        ).all()
        if not rows:
            return
        last = rows[-1][0]
        changed = [
            {"_id": i, "new": pack_json(unpack_json(bytes(v)), fmt)}
            for i, v in rows
            if bytes(v)[:1] != bytes((fmt,))
        ]
        if changed:
            bind.execute(
                sa.update(table)
                .where(table.c.id == sa.bindparam("_id"))
                .values({column: sa.bindparam("new")}),
                changed,
            )
