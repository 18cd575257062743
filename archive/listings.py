"""A listing entry as the archive keeps it beside the fetch it came with (revision 0032).

A listing page labels each item it links: its title, date, kind, where and what
(``archive.records.ListingEntry``). The fetch of the item keeps that entry
(``captures.listing``): re-extraction reads it again, and the frontier compares the next
listing's labels with it. Most of it is what the version read from the page says too:
the title is the version's title, the date nearly always its date, "What we do" its
fields of work joined by ", ", "Where we are" one of its sources, and the entry's address
the address fetched. Kept whole, the entry cost about 128 bytes a page on
``bench/archive_storage.py``; kept as what the version does not say, about 17 (with the
JSON prefix of revision 0032, ``archive.compression.JSON_PREFIX_2``).

The stored form of an entry is a dict of:

* the key :data:`ELIDED`: the letters of the fields left out because the version (or
  the fetch) says them, :data:`TITLE`, :data:`WHAT`, :data:`URL`, :data:`PUBLISHED`;
* ``where`` as the index of that source in the version's sources, where it is one;
* every other field that is set (``source`` only when it is not ``"listing"``).

An entry is only stored so when reading it back gives the same entry: the writer
compares with the normalised content the version stores (the same content, when the
fetch found the page unchanged). An entry without :data:`ELIDED` is the whole entry, as
stored before revision 0032. The entry of a fetch with no record (a 304, a 404, a page
that is not an item), whose version, if any, the writers do not read, leaves out only
what the fetch says, its address (revision 0040: before, it was kept whole), and reads
back without a version (:func:`needs_labels`); revision 0032's upgrade, which read every
version's labels, kept such entries of its time beside the version the fetch confirmed.
:func:`restore` needs the fetch's requested address and, for an entry that
:func:`needs_labels`, the version's :class:`VersionLabels`; :class:`ListingReader` reads
those for many entries at once.

Imports: SQLAlchemy, ``archive.errors``, ``archive.records``, ``archive.schema`` and
``archive.texts``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from archive import texts
from archive.errors import ArchiveError
from archive.records import ListingEntry
from archive.schema import Version

#: The key of a stored entry that lists the fields its version says.
ELIDED = "~"
TITLE, WHAT, URL, PUBLISHED = "t", "w", "u", "p"
#: Every field of an entry, in :meth:`ListingEntry.to_json`'s order.
FIELDS = tuple(f.name for f in fields(ListingEntry))
_DEFAULT_SOURCE = "listing"
#: Versions read a statement (an ``IN`` list).
VERSIONS_AT_ONCE = 500


@dataclass(frozen=True)
class VersionLabels:
    """What a version says of the fields a listing entry repeats."""

    title: str | None
    sources: tuple[str, ...]
    fields_of_work: tuple[str, ...]
    published: str | None = None

    @classmethod
    def of(cls, content: dict[str, Any]) -> VersionLabels:
        """The labels of a version's normalised content (``archive.versioning``)."""
        return cls(
            content.get("title"),
            tuple(content.get("sources") or ()),
            tuple(content.get("fields_of_work") or ()),
            content.get("published"),
        )

    @property
    def what(self) -> str | None:
        """ "What we do" as a listing shows it: the fields of work joined by ", "."""
        return ", ".join(self.fields_of_work) or None


#: The labels of no version: an entry kept against them leaves out only its address.
_NOTHING_SAID = VersionLabels(None, (), ())


def to_store(entry: dict[str, Any], url: str, labels: VersionLabels | None) -> dict[str, Any]:
    """What ``captures.listing`` keeps of ``entry`` (``ListingEntry.to_json()``), brought
    by the fetch of ``url`` that made or confirmed a version saying ``labels`` (None: no
    version, and only what the fetch says is left out: the address, :data:`URL`)."""
    if set(entry) != set(FIELDS):
        return entry
    said = labels or _NOTHING_SAID
    kept: dict[str, Any] = {}
    elided = ""
    for name in FIELDS:
        value = entry[name]
        if name == "title" and value is not None and value == said.title:
            elided += TITLE
        elif name == "what" and value is not None and value == said.what:
            elided += WHAT
        elif name == "url" and value == url:
            elided += URL
        elif name == "published" and value is not None and value == said.published:
            elided += PUBLISHED
        elif name == "where" and value in said.sources:
            kept[name] = said.sources.index(value)
        elif name == "source":
            if value != _DEFAULT_SOURCE:
                kept[name] = value
        elif value is not None:
            kept[name] = value
    stored = {ELIDED: elided, **kept}
    if restore(stored, url, labels) != entry:  # never keep what does not read back
        return entry
    return stored


