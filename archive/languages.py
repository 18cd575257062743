"""Language versions: which documents are the same item in other languages.

An item page names its versions in other languages (hreflang links, the language
switcher); extraction turns them into ids (``Record.language_versions``). Each fetch of a
page writes its group (the page and every version it names) as links both ways, so
``osce.org/ru/55436`` lists ``osce.org/55436`` even when only the English page named it.
A link is never removed: a version the site stopped linking stays a version (its
documents keep their own history, and a deleted one says so itself).

Links are not content: a new link makes no version of either document, and a change of
one language's text is a version of that language's document only.

Imports: the schema and SQLAlchemy only (the write side's ``ingest``/``reextract`` and the
read side's ``query`` both use it).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, insert, select
from sqlalchemy.orm import Session

from archive.schema import Document, LanguageLink

links = cast(Table, LanguageLink.__table__)
docs = cast(Table, Document.__table__)


def link_versions(s: Session, document_id: str, others: Iterable[str], at: datetime) -> int:
    """Store the language group of one page (``document_id`` and ``others``) as links
    both ways, in ``s``'s transaction; returns the number of links added."""
    group = sorted({document_id, *others})
    if len(group) < 2:
        return 0
    pairs = {(a, b) for a in group for b in group if a != b}
    known = s.execute(
        select(links.c.document_id, links.c.other_id).where(
            links.c.document_id.in_(group), links.c.other_id.in_(group)
        )
    )
    missing = pairs - {(str(a), str(b)) for a, b in known}
    if missing:
        s.execute(
            insert(links),
            [{"document_id": a, "other_id": b, "first_seen": at} for a, b in sorted(missing)],
        )
    return len(missing)


def versions_of(
    conn: Connection | Session, ids: Iterable[str], as_of: datetime | None = None
) -> dict[str, list[str]]:
    """The archived language versions of each document in ``ids`` (sorted ids), as the
    archive stood at ``as_of`` when given; documents with none are left out."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    conditions: list[Any] = [links.c.document_id.in_(wanted), docs.c.current_version > 0]
    if as_of is not None:
        conditions += [links.c.first_seen <= as_of, docs.c.first_seen <= as_of]
    query = (
        select(links.c.document_id, links.c.other_id)
        .select_from(links.join(docs, docs.c.id == links.c.other_id))
        .where(and_(*conditions))
    )
    found: dict[str, list[str]] = {}
    for document_id, other_id in conn.execute(query):
        found.setdefault(str(document_id), []).append(str(other_id))
    return {key: sorted(value) for key, value in found.items()}


__all__ = ["link_versions", "versions_of"]
