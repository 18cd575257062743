"""The archive's tables: SQLAlchemy 2.0 typed models, portable to SQLite and PostgreSQL.

Time lives here as rows: documents and their versions, every address a document was
seen at, every fetch (capture) with the raw body it returned (stored once per distinct
content), runs, the one-crawl-at-a-time lock and the change log whose sequence number
is the cursor of exports. Only portable types are used so that one set of Alembic
revisions (``archive/migrations``) serves both databases; ``alembic check`` keeps the
models and the revisions from drifting.

Imports: SQLAlchemy, ``archive.compression`` (for :class:`PackedJson`) and
``archive.errors``; every other module that touches tables imports this one.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar, overload

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    and_,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, column_property, mapped_column
from sqlalchemy.sql.dml import Update
from sqlalchemy.types import TypeDecorator, TypeEngine, UserDefinedType

from archive import compression
from archive.errors import ArchiveError

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

HASH_PREFIX = "sha256:"
#: ``sha256:<64 hex>``: the form of a digest in the program and every export.
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
#: Bytes of a stored digest (revision 0011): the raw sha256.
DIGEST_LEN = 32
#: Addresses on osce.org are short; 2,000 covers any URL a browser accepts.
URL_LEN = 2000


#: The instant SQLite times count from: the start of 2026 since revision 0035 (1970 from
#: revision 0016). SQLite keeps an integer in 6 bytes up to 2^47, some 4.46 years of
#: microseconds either side, where microseconds since 1970 take 8: the times of mid-2021
#: to mid-2030 take 6 bytes, later ones 8 as before (about 13 times a page, 2 bytes each).
EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)
#: :data:`EPOCH` in microseconds since 1970, for SQL that gives a stored time to SQLite's
#: date functions (``(at + EPOCH_UNIX_MICROS) / 1000000`` seconds since 1970).
EPOCH_UNIX_MICROS = (EPOCH - datetime(1970, 1, 1, tzinfo=timezone.utc)) // _MICROSECOND


def sqlite_time(value: datetime) -> int:
    """``value`` as SQLite keeps it since revision 0016: whole microseconds since
    :data:`EPOCH`, an integer of 6 bytes in this decade (text of 26 characters before
    revision 0016). For statements written as text that compare a time column with a
    bound value."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the archive; times must be UTC-aware")
    return (value - EPOCH) // _MICROSECOND


def from_sqlite_time(value: int | str) -> datetime:
    """A time column's stored SQLite value back as an aware UTC datetime."""
    if isinstance(value, str):  # text, as written before revision 0016
        return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)
    return EPOCH + int(value) * _MICROSECOND


