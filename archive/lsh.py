"""The near-duplicate index: each version's LSH band keys (``archive.dedup``), kept as
posting lists by bucket.

A key's top 16 bits (of :data:`archive.dedup.KEY_BITS`) name its bucket, one row of
``near_dup_buckets``; the row's ``entries`` are base-128 varints, one per key of that
bucket, each ``version_id << 7 | the key's low 7 bits``. Finding the versions that share
a key with a new text reads at most sixteen rows by their primary key and keeps the
entries whose low bits agree: the same candidates as one row per (key, version) gave
(revisions 0011 to 0033), at under half the bytes, since a row's key and its b-tree
cell are paid once per bucket instead of once per key (revision 0034: 172 to about 75
B/page on ``bench/archive_storage.py`` at 25,000 items).

A version's entries are appended when its transaction commits (a ``before_commit`` hook
of every session), bucket by bucket in ascending order, each one statement that adds
to the row or makes it: two PostgreSQL transactions that touch the same buckets then
take their row locks in the same order and never deadlock, and a row is written once
per transaction, whatever number of the group's versions it gains. Until then they wait
in the session (``info[PENDING]``), where :func:`shared` reads them too, so a later page
of the same transaction finds an earlier one. A rollback (or a session closed without
a commit) drops them with the versions they name; a savepoint may not add any.

Imports: ``archive.compression`` (varints) and ``archive.dedup`` (the key's width); its
three statements are SQL on the driver's cursor (below), of the tables
``archive.schema.NearDupBucket`` and ``Version``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from archive.compression import varint
from archive.dedup import KEY_BITS
from archive.errors import ArchiveError

#: Bits of a key the entry keeps (the rest name its bucket: 2^16 buckets).
LOW_BITS = KEY_BITS - 16
LOW_MASK = (1 << LOW_BITS) - 1
#: ``Session.info`` key of the entries the session's transaction has not written yet:
#: bucket -> its new entries, encoded.
PENDING = "lsh_pending"
#: Versions whose sketch and document are read in one statement.
READ_AT_ONCE = 500

# The three statements run on the driver's own cursor, in the session's transaction: they
# run for every new text and every commit on the crawl's writer, where SQLAlchemy's work
# for each (compiling the expanding IN, processing every parameter and row) cost more
# than the statements themselves (a lookup and its append 0.27 ms a text through Core,
# against 0.15 for the rows of keys before; the crawl's reactor waits for this thread).
#: The driver's placeholder and the binary type (``sqlite3``; ``psycopg``).
_DIALECTS = {"sqlite": ("?", "BLOB"), "postgresql": ("%s", "BYTEA")}
_READ = "SELECT bucket, entries FROM near_dup_buckets WHERE bucket IN ({})"
_CANDIDATES = "SELECT id, document_id, sketch FROM versions WHERE id IN ({}) AND document_id <> {}"
# SQLite's || makes text of two blobs, byte for byte in a UTF-8 database (no entry is a
# zero byte: version ids start at 1); the cast makes the bytes a blob again.
_APPEND = (
    "INSERT INTO near_dup_buckets (bucket, entries) VALUES ({p}, {p}) ON CONFLICT (bucket) "
    "DO UPDATE SET entries = CAST(near_dup_buckets.entries || excluded.entries AS {blob})"
)


def bucket_of(key: int) -> int:
    return key >> LOW_BITS


def entry(version_id: int, key: int) -> int:
    return version_id << LOW_BITS | key & LOW_MASK


def key_of(bucket: int, entry: int) -> int:
    """The key an entry of ``bucket`` stands for."""
    return bucket << LOW_BITS | entry & LOW_MASK


def version_of(entry: int) -> int:
    return entry >> LOW_BITS


def encode(entries: Iterable[int]) -> bytes:
    """``entries`` as base-128 varints (``archive.compression.varint``), one after another."""
    return b"".join(varint(n) for n in entries)


def decode(data: bytes) -> list[int]:
    """The entries of a bucket's row (:func:`encode`'s input, in order). A list, not a
    generator: every entry of a new text's buckets passes here on the crawl's writer."""
    out: list[int] = []
    n = shift = 0
    for byte in data:
        n |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
        else:
            out.append(n)
            n = shift = 0
    if shift:
        raise ValueError("a near-duplicate bucket ends inside an entry")
    return out


def add(s: Session, version_id: int, keys: Iterable[int]) -> None:
    """Index ``version_id`` under ``keys`` (each distinct key once) when ``s`` commits."""
    if s.in_nested_transaction():
        # A savepoint rolled back would have to take back only its own entries.
        raise ArchiveError(
            "near-duplicate keys are written with their transaction, not a savepoint"
        )
    pending: dict[int, bytearray] = s.info.setdefault(PENDING, {})
    for key in dict.fromkeys(keys):
        pending.setdefault(bucket_of(key), bytearray()).extend(varint(entry(version_id, key)))


def shared(s: Session, keys: Iterable[int]) -> Counter[int]:
    """Version id -> how many of ``keys`` it has, for every version that has one: the
    archive's and those ``s`` has not written yet."""
    cursor, mark, _ = _cursor(s)
    return _shared(s, cursor, mark, keys)


