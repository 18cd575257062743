"""Raw bodies: stored once per distinct sha256, compressed with zstandard.

Each body row names its codec and, when one is used, the trained dictionary it was
compressed with (``compression_dicts``), so reading dispatches on ``codec`` and
``dict_id`` and a body written before a dictionary existed stays readable as it is.

The pages of one site share most of their bytes (head, menus, footer, scripts): alone,
each page's compressed form repeats them; with a dictionary trained on the site's first
pages (:func:`train`, :data:`TRAIN_AFTER` bodies), they are stored once, in the
dictionary, and a page costs little more than what is its own. ``bench/archive_storage.py``
measures it (about 2.4x smaller bodies on the replica).

A page fetched again shares nearly everything with the document's earlier fetch: its
markup and, what the dictionary does not hold, its article, which the archive also
keeps as the text of the version read from it. So a page of a document fetched before
is compressed (``zstd-ref``, revision 0017) against one raw-content dictionary of two
parts instead of the trained one: an earlier page of the document (its ``base``: the
document's latest stored page, or that page's own base when it has one, so that no base
has a base and reading any body decompresses at most two bodies, and one text, whose
page a third when the text follows its page, often the same base again) and the
pack of its version (``text_of``, ``archive.texts``; without the fields a pack holds since
revision 0024, ``texts.text_part``, so those bytes never change). What it repeats of
either then costs a reference: such a page takes about a sixth of its size with the
dictionary alone. A
page its base does not halve (:data:`BASE_SHARE`) has drifted from it: it keeps the
dictionary alone and becomes the base of the next. A document's first page keeps the
dictionary alone too: with its text as a prefix it would take about a fifth less, but
zstd indexes the whole prefix for every page, dictionary included, which tripled the
compression's cost (0.48 against 0.15 ms a page) and slowed a full crawl. The other way
round costs nothing more (revision 0031): a document's first page, new to the archive,
is compressed with the dictionary as a zstd frame left open (``zstd-open``), and the
text of the version read from it is compressed as the rest of that frame
(``archive.texts``, codec ``zstd-page``), zstd having indexed the page on its way. The
page reads back alone as before; its stored bytes never change again, since the text's
bytes follow them.

This module is the one place bodies are compressed, stored (:class:`BodyStore`, inside the
ingest transaction) and read back (:class:`BodyReader`: every reader, from exports to
``verify`` and ``reextract``, decompresses through it).

Imports: ``archive.compression``, ``archive.texts``, the schema and ``archive.errors``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.orm import Session

from archive import compression, texts
from archive.db import rewrite_rows
from archive.errors import ArchiveError
from archive.schema import Body, Capture, CompressionDict, Sha256

CODEC_ZSTD = compression.CODEC_ZSTD
CODEC_IDENTITY = compression.CODEC_IDENTITY
#: zstd with a raw-content dictionary: the raw bytes of the body ``base``, then the pack
#: of version ``text_of`` without its fields (``texts.text_part``).
CODEC_REF = "zstd-ref"
#: zstd with the trained dictionary, the frame left open for the text of the version read
#: from the page to follow it (``texts.CODEC_PAGE``, revision 0031; ``texts.FirstPage``).
CODEC_OPEN = "zstd-open"
ZSTD_LEVEL = compression.ZSTD_LEVEL
MIN_COMPRESS = compression.MIN_COMPRESS
compress = compression.compress
decompress = compression.decompress
train = compression.train
body_hash = compression.digest
#: Train the archive's dictionary once it holds this many bodies compressed without one.
TRAIN_AFTER = 1000
#: ``compression_dicts.kind`` of the bodies' dictionary (``archive.texts`` trains its own).
KIND = "body"
#: Bases a reader keeps decompressed (the versions of one document share one).
_KEEP_BASES = 16
#: A page is stored against its base only where that makes it at most this share of its
#: size with the trained dictionary alone (a page fetched again: about a sixth): else it
#: has drifted from it, keeps the dictionary alone and becomes the base of the next.
BASE_SHARE = 0.5
#: Outcomes of a capture whose body is a page of its document.
PAGE_OUTCOMES = ("new_document", "new_version", "unchanged")
#: Those of a page of a document fetched before: the ones stored against a base.
REFETCH_OUTCOMES = ("new_version", "unchanged")


@dataclass(frozen=True)
class Prefix:
    """What a page fetched again is compressed against instead of the trained dictionary:
    an earlier body of its document (``base``, its key, and ``base_raw``) and the pack of
    the version read from this body (``text_of``, its id, and ``text``)."""

    base: str
    base_raw: bytes
    text_of: int
    text: bytes

    def join(self) -> bytes:
        """The raw-content dictionary: the base, then the text."""
        return self.base_raw + self.text


# --------------------------------------------------------------------------- reading


class StoredBody:
    """A row (or ORM object) carrying a body's stored columns: what :meth:`BodyReader.decode`
    reads (:data:`COLUMNS`)."""

    codec: str
    data: bytes
    dict_id: int | None
    base: str | None
    text_of: int | None


#: The columns of ``bodies`` that :meth:`BodyReader.decode` needs, for a select of them.
COLUMNS = (Body.codec, Body.data, Body.dict_id, Body.base, Body.text_of, Body.size)


class BodyReader:
    """Reads stored bodies back through one connection or session.

    Each trained dictionary is read from the database once per reader, the first time a
    body compressed with it is read; a few bases are kept decompressed, in ``bases`` when
    given (a cache that outlives the reader: bodies never change).
    """

    def __init__(
        self,
        db: Connection | Session,
        dictionaries: dict[int, bytes] | None = None,
        bases: OrderedDict[str, bytes] | None = None,
        followed: dict[int, bytes] | None = None,
    ) -> None:
        self._db = db
        self._dictionaries: dict[int, bytes | None] = dict(dictionaries or {})
        self._bases: OrderedDict[str, bytes] = OrderedDict() if bases is None else bases
        self.texts = texts.TextReader(db, followed)

    def read(self, sha256: str) -> bytes | None:
        """The raw bytes of the body ``sha256``, or None when none is stored."""
        if not Sha256.valid(sha256):
            return None  # not a digest the archive writes: no body has it
        row = self._db.execute(select(*COLUMNS).where(Body.sha256 == sha256)).one_or_none()
        if row is None:
            return None
        return self.decode(row)

    def decode(self, row: StoredBody | Any) -> bytes:
        """The raw bytes of a stored body row (selected with :data:`COLUMNS`, or the ORM's)."""
        if row.codec == CODEC_OPEN:
            data = compression.decompress_open(row.data, self._dictionary(row.dict_id))[0]
            size = getattr(row, "size", None)
            if size is not None and len(data) != size:
                raise ArchiveError(f"an open body read back as {len(data)} bytes, not {size}")
            return data
        if row.codec != CODEC_REF:
            return decompress(row.codec, bytes(row.data), self._dictionary(row.dict_id))
        if row.base is None or row.text_of is None:
            raise ArchiveError("a zstd-ref body names no base or no version")
        prefix = Prefix(
            row.base, self.read_base(row.base), row.text_of, self.texts.text_part_of(row.text_of)
        )
        return compression.decompress_with_prefix(row.data, prefix.join())

    def read_base(self, sha256: str) -> bytes:
        """The raw bytes of ``sha256``, a base (a body without a base of its own)."""
        found = self._bases.get(sha256)
        if found is not None:
            self._bases.move_to_end(sha256)
            return found
        row = self._db.execute(select(*COLUMNS).where(Body.sha256 == sha256)).one_or_none()
        if row is None:
            raise ArchiveError(f"the base body {sha256} of a body is missing")
        if row.base is not None:
            raise ArchiveError(f"the base body {sha256} has a base itself")
        found = self._bases[sha256] = self.decode(row)
        while len(self._bases) > _KEEP_BASES:
            self._bases.popitem(last=False)
        return found

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
        self._bases: OrderedDict[str, bytes] = OrderedDict()  # raw bases read lately

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

    def page(
        self, s: Session, data: bytes, sha: str, *, pending: bool = False
    ) -> texts.FirstPage | None:
        """``data`` (key ``sha``), a document's first page, as a ``texts.FirstPage`` the text
        read from it may follow; None when the body is stored already (a page repeated
        at another address keeps its one row) or the archive has no dictionary yet.
        ``pending``: the caller looked its group's keys up (:meth:`known`)."""
        added: set[str] = s.info.setdefault("bodies_added", set())
        if sha in added or len(data) < MIN_COMPRESS:
            return None
        if not self._loaded:
            self._load(s)
        if self.dictionary is None:
            return None
        if (
            not pending
            and s.connection().execute(select(Body.sha256).where(Body.sha256 == sha)).first()
        ):
            return None
        return texts.FirstPage(sha, data, self.dictionary[0], self.dictionary[1])

    def store(
        self,
        s: Session,
        data: bytes,
        now: datetime,
        *,
        pending: list[dict[str, Any]] | None = None,
        sha: str | None = None,
        prefix: Callable[[], Prefix | None] | None = None,
        page: texts.FirstPage | None = None,
    ) -> str:
        """Store ``data`` once (by its sha256) in ``s``'s transaction; its key.

        With ``pending``, the new row is appended to it as a dict for the caller to
        insert (with the rest of its group, ``archive.batch``) rather than added to the
        session; rows pending there are inserted before a dictionary is trained, since
        training reads the stored bodies. ``sha``: ``data``'s key, when known.
        ``prefix``: what the body may be compressed against instead of the dictionary
        (:meth:`prefix`), asked for only when the body is new and a dictionary exists.
        ``page``: this body as :meth:`page` offered it; when the text read from it
        followed it (``page.stored`` set), kept as it was compressed there."""
        sha = sha or body_hash(data)
        added: set[str] = s.info.setdefault("bodies_added", set())
        followed = page is not None and page.stored is not None
        if followed and page is not None and page.sha256 != sha:
            raise ArchiveError("a text followed another page than the body stored")
        if sha in added:
            if followed:
                raise ArchiveError("a text followed a page stored meanwhile")
            return sha
        if (
            pending is None
            and s.connection().execute(select(Body.sha256).where(Body.sha256 == sha)).first()
        ):
            if followed:
                # Another writer stored this page since :meth:`page` found it new (two
                # documents' first pages alike, on PostgreSQL): the text followed bytes
                # that will not be stored. The transaction fails, as a conflicting insert
                # would; the page is stored again with its text whole.
                raise ArchiveError("a text followed a page another writer stored meanwhile")
            return sha
        if not self._loaded:
            self._load(s)
        if self.dictionary is None and self._plain >= TRAIN_AFTER:
            if pending:
                s.connection().execute(insert(Body), pending)
                pending.clear()
            self._train(s, now)
        if page is not None and page.stored is not None:
            return self._keep(s, pending, sha, data, CODEC_OPEN, page.stored, page.dict_id)
        zdict = self.dictionary
        codec, stored = compress(data, zdict[1] if zdict else None)
        dict_id = zdict[0] if zdict is not None and codec == CODEC_ZSTD else None
        if codec == CODEC_ZSTD and dict_id is None:
            self._plain += 1
        found = prefix() if prefix is not None and dict_id is not None else None
        base = text_of = None
        if found is not None:
            against = compression.compress_with_prefix(data, found.join())
            # Else the page has drifted from its base: it is stored with the dictionary
            # alone, and becomes the base of the document's next pages.
            if len(against) <= BASE_SHARE * len(stored):
                stored, codec, dict_id = against, CODEC_REF, None
                base, text_of = found.base, found.text_of
        return self._keep(s, pending, sha, data, codec, stored, dict_id, base, text_of)

    @staticmethod
    def _keep(
        s: Session,
        pending: list[dict[str, Any]] | None,
        sha: str,
        data: bytes,
        codec: str,
        stored: bytes,
        dict_id: int | None,
        base: str | None = None,
        text_of: int | None = None,
    ) -> str:
        row = dict(
            sha256=sha,
            size=len(data),
            codec=codec,
            dict_id=dict_id,
            data=stored,
            base=base,
            text_of=text_of,
        )
        if pending is None:
            s.add(Body(**row))
        else:
            pending.append(row)
        s.info.setdefault("bodies_added", set()).add(sha)
        return sha

    def prefix(
        self,
        db: Connection | Session,
        document_id: str | None,
        version_id: int | None,
        *,
        latest: tuple[str, str | None] | None = None,
        raw: dict[str, bytes] | None = None,
        followed: dict[int, bytes] | None = None,
    ) -> Prefix | None:
        """What a new body of ``document_id`` that reads as version ``version_id`` is
        compressed against: the document's latest stored page (or that page's own base,
        so that no base has one and reading costs at most two decompressions) and the
        version's pack. None for a document's first page, or a page of no document.

        ``latest`` (that page's key and base), ``raw`` (raw bodies by key) and
        ``followed`` (``texts.FOLLOWED``) stand for the database when the caller holds
        pages not written yet (``archive.batch``)."""
        if document_id is None or version_id is None:
            return None
        if latest is None:
            latest = self.latest_page(db, document_id)
        if latest is None:
            return None  # the document's first page: the dictionary alone
        base = latest[1] or latest[0]
        reader = BodyReader(
            db, dict([self.dictionary]) if self.dictionary else None, self._bases, followed
        )
        held = (raw or {}).get(base)
        if held is None:
            held = reader.read_base(base)
        return Prefix(base, held, version_id, reader.texts.text_part_of(version_id))

    @staticmethod
    def latest_page(db: Connection | Session, document_id: str) -> tuple[str, str | None] | None:
        """(key, base) of the body of ``document_id``'s latest stored page, if any."""
        row = db.execute(
            select(Capture.body_sha256, Body.base)
            .join(Body, Body.sha256 == Capture.body_sha256)
            .where(Capture.document_id == document_id, Capture.outcome.in_(PAGE_OUTCOMES))
            .order_by(Capture.id.desc())
            .limit(1)
        ).first()
        return None if row is None else (row.body_sha256, row.base)

    def _train(self, s: Session, now: datetime) -> None:
        # Every body stored without a dictionary, unless a first training failed: then as
        # many of them, by digest (their storing time is not kept since revision 0042).
        rows = s.execute(
            select(Body.sha256, Body.data)
            .where(Body.codec == CODEC_ZSTD, Body.dict_id.is_(None))
            .order_by(Body.sha256)
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
        rewrite_rows(
            s,
            Body,
            "sha256",
            [
                {"sha256": sha, "data": compress(raw, trained)[1], "dict_id": row.id}
                for (sha, _), raw in zip(rows, samples, strict=True)
            ],
        )
        self.dictionary = (row.id, trained)
        self._plain = 0