class _SQLiteTime(UserDefinedType[int]):
    """What a time column is on SQLite: still declared ``DATETIME`` (so revision 0016
    rewrote values, not tables), holding integers, with no conversion of its own."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "DATETIME"


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on both databases.

    PostgreSQL keeps ``timestamp with time zone``. SQLite has no time type: since
    revision 0016 a time is kept there as whole microseconds since :data:`EPOCH` (6 bytes
    from mid-2021 to mid-2030, 8 outside, where SQLAlchemy's text form took 26), exact to
    the microsecond and in the same order, so comparisons and ``ORDER BY`` work on the
    integers. Either way the program binds and reads aware UTC datetimes; a naive one is
    refused.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return _SQLiteTime()
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the archive; times must be UTC-aware")
        if dialect.name == "sqlite":
            return sqlite_time(value)
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):  # SQLite's integer (or text before 0016)
            return from_sqlite_time(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Sha256(TypeDecorator[str]):
    """A sha256 digest: ``sha256:<64 hex>`` in the program, its 32 raw bytes in the
    database (revision 0011; before, the 71 characters, in every indexed column too).

    The one place the two forms meet: every statement binds and reads these columns
    through this type, so queries, exports and the API see the same strings as before.
    """

    impl = LargeBinary(DIGEST_LEN)
    cache_ok = True

    @staticmethod
    def valid(value: str) -> bool:
        """Whether ``value`` is ``sha256:`` and 64 lower-case hex digits (the one form
        stored: any other string can match no row)."""
        return _DIGEST.fullmatch(value) is not None

    def process_bind_param(self, value: str | None, dialect: Dialect) -> bytes | None:
        if value is None:
            return None
        if not self.valid(value):
            raise ValueError(f"not a sha256:<64 hex> digest: {value[:80]!r}")
        return bytes.fromhex(value[len(HASH_PREFIX) :])

    def process_result_value(self, value: bytes | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return HASH_PREFIX + bytes(value).hex()


#: Beginnings of addresses stored as one control character (revision 0019): the
#: newsroom's own scheme and host spellings, which open nearly every address the archive
#: keeps, in six columns and an index (86 B/page on ``bench/archive_storage.py``).
#: The n-th is stored as ``chr(n + 1)``. Append only: a stored code never changes
#: meaning. Sorted and none a beginning of another, so coded addresses keep their order
#: among themselves (an address coded and one not compare otherwise: sort in Python
#: where that order is promised).
URL_PREFIXES = (
    "http://osce.org/",
    "http://www.osce.org/",
    "https://osce.org/",
    "https://www.osce.org/",
)
#: Marks a stored address that itself began with a control character (none should).
URL_ESCAPE = "\x1f"


def pack_url(url: str) -> str:
    """``url`` as stored since revision 0019 (see :data:`URL_PREFIXES`)."""
    if url[:1] < " " and url:
        return URL_ESCAPE + url
    for code, prefix in enumerate(URL_PREFIXES, 1):
        if url.startswith(prefix):
            return chr(code) + url[len(prefix) :]
    return url


def unpack_url(stored: str) -> str:
    """A stored address back as the program sees it (either form: revision 0019 or not)."""
    first = stored[:1]
    if not first or first >= " ":
        return stored
    if first == URL_ESCAPE:
        return stored[1:]
    if not 1 <= ord(first) <= len(URL_PREFIXES):
        raise ArchiveError(f"a stored address begins with an unknown code {first!r}")
    return URL_PREFIXES[ord(first) - 1] + stored[1:]


class _CodedText(TypeDecorator[str]):
    """A text column the program reads as it wrote it and the database holds coded:
    :meth:`encode` on the way in (bound values too, so ``==`` and ``IN`` compare coded
    with coded), :meth:`decode` on the way out. A statement written as text sees the
    stored form and calls them itself."""

    impl: TypeEngine[Any] | type[TypeEngine[Any]] = String
    cache_ok = True

    def encode(self, value: str) -> str:
        raise NotImplementedError

    def decode(self, stored: str) -> str:
        raise NotImplementedError

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.encode(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.decode(value)


class Url(_CodedText):
    """An address: the URL itself in the program, its beginning coded in the database
    (:func:`pack_url`, revision 0019). Bound values compared with the column are coded
    too, so ``==`` and ``IN`` work unchanged, and so does ``LIKE`` with a pattern that
    begins with a whole prefix (``'https://osce.org/%'``) or matches only what follows
    one (``'%/55436'``); a pattern that matches inside a prefix (``'https://%'``,
    ``'%osce.org/%'``, ``startswith('https://www.')``) misses coded rows. A statement
    written as text reads the stored form and must :func:`unpack_url` it."""

    impl = String(URL_LEN)
    cache_ok = True

    def encode(self, value: str) -> str:
        return pack_url(value)

    def decode(self, stored: str) -> str:
        return unpack_url(stored)


class HttpDate(_CodedText):
    """An HTTP date (a ``Last-Modified`` value): the text in the program; in the database,
    when it is an IMF-fixdate (``Sun, 06 Nov 1994 08:49:37 GMT``, RFC 9110) that reads
    back exactly, one control character and its seconds since 1970 (revision 0029: 11
    characters instead of 29); any other text as it is (behind :data:`URL_ESCAPE` if it
    begins with a control character). ``==`` compares coded with coded; ``ORDER BY``
    and ``LIKE`` see the stored form."""

    cache_ok = True
    MARK = "\x01"

    def encode(self, value: str) -> str:
        if value[:1] < " " and value:
            return URL_ESCAPE + value
        moment = exact_http_date(value)
        return value if moment is None else self.MARK + str(int(moment.timestamp()))

    def decode(self, stored: str) -> str:
        if stored.startswith(self.MARK):
            return http_date(datetime.fromtimestamp(int(stored[1:]), timezone.utc))
        if stored.startswith(URL_ESCAPE):
            return stored[1:]
        return stored


#: The values each coded column names (revision 0022), as ``Coded`` stores them: the n-th
#: as ``chr(n + 1)``. Append only: a stored code never changes meaning. A value not listed
#: is stored as it is (behind :data:`URL_ESCAPE` if it begins with a control character).
#: Content types: those the crawler's labels name (``crawler/data/labels.toml``), ``page``
#: (a page that is not an item) and ``article`` (a third-party source's).
KINDS = (
    "press-release", "story", "news", "spot-report", "daily-report", "statement", "page",
    "feature", "speech", "interview", "op-ed", "opinion", "announcement", "media-advisory",
    "report", "article",
)  # fmt: skip
#: Why a version was written (``archive.versioning``).
VERSION_REASONS = ("created", "changed", "returned", "reextracted")
#: What a change-log entry records (``archive.versioning``, ``archive.batch``).
CHANGE_KINDS = ("created", "changed", "deleted", "returned", "moved", "reextracted", "duplicate")
#: Where a version's date was read (``archive.records.DATE_SOURCES``).
DATE_SOURCES = ("markup", "meta", "json-ld", "listing", "dateline", "heuristic")
#: How an address reaches its document.
ADDRESS_ROLES = ("canonical", "redirect", "alias", "page")
#: How a version's pack and a body are compressed (``archive.texts``, ``archive.bodies``).
TEXT_CODECS = ("identity", "zstd", "delta", "zstd-page")
BODY_CODECS = ("zstd", "zstd-ref", "identity", "zstd-open")


class Coded(_CodedText):
    """A name from a short list the program itself writes (a kind, a reason, a codec):
    the name in the program, one control character in the database for a listed one
    (revision 0022; ``press-release`` was 13 bytes in a row and again in an index).
    Bound values are coded too, so ``==`` and ``IN`` work unchanged; ``LIKE`` and
    ``ORDER BY`` see the codes. A statement written as text reads the stored form and
    must :meth:`decode` it, and bind :meth:`encode`'s."""

    cache_ok = True

    def __init__(self, values: tuple[str, ...], length: int = 16) -> None:
        super().__init__(length)
        self.values = values
        self._codes = {value: chr(code) for code, value in enumerate(values, 1)}

    def encode(self, value: str) -> str:
        if value[:1] < " " and value:
            return URL_ESCAPE + value
        return self._codes.get(value, value)

    def decode(self, stored: str) -> str:
        first = stored[:1]
        if not first or first >= " ":
            return stored
        if first == URL_ESCAPE:
            return stored[1:]
        code = ord(first)
        if len(stored) > 1 or not 1 <= code <= len(self.values):
            raise ArchiveError(f"a stored name begins with an unknown code {first!r}")
        return self.values[code - 1]


