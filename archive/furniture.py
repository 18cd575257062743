"""Learned furniture models kept in the archive, read and written as plain data.

The crawler learns a model of each host's furniture (``crawler.extraction.furniture``);
the archive keeps every version of it (table ``furniture_models``), so that the model a
version names (``furniture_version``; its name's number in ``names`` since revision 0043)
can always be read back, and the next run starts from the newest one. Models are opaque
JSON here: the archive never interprets them.

Imports: the schema and ``archive.bodies``; the store calls it, never the other way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.bodies import BodyReader
from archive.schema import Capture, Document, FurnitureModelRow, Name, Version

Sessions = Callable[[], Session]


@dataclass(frozen=True)
class StoredModel:
    """One learned model of one host, as the archive keeps it."""

    host: str
    version: str
    pages: int
    learned_at: datetime
    run_id: int | None
    model: dict[str, Any]


def _stored(row: FurnitureModelRow) -> StoredModel:
    return StoredModel(row.host, row.version, row.pages, row.learned_at, row.run_id, row.model)


def save_model(
    sessions: Sessions,
    host: str,
    version: str,
    model: dict[str, Any],
    pages: int,
    run_id: int | None = None,
) -> bool:
    """Keep a model; returns False when this host already has this version (nothing written
    except that it becomes the host's current model again)."""
    now = datetime.now(timezone.utc)
    with sessions() as s, s.begin():
        row = s.scalar(
            select(FurnitureModelRow).where(
                FurnitureModelRow.host == host, FurnitureModelRow.version == version
            )
        )
        if row is not None:
            row.learned_at = now  # the newest row of a host is its current model
            return False
        s.add(
            FurnitureModelRow(
                host=host,
                version=version,
                pages=pages,
                learned_at=now,
                run_id=run_id,
                model=model,
            )
        )
    return True


def current_model(sessions: Sessions, host: str) -> StoredModel | None:
    """The model the next run of ``host`` starts from: the newest one kept."""
    with sessions() as s:
        row = s.scalar(
            select(FurnitureModelRow)
            .where(FurnitureModelRow.host == host)
            .order_by(FurnitureModelRow.learned_at.desc(), FurnitureModelRow.id.desc())
            .limit(1)
        )
        return _stored(row) if row is not None else None


def models(sessions: Sessions, host: str | None = None) -> list[StoredModel]:
    """Every model kept (of one host), oldest first."""
    query = select(FurnitureModelRow).order_by(FurnitureModelRow.id)
    if host is not None:
        query = query.where(FurnitureModelRow.host == host)
    with sessions() as s:
        return [_stored(row) for row in s.scalars(query)]


def hosts(sessions: Sessions) -> list[str]:
    """Hosts with at least one model kept."""
    with sessions() as s:
        return sorted(s.scalars(select(FurnitureModelRow.host).distinct()))


def stale_documents(sessions: Sessions, site: str, version: str) -> list[str]:
    """Ids of the live documents of ``site`` (the id's prefix, e.g. ``osce.org``) whose
    newest version was read with another furniture model than ``version``."""
    # the number of the model's name (revision 0043); 0, no row's, if it has none yet
    model = func.coalesce(select(Name.id).where(Name.name == version).scalar_subquery(), 0)
    newest = (
        select(Version.document_id, func.max(Version.number).label("number"))
        .group_by(Version.document_id)
        .subquery()
    )
    query = (
        select(Version.document_id)
        .join(
            newest,
            (newest.c.document_id == Version.document_id) & (newest.c.number == Version.number),
        )
        .join(Document, Document.id == Version.document_id)
        .where(
            Document.deleted.is_(False),
            Document.id.like(f"{site}/%"),
            Version.furniture_id.is_(None) | (Version.furniture_id != model),
        )
        .order_by(Version.document_id)
    )
    with sessions() as s:
        return list(s.scalars(query))


def recent_pages(sessions: Sessions, site: str, limit: int) -> list[tuple[str, bytes]]:
    """(address, raw body) of the newest successful capture of up to ``limit`` documents
    of ``site``, newest documents first: what a model is learned from between runs."""
    latest = (
        select(func.max(Capture.id).label("id"))
        .where(
            Capture.status == 200,
            Capture.body_sha256.is_not(None),
            Capture.document_id.like(f"{site}/%"),
        )
        .group_by(Capture.document_id)
        .order_by(func.max(Capture.id).desc())
        .limit(limit)
        .subquery()
    )
    with sessions() as s:
        rows = s.execute(
            select(Capture.url, Capture.final_url, Capture.body_sha256).where(
                Capture.id.in_(select(latest.c.id))
            )
        ).all()
        reader = BodyReader(s)
        pages = []
        for url, final_url, sha in rows:
            body = reader.read(sha) if sha else None
            if body is not None:
                pages.append((final_url or url, body))
    return pages
