"""What the archive already knows, for the crawl's frontier, as plain data.

The frontier (``crawler.frontier``) decides what to visit from values only: the state
of an address (``AddressState``: validators, last fetch and status, stored listing
labels, the current version's date and kind) and a summary of the previous run
(``PreviousRun``). It never sees a session, a model or a query; this module is the one
place that reads them for it. Every call runs on the crawl's archive thread.

Imports: ``archive`` only (no Scrapy, nothing of ``crawler``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from archive.schema import Document, Run
from archive.store import AddressState, Archive

__all__ = ["AddressState", "Known", "PreviousRun"]


@dataclass(frozen=True)
class PreviousRun:
    """The last run before the current one: its outcome and counters."""

    id: int
    outcome: str | None
    counters: dict[str, Any] = field(default_factory=dict)


class Known:
    """The frontier's questions to one open archive, answered with plain data."""

    def __init__(self, archive: Archive) -> None:
        self._archive = archive

    def states(self, urls: Sequence[str]) -> list[AddressState | None]:
        """The state of each address (None: never seen), in one round trip."""
        return self._archive.address_states(list(urls))

    def canonical(self, document_ids: Sequence[str]) -> dict[str, str]:
        """The canonical address of each known document among ``document_ids``."""
        query = select(Document.id, Document.url).where(Document.id.in_(list(document_ids)))
        with self._archive.engine.connect() as conn:
            return {str(row[0]): str(row[1]) for row in conn.execute(query)}

    def sites(self) -> set[str]:
        """The sites documents belong to: their ids' prefixes (``osce.org``, the hosts
        of third-party sources)."""
        with self._archive.engine.connect() as conn:
            return {str(row[0]).split("/", 1)[0] for row in conn.execute(select(Document.id))}

    def iter_states(self) -> Iterator[AddressState]:
        """One state per known document, at its canonical address, in a stable order."""
        return self._archive.iter_address_states()

    def previous_run(self, current: int | None) -> PreviousRun | None:
        """The last run other than ``current`` (any outcome), or None on a new archive."""
        query = select(Run.id, Run.outcome, Run.counters).order_by(Run.id.desc()).limit(1)
        if current is not None:
            query = query.where(Run.id != current)
        with self._archive.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return PreviousRun(int(row[0]), row[1], dict(row[2] or {}))