#: Pieces of the name a version gives the code that read it (``extractor_version``, such
#: as ``osce-extract-3+trafilatura-2.3.1``; the furniture model's too, ``fm-`` and a
#: digest, until revision 0043 numbered it), each stored as one control character
#: (revision 0023): the n-th as ``chr(n + 1)``. Append only; a revision keeps its own copy.
READER_PIECES = ("osce-extract-", "+trafilatura-", "+generic-", "fm-")


class Abbreviated(_CodedText):
    """A name made of known pieces and a version number: the name in the program, each
    piece of :data:`READER_PIECES` one control character in the database (revision 0023;
    ``osce-extract-3+trafilatura-2.3.1``, 32 bytes on nearly every version, takes 8).
    Bound values are abbreviated too, so ``==``, ``!=`` and ``IN`` work unchanged. A
    value that holds a control character is stored whole behind :data:`URL_ESCAPE`."""

    cache_ok = True

    def __init__(self, pieces: tuple[str, ...] = READER_PIECES, length: int = 64) -> None:
        super().__init__(length)
        self.pieces = pieces

    def encode(self, value: str) -> str:
        if any(c < " " for c in value):
            return URL_ESCAPE + value
        for code, piece in enumerate(self.pieces, 1):
            value = value.replace(piece, chr(code))
        return value

    def decode(self, stored: str) -> str:
        if stored.startswith(URL_ESCAPE):
            return stored[1:]
        out = []
        for c in stored:
            if c >= " ":
                out.append(c)
            elif 1 <= ord(c) <= len(self.pieces):
                out.append(self.pieces[ord(c) - 1])
            else:
                raise ArchiveError(f"a stored name holds an unknown code {c!r}")
        return "".join(out)


class PackedJson(TypeDecorator[Any]):
    """A small JSON value kept beside each fetch (answers' headers, listing entries): the
    value in the program, compressed against a prefix of what such values repeat in the
    database (``archive.compression.pack_json``, revision 0020; before, JSON text of some
    460 and 330 bytes, now about 115 and 160). SQL never reads inside these values."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> bytes | None:
        return None if value is None else compression.pack_json(value)

    def process_result_value(self, value: bytes | str | None, dialect: Dialect) -> Any:
        return None if value is None else compression.unpack_json(value)


#: Capture columns whose value the final answer's headers also hold, by header name
#: (revision 0020): stored NULL where the header says the same and read back from it,
#: so a crawl's fetch keeps its validators and media type once (about 77 B/page).
ANSWER_HEADERS = {"etag": "etag", "last_modified": "last-modified", "content_type": "content-type"}
#: Stored for "none" where the answer has the header anyway; a value that itself begins
#: with it is stored behind it (no HTTP header value holds a control character).
_NOT_IN_ANSWER = "\x01"


def answer_header(answers: list[Any] | None, column: str) -> str | None:
    """The final answer's header for capture column ``column`` (its first value)."""
    if not answers:
        return None
    name = ANSWER_HEADERS[column]
    for key, value in answers[-1].get("headers") or ():
        if str(key).lower() == name:
            return str(value)
    return None


def to_header_column(value: str | None, answers: list[Any] | None, column: str) -> str | None:
    """What capture column ``column`` stores for ``value`` beside ``answers``."""
    if value == answer_header(answers, column):
        return None
    if value is None:
        return _NOT_IN_ANSWER
    return _NOT_IN_ANSWER + value if value.startswith(_NOT_IN_ANSWER) else value


def from_header_column(stored: str | None, answers: list[Any] | None, column: str) -> str | None:
    """The value of capture column ``column`` from what it stores and the answers."""
    if stored is None:
        return answer_header(answers, column)
    if stored.startswith(_NOT_IN_ANSWER):
        return stored[1:] or None
    return stored


class FetchSaid(NamedTuple):
    """What a fetch says of its address's next visit: when it was made and the validators
    its final answer gave (``etag`` and ``last_modified`` as the capture's own columns
    read them, :func:`from_header_column`)."""

    fetched_at: datetime
    etag: str | None
    last_modified: str | None

    @classmethod
    def of_row(
        cls,
        url: str,
        fetched_at: datetime,
        etag: str | None,
        last_modified: str | None,
        http: list[Any] | None,
    ) -> FetchSaid:
        """What a stored capture says, from its columns (``http`` as the model reads it)."""
        # the answers are read only where a column leaves a validator to them
        needed = etag is None or last_modified is None
        answers = answers_read_back(http, url, fetched_at) if needed else None
        return cls(
            fetched_at,
            from_header_column(etag, answers, "etag"),
            from_header_column(last_modified, answers, "last_modified"),
        )


