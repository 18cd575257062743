"""Version texts: stored compressed, read back through one accessor.

A version's body text was most of the archive's bytes (issue 17: 47 % of the file, kept
as plain text so that SQL could read it). Nothing in SQL needs it: what queries filter,
sort and group on (ids, dates, kinds, places, sources, hashes) stays in plain columns,
and the search index is fed from Python (``archive.search``). So the text and the
version's provenance (date candidates, warnings, the models that read the page: JSON
that repeats the same keys on every row) are stored together as one *pack*, compressed,
in ``versions.packed``; so, since revision 0024, are the version's title, byline and
attachments (:data:`PACKED_FIELDS`, read with :meth:`TextReader.fields`: a list or a
page of search hits reads its versions' packs for their titles). Codecs:

``identity``
    the pack as it is (only packs under ``compression.MIN_COMPRESS`` bytes);
``zstd``
    zstandard at ``compression.ZSTD_LEVEL``, with the archive's trained *text* dictionary
    (a ``compression_dicts`` row of kind ``text``, ``versions.dict_id``) once it has one:
    the newsroom's texts share their vocabulary, names and formulas, which the
    dictionary holds once, as the bodies' dictionary holds the site's markup;
``delta``
    zstandard with the pack of an earlier version of the same document as a raw-content
    dictionary (``versions.base_id``): a version that changed a few words costs about
    those words. A base is never itself a delta, so reading any version decompresses at
    most two packs (well under a millisecond: ``bench/archive_storage.py``);
``zstd-page``
    the first version of a document, read from its first page (revision 0031): the page
    holds the text, in its markup, so the pack is stored in two parts, its fields and
    provenance as ``zstd`` (the text dictionary, ``versions.dict_id``), then its text as
    the rest of the zstd frame the page's body was compressed in, left open for it
    (``bodies.CODEC_OPEN``; :func:`encode_page`): what the page holds costs a reference.
    The page is the body of the capture that made the version (:func:`page_of`);
    reading the text decompresses the page first (about 20 µs), and a delta's base may
    be such a version.

Writing (:class:`TextStore`, inside the versioning transaction): a new version of a known
document is stored as a delta of its newest version's base when that is at most
:data:`DELTA_GAIN` of its whole compressed form, else whole; a new document's first
version follows its page (:class:`FirstPage`, offered by ``archive.bodies.BodyStore.page``
when the page is new to the archive) once both dictionaries exist. The text dictionary is
trained as the bodies' is (``archive.bodies``): once :data:`TRAIN_AFTER` packs are
stored without one, from those packs, which are recompressed with it in the same
transaction. Packs written before the dictionary stay readable as they are.

Reading (:class:`TextReader`): every reader of a version's text or provenance goes
through it: exports, the change feed and records (``archive.query``), history and diffs,
the reading room's pages and feeds, ``verify``, near-duplicate confirmation, and the
search index and its rebuild. ``load`` fills ``Version.text`` and ``.provenance`` of ORM
rows (and their title, byline and attachments); ``text``, ``fields`` and ``read_all``
read a row selected with :func:`columns` (Core selects).

Imports: zstandard, ``archive.compression``, ``archive.names``, the schema and
``archive.errors``.
"""

from __future__ import annotations

import functools
import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any, Protocol, cast

import zstandard
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from archive import compression
from archive.db import rewrite_rows
from archive.errors import ArchiveError
from archive.names import Naming, Numbering
from archive.schema import Body, Capture, CompressionDict, Version

