"""The names a version's lists hold, stored once and numbered (revision 0026).

A version's sources and fields of work are lists of names (``OSCE Mission to Skopje``,
``Combating trafficking in human beings``): a few dozen names that thousands of rows
repeat. Each is stored once, in the table ``names``, and the lists keep its number:
``versions.sources`` and ``versions.fields_of_work`` are JSON arrays of integers (about
80 B/page on ``bench/archive_storage.py``); since revision 0043 the name of the furniture
model that read a version is numbered too (``versions.furniture``). The numbers are
learned from what the archive reads, never listed here: a name first written gets the
next number, in the same transaction as the version that holds it (on PostgreSQL, which
several writers may share, in a short transaction of its own just before), and keeps it.
A name longer than :data:`NAME_MAX` characters stays in its list as it is (an array may
hold both); a furniture model's name that long is refused (``Numbering.number``).

Writing: :class:`Numbering` (a cache of the database, forgotten with a failed
transaction, as ``archive.texts.TextStore`` forgets its dictionary). Reading:
:class:`Naming`, through one connection or session (``archive.texts.TextReader`` uses
it for every version it reads). Queries that filter or group on a name
(``archive.search``) join ``names`` in SQL: :func:`number_sql`.

Imports: SQLAlchemy, ``archive.db``, the schema and ``archive.errors``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from archive.db import is_postgres
from archive.errors import ArchiveError
from archive.schema import Name

#: Longest name given a number (the column's width); a longer one is kept as it is.
NAME_MAX = 200
_AT_ONCE = 500


class Numbering:
    """Numbers names for the lists a writer stores, learning new ones (see the module
    docstring). What it knows is a cache of the database: :meth:`forget` after a failed
    transaction, whose new numbers are gone with it."""

    def __init__(self) -> None:
        self._known: dict[str, int] = {}

    def forget(self) -> None:
        self._known.clear()

    def numbers(self, db: Connection | Session, names: Sequence[str]) -> list[int | str]:
        """``names`` as stored: each one's number (given now, in ``db``'s transaction,
        if it has none yet), or the name itself when longer than :data:`NAME_MAX`."""
        wanted = [n for n in dict.fromkeys(names) if n not in self._known and len(n) <= NAME_MAX]
        if wanted:
            self._learn(db, wanted)
        return [self._known.get(n, n) for n in names]

    def number(self, db: Connection | Session, name: str | None) -> int | None:
        """The number of one name (given now if it has none), None for None: a furniture
        model's name (``versions.furniture``, revision 0043)."""
        if name is None:
            return None
        number = self.numbers(db, [name])[0]
        if not isinstance(number, int):
            raise ArchiveError(f"a model's name longer than {NAME_MAX} characters: {name[:40]!r}")
        return number

    def _learn(self, db: Connection | Session, wanted: list[str]) -> None:
        self._known.update(_lookup(db, wanted))
        missing = sorted(n for n in wanted if n not in self._known)
        if not missing:
            return
        rows = [{"name": n} for n in missing]
        bind = db.get_bind() if isinstance(db, Session) else db
        engine = bind if isinstance(bind, Engine) else bind.engine
        if is_postgres(engine):
            # Several crawl processes may share one PostgreSQL archive: each numbers its
            # new names in a short transaction of its own, so that two writers never
            # wait on each other's names until their whole batches end (a name that
            # outlives a failed batch is only a name without a version). Another
            # writer may give a name its number first: then that number is the name's.
            with engine.begin() as side:
                side.execute(pg_insert(Name).on_conflict_do_nothing(index_elements=["name"]), rows)
        else:  # one writer at a time: in its own transaction
            db.execute(sqlite_insert(Name).on_conflict_do_nothing(index_elements=["name"]), rows)
        self._known.update(_lookup(db, missing))
        lost = [n for n in missing if n not in self._known]
        if lost:
            raise ArchiveError(f"names not numbered: {lost[:3]!r}")


class Naming:
    """Reads numbered lists back as names through ``db`` (its transaction's view)."""

    def __init__(self, db: Connection | Session) -> None:
        self._db = db
        self._names: dict[int, str] = {}

    def names(self, stored: Iterable[Any] | None) -> list[str]:
        """A stored list as names (None, before any list was stored, reads as [])."""
        values = list(stored or [])
        missing = sorted({v for v in values if isinstance(v, int) and v not in self._names})
        for start in range(0, len(missing), _AT_ONCE):
            rows = self._db.execute(
                select(Name.id, Name.name).where(Name.id.in_(missing[start : start + _AT_ONCE]))
            )
            self._names.update((int(i), str(n)) for i, n in rows)
        try:
            return [v if isinstance(v, str) else self._names[v] for v in values]
        except KeyError as exc:
            raise ArchiveError(f"a version's list names number {exc.args[0]}, unknown") from None

    def name(self, number: int | None) -> str | None:
        """The name numbered ``number`` (None for None): one per record read, so a name
        known already is returned without building a list."""
        if number is None:
            return None
        known = self._names.get(number)
        return known if known is not None else self.names([number])[0]


def number_sql(param: str) -> str:
    """SQL for the number of the name bound as ``:param`` (NULL when it has none)."""
    return f"(SELECT id FROM names WHERE name = :{param})"


def _lookup(db: Connection | Session, names: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(names), _AT_ONCE):
        rows = db.execute(
            select(Name.name, Name.id).where(Name.name.in_(names[start : start + _AT_ONCE]))
        )
        found.update((str(n), int(i)) for n, i in rows)
    return found