#: An address's fetch state that its newest capture (:func:`newest_capture`) says too:
#: ``etag``, ``last_modified`` and ``last_fetched`` are NULL where they are what it says
#: (revision 0044: every fetch kept them twice, on the capture and on its address; 41
#: B/item on ``bench/run.py``'s archive under the site's addresses). Written with
#: :func:`state_to_store` and read with :func:`state_read`, against the ``FetchSaid``
#: of that capture (None where the address has none: NULL then reads none). Only a
#: fetch of the address itself (its ``captures.address_id``) says it: the target of a
#: redirect keeps what the redirect's fetch set.
ADDRESS_STATE_SAID = ("etag", "last_modified", "last_fetched")
#: Stored for "none" where the newest capture names a validator (a header value the
#: program keeps is never empty: an empty one reads back as none).
_NO_VALIDATOR = ""


def _said_of(column: str, said: FetchSaid) -> Any:
    return said.fetched_at if column == "last_fetched" else getattr(said, column)


def state_to_store(column: str, value: Any, said: FetchSaid | None) -> Any:
    """What address column ``column`` (one of :data:`ADDRESS_STATE_SAID`) keeps for
    ``value``: NULL where the address's newest capture says the same (``said``: None
    where it has none)."""
    if said is None:
        return value  # NULL reads none where the address has no capture
    if value == _said_of(column, said):
        return None
    if value is None and column != "last_fetched":  # an address fetched has a time
        return _NO_VALIDATOR
    return value


def state_read(column: str, stored: Any, said: FetchSaid | None) -> Any:
    """Address column ``column``'s value from what it keeps and what the address's
    newest capture says (``said``: None where it has none)."""
    if stored is None:
        return None if said is None else _said_of(column, said)
    return stored if stored != _NO_VALIDATOR else None


def answers_to_store(
    answers: list[Any] | None, requested: str, fetched_at: datetime
) -> list[Any] | None:
    """What ``captures.http`` stores for a fetch's ``answers`` (revision 0028): each
    answer as it is, less what the capture's own columns say. The first answer's
    ``url`` is left out when it is the address ``requested`` (``captures.url``), a
    ``Date`` header that :func:`http_date` gives back from the fetch time is stored as
    its offset from it in whole seconds (a number; a header value is always a string),
    and a ``Last-Modified`` header that it gives back as seconds since 1970 (revision
    0041: its 29 characters compressed poorly, about 13 B/item on ``bench/run.py``).
    :func:`answers_read_back` restores them."""
    if not answers:
        return answers
    stored = []
    for i, answer in enumerate(answers):
        answer = dict(answer)
        if i == 0 and answer.get("url") == requested:
            del answer["url"]
        headers = answer.get("headers")
        if headers:
            answer["headers"] = [
                [name, _header_to_store(name, value, fetched_at)] for name, value in headers
            ]
        stored.append(answer)
    return stored


def answers_read_back(
    stored: list[Any] | None, requested: str, fetched_at: datetime
) -> list[Any] | None:
    """The answers :func:`answers_to_store` was given, from what it stored (a value
    stored before revision 0028 comes back as it is)."""
    if not stored:
        return stored
    answers = []
    for i, answer in enumerate(stored):
        answer = dict(answer)
        if i == 0 and "url" not in answer:
            answer = {"url": requested, **answer}
        headers = answer.get("headers")
        if headers:
            answer["headers"] = [
                [name, _read_back(name, value, fetched_at)] for name, value in headers
            ]
        answers.append(answer)
    return answers


def http_date(at: datetime, offset: int = 0) -> str:
    """``at`` (UTC) plus ``offset`` seconds as an HTTP date (IMF-fixdate, RFC 9110)."""
    moment = at.astimezone(timezone.utc).replace(microsecond=0) + timedelta(seconds=offset)
    return format_datetime(moment, usegmt=True)


#: Offsets a stored Date header may take, in seconds either way: a server's clock and
#: the crawler's rarely differ by more; a header further off is kept as it is.
_DATE_SPAN = 3600


def _header_to_store(name: Any, value: Any, fetched_at: datetime) -> Any:
    header = str(name).lower()
    if header == "date":
        return _date_offset(value, fetched_at)
    if header == "last-modified":
        moment = exact_http_date(value)
        return value if moment is None else int(moment.timestamp())
    return value


def _read_back(name: Any, value: Any, fetched_at: datetime) -> Any:
    if isinstance(value, int):
        header = str(name).lower()
        if header == "date":
            return http_date(fetched_at, value)
        if header == "last-modified":
            return http_date(datetime.fromtimestamp(value, timezone.utc))
    return value


def exact_http_date(value: Any) -> datetime | None:
    """The moment ``value`` names if it is an HTTP date that :func:`http_date` writes back
    exactly (an IMF-fixdate, with the right weekday), else None."""
    if not isinstance(value, str):
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None or http_date(moment) != value:
        return None
    return moment


def _date_offset(value: Any, fetched_at: datetime) -> Any:
    moment = exact_http_date(value)
    if moment is None:
        return value
    base = fetched_at.astimezone(timezone.utc).replace(microsecond=0)
    offset = int((moment - base).total_seconds())
    return value if abs(offset) > _DATE_SPAN else offset