CODEC_IDENTITY = compression.CODEC_IDENTITY
CODEC_ZSTD = compression.CODEC_ZSTD
CODEC_DELTA = "delta"
#: The pack of a version read from a document's first page, in two parts: its fields and
#: provenance as :data:`CODEC_ZSTD` (the text dictionary, ``dict_id``), then its text as
#: the rest of the zstd frame of the page's body (``bodies.CODEC_OPEN``, revision 0031).
CODEC_PAGE = "zstd-page"
#: The outcome of the capture whose page a :data:`CODEC_PAGE` text follows.
FIRST_PAGE_OUTCOME = "new_document"
#: ``Session.info`` key: the pages that texts written in the session's open transaction
#: follow, by version id (``{id: stored page}``; :func:`remember`): a group of pages
#: writes its bodies and captures last (``archive.batch``), and may read such a text
#: before then.
FOLLOWED = "texts_followed"
#: ``compression_dicts.kind`` of the text dictionary.
KIND = "text"
#: Train the text dictionary once this many packs are stored without one.
TRAIN_AFTER = 1000
#: A delta is kept only when it is at most this share of the whole compressed pack: it
#: costs a second decompression to read, which a few bytes do not pay for.
DELTA_GAIN = 0.9
#: Base packs a reader keeps decompressed (the versions of one document share one).
_KEEP_BASES = 64
_SEPARATOR = b"\x00"
#: Fields of a version kept in its pack since revision 0024, where they were plain
#: columns before: no query filters, sorts or groups on them, so SQL never needs them.
#: Read them with :meth:`TextReader.fields`, or from versions filled by
#: :meth:`TextReader.load`.
PACKED_FIELDS = ("title", "byline", "attachments")
#: A version's lists of names, stored as numbers (``archive.names``, revision 0026).
NAMED_FIELDS = ("sources", "fields_of_work")
#: What a pack holding :data:`PACKED_FIELDS` begins with (a pack before: with ``{``).
_FIELDS_MARK = b"\x01"


# --------------------------------------------------------------------------- packs


def pack(
    text: str, provenance: dict[str, Any] | None, fields: dict[str, Any] | None = None
) -> bytes:
    """The bytes stored (before compression) for a version's text and provenance: the
    provenance as compact JSON, a NUL, the text in UTF-8. JSON escapes every control
    character, so the first NUL always ends it, whatever the text holds.

    With ``fields`` (the version's :data:`PACKED_FIELDS`, revision 0024), the pack opens
    with :data:`_FIELDS_MARK`, those fields as one compact JSON array and a NUL; the rest
    is as before (:func:`text_part`)."""
    head = json.dumps(provenance, ensure_ascii=False, separators=(",", ":"))
    data = head.encode("utf-8") + _SEPARATOR + text.encode("utf-8")
    if fields is None:
        return data
    values = [fields[name] for name in PACKED_FIELDS]
    return (
        _FIELDS_MARK
        + json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        + _SEPARATOR
        + data
    )


def split(data: bytes) -> tuple[dict[str, Any] | None, bytes]:
    """(the fields a pack holds, or None for a pack written before revision 0024; the
    pack without them, as it was before that revision)."""
    data = bytes(data)
    if not data.startswith(_FIELDS_MARK):
        return None, data
    head, separator, rest = data[1:].partition(_SEPARATOR)
    if not separator:
        raise ArchiveError("a version's stored fields have no separator")
    values = json.loads(head)
    if not isinstance(values, list) or len(values) != len(PACKED_FIELDS):
        raise ArchiveError("a version's stored fields are not the fields it keeps")
    return dict(zip(PACKED_FIELDS, values, strict=True)), rest


def text_part(data: bytes) -> bytes:
    """A pack without the fields it holds: what a page fetched again is compressed
    against (``archive.bodies``), the same bytes whether its version was written before
    revision 0024 or after, or converted by its upgrade or downgrade."""
    return split(data)[1]


def unpack(data: bytes) -> tuple[str, dict[str, Any]]:
    """(text, provenance) of a pack."""
    return _text_and_provenance(split(data)[1])


def _text_and_provenance(rest: bytes) -> tuple[str, dict[str, Any]]:
    """(text, provenance) of a pack without its fields (:func:`split`)."""
    head, separator, body = rest.partition(_SEPARATOR)
    if not separator:
        raise ArchiveError("a version's stored text has no provenance separator")
    provenance: dict[str, Any] = json.loads(head)
    return body.decode("utf-8"), provenance