def _shared(s: Session, cursor: Any, mark: str, keys: Iterable[int]) -> Counter[int]:
    wanted = set(keys)
    buckets = sorted({bucket_of(k) for k in wanted})
    counts: Counter[int] = Counter()
    if not buckets:
        return counts
    cursor.execute(_READ.format(", ".join([mark] * len(buckets))), buckets)
    rows: list[tuple[int, bytes]] = cursor.fetchall()
    pending: dict[int, bytearray] = s.info.get(PENDING, {})
    rows += [(bucket, bytes(pending[bucket])) for bucket in buckets if bucket in pending]
    for bucket, entries in rows:
        base = bucket << LOW_BITS  # key_of and version_of inline: every entry passes here
        for n in decode(entries):
            if base | n & LOW_MASK in wanted:
                counts[n >> LOW_BITS] += 1
    return counts


def candidates(
    s: Session, document_id: str, keys: Iterable[int], limit: int
) -> list[tuple[int, str, bytes | None]]:
    """(id, document id, sketch) of at most ``limit`` versions of other documents that
    share a key with ``keys``: those sharing most first, then the earliest."""
    cursor, mark, _ = _cursor(s)  # one for the lookup's two statements
    counts = _shared(s, cursor, mark, keys)
    ranked = sorted(counts, key=lambda version_id: (-counts[version_id], version_id))
    found: list[tuple[int, str, bytes | None]] = []
    for start in range(0, len(ranked), READ_AT_ONCE):
        chunk = ranked[start : start + READ_AT_ONCE]
        marks = ", ".join([mark] * len(chunk))
        cursor.execute(_CANDIDATES.format(marks, mark), [*chunk, document_id])
        found += [(i, d, None if k is None else bytes(k)) for i, d, k in cursor.fetchall()]
        if len(found) >= limit:
            break
    found.sort(key=lambda row: (-counts[row[0]], row[0]))
    return found[:limit]


def write_pending(s: Session) -> None:
    """Append the entries ``s`` holds to their buckets, in bucket order."""
    pending: dict[int, bytearray] | None = s.info.pop(PENDING, None)
    if pending:
        append(s, [(bucket, bytes(pending[bucket])) for bucket in sorted(pending)])


def append(s: Session, rows: Sequence[tuple[int, bytes]]) -> None:
    """Add each ``(bucket, entries)`` of ``rows`` to its bucket's row (made if need be),
    in the order given, in ``s``'s transaction."""
    cursor, mark, blob = _cursor(s)
    cursor.executemany(_APPEND.format(p=mark, blob=blob), rows)


def _cursor(s: Session) -> tuple[Any, str, str]:
    """A cursor of the driver's connection under ``s`` (in its transaction), with the
    driver's placeholder and binary type."""
    conn = s.connection()
    mark, blob = _DIALECTS[conn.dialect.name]
    return conn.connection.cursor(), mark, blob


def _before_commit(s: Session) -> None:
    write_pending(s)  # looked up at each commit (a test replaces it)


def _after_transaction_end(s: Session, transaction: SessionTransaction) -> None:
    """Whatever ended the session's transaction (commit, rollback, close), what it had
    not written goes with it: a session used again starts with nothing pending."""
    if transaction.parent is None:
        s.info.pop(PENDING, None)


event.listen(Session, "before_commit", _before_commit)
event.listen(Session, "after_transaction_end", _after_transaction_end)