def own_listing(address: str, requested: str, listing: Any) -> Any:
    """What ``addresses.listing`` stores when a fetch of ``requested`` brings the listing
    entry ``listing`` to ``address`` (revision 0021): NULL at the address requested, whose
    capture, written with the entry, keeps it (found by :func:`listed_capture`);
    the entry itself at any other address it reaches (the page's canonical one)."""
    return None if address == requested else listing


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


class SeenOnce:
    """A row whose ``last_seen`` is kept only where it moved on from ``first_seen``: the
    column ``last_seen`` (the attribute ``seen_since``) is NULL while they are the same
    (:func:`seen_since`; revisions 0037 for versions, 0042 for addresses). In SQL, read
    it as ``coalesce(last_seen, first_seen)``."""

    if TYPE_CHECKING:
        first_seen: datetime
        seen_since: datetime | None

    @property
    def last_seen(self) -> datetime:
        """When a fetch last met it: its ``first_seen`` unless met since."""
        return self.seen_since or self.first_seen

    @last_seen.setter
    def last_seen(self, value: datetime) -> None:
        self.seen_since = seen_since(self.first_seen, value)


class Document(Base):
    """One newsroom item, whatever addresses it was seen at: id ``osce.org/<node>``."""

    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(Coded(KINDS, 64), index=True)
    url: Mapped[str] = mapped_column(Url())  # the newest canonical address
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[datetime | None]
    # Indexed where it is set only (``ix_documents_duplicate_of``, revision 0030).
    duplicate_of: Mapped[str | None] = mapped_column(ForeignKey("documents.id"), default=None)
    # The newest version's number (0 before the first); a cache of max(versions.number)
    # so that the versioning rule reads the newest version with one primary-key lookup.
    current_version: Mapped[int] = mapped_column(Integer, default=0)


#: Most documents duplicate none: the index keeps those that do (revision 0030; every
#: row before). ``duplicate_of = x`` and ``IS NOT NULL`` imply its condition, so both
#: databases use it for them.
Index(
    "ix_documents_duplicate_of",
    Document.__table__.c.duplicate_of,
    sqlite_where=Document.__table__.c.duplicate_of.is_not(None),
    postgresql_where=Document.__table__.c.duplicate_of.is_not(None),
)


class Address(SeenOnce, Base):
    """Every address seen, normalised (``archive.urls``), with its fetch state.

    The frontier reads its conditional-request validators (ETag, Last-Modified)
    and last status from here, and from its newest capture where they are the same
    (:data:`ADDRESS_STATE_SAID`). Addresses of pages that are not items have no
    document.
    """

    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(Url(), unique=True)
    document_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id"), index=True)
    how: Mapped[str] = mapped_column(Coded(ADDRESS_ROLES))  # canonical|redirect|alias|page
    first_seen: Mapped[datetime]
    # NULL where it is ``first_seen`` (revision 0042: most addresses are met by one
    # fetch): the attribute ``last_seen`` reads it (SeenOnce).
    seen_since: Mapped[datetime | None] = mapped_column("last_seen", default=None)
    # These three are NULL where the address's newest capture says the same (revision
    # 0044): read them with state_read, write them with state_to_store.
    etag: Mapped[str | None] = mapped_column(String(500))
    # Coded when it is an IMF-fixdate (HttpDate, revision 0029).
    last_modified: Mapped[str | None] = mapped_column(HttpDate(100))
    last_fetched: Mapped[datetime | None]
    last_status: Mapped[int | None]
    # The last ListingEntry that linked it (packed since revision 0020).
    listing: Mapped[dict[str, Any] | None] = mapped_column(PackedJson())


class CompressionDict(Base):
    """A zstandard dictionary trained on the archive's first bodies (``archive.bodies``,
    kind ``body``: the pages of one site share most of their markup, which the dictionary
    holds once) or on its first version texts (``archive.texts``, kind ``text``)."""

    __tablename__ = "compression_dicts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # body | text (revision 0007; the dictionaries before it were all trained on bodies).
    kind: Mapped[str] = mapped_column(String(16), default="body", server_default="body")
    created: Mapped[datetime]
    sha256: Mapped[str] = mapped_column(Sha256())
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Name(Base):
    """A name that versions' lists hold (a source, a field of work), stored once: the
    lists keep its number (``archive.names``, revision 0026). Numbers are given as names
    first appear and never change."""

    __tablename__ = "names"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)


class Body(Base):
    """A raw response body, stored once per distinct sha256, compressed.

    A row-id table with an index on the digest (``WITHOUT ROWID`` from revision 0021
    until 0038): rows are appended as they arrive and fill their pages, where the
    digest's own tree took them in random order and was left a quarter empty by a crawl.

    A ``zstd-open`` body (revision 0031) is a document's first page, whose frame the
    text of the version read from it continues (``archive.texts``, ``zstd-page``): its
    stored bytes must never be compressed again alone, and the capture that brought it
    (outcome ``new_document``) is how that text finds it."""

    __tablename__ = "bodies"

    sha256: Mapped[str] = mapped_column(Sha256(), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)  # bytes before compression
    codec: Mapped[str] = mapped_column(Coded(BODY_CODECS))  # zstd | zstd-ref | identity | zstd-open
    dict_id: Mapped[int | None] = mapped_column(ForeignKey("compression_dicts.id"))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    # When it was stored is its first capture's ``fetched_at`` (``stored_at`` until
    # revision 0042).
    # zstd-ref (revision 0017): what a page fetched again was compressed against instead
    # of the trained dictionary: an earlier body of its document (itself without a base)
    # and the pack of the version read from it (``archive.bodies``).
    base: Mapped[str | None] = mapped_column(Sha256(), ForeignKey("bodies.sha256"))
    text_of: Mapped[int | None] = mapped_column(ForeignKey("versions.id"))


