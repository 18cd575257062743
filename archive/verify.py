"""Integrity: recompute every stored hash from the stored content.

A raw body must decompress to bytes whose sha256 is its key and whose length is its
recorded size; a version's stored text must decompress (``archive.texts``), its
normalised fields must hash to its ``content_hash`` and its text to its ``text_hash``;
a fetch's listing entry kept beside its version must read back (``archive.listings``).
Anything else means the database was altered outside the archive (or the disk lied),
and ``osce-archive verify`` names each such row.

The search index is checked against the versions it is fed from (in their own
transaction, so a crash never leaves them apart): every version indexed, nothing
indexed without a version, and the index's mark of which versions are current (SQLite:
``search_superseded``, revision 0014; PostgreSQL: ``search_vectors.current``, 0008)
true. A finding there names ``osce-archive index``, which rebuilds the index. So is the
near-duplicate index (``archive.lsh``): every entry names a stored version, and every
version with a sketch has entries.

Imports: ``archive.bodies``, ``archive.listings``, ``archive.lsh``, ``archive.texts``,
``archive.versioning`` (the hashes) and the schema; it reads through the session it is
given, so it never needs the store.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from archive import bodies, lsh
from archive.errors import ArchiveError
from archive.listings import ListingReader
from archive.schema import Body, Capture, NearDupBucket, Version
from archive.texts import TextReader
from archive.versioning import content_hash, text_hash, version_content

BATCH = 200


def verify(s: Session) -> list[str]:
    """Every problem found, one line each (empty when all holds)."""
    return [
        *check_bodies(s),
        *check_versions(s),
        *check_listings(s),
        *check_near_index(s),
        *check_search(s),
    ]


def check_bodies(s: Session) -> Iterator[str]:
    reader = bodies.BodyReader(s)
    keys = list(s.scalars(select(Body.sha256).order_by(Body.sha256)))
    for start in range(0, len(keys), BATCH):
        chunk = keys[start : start + BATCH]
        for body in s.scalars(select(Body).where(Body.sha256.in_(chunk))):
            try:
                data = reader.decode(body)
            except Exception as exc:  # noqa: BLE001 - a corrupt frame is a finding, not a crash
                yield f"body {body.sha256}: cannot be decompressed ({type(exc).__name__}: {exc})"
                continue
            actual = bodies.body_hash(data)
            if actual != body.sha256:
                yield f"body {body.sha256}: content hashes to {actual}"
            elif len(data) != body.size:
                yield f"body {body.sha256}: {len(data)} bytes stored, {body.size} recorded"
        s.expunge_all()


def check_versions(s: Session) -> Iterator[str]:
    ids = list(s.scalars(select(Version.id).order_by(Version.id)))
    reader = TextReader(s)
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        for version in s.scalars(select(Version).where(Version.id.in_(chunk))):
            where = f"version {version.number} of {version.document_id}"
            try:
                reader.load([version])
            except Exception as exc:  # noqa: BLE001 - a corrupt text is a finding, not a crash
                yield f"{where}: text cannot be read ({type(exc).__name__}: {exc})"
                continue
            actual = content_hash(version_content(version))
            if actual != version.content_hash:
                yield f"{where}: content hashes to {actual}, stored {version.content_hash}"
            if text_hash(version.text) != version.text_hash:
                yield f"{where}: text does not match its text_hash"
        s.expunge_all()


def check_listings(s: Session) -> Iterator[str]:
    """Every fetch's listing entry reads back (one kept beside its version needs it)."""
    ids = list(s.scalars(select(Capture.id).where(Capture.listing.is_not(None))))
    reader = ListingReader(s)
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        rows = s.execute(
            select(Capture.id, Capture.listing, Capture.url, Capture.version_id)
            .where(Capture.id.in_(chunk))
            .order_by(Capture.id)
        ).all()
        try:
            reader.entries([(r.listing, r.url, r.version_id) for r in rows])
            continue
        except ArchiveError:
            pass
        for r in rows:  # name each fetch whose entry does not read back
            try:
                reader.entry(r.listing, r.url, r.version_id)
            except ArchiveError as exc:
                yield f"capture {r.id}: {exc}"