@dataclass(frozen=True)
class Encoded:
    """A pack as stored: the four columns of ``versions``."""

    codec: str
    packed: bytes
    dict_id: int | None = None
    base_id: int | None = None


def encode(
    data: bytes,
    dictionary: tuple[int, bytes] | None = None,
    base: tuple[int, bytes] | None = None,
) -> Encoded:
    """``data`` (a pack) compressed: whole with the trained ``dictionary`` (id, bytes),
    or as a delta of ``base`` (version id, its pack) when that is clearly smaller."""
    codec, stored = compression.compress(data, dictionary[1] if dictionary else None, named=True)
    whole = Encoded(
        codec, stored, dictionary[0] if dictionary is not None and codec == CODEC_ZSTD else None
    )
    if base is None or codec == CODEC_IDENTITY:
        return whole
    try:
        delta = compression.compress_with_prefix(data, base[1])
    except zstandard.ZstdError:  # a base zstd will not take as a dictionary: store whole
        return whole
    if len(delta) <= DELTA_GAIN * len(stored):
        return Encoded(CODEC_DELTA, delta, None, base[0])
    return whole


def decode(codec: str, data: bytes, dictionary: bytes | None, base: bytes | None) -> bytes:
    """The pack of a stored row (its codec and bytes, its dictionary, its base's pack) of
    any codec but :data:`CODEC_PAGE`, which needs its page (:func:`decode_page`)."""
    if codec == CODEC_DELTA:
        if base is None:
            raise ArchiveError("a delta-compressed version lost its base")
        return compression.decompress_with_prefix(data, base)
    if codec in (CODEC_ZSTD, CODEC_IDENTITY):
        return compression.decompress(codec, bytes(data), dictionary)
    raise ArchiveError(f"unknown text codec {codec!r}")


@dataclass
class FirstPage:
    """A document's first page, new to the archive, offered to the text of the version
    read from it (``archive.bodies.BodyStore.page``): :meth:`TextStore.store` compresses
    the page and the text in one zstd frame (``compression.compress_open``) and leaves
    the page's part in ``stored``, which ``BodyStore.store`` then keeps as the body."""

    sha256: str
    data: bytes
    dict_id: int
    dictionary: bytes
    stored: bytes | None = None


def encode_page(data: bytes, dictionary: tuple[int, bytes], page: FirstPage) -> Encoded:
    """``data`` (a pack) as :data:`CODEC_PAGE`: its head (fields and provenance) whole
    with the text ``dictionary``, always a zstd frame, its text after ``page``, whose own
    part it sets."""
    cut = _text_start(data)
    head = compression.compress_frame(data[:cut], dictionary[1], named=True)
    page.stored, rest = compression.compress_open(page.data, page.dictionary, data[cut:])
    return Encoded(CODEC_PAGE, compression.varint(len(head)) + head + rest, dictionary[0])


def page_parts(data: bytes) -> tuple[bytes, bytes]:
    """(head frame, text part) of a :data:`CODEC_PAGE` row's stored bytes."""
    data = bytes(data)
    size, start = _read_length(data)
    if len(data) < start + size:
        raise ArchiveError("a page-following pack is shorter than its head")
    return data[start : start + size], data[start + size :]


def remember(s: Session, version_id: int, page: FirstPage | None) -> None:
    """Note that the text of version ``version_id``, written in ``s``'s open transaction,
    follows ``page`` (if it does), for readers in that transaction (:data:`FOLLOWED`)."""
    if page is not None and page.stored is not None:
        s.info.setdefault(FOLLOWED, {})[version_id] = page.stored