class Run(Base):
    """One crawl (or re-extraction): when, how it ended, what it counted."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(16), index=True)  # running|ok|failed|interrupted
    counters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int]


_T = TypeVar("_T")


class ReadBack(Generic[_T]):
    """An attribute of a version that is not a column: ``archive.texts`` fills it when it
    writes the version or reads it back (``TextReader.load``, the one way to read it);
    read before that, it raises AttributeError saying so."""

    def __init__(self, doc: str) -> None:
        self.__doc__ = doc
        self._key = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self._key = "_" + name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> ReadBack[_T]: ...
    @overload
    def __get__(self, obj: Version, owner: type | None = None) -> _T: ...
    def __get__(self, obj: Version | None, owner: type | None = None) -> ReadBack[_T] | _T:
        if obj is None:
            return self
        value: _T = obj._unpacked(self._key)
        return value

    def __set__(self, obj: Version, value: _T) -> None:
        obj.__dict__[self._key] = value


class Version(SeenOnce, Base):
    """What a reader saw of a document during a span of time: normalised content.

    The body text and the provenance are not columns: they are stored together as one
    compressed *pack* (``packed``, read with ``codec``, the trained dictionary ``dict_id``
    and, for a delta, the pack of the version ``base_id``; revision 0007), and so, since
    revision 0024, are the title, the byline and the attachments; the sources and fields
    of work are columns of their names' numbers (revision 0026, ``archive.names``), and
    so is the furniture model's name (revision 0043). ``text``, ``provenance``, ``title``,
    ``byline``, ``attachments``, ``sources``, ``fields_of_work`` and ``furniture_version``
    are plain attributes that ``archive.texts`` fills when it writes a version or reads
    one back (``TextReader.load``), the one way to read them.
    """

    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"))
    number: Mapped[int]
    # The column ``url``: the address the version was read at, NULL while that is still
    # its document's (``documents.url``; revision 0039: nearly every version); a
    # document's versions get the address written in before the document moves
    # (:func:`moving_from`). In SQL read it as ``coalesce(versions.url, documents.url)``
    # (:func:`version_url_read`); the attribute ``url`` below reads it so.
    url_stored: Mapped[str | None] = mapped_column("url", Url())
    url: Mapped[str] = column_property(
        func.coalesce(
            url_stored,
            select(Document.url)
            .where(Document.id == document_id)
            .correlate_except(Document)
            .scalar_subquery(),
        )
    )
    kind: Mapped[str] = mapped_column(Coded(KINDS, 64))
    # The title, byline and attachments are in the pack since revision 0024 (the
    # properties below). The title's column stays, empty (''), for scripts that select
    # it; the byline's and the attachments' were dropped.
    title_column: Mapped[str] = mapped_column("title", Text, default="")
    published: Mapped[str | None] = mapped_column(String(10))
    date_source: Mapped[str | None] = mapped_column(Coded(DATE_SOURCES))
    place: Mapped[str | None] = mapped_column(String(200))
    # Numbers of names (archive.names; revision 0026): ``sources`` and ``fields_of_work``
    # are the properties below, filled like ``text``.
    source_ids: Mapped[list[Any]] = mapped_column("sources", JSON)
    field_ids: Mapped[list[Any]] = mapped_column("fields_of_work", JSON)
    language: Mapped[str | None] = mapped_column(String(16))
    # Not indexed (revision 0011): a version is found by its document first (the unique
    # key), then its content hash among that document's few versions.
    content_hash: Mapped[str] = mapped_column(Sha256())
    # Indexed by its first bytes only (``ix_versions_text_key``, revision 0025).
    text_hash: Mapped[str] = mapped_column(Sha256())
    first_seen: Mapped[datetime]
    # NULL where it is ``first_seen`` (revision 0037: most versions are seen once): the
    # attribute ``last_seen`` reads it (SeenOnce).
    seen_since: Mapped[datetime | None] = mapped_column("last_seen", default=None)
    # Abbreviated since revision 0023 (READER_PIECES).
    extractor_version: Mapped[str] = mapped_column(Abbreviated())
    # The number of the furniture model's name in ``names`` (``archive.names``; revision
    # 0043, the name itself before): the attribute ``furniture_version`` below reads it.
    furniture_id: Mapped[int | None] = mapped_column("furniture", Integer, default=None)
    reason: Mapped[str] = mapped_column(Coded(VERSION_REASONS))  # created|changed|...
    # The text's MinHash sketch (archive.dedup.pack, 32 bytes since revision 0027; 64
    # from 0011, 128 before):
    # lets near-duplicate candidates be ruled out without reading their text. None for
    # short texts, for versions written before revision 0002 and, after a downgrade from
    # 0011, for all (their text decides then).
    sketch: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    # The text and provenance, packed and compressed (archive.texts; revision 0007).
    packed: Mapped[bytes] = mapped_column(LargeBinary)
    codec: Mapped[str] = mapped_column(Coded(TEXT_CODECS))  # identity | zstd | delta | zstd-page
    dict_id: Mapped[int | None] = mapped_column(ForeignKey("compression_dicts.id"))
    # A delta's base: an earlier version of the same document, never itself a delta.
    base_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id"))

    text = ReadBack[str]("The body text.")
    title = ReadBack[str]("The title (in the pack since revision 0024).")
    byline = ReadBack[str | None]("The byline, if any.")
    attachments = ReadBack[list[Any] | None](
        """The files the item links to for download, ``[{"title", "url"}, ...]`` in page
        order (revision 0006); None for a version read before the archive read them
        (``reextract`` does), ``[]`` when it read the page and found none."""
    )
    furniture_version = ReadBack[str | None](
        "The name of the furniture model that read it, if any (its number since 0043)."
    )
    sources = ReadBack[list[str]]("The sources' names (their numbers since revision 0026).")
    fields_of_work = ReadBack[list[str]]("The fields of work's names (likewise).")
    provenance = ReadBack[dict[str, Any]](
        "Date candidates, warnings and the models that read the page."
    )

    def fill(self, fields: dict[str, Any]) -> None:
        """Set fields read back: a pack's (``archive.texts.PACKED_FIELDS``) or the names
        of its lists (``NAMED_FIELDS``)."""
        for name, value in fields.items():
            self.__dict__["_" + name] = value

    def _unpacked(self, name: str) -> Any:
        try:
            return self.__dict__[name]
        except KeyError:
            raise AttributeError(
                f"version {self.document_id} #{self.number}: its text was not read; "
                "read versions through archive.texts.TextReader.load"
            ) from None


#: Bytes of a text's digest its index keeps (revision 0025; the whole 32 before).
TEXT_KEY_BYTES = 8


def text_key(digest: Any) -> ColumnElement[bytes]:
    """The first :data:`TEXT_KEY_BYTES` of a ``text_hash`` (the column, or a digest bound
    as one): compared in a query's ``WHERE`` beside the whole digest, it lets the
    database find the few rows through ``ix_versions_text_key``. The numbers are written
    in the SQL, as in the index, or SQLite would not match the two."""
    return func.substr(digest, literal_column("1"), literal_column(str(TEXT_KEY_BYTES)))


Index("ix_versions_text_key", text_key(Version.__table__.c.text_hash))


def same_text(digest: Any) -> ColumnElement[bool]:
    """``versions.text_hash`` is ``digest`` (a digest bound as a ``Sha256``): compared
    through ``ix_versions_text_key`` on the prefix, then whole."""
    column = Version.__table__.c.text_hash
    return and_(text_key(column) == text_key(digest), column == digest)


def version_url(url: str, document_url: str) -> str | None:
    """What ``versions.url`` keeps of the address a version was read at (revision 0039):
    nothing where it is its document's."""
    return None if url == document_url else url