#: Where each database's search index keeps a version (table, its version id column)
#: and says it is current (true for a current version, false for a superseded one).
_INDEX = {
    "sqlite": (
        "search_fts_docsize",
        "id",
        "NOT EXISTS (SELECT 1 FROM search_superseded x WHERE x.version_id = v.id)",
    ),
    "postgresql": ("search_vectors", "version_id", "i.current"),
}


def check_near_index(s: Session) -> Iterator[str]:
    """The near-duplicate index (``archive.lsh``), which no foreign key guards: every entry
    names a version, and every version with a sketch (a text long enough for one) has
    entries."""
    entries: Counter[int] = Counter()
    for bucket, stored in s.execute(select(NearDupBucket.bucket, NearDupBucket.entries)):
        try:
            entries.update(lsh.version_of(n) for n in lsh.decode(bytes(stored)))
        except ValueError as error:
            yield f"near-duplicate bucket {bucket}: {error}"
    sketched = {
        i: bool(has) for i, has in s.execute(select(Version.id, Version.sketch.is_not(None)))
    }
    for version_id in sorted(set(entries) - set(sketched)):
        count = entries[version_id]
        yield f"near-duplicate index: {count} entries name version id {version_id}, not stored"
    for version_id, has_sketch in sorted(sketched.items()):
        if has_sketch and version_id not in entries:
            yield f"near-duplicate index: version id {version_id} has a sketch but no entries"


def _out_of_step(dialect: str) -> dict[str, str]:
    """SQL giving the ids of the versions the search index is out of step with, by what
    is wrong."""
    table, key, current = _INDEX[dialect]
    marked = (
        f"SELECT v.id FROM versions v JOIN documents d ON d.id = v.document_id "
        f"JOIN {table} i ON i.{key} = v.id WHERE "
    )
    return {
        "not in the search index": (
            f"SELECT v.id FROM versions v "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} i WHERE i.{key} = v.id)"
        ),
        "marked current in the search index but superseded": (
            f"{marked}{current} AND v.number <> d.current_version"
        ),
        "current but marked superseded in the search index": (
            f"{marked}NOT {current} AND v.number = d.current_version"
        ),
    }


#: Rows of SQLite's index whose version is gone (PostgreSQL's have a foreign key).
_ORPHANS = (
    "SELECT count(*) FROM search_fts_docsize i "
    "WHERE NOT EXISTS (SELECT 1 FROM versions v WHERE v.id = i.id)"
)
_SHOWN = 3


def check_search(s: Session) -> Iterator[str]:
    """The search index in step with the versions (see the module's text)."""
    conn = s.connection()
    dialect = conn.dialect.name
    rebuild = "`osce-archive index` rebuilds it"
    for what, sql in _out_of_step(dialect).items():
        ids = list(conn.execute(text(sql + " ORDER BY v.id")).scalars())
        if ids:
            shown = s.execute(
                select(Version.document_id, Version.number)
                .where(Version.id.in_(ids[:_SHOWN]))
                .order_by(Version.id)
            ).all()
            named = ", ".join(f"version {n} of {d}" for d, n in shown)
            more = f" and {len(ids) - _SHOWN} more" if len(ids) > _SHOWN else ""
            count = f"{len(ids)} version{'' if len(ids) == 1 else 's'}"
            yield f"search index: {count} {what} ({named}{more}); {rebuild}"
    orphans = 0 if dialect == "postgresql" else int(conn.execute(text(_ORPHANS)).scalar_one())
    if orphans:
        rows = f"{orphans} row{'' if orphans == 1 else 's'}"
        yield f"search index: {rows} without a version; {rebuild}"