def decode_page(
    data: bytes, dictionary: bytes | None, page: bytes, page_dictionary: bytes | None
) -> bytes:
    """The pack of a :data:`CODEC_PAGE` row, from its stored bytes and dictionary and its
    page's stored bytes and dictionary."""
    head, rest = page_parts(data)
    return (
        compression.decompress(CODEC_ZSTD, head, dictionary)
        + compression.decompress_open(page, page_dictionary, rest)[1]
    )


def _text_start(data: bytes) -> int:
    """Where the text of a pack with fields begins (after its second separator)."""
    if not data.startswith(_FIELDS_MARK):
        raise ArchiveError("a pack without its fields cannot follow its page")
    return data.index(_SEPARATOR, data.index(_SEPARATOR) + 1) + 1


def _read_length(data: bytes) -> tuple[int, int]:
    """(the varint at the start of ``data``, where what follows it begins)."""
    n = shift = 0
    for i, byte in enumerate(data[:5]):
        n |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return n, i + 1
        shift += 7
    raise ArchiveError("a page-following pack has no length for its head")


def train(samples: Sequence[bytes]) -> bytes:
    """A text dictionary trained on ``samples`` (packs); zstd's own errors when it cannot."""
    return compression.train(list(samples))


# --------------------------------------------------------------------------- reading


def columns(versions: Any = None) -> tuple[Any, ...]:
    """What a Core select of ``versions`` (the table, or an alias of it) needs to read a
    version's text with :class:`TextReader` in that one statement: the four stored
    columns, the numbers of its two lists of names (``source_ids``, ``field_ids``, for
    :meth:`TextReader.names`), for a delta its base's, and for a text that follows its
    page that page's stored body (scalar subqueries: an indexed lookup each, and no
    second round trip to read a delta or a page's text)."""
    return _columns(versions if versions is not None else Version.__table__)


@functools.lru_cache(maxsize=16)
def _columns(table: Any) -> tuple[Any, ...]:
    # Built once per table: building the subqueries costs more than running them.
    base = Version.__table__.alias("text_base")

    def of_base(column: Any, label: str | None) -> Any:
        found = select(column).where(base.c.id == table.c.base_id).scalar_subquery()
        return found if label is None else found.label(label)

    return (
        table.c.packed,
        table.c.codec,
        table.c.dict_id,
        table.c.base_id,
        table.c.sources.label("source_ids"),
        table.c.fields_of_work.label("field_ids"),
        of_base(base.c.packed, "base_packed"),
        of_base(base.c.codec, "base_codec"),
        of_base(base.c.dict_id, "base_dict_id"),
        # The stored page a text follows: the row's own, or for a delta its base's (read
        # only when that version follows its page; one column without a condition: each
        # costs SQLAlchemy more per statement than SQLite to run).
        page_of(table, func.coalesce(table.c.base_id, table.c.id)).label("page_data"),
    )


def page_of(table: Any, version_id: Any) -> Any:
    """The stored body of the page that the version ``version_id`` (a row's own id or its
    base's) of a row of ``table``'s document follows if it is :data:`CODEC_PAGE`: the
    body of the capture that made it, the document's first page (for a first version of
    another codec that page, unused; for a later version NULL). Captures are never
    deleted, nor a ``zstd-open`` body rewritten."""
    return (
        select(Body.data)
        .join(Capture, Capture.body_sha256 == Body.sha256)
        .where(
            Capture.document_id == table.c.document_id,
            Capture.version_id == version_id,
            Capture.outcome == FIRST_PAGE_OUTCOME,
        )
        .order_by(Capture.id)
        .limit(1)
        .scalar_subquery()
    )


class StoredText(Protocol):
    """A row (or ORM object) carrying a version's four stored columns (a row selected
    with :func:`columns` also carries its base's)."""

    @property
    def packed(self) -> bytes: ...
    @property
    def codec(self) -> str: ...
    @property
    def dict_id(self) -> int | None: ...
    @property
    def base_id(self) -> int | None: ...


