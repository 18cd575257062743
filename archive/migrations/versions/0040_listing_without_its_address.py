"""A listing entry kept beside a fetch that recorded no version leaves out what the
fetch itself says: its address, and the fields the listing left empty.

Since revision 0032 an entry beside a capture that made or confirmed a version keeps only
what that version does not say. The others (a sitemap's entry for a page that is not an
item, a 304's) stayed whole: the address fetched again in full, and every empty field
as a key. They now keep the key ``~`` with the letter ``u`` (the address is the one
requested) and the fields that are set, and read back without a version
(``archive.listings.needs_labels``): about 14 B/item less on ``bench/run.py``.

Upgrading rewrites every whole entry so; downgrading writes every entry that needs no
version back whole (the revision before reads an entry with ``~`` through its version).
The conversions are this revision's own.

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-07 00:10:00.000000
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0040"
down_revision: str | None = "0039"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CAPTURES_AT_ONCE = 1000
#: The format of ``archive.compression.pack_json`` since revision 0032.
FORMAT = 2
# What ``archive.listings`` does at this revision, kept here so that a later change to
# it does not change this revision.
ELIDED = "~"
URL = "u"
FIELDS = ("url", "title", "published", "kind_label", "where", "what", "lastmod", "source")
DEFAULT_SOURCE = "listing"


def _compact(entry: Any, url: str) -> Any:
    """A whole entry as kept without its version (``archive.listings.to_store``)."""
    if not isinstance(entry, dict) or ELIDED in entry or set(entry) != set(FIELDS):
        return entry
    kept: dict[str, Any] = {}
    elided = ""
    for name in FIELDS:
        value = entry[name]
        if name == "url" and value == url:
            elided += URL
        elif name == "source":
            if value != DEFAULT_SOURCE:
                kept[name] = value
        elif value is not None:
            kept[name] = value
    stored = {ELIDED: elided, **kept}
    return stored if _whole(stored, url) == entry else entry


def _whole(stored: Any, url: str) -> Any:
    """An entry that needs no version's labels, whole again (others as they are)."""
    if not isinstance(stored, dict) or ELIDED not in stored:
        return stored
    if set(stored[ELIDED]) - {URL} or isinstance(stored.get("where"), int):
        return stored
    entry: dict[str, Any] = {name: None for name in FIELDS}
    entry["source"] = DEFAULT_SOURCE
    entry.update((k, v) for k, v in stored.items() if k != ELIDED)
    if URL in stored[ELIDED]:
        entry["url"] = url
    return entry


def _rewrite(convert: Callable[[Any, str], Any]) -> None:
    """Every entry kept beside a capture through ``convert(entry, address requested)``,
    in batches by capture id."""
    from archive.compression import pack_json, unpack_json
    from archive.schema import Url  # addresses as the program reads them

    bind = op.get_bind()
    captures = sa.table(
        "captures",
        sa.column("id", sa.Integer),
        sa.column("url", Url()),
        sa.column("listing", sa.LargeBinary),
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(captures.c.id, captures.c.url, captures.c.listing)
            .where(captures.c.id > last, captures.c.listing.is_not(None))
            .order_by(captures.c.id)
            .limit(CAPTURES_AT_ONCE)
        ).all()
        if not rows:
            return
        last = rows[-1].id
        changed = []
        for r in rows:
            stored = bytes(r.listing)
            packed = pack_json(convert(unpack_json(stored), r.url), FORMAT)
            if packed != stored:
                changed.append({"_id": r.id, "new": packed})
        if changed:
            bind.execute(
                sa.update(captures)
                .where(captures.c.id == sa.bindparam("_id"))
                .values(listing=sa.bindparam("new")),
                changed,
            )


def upgrade() -> None:
    _rewrite(_compact)


def downgrade() -> None:
    _rewrite(_whole)
