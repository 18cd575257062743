"""Raw bodies: stored once per distinct sha256, compressed with zstandard.

Each body row names its codec and, when one is used, the trained dictionary it was
compressed with (``compression_dicts``), so reading dispatches on ``codec`` and
``dict_id`` and a body written before a dictionary existed stays readable as it is.

The pages of one site share most of their bytes (head, menus, footer, scripts): alone,
each page's compressed form repeats them; with a dictionary trained on the site's first
pages (:func:`train`, :data:`TRAIN_AFTER` bodies), they are stored once, in the
dictionary, and a page costs little more than what is its own. ``bench/archive_storage.py``
measures it (about 2.4x smaller bodies on the replica).

This module is the one place bodies are compressed, stored (:class:`BodyStore`, inside the
ingest transaction) and read back (:class:`BodyReader`: every reader, from exports to
``verify`` and ``reextract``, decompresses through it).

Imports: zstandard, the schema and ``archive.errors`` only.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import datetime
from typing import Any

import zstandard
from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.orm import Session

from archive.errors import ArchiveError
from archive.schema import Body, CompressionDict, Sha256

#: zstd level 10: about 5 % smaller than the default 3 on HTML at a cost that is small
#: beside a polite crawl's fetch time (see bench/archive_storage.py).
ZSTD_LEVEL = 10
CODEC_ZSTD = "zstd"
CODEC_IDENTITY = "identity"
#: Train the archive's dictionary once it holds this many bodies compressed without one.
TRAIN_AFTER = 1000
#: Dictionary size: zstd's own default for ``--train`` (110 KB).
DICT_SIZE = 112_640
#: Bodies smaller than this are kept as they are.
MIN_COMPRESS = 64
#: ``compression_dicts.kind`` of the bodies' dictionary (``archive.texts`` trains its own).
KIND = "body"


def body_hash(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def compress(data: bytes, dictionary: bytes | None = None) -> tuple[str, bytes]:
    """(codec, stored bytes). Tiny bodies are kept as they are. With ``dictionary``
    (a trained dictionary's bytes) the caller records its id beside the body."""
    if len(data) < MIN_COMPRESS:
        return CODEC_IDENTITY, data
    return CODEC_ZSTD, _compressor(dictionary).compress(data)


def decompress(codec: str, data: bytes, dictionary: bytes | None = None) -> bytes:
    if codec == CODEC_IDENTITY:
        return bytes(data)
    if codec == CODEC_ZSTD:
        return _decompressor(bytes(dictionary) if dictionary is not None else None).decompress(
            bytes(data)
        )
    raise ArchiveError(f"unknown body codec {codec!r}")


def train(samples: list[bytes], size: int = DICT_SIZE) -> bytes:
    """A zstd dictionary of about ``size`` bytes trained on ``samples`` (raw bodies)."""
    chunks: list[bytes | bytearray | memoryview] = list(samples)
    return zstandard.train_dictionary(size, chunks, level=ZSTD_LEVEL).as_bytes()


# A dictionary is loaded into its (de)compressor once: loading 110 KB costs more than
# compressing a page with it. zstandard's (de)compressors must not be shared between
# threads, so each thread keeps its own few, keyed by the dictionary's bytes.

_LOCAL = threading.local()
_KEEP = 4


def _cached(kind: str, dictionary: bytes | None, make: Any) -> Any:
    cache: dict[tuple[str, bytes | None], Any] = _LOCAL.__dict__.setdefault("cache", {})
    key = (kind, dictionary)
    found = cache.get(key)
    if found is None:
        if len(cache) >= _KEEP:
            cache.pop(next(iter(cache)))
        found = cache[key] = make()
    return found


def _compressor(dictionary: bytes | None) -> zstandard.ZstdCompressor:
    def make() -> zstandard.ZstdCompressor:
        if dictionary is None:
            return zstandard.ZstdCompressor(level=ZSTD_LEVEL)
        zdict = zstandard.ZstdCompressionDict(dictionary)
        return zstandard.ZstdCompressor(level=ZSTD_LEVEL, dict_data=zdict)

    found: zstandard.ZstdCompressor = _cached("c", dictionary, make)
    return found


def _decompressor(dictionary: bytes | None) -> zstandard.ZstdDecompressor:
    def make() -> zstandard.ZstdDecompressor:
        if dictionary is None:
            return zstandard.ZstdDecompressor()
        return zstandard.ZstdDecompressor(dict_data=zstandard.ZstdCompressionDict(dictionary))

    found: zstandard.ZstdDecompressor = _cached("d", dictionary, make)
    return found


# --------------------------------------------------------------------------- reading


class BodyReader:
    """Reads stored bodies back through one connection or session.

    Each trained dictionary is read from the database once per reader, the first time a
    body compressed with it is read.
    """

    def __init__(self, db: Connection | Session) -> None:
        self._db = db
        self._dictionaries: dict[int, bytes | None] = {}

    def read(self, sha256: str) -> bytes | None:
        """The raw bytes of the body ``sha256``, or None when none is stored."""
        if not Sha256.valid(sha256):
            return None  # not a digest the archive writes: no body has it
        row = self._db.execute(
            select(Body.codec, Body.data, Body.dict_id).where(Body.sha256 == sha256)
        ).one_or_none()
        if row is None:
            return None
        return self.decode(row.codec, row.data, row.dict_id)

    def decode(self, codec: str, data: bytes, dict_id: int | None) -> bytes:
        """The raw bytes of a stored body row (its codec, stored bytes and dictionary)."""
        return decompress(codec, bytes(data), self._dictionary(dict_id))

    def _dictionary(self, dict_id: int | None) -> bytes | None:
        if dict_id is None:
            return None
        if dict_id not in self._dictionaries:
            data = self._db.execute(
                select(CompressionDict.data).where(CompressionDict.id == dict_id)
            ).scalar()
            self._dictionaries[dict_id] = bytes(data) if data else None
        return self._dictionaries[dict_id]


# --------------------------------------------------------------------------- writing


class BodyStore:
    """Writes raw bodies, compressed with the archive's trained dictionary once it has one.

    The dictionary is trained once per archive, inside the ingest transaction that
    stores the :data:`TRAIN_AFTER`-th body without one, from the bodies stored so far;
    those are recompressed with it in the same transaction. Bodies compressed without
    a dictionary stay readable as they are (``dict_id`` NULL). What this object knows
    (the dictionary, how many bodies lack one) is a cache of the database: after a
    failed transaction it is forgotten and read again.
    """

    def __init__(self) -> None:
        self.forget()

    def forget(self) -> None:
        self._loaded = False
        self.dictionary: tuple[int, bytes] | None = None
        self._plain = 0  # bodies compressed without a dictionary (counted until trained)

    def _load(self, s: Session) -> None:
        newest = s.execute(
            select(CompressionDict.id, CompressionDict.data)
            .where(CompressionDict.kind == KIND)
            .order_by(CompressionDict.id.desc())
            .limit(1)
        ).first()
        if newest is not None:
            self.dictionary = (int(newest[0]), bytes(newest[1]))
        else:
            self._plain = int(
                s.scalar(
                    select(func.count())
                    .select_from(Body)
                    .where(Body.codec == CODEC_ZSTD, Body.dict_id.is_(None))
                )
                or 0
            )
        self._loaded = True

    def known(self, s: Session, shas: list[str]) -> None:
        """Look up at once which of ``shas`` are stored already, so that :meth:`store`
        asks nothing of the database for them (a group of pages: one query)."""
        added: set[str] = s.info.setdefault("bodies_added", set())
        wanted = list(set(shas) - added)
        if wanted:
            added.update(
                s.connection().execute(select(Body.sha256).where(Body.sha256.in_(wanted))).scalars()
            )

    def store(
        self,
        s: Session,
        data: bytes,
        now: datetime,
        *,
        pending: list[dict[str, Any]] | None = None,
        sha: str | None = None,
    ) -> str:
        """Store ``data`` once (by its sha256) in ``s``'s transaction; its key.

        With ``pending``, the new row is appended to it as a dict for the caller to
        insert (with the rest of its group, ``archive.batch``) rather than added to the
        session; rows pending there are inserted before a dictionary is trained, since
        training reads the stored bodies. ``sha``: ``data``'s key, when known."""
        sha = sha or body_hash(data)
        added: set[str] = s.info.setdefault("bodies_added", set())
        if sha in added:
            return sha
        if (
            pending is None
            and s.connection().execute(select(Body.sha256).where(Body.sha256 == sha)).first()
        ):
            return sha
        if not self._loaded:
            self._load(s)
        if self.dictionary is None and self._plain >= TRAIN_AFTER:
            if pending:
                s.connection().execute(insert(Body), pending)
                pending.clear()
            self._train(s, now)
        zdict = self.dictionary
        codec, stored = compress(data, zdict[1] if zdict else None)
        dict_id = zdict[0] if zdict is not None and codec == CODEC_ZSTD else None
        if codec == CODEC_ZSTD and dict_id is None:
            self._plain += 1
        row = dict(
            sha256=sha, size=len(data), codec=codec, dict_id=dict_id, data=stored, stored_at=now
        )
        if pending is None:
            s.add(Body(**row))
        else:
            pending.append(row)
        added.add(sha)
        return sha

    def _train(self, s: Session, now: datetime) -> None:
        rows = s.execute(
            select(Body.sha256, Body.data)
            .where(Body.codec == CODEC_ZSTD, Body.dict_id.is_(None))
            .order_by(Body.stored_at, Body.sha256)
            .limit(TRAIN_AFTER)
        ).all()
        samples = [decompress(CODEC_ZSTD, data) for _, data in rows]
        try:
            trained = train(samples)
        except Exception:  # noqa: BLE001 - zstd refuses samples too alike: no dictionary yet
            self._plain = 0  # try again after as many more bodies
            return
        row = CompressionDict(created=now, sha256=body_hash(trained), data=trained, kind=KIND)
        s.add(row)
        s.flush()
        s.execute(
            update(Body),
            [
                {"sha256": sha, "data": compress(raw, trained)[1], "dict_id": row.id}
                for (sha, _), raw in zip(rows, samples, strict=True)
            ],
        )
        self.dictionary = (row.id, trained)
        self._plain = 0