# Dictionaries shared by every reader of the process, by the id zstd gave each when it
# trained it (random, 32 bits; every frame compressed with one names it): a request that
# reads one version then costs no query for the dictionary. zstd refuses a frame whose
# dictionary id differs, so a stale entry can only fail loudly.
_DICTIONARIES: OrderedDict[int, bytes] = OrderedDict()
_DICTIONARIES_LOCK = threading.Lock()
_KEEP_DICTIONARIES = 8


def _known_dictionary(zstd_id: int) -> bytes | None:
    """The process's dictionary of zstd id ``zstd_id``, if it holds it."""
    if not zstd_id:
        return None
    with _DICTIONARIES_LOCK:
        return _DICTIONARIES.get(zstd_id)


def _share_dictionary(zstd_id: int, data: bytes) -> bool:
    """Keep ``data`` for the process when it is the dictionary of zstd id ``zstd_id``."""
    if not zstd_id or zstandard.ZstdCompressionDict(data).dict_id() != zstd_id:
        return False
    with _DICTIONARIES_LOCK:
        _DICTIONARIES[zstd_id] = data
        while len(_DICTIONARIES) > _KEEP_DICTIONARIES:
            _DICTIONARIES.popitem(last=False)
    return True


def _held(data: bytes) -> tuple[dict[str, Any], bytes]:
    """:func:`split` of a pack (or of a page-following pack's head), which must hold its
    fields: every pack does since revision 0024 converted the archive."""
    held, rest = split(data)
    if held is None:
        raise ArchiveError("a version's pack lacks its title, byline and attachments")
    return held, rest