def is_relative(stored: dict[str, Any] | None) -> bool:
    """Whether a stored entry is kept as what its version and fetch do not say."""
    return stored is not None and ELIDED in stored


def needs_labels(stored: dict[str, Any] | None) -> bool:
    """Whether a stored entry needs its version's labels to be read (one kept beside
    no version leaves out only its address)."""
    if stored is None or ELIDED not in stored:
        return False
    return bool(set(stored[ELIDED]) - {URL}) or isinstance(stored.get("where"), int)


def restore(
    stored: dict[str, Any] | None, url: str, labels: VersionLabels | None
) -> dict[str, Any] | None:
    """The entry a stored one is (:func:`to_store`'s inverse); ``labels``: those of the
    version its fetch recorded (needed only when :func:`is_relative`)."""
    if not is_relative(stored):
        return stored
    assert stored is not None
    if labels is None:
        if needs_labels(stored):
            raise ArchiveError("a listing entry kept beside its version was read without it")
        labels = _NOTHING_SAID
    entry: dict[str, Any] = {name: None for name in FIELDS}
    entry["source"] = _DEFAULT_SOURCE
    entry.update((k, v) for k, v in stored.items() if k != ELIDED)
    elided = stored[ELIDED]
    if TITLE in elided:
        entry["title"] = labels.title
    if WHAT in elided:
        entry["what"] = labels.what
    if URL in elided:
        entry["url"] = url
    if PUBLISHED in elided:
        entry["published"] = labels.published
    if isinstance(entry["where"], int):
        if not 0 <= entry["where"] < len(labels.sources):
            raise ArchiveError(f"a listing entry names source {entry['where']} of its version")
        entry["where"] = labels.sources[entry["where"]]
    return entry


class ListingReader:
    """Reads stored entries back through one connection or session, the labels of their
    versions read once each, many at a time (:meth:`entries`)."""

    def __init__(self, db: Connection | Session) -> None:
        self._db = db
        self._texts = texts.TextReader(db)
        self._labels: dict[int, VersionLabels] = {}

    def entry(
        self, stored: dict[str, Any] | None, url: str, version_id: int | None
    ) -> ListingEntry | None:
        """One stored entry as its :class:`ListingEntry`."""
        return self.entries([(stored, url, version_id)])[0]

    def entries(
        self, rows: Sequence[tuple[dict[str, Any] | None, str, int | None]]
    ) -> list[ListingEntry | None]:
        """Each (stored entry, requested address, version id) of a fetch as the entry."""
        labels_of = self.labels(
            {vid for stored, _, vid in rows if needs_labels(stored) and vid is not None}
        )
        out = []
        for stored, url, version_id in rows:
            labels = labels_of.get(version_id) if version_id is not None else None
            try:
                entry = restore(stored, url, labels)
            except ArchiveError as exc:
                raise ArchiveError(
                    f"the listing entry of a fetch of {url} (version id {version_id}) cannot "
                    f"be read back: {exc}; osce-archive verify lists every such fetch"
                ) from exc
            out.append(ListingEntry.from_json(entry))
        return out

    def labels(self, version_ids: set[int]) -> dict[int, VersionLabels]:
        """What each of ``version_ids`` says (those that exist), each read once."""
        ordered = sorted(version_ids - set(self._labels))
        table = Version.__table__
        for start in range(0, len(ordered), VERSIONS_AT_ONCE):
            chunk = ordered[start : start + VERSIONS_AT_ONCE]
            for row in self._db.execute(
                select(table.c.id, table.c.published, *texts.columns()).where(table.c.id.in_(chunk))
            ):
                names = self._texts.names(row)
                self._labels[row.id] = VersionLabels(
                    self._texts.fields(row)["title"],
                    tuple(names["sources"]),
                    tuple(names["fields_of_work"]),
                    row.published,
                )
        return {vid: self._labels[vid] for vid in version_ids if vid in self._labels}
