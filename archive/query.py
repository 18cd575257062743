"""Reading the archive back: a document's history with diffs, the archive as of T,
the change log.

Exports (``archive.feed``) stream the same state as records; this module answers the
questions people ask of one archive: what happened to this document, what did the
archive hold at that time, what changed since that point of the change log. "As of T"
is a query over rows that carry times, never a copy: the newest version first seen by
T, and deleted when the last deletion-or-return logged by T was a deletion.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.errors import UnknownDocument
from archive.records import CONTENT_FIELDS, RECORD_FIELDS
from archive.schema import Address, Change, Document, Version
from archive.urls import normalise_address

#: Fields compared between versions: what a reader sees, plus the canonical address.
DIFF_FIELDS = (*CONTENT_FIELDS, "url", "date_source", "language")
DELETION_KINDS = ("deleted", "returned")


@dataclass
class VersionView:
    """One version with what changed since the previous one."""

    number: int
    first_seen: datetime
    last_seen: datetime
    reason: str  # created | changed | returned | reextracted
    content_hash: str
    extractor_version: str
    record: dict[str, Any]
    changes: dict[str, Any] = field(default_factory=dict)  # field -> {"old","new"} or text diff

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.number,
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "reason": self.reason,
            "content_hash": self.content_hash,
            "extractor_version": self.extractor_version,
            "changes": self.changes,
            "record": self.record,
        }


@dataclass
class History:
    document_id: str
    url: str
    deleted: bool
    duplicate_of: str | None
    addresses: list[str]
    versions: list[VersionView]
    events: list[dict[str, Any]]  # the document's change-log entries, oldest first

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.document_id,
            "url": self.url,
            "deleted": self.deleted,
            "duplicate_of": self.duplicate_of,
            "addresses": self.addresses,
            "versions": [v.to_json() for v in self.versions],
            "events": self.events,
        }


def resolve(session: Session, target: str) -> str:
    """The document id behind an id, a bare node number or any address it was seen at."""
    target = target.strip()
    if session.get(Document, target) is not None:
        return target
    if target.isdigit() and session.get(Document, f"osce.org/{target}") is not None:
        return f"osce.org/{target}"
    if "/" in target:
        url = target if "://" in target else f"https://{target}"
        found = session.scalar(
            select(Address.document_id).where(
                Address.url == normalise_address(url), Address.document_id.is_not(None)
            )
        )
        if found is None and "://" not in target:
            found = session.scalar(
                select(Address.document_id).where(
                    Address.url == normalise_address(f"http://{target}"),
                    Address.document_id.is_not(None),
                )
            )
        if found is not None:
            return found
    raise UnknownDocument(f"no document with id or address {target!r}")


def version_record(version: Version, document_id: str) -> dict[str, Any]:
    """A version as the extraction fields of ``CONTRACT.md``."""
    values = {name: getattr(version, name, None) for name in RECORD_FIELDS if name != "id"}
    return {"id": document_id, **values}


def diff_versions(old: Version | None, new: Version) -> dict[str, Any]:
    """Field-by-field changes from ``old`` to ``new`` (all fields when ``old`` is None)."""
    changes: dict[str, Any] = {}
    for name in DIFF_FIELDS:
        before = getattr(old, name) if old is not None else None
        after = getattr(new, name)
        if before == after:
            continue
        if name == "text" and old is not None:
            changes[name] = text_diff(before or "", after or "")
        else:
            changes[name] = {"old": before, "new": after}
    return changes


def text_diff(before: str, after: str) -> dict[str, Any]:
    """A paragraph-level unified diff: what a reader would see added and removed."""
    old_paras, new_paras = before.split("\n\n"), after.split("\n\n")
    lines = list(difflib.unified_diff(old_paras, new_paras, "before", "after", n=0, lineterm=""))
    return {
        "added": sum(1 for x in lines if x.startswith("+") and not x.startswith("+++")),
        "removed": sum(1 for x in lines if x.startswith("-") and not x.startswith("---")),
        "diff": lines[2:],
    }


def history(session: Session, target: str) -> History:
    document_id = resolve(session, target)
    document = session.get(Document, document_id)
    assert document is not None
    versions = session.scalars(
        select(Version).where(Version.document_id == document_id).order_by(Version.number)
    ).all()
    views: list[VersionView] = []
    previous: Version | None = None
    for version in versions:
        views.append(
            VersionView(
                number=version.number,
                first_seen=version.first_seen,
                last_seen=version.last_seen,
                reason=version.reason,
                content_hash=version.content_hash,
                extractor_version=version.extractor_version,
                record=version_record(version, document_id),
                changes=diff_versions(previous, version),
            )
        )
        previous = version
    events = [
        {"seq": c.seq, "kind": c.kind, "version": c.version, "at": c.at.isoformat()}
        for c in session.scalars(
            select(Change).where(Change.document_id == document_id).order_by(Change.seq)
        )
    ]
    addresses = list(
        session.scalars(
            select(Address.url).where(Address.document_id == document_id).order_by(Address.id)
        )
    )
    return History(
        document_id=document_id,
        url=document.url,
        deleted=document.deleted,
        duplicate_of=document.duplicate_of,
        addresses=addresses,
        versions=views,
        events=events,
    )


@dataclass(frozen=True)
class DocumentAt:
    """A document as the archive held it at a time."""

    document_id: str
    version: Version  # the newest version first seen by then
    deleted: bool


def as_of(session: Session, when: datetime, *, batch: int = 500) -> Iterator[DocumentAt]:
    """Every document the archive knew at ``when``, by id, in batches (flat memory)."""
    newest = (
        select(Version.document_id, func.max(Version.number).label("number"))
        .where(Version.first_seen <= when)
        .group_by(Version.document_id)
        .subquery()
    )
    ids_query = select(newest.c.document_id, newest.c.number).order_by(newest.c.document_id)
    pending: list[tuple[str, int]] = []
    for row in session.execute(ids_query.execution_options(yield_per=batch)):
        pending.append((row[0], row[1]))
        if len(pending) >= batch:
            yield from _as_of_batch(session, pending, when)
            pending = []
    if pending:
        yield from _as_of_batch(session, pending, when)


def _as_of_batch(
    session: Session, pairs: list[tuple[str, int]], when: datetime
) -> Iterator[DocumentAt]:
    ids = [doc_id for doc_id, _ in pairs]
    wanted = dict(pairs)
    versions = {
        v.document_id: v
        for v in session.scalars(select(Version).where(Version.document_id.in_(ids)))
        if wanted[v.document_id] == v.number
    }
    last_kind: dict[str, str] = {}
    for doc_id, kind in session.execute(
        select(Change.document_id, Change.kind)
        .where(Change.document_id.in_(ids), Change.at <= when, Change.kind.in_(DELETION_KINDS))
        .order_by(Change.seq)
    ):
        last_kind[doc_id] = kind
    for doc_id in ids:
        yield DocumentAt(doc_id, versions[doc_id], last_kind.get(doc_id) == "deleted")


@dataclass(frozen=True)
class ChangeEntry:
    seq: int
    document_id: str
    kind: str
    version: int | None
    at: datetime
    run_id: int | None


def head(session: Session) -> int:
    """The newest sequence number of the change log (0 when empty)."""
    return int(session.scalar(select(func.coalesce(func.max(Change.seq), 0))) or 0)


def changes_since(session: Session, seq: int = 0, limit: int | None = None) -> list[ChangeEntry]:
    """Change-log entries after ``seq``, in sequence order."""
    query = select(Change).where(Change.seq > seq).order_by(Change.seq)
    if limit is not None:
        query = query.limit(limit)
    return [
        ChangeEntry(c.seq, c.document_id, c.kind, c.version, c.at, c.run_id)
        for c in session.scalars(query)
    ]