class TextReader:
    """Reads version texts back through one connection or session (see the module
    docstring): the one door to a version's text and provenance."""

    def __init__(self, db: Connection | Session, followed: dict[int, bytes] | None = None) -> None:
        """``followed``: pages texts written in the open transaction follow, by version id
        (:data:`FOLLOWED`; taken from a session's ``info`` when not given)."""
        self._db = db
        if followed is None:
            followed = db.info.get(FOLLOWED, {}) if isinstance(db, Session) else {}
        self._followed = followed
        self._naming = Naming(db)
        self._dictionaries: dict[int, bytes | None] = {}
        self._bases: OrderedDict[int, bytes] = OrderedDict()

    def text(self, row: StoredText) -> str:
        """The text of a stored row."""
        return self.read(row)[0]

    def read(self, row: StoredText) -> tuple[str, dict[str, Any]]:
        """(text, provenance) of a stored row."""
        return unpack(self.pack(row))

    def fields(self, row: StoredText) -> dict[str, Any]:
        """The :data:`PACKED_FIELDS` of a stored row (title, byline, attachments); of a
        text that follows its page, from its head alone (the page is not read)."""
        if row.codec == CODEC_PAGE:
            head = page_parts(row.packed)[0]
            dictionary = self._dictionary(row.dict_id, head)
            return _held(compression.decompress(CODEC_ZSTD, head, dictionary))[0]
        return self._split(row)[0]

    def names(self, row: Any) -> dict[str, list[str]]:
        """The names of a stored row's lists (:data:`NAMED_FIELDS`: ``sources``,
        ``fields_of_work``), from their numbers (``archive.names``)."""
        return {
            "sources": self._naming.names(row.source_ids),
            "fields_of_work": self._naming.names(row.field_ids),
        }

    def name(self, number: int | None) -> str | None:
        """A name a version holds by its number (the furniture model's,
        ``versions.furniture``; revision 0043)."""
        return self._naming.name(number)

    def read_all(
        self, row: StoredText, page: bytes | None = None
    ) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """(text, provenance, :meth:`fields`) of a stored row, its pack read once;
        ``page``: the stored page it follows, when the caller has it."""
        held, rest = self._split(row, page)
        return (*_text_and_provenance(rest), held)

    def _split(self, row: StoredText, page: bytes | None = None) -> tuple[dict[str, Any], bytes]:
        return _held(self.pack(row, page))

    def pack(self, row: StoredText, page: bytes | None = None) -> bytes:
        """The pack of a stored row; ``page``: the stored page it follows, when the caller
        has it (else selected with :func:`columns`, or looked up)."""
        base = None
        if row.codec == CODEC_PAGE:
            return self._after_page(row, page)
        if row.codec == CODEC_DELTA:
            fields = getattr(row, "_mapping", {})  # a Core row selected with columns()
            if fields.get("base_packed") is not None and row.base_id is not None:
                base = self._bases.get(row.base_id)
                if base is None:
                    whole = self._whole(
                        fields["base_codec"],
                        fields["base_packed"],
                        fields["base_dict_id"],
                        row.base_id,
                        fields.get("page_data"),  # a delta's: its base's page
                    )
                    base = self._keep(row.base_id, whole)
            else:
                base = self.base_pack(row.base_id)
        return decode(row.codec, row.packed, self._dictionary(row.dict_id, row.packed), base)

    def _after_page(self, row: StoredText, page: bytes | None = None) -> bytes:
        """The pack of a :data:`CODEC_PAGE` row, with its page's stored body when the
        caller has it (selected with :func:`columns`), else looked up by the row's id."""
        if page is None:
            page = self._page_of(row)
        page = bytes(page)
        head = page_parts(row.packed)[0]
        return decode_page(
            row.packed, self._dictionary(row.dict_id, head), page, self._frame_dictionary(page)
        )

    def _pages(self, versions: Sequence[Any]) -> dict[int, bytes]:
        """The stored pages that ``versions`` (each :data:`CODEC_PAGE`) follow, by version
        id, in a query per 500 (through the captures' index on their document)."""
        found = {v.id: self._followed[v.id] for v in versions if v.id in self._followed}
        versions = [v for v in versions if v.id not in found]
        for start in range(0, len(versions), 500):
            chunk = versions[start : start + 500]
            rows = self._db.execute(
                select(Capture.version_id, Body.data)
                .join(Body, Body.sha256 == Capture.body_sha256)
                .where(
                    Capture.document_id.in_({v.document_id for v in chunk}),
                    Capture.version_id.in_([v.id for v in chunk]),
                    Capture.outcome == FIRST_PAGE_OUTCOME,
                )
                .order_by(Capture.id.desc())
            )
            # newest first, so that each version keeps its first capture's page
            found.update({version_id: bytes(data) for version_id, data in rows if version_id})
        return found

    def _page_of(self, row: StoredText) -> bytes:
        fields = getattr(row, "_mapping", {})
        if fields.get("page_data") is not None:
            return bytes(fields["page_data"])
        version_id = getattr(row, "id", None)
        if version_id is None:
            raise ArchiveError("a page-following text was read without its version id")
        if version_id in self._followed:  # written in this transaction, not yet stored
            return self._followed[version_id]
        table = Version.__table__
        page = self._db.execute(
            select(page_of(table, table.c.id)).where(table.c.id == version_id)
        ).scalar()
        if page is None:
            raise ArchiveError(f"the page that version {version_id}'s text follows is missing")
        return bytes(page)

    def load(self, versions: Iterable[Version]) -> list[Version]:
        """Fill ``text``, ``provenance`` and the :data:`PACKED_FIELDS` (``title``,
        ``byline``, ``attachments``) of each ORM version; returns them, in order."""
        versions = list(versions)
        self._prefetch({v.base_id for v in versions if v.codec == CODEC_DELTA})
        pages = self._pages([v for v in versions if v.codec == CODEC_PAGE])
        for version in versions:
            version.text, version.provenance, fields = self.read_all(version, pages.get(version.id))
            version.fill(fields)
            version.fill(self.names(version))
            version.furniture_version = self.name(version.furniture_id)
        return versions

    def _prefetch(self, base_ids: set[int | None]) -> None:
        wanted = sorted(i for i in base_ids if i is not None and i not in self._bases)
        for start in range(0, len(wanted), 500):
            rows = self._db.execute(
                select(
                    Version.id, Version.document_id, Version.packed, Version.codec, Version.dict_id
                ).where(Version.id.in_(wanted[start : start + 500]))
            ).all()
            pages = self._pages([r for r in rows if r.codec == CODEC_PAGE])
            for row in rows:
                whole = self._whole(row.codec, row.packed, row.dict_id, row.id, pages.get(row.id))
                self._keep(row.id, whole)

    def fields_of(self, version_id: int) -> dict[str, Any]:
        """:meth:`fields` of the version ``version_id`` (one query)."""
        return self.fields(self._row(version_id))

    def text_part_of(self, version_id: int) -> bytes:
        """:func:`text_part` of the version ``version_id``'s pack (what a page fetched
        again is compressed against, ``archive.bodies``)."""
        return text_part(self.pack_of(version_id))

    def pack_of(self, version_id: int) -> bytes:
        """The pack of the version ``version_id``, whatever its codec (one query)."""
        return self.pack(self._row(version_id))

    def _row(self, version_id: int) -> Any:
        """The version ``version_id``'s row, selected with :func:`columns`."""
        row = self._db.execute(
            select(Version.__table__.c.id, *columns()).where(Version.__table__.c.id == version_id)
        ).one_or_none()
        if row is None:
            raise ArchiveError(f"version {version_id} is missing")
        return row

    def base_pack(self, base_id: int | None) -> bytes:
        """The pack of the version ``base_id`` (a delta's base, never itself a delta)."""
        if base_id is None:
            raise ArchiveError("a delta-compressed version names no base")
        found = self._bases.get(base_id)
        if found is not None:
            self._bases.move_to_end(base_id)
            return found
        row = self._db.execute(
            select(Version.packed, Version.codec, Version.dict_id).where(Version.id == base_id)
        ).one_or_none()
        if row is None:
            raise ArchiveError(f"the base version {base_id} of a delta is missing")
        return self._keep(base_id, self._whole(row.codec, row.packed, row.dict_id, base_id))

    def _whole(
        self,
        codec: str,
        data: bytes,
        dict_id: int | None,
        version_id: int,
        page: bytes | None = None,
    ) -> bytes:
        """The pack of a version that is not a delta (a base); ``page``: its page's stored
        body when the caller selected it."""
        if codec == CODEC_DELTA:
            raise ArchiveError("a delta's base is itself a delta")
        if codec == CODEC_PAGE:
            stored = SimpleNamespace(id=version_id, codec=codec, packed=data, dict_id=dict_id)
            return self._after_page(cast(StoredText, stored), page)
        return decode(codec, data, self._dictionary(dict_id, data), None)

    def _keep(self, base_id: int, data: bytes) -> bytes:
        self._bases[base_id] = data
        while len(self._bases) > _KEEP_BASES:
            self._bases.popitem(last=False)
        return data

    def _dictionary(self, dict_id: int | None, frame: bytes) -> bytes | None:
        """The dictionary row ``dict_id`` that compressed ``frame``."""
        if dict_id is None:
            return None
        if dict_id not in self._dictionaries:
            self._dictionaries[dict_id] = self._shared(dict_id, frame)
        return self._dictionaries[dict_id]

    def _frame_dictionary(self, frame: bytes) -> bytes | None:
        """The dictionary that compressed ``frame`` (a page's body), found by the id zstd
        wrote in it: the process's cache, else the archive's dictionaries."""
        zstd_id = compression.frame_dict_id(frame)
        if not zstd_id:
            return None
        known = _known_dictionary(zstd_id)
        if known is not None:
            return known
        for (data,) in self._db.execute(select(CompressionDict.data)):
            if _share_dictionary(zstd_id, bytes(data)):
                return bytes(data)
        raise ArchiveError(f"no dictionary of the archive compressed a page (zstd id {zstd_id})")

    def _shared(self, dict_id: int, frame: bytes) -> bytes | None:
        try:
            zstd_id = compression.frame_dict_id(frame)
        except zstandard.ZstdError:
            zstd_id = 0  # not a frame: decode will say so
        known = _known_dictionary(zstd_id)
        if known is not None:
            return known
        data = self._db.execute(
            select(CompressionDict.data).where(CompressionDict.id == dict_id)
        ).scalar()
        if data is None:
            return None
        data = bytes(data)
        _share_dictionary(zstd_id, data)
        return data


