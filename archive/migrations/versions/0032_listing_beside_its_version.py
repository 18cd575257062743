"""A fetch's listing entry keeps only what the version the fetch recorded does not say.

``captures.listing`` kept the whole entry a listing page gave the item fetched: its
address, title, date, kind, "Where we are" and "What we do". The version read from the
same page says most of it: the title is the version's, "What we do" its fields of work
joined by ", ", "Where we are" one of its sources, and the address the one fetched. Now
an entry beside a capture that made or confirmed a version leaves those out (their
letters under the key ``~``; "Where we are" as the index of that source), and readers
put them back from the version (``archive.listings``; about 100 B/page less on
``bench/archive_storage.py``). An entry that would not read back the same stays whole.

Upgrading rewrites the entries of captures with a version; downgrading puts every left
out field back. The two conversions are this revision's own copy of
``archive.listings.to_store`` and ``restore``; a version's labels are read through
``archive.texts``, the one reader of its title and names.

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

# What ``archive.listings`` does at this revision, kept here so that a later change to
# it does not change this revision.
ELIDED = "~"
TITLE, WHAT, URL = "t", "w", "u"
FIELDS = ("url", "title", "published", "kind_label", "where", "what", "lastmod", "source")
DEFAULT_SOURCE = "listing"
Labels = tuple[str | None, tuple[str, ...], tuple[str, ...]]  # title, sources, fields of work


def _what(labels: Labels) -> str | None:
    return ", ".join(labels[2]) or None


def _to_store(entry: Any, url: str, labels: Labels) -> Any:
    if not isinstance(entry, dict) or ELIDED in entry or set(entry) != set(FIELDS):
        return entry
    kept: dict[str, Any] = {}
    elided = ""
    for name in FIELDS:
        value = entry[name]
        if name == "title" and value is not None and value == labels[0]:
            elided += TITLE
        elif name == "what" and value is not None and value == _what(labels):
            elided += WHAT
        elif name == "url" and value == url:
            elided += URL
        elif name == "where" and value in labels[1]:
            kept[name] = labels[1].index(value)
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
        entry["title"] = labels[0]
    if WHAT in stored[ELIDED]:
        entry["what"] = _what(labels)
    if URL in stored[ELIDED]:
        entry["url"] = url
    if isinstance(entry["where"], int):
        entry["where"] = labels[1][entry["where"]]
    return entry


def upgrade() -> None:
    _rewrite(_to_store)


def downgrade() -> None:
    _rewrite(_restore)


def _rewrite(convert: Callable[[Any, str, Labels], Any]) -> None:
    """Every entry kept beside a capture with a version, through ``convert(entry,
    address requested, the version's labels)``, in batches by capture id (the column's
    own type decodes and encodes the entries)."""
    from sqlalchemy.orm import Session

    from archive import texts
    from archive.schema import Capture, Version

    bind = op.get_bind()
    captures = Capture.__table__.c
    versions = Version.__table__
    reader = texts.TextReader(Session(bind=bind))
    last = 0
    while True:
        rows = bind.execute(
            sa.select(captures.id, captures.url, captures.listing, captures.version_id)
            .where(
                captures.id > last,
                captures.listing.is_not(None),
                captures.version_id.is_not(None),
            )
            .order_by(captures.id)
            .limit(CAPTURES_AT_ONCE)
        ).all()
        if not rows:
            return
        last = rows[-1].id
        labels: dict[int, Labels] = {}
        for row in bind.execute(
            sa.select(versions.c.id, *texts.columns()).where(
                versions.c.id.in_({r.version_id for r in rows})
            )
        ):
            names = reader.names(row)
            labels[row.id] = (
                reader.fields(row)["title"],
                tuple(names["sources"]),
                tuple(names["fields_of_work"]),
            )
        changed = []
        for r in rows:
            new = convert(r.listing, r.url, labels[r.version_id])
            if new is not r.listing:  # each returns the entry itself where it keeps it
                changed.append({"_id": r.id, "new": new})
        if changed:
            bind.execute(
                sa.update(Capture)
                .where(captures.id == sa.bindparam("_id"))
                .values(listing=sa.bindparam("new", type_=captures.listing.type)),
                changed,
            )