def version_url_read(versions: Any, documents: Any) -> ColumnElement[Any]:
    """A version's address in SQL, joined to its document (tables or aliases):
    ``coalesce(versions.url, documents.url)``."""
    return func.coalesce(versions.c.url, documents.c.url)


def moving_from(document_id: str, address: str) -> Update:
    """Before a document's address changes from ``address``: the statement that writes
    it into the document's versions that leave it unsaid (:func:`version_url`), so that
    each still reads the address it was read at."""
    return (
        update(Version)
        .where(Version.document_id == document_id, Version.url_stored.is_(None))
        .values(url_stored=address)
    )


def seen_since(first_seen: datetime, last_seen: datetime) -> datetime | None:
    """What ``last_seen`` keeps of a version's or an address's last sighting (revisions
    0037 and 0042, :class:`SeenOnce`): nothing where it is the first."""
    return None if last_seen == first_seen else last_seen


class NearDupBucket(Base):
    """The near-duplicate index (``archive.lsh``): LSH band keys of the versions' texts
    (``archive.dedup``) as posting lists, one row per bucket of keys.

    Two texts that share a key are candidates, confirmed by their exact similarity; the
    lookup reads the (at most sixteen) buckets of the new text's keys by primary key, never
    a scan of all texts. ``entries`` are base-128 varints of ``version_id << 7`` and the
    key's low 7 bits (the bucket is the key's top 16), in the order they were written.

    Since revision 0034: before, one row per (key, version), ``WITHOUT ROWID`` on SQLite
    (``near_dup_keys``, 172 B/page on ``bench/archive_storage.py`` at 25,000 items,
    against about 75 now).
    """

    __tablename__ = "near_dup_buckets"

    bucket: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    entries: Mapped[bytes] = mapped_column(LargeBinary)