# --------------------------------------------------------------------------- writing


class TextStore:
    """Writes version texts compressed (see the module docstring).

    What this object knows (the text dictionary, how many packs lack one) is a cache of
    the database: after a failed transaction it is forgotten and read again.
    """

    def __init__(self) -> None:
        self.numbering = Numbering()
        self.forget()

    def forget(self) -> None:
        self.numbering.forget()
        self._loaded = False
        self.dictionary: tuple[int, bytes] | None = None
        self._plain = 0  # packs compressed without a dictionary (counted until trained)

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
                    .select_from(Version)
                    .where(Version.codec == CODEC_ZSTD, Version.dict_id.is_(None))
                )
                or 0
            )
        self._loaded = True

    def store(
        self,
        s: Session,
        version: Version,
        previous: Version | None,
        now: datetime,
        page: FirstPage | None = None,
    ) -> None:
        """Set ``version``'s stored columns from its ``text``, ``provenance``,
        :data:`PACKED_FIELDS` and the names it holds (numbered, ``archive.names``), in
        ``s``'s transaction; ``previous`` (the document's newest version, flushed) may
        serve as the base of a delta. ``page``: the document's first page, new, which the
        text of its first version follows (:data:`CODEC_PAGE`) once the archive has a text
        dictionary."""
        if not self._loaded:
            self._load(s)
        if self.dictionary is None and self._plain >= TRAIN_AFTER:
            self._train(s, now)
        base = None
        if previous is not None:
            base_id = previous.base_id if previous.codec == CODEC_DELTA else previous.id
            if base_id is not None:
                base = (base_id, TextReader(s).base_pack(base_id))
        version.source_ids = self.numbering.numbers(s, version.sources)
        version.field_ids = self.numbering.numbers(s, version.fields_of_work)
        version.furniture_id = self.numbering.number(s, version.furniture_version)
        fields = {name: getattr(version, name) for name in PACKED_FIELDS}
        data = pack(version.text, version.provenance, fields)
        if page is not None and previous is None and self.dictionary is not None:
            encoded = encode_page(data, self.dictionary, page)
        else:
            encoded = encode(data, self.dictionary, base)
        version.packed = encoded.packed
        version.codec = encoded.codec
        version.dict_id = encoded.dict_id
        version.base_id = encoded.base_id
        if encoded.codec == CODEC_ZSTD and encoded.dict_id is None:
            self._plain += 1

    def _train(self, s: Session, now: datetime) -> None:
        rows = s.execute(
            select(Version.id, Version.packed)
            .where(Version.codec == CODEC_ZSTD, Version.dict_id.is_(None))
            .order_by(Version.id)
            .limit(TRAIN_AFTER)
        ).all()
        samples = [compression.decompress(CODEC_ZSTD, data) for _, data in rows]
        try:
            trained = train(samples)
        except Exception:  # noqa: BLE001 - zstd refuses samples too alike: no dictionary yet
            self._plain = 0  # try again after as many more packs
            return
        sha = compression.digest(trained)
        row = CompressionDict(created=now, sha256=sha, data=trained, kind=KIND)
        s.add(row)
        s.flush()
        rewrite_rows(
            s,
            Version,
            "id",
            [
                {
                    "id": version_id,
                    "packed": compression.compress(raw, trained, named=True)[1],
                    "dict_id": row.id,
                }
                for (version_id, _), raw in zip(rows, samples, strict=True)
            ],
        )
        self.dictionary = (row.id, trained)
        self._plain = 0
