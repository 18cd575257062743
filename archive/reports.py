"""Which OSCE items the archive's third-party articles report on: what the rule reads, and
where its answer is kept (table ``reports``).

The rule itself is the crawler's (``crawler.extraction.reports``); the archive hands it
plain rows (:func:`items`, :func:`articles`, :func:`item_addresses`) and keeps what it
found (:func:`save`): one row per (article, item) pair, updated in place, so a second
refresh never adds a duplicate, and a link that no longer holds is marked removed, not
deleted. Links are not versions: neither document changes.

Readers read links through ``archive.query`` (exports, the web view).

Imports: the schema, ``archive.texts``, ``archive.urls``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive import texts
from archive.schema import Address, Change, Document, Report, Version
from archive.texts import TextReader
from archive.urls import normalise_address

Sessions = Callable[[], Session]
#: The id prefix of the OSCE's own items; every other document is a third-party article.
OSCE_PREFIX = "osce.org/"
BATCH = 500


@dataclass(frozen=True)
class ItemRow:
    id: str
    url: str
    title: str
    published: str | None
    sources: tuple[str, ...]


@dataclass(frozen=True)
class ArticleRow:
    id: str
    title: str
    text: str
    published: str | None
    links: tuple[str, ...]


_NEWEST = (Version.document_id == Document.id) & (Version.number == Document.current_version)


def has_articles(sessions: Sessions) -> bool:
    """Whether the archive holds any third-party article (otherwise nothing to link)."""
    with sessions() as s:
        row = s.execute(
            select(Document.id)
            .where(~Document.id.startswith(OSCE_PREFIX), Document.current_version > 0)
            .limit(1)
        ).first()
        return row is not None


def items(sessions: Sessions) -> list[ItemRow]:
    """Every OSCE item's newest title, date and institutions (the title read from its
    version's pack, ``archive.texts``, since revision 0024; the institutions' names from
    their numbers since 0026)."""
    with sessions() as s:
        reader = TextReader(s)
        rows = s.execute(
            select(Document.id, Document.url, Version.published, *texts.columns())
            .select_from(Document)
            .join(Version, _NEWEST)
            .where(Document.id.startswith(OSCE_PREFIX))
        )
        return [
            ItemRow(
                r.id,
                r.url,
                reader.fields(r)["title"] or "",
                r.published,
                tuple(reader.names(r)["sources"]),
            )
            for r in rows
        ]


def articles(sessions: Sessions) -> Iterator[ArticleRow]:
    """Every third-party article's newest version, with its text and the addresses its
    body links to (its provenance), in batches."""
    with sessions() as s:
        ids = list(
            s.scalars(
                select(Document.id)
                .where(~Document.id.startswith(OSCE_PREFIX), Document.current_version > 0)
                .order_by(Document.id)
            )
        )
        reader = TextReader(s)
        for start in range(0, len(ids), BATCH):
            versions = s.scalars(
                select(Version)
                .join(Document, _NEWEST)
                .where(Document.id.in_(ids[start : start + BATCH]))
                .order_by(Version.document_id)
            ).all()
            for v in reader.load(versions):
                yield ArticleRow(
                    v.document_id,
                    v.title or "",
                    v.text,
                    v.published,
                    tuple(v.provenance.get("links") or ()),
                )


def item_addresses(sessions: Sessions, urls: Sequence[str]) -> dict[str, str]:
    """``{url: item id}`` for those of ``urls`` the archive saw an OSCE item at (any
    spelling of the address: ``archive.urls.normalise_address``)."""
    keys = {normalise_address(u): u for u in urls}
    found: dict[str, str] = {}
    with sessions() as s:
        key_list = list(keys)
        for start in range(0, len(key_list), BATCH):
            rows = s.execute(
                select(Address.url, Address.document_id).where(
                    Address.url.in_(key_list[start : start + BATCH]),
                    Address.document_id.startswith(OSCE_PREFIX),
                )
            )
            for url, document_id in rows:
                if document_id is not None:
                    found[keys[url]] = document_id
    return found


def save(sessions: Sessions, found: dict[str, list[dict[str, str]]]) -> dict[str, int]:
    """Keep the links of the articles in ``found`` (``{article id: [{"id", "evidence",
    "detail"}, ...]}``, every article the refresh read, with ``[]`` for none), in one
    transaction: new pairs added, changed evidence updated, pairs no longer found marked
    removed, and a removed pair found again restored. Returns the counts."""
    now = datetime.now(timezone.utc)
    counts = {"added": 0, "updated": 0, "removed": 0, "kept": 0}
    with sessions() as s, s.begin():
        head = int(s.scalar(select(func.coalesce(func.max(Change.seq), 0))) or 0)
        ids = list(found)
        existing: dict[tuple[str, str], Report] = {}
        for start in range(0, len(ids), BATCH):
            for stored in s.scalars(
                select(Report).where(Report.article_id.in_(ids[start : start + BATCH]))
            ):
                existing[(stored.article_id, stored.item_id)] = stored
        wanted: set[tuple[str, str]] = set()
        for article_id, links in found.items():
            for link in links:
                pair = (article_id, link["id"])
                wanted.add(pair)
                row = existing.get(pair)
                if row is None:
                    s.add(
                        Report(
                            article_id=article_id,
                            item_id=link["id"],
                            evidence=link["evidence"],
                            detail=link["detail"],
                            found_at=now,
                            seq=head,
                        )
                    )
                    counts["added"] += 1
                elif row.removed_at is not None:
                    row.removed_at, row.found_at, row.seq = None, now, head
                    row.evidence, row.detail = link["evidence"], link["detail"]
                    counts["added"] += 1
                elif (row.evidence, row.detail) != (link["evidence"], link["detail"]):
                    row.evidence, row.detail, row.seq = link["evidence"], link["detail"], head
                    counts["updated"] += 1
                else:
                    counts["kept"] += 1
        for pair, row in existing.items():
            if pair not in wanted and row.removed_at is None:
                row.removed_at, row.seq = now, head
                counts["removed"] += 1
    return counts