class Capture(Base):
    """One fetch: what the server said, the raw body's hash, what it did to the archive."""

    __tablename__ = "captures"
    # (address_id, id) since revision 0021: an address's newest capture with a listing
    # entry (``listed_capture``) is the first the index meets backwards on PostgreSQL too.
    __table_args__ = (Index(None, "document_id", "id"), Index(None, "address_id", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    address_id: Mapped[int] = mapped_column(ForeignKey("addresses.id"))
    url: Mapped[str] = mapped_column(Url())  # as requested
    final_url: Mapped[str | None] = mapped_column(Url())
    redirects: Mapped[list[Any]] = mapped_column(default=list)
    fetched_at: Mapped[datetime]
    status: Mapped[int]
    # These three are NULL where the final answer's header holds the same (revision 0020):
    # read them with from_header_column.
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    content_type: Mapped[str | None] = mapped_column(String(200))
    # Neither indexed (revision 0011): no query looks captures up by body or by run, and
    # bodies and runs are never deleted, so no foreign-key check needs them either.
    body_sha256: Mapped[str | None] = mapped_column(Sha256(), ForeignKey("bodies.sha256"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    document_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id"))
    version_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id"))
    outcome: Mapped[str] = mapped_column(String(16))  # IngestResult.outcome
    error: Mapped[str | None] = mapped_column(Text)
    # Since revision 0032 possibly what its version does not say: read it with
    # ``archive.listings.ListingReader`` (with ``url`` and ``version_id``).
    listing: Mapped[dict[str, Any] | None] = mapped_column(PackedJson())
    # Status line and headers of each answer, redirects first (revision 0003; None before;
    # packed since revision 0020).
    http: Mapped[list[Any] | None] = mapped_column(PackedJson(), default=None)


class Change(Base):
    """The change log: ``seq`` strictly increases and is the cursor of exports.

    Writers are serialised by the run lock, so sequence numbers commit in order.
    """

    __tablename__ = "changes"
    __table_args__ = (Index(None, "document_id", "seq"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"))
    kind: Mapped[str] = mapped_column(Coded(CHANGE_KINDS))  # created|changed|deleted|...
    version: Mapped[int | None]
    # Not indexed (revision 0036): every query reads a document's entries by
    # ``(document_id, seq)`` and compares their times there; none looks entries up by time.
    at: Mapped[datetime]
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    # The new canonical address of a "moved" entry (revision 0003; None before and for
    # other kinds), so "as of T" knows a document's address between two versions.
    url: Mapped[str | None] = mapped_column(Url(), default=None)


class LanguageLink(Base):
    """Two documents that are the same item in two languages (``osce.org/55436`` and
    ``osce.org/ru/55436``), as a page's hreflang links or language switcher said.

    Stored both ways, one row per direction, for every pair of a page's language group
    (the page and each version it links), so a document lists all its versions even when
    only one of them linked the others. ``other_id`` may name a document not archived
    yet (its page is fetched later): readers list only documents the archive holds.
    """

    __tablename__ = "language_links"

    document_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    other_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    first_seen: Mapped[datetime]


class Lock(Base):
    """The one-crawl-at-a-time lock: one row per lock name, with who holds it."""

    __tablename__ = "locks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int]
    acquired_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]


class FurnitureModelRow(Base):
    """A furniture model learned for one host (``crawler.extraction`` learns it; the
    archive keeps every version): its blocks as JSON, how many pages taught it, when.

    Versions name it by its ``version`` (``Version.furniture_version``, kept as that
    name's number in ``names`` since revision 0043); the newest row of a host is the
    model the next run starts from.
    """

    __tablename__ = "furniture_models"
    __table_args__ = (UniqueConstraint("host", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    host: Mapped[str] = mapped_column(String(255), index=True)
    version: Mapped[str] = mapped_column(String(64))
    pages: Mapped[int]
    learned_at: Mapped[datetime]
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    model: Mapped[dict[str, Any]]


class Report(Base):
    """A third-party article reports on an OSCE item (issue 16): the pair, the evidence
    (``link``, ``title+date+institution`` or ``title+date``) and what was found.

    Not a version of either document: a reader of the item sees the same item. Rows are
    kept when a link no longer holds (``removed_at``), so "as of T" reads the links then
    in force, and ``seq`` (the change log's head when the row last changed) lets an
    export ``--since`` a cursor carry both documents of a link found after it. One row
    per pair: a refresh updates it, never adds a second.
    """

    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("article_id", "item_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    article_id: Mapped[str] = mapped_column(ForeignKey("documents.id"))
    item_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    evidence: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text)
    found_at: Mapped[datetime]
    removed_at: Mapped[datetime | None] = mapped_column(default=None)
    seq: Mapped[int] = mapped_column(Integer, index=True)


def listed_capture() -> ColumnElement[Any]:
    """The id of an address's newest capture with a listing entry: where the frontier
    reads the address's entry unless the address keeps one itself (revision 0021,
    :func:`own_listing`: the entry a crawl's fetch brings is kept once, on the capture).
    For a join that reads the capture's entry, requested address and version together,
    which ``archive.listings`` reads it back with (revision 0032)."""
    return (
        select(Capture.id)
        .where(Capture.address_id == Address.id, Capture.listing.is_not(None))
        .order_by(Capture.id.desc())
        .limit(1)
        .correlate(Address)
        .scalar_subquery()
    )


def newest_capture() -> ColumnElement[Any]:
    """The id of an address's newest capture: what its ``etag``, ``last_modified`` and
    ``last_fetched`` left NULL say (:data:`ADDRESS_STATE_SAID`, revision 0044). Read
    through the ``(address_id, id)`` index, backwards."""
    return (
        select(func.max(Capture.id))
        .where(Capture.address_id == Address.id)
        .correlate(Address)
        .scalar_subquery()
    )
