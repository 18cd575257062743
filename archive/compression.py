"""zstandard as the archive uses it: its levels, its codecs' names, trained dictionaries
and raw-content prefixes.

Raw bodies (``archive.bodies``) and version texts (``archive.texts``) are compressed
here, each module deciding what to compress with what: a trained dictionary (the
site's markup, the newsroom's vocabulary) or a *prefix*, bytes the reader can rebuild
(an earlier version's pack, a body's own extracted text), given to zstd as a
raw-content dictionary so that whatever the data repeats of it costs a reference.
Small JSON values kept beside each fetch (answers' headers, listing entries) are packed
here too, against a prefix written in this module (:func:`pack_json`, revision 0020).

Frames (revision 0033) are written without zstd's magic number, and a body's without the
id of its trained dictionary, which the row beside it names (``dict_id``), except for a
frame left open for a follower (:func:`compress_open`): a text that follows a page finds
the page's dictionary by that id (texts keep it too: ``named``). Readers tell the two
forms apart by their first four bytes (:data:`FRAME_MAGIC`; a frame without it never
opens with them, its first byte's reserved bit being clear), so frames written before
stay readable as they are.

Imports: zstandard and ``archive.errors`` only.
"""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any

import zstandard

from archive.errors import ArchiveError

#: zstd level 10: about 5 % smaller than the default 3 on HTML at a cost that is small
#: beside a polite crawl's fetch time (see bench/archive_storage.py). Level 14 stores
#: about 15 B/page less on that bench's 2,000 items but took 0.3-0.4 ms more a page on
#: the crawl's writer (a page left open for its text, a page against its base and the
#: dictionaries' training all cost more: ``bench/run.py`` ingest 2.49 against 2.06 ms
#: CPU an item), which the crawl's speed at its floor pays.
ZSTD_LEVEL = 10
#: How a zstd frame opens as zstd writes it by default; frames written since revision
#: 0033 leave these 4 bytes out.
FRAME_MAGIC = b"\x28\xb5\x2f\xfd"
CODEC_ZSTD = "zstd"
CODEC_IDENTITY = "identity"
#: Dictionary size: zstd's own default for ``--train`` (110 KiB). Larger ones store the
#: replica's pages smaller only because its prose is drawn from word pools a dictionary
#: learns: with each page's paragraphs made unique, a 192 KiB one trained on 1,000 pages
#: stored 2,000 others 6 to 9 bytes larger each (2026-12-06; ``docs/performance.md``).
DICT_SIZE = 112_640
#: Data smaller than this is kept as it is.
MIN_COMPRESS = 64


def digest(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``: how the archive names bodies and dictionaries."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def compress(
    data: bytes, dictionary: bytes | None = None, *, named: bool = False
) -> tuple[str, bytes]:
    """(codec, stored bytes). Tiny data is kept as it is. With ``dictionary`` (a trained
    dictionary's bytes) the caller records its id beside the stored bytes; ``named``:
    the frame names the dictionary too (zstd's id of it: a reader may then share one
    copy of it between connections, ``archive.texts``)."""
    if len(data) < MIN_COMPRESS:
        return CODEC_IDENTITY, data
    return CODEC_ZSTD, _compressor(dictionary, named=named).compress(data)


def compress_frame(data: bytes, dictionary: bytes | None = None, *, named: bool = False) -> bytes:
    """``data`` as a zstd frame whatever its size (:func:`compress` keeps tiny data as it
    is), for a caller that stores no codec beside it."""
    return _compressor(dictionary, named=named).compress(data)


def decompress(codec: str, data: bytes, dictionary: bytes | None = None) -> bytes:
    if codec == CODEC_IDENTITY:
        return bytes(data)
    if codec == CODEC_ZSTD:
        data = bytes(data)
        zdict = bytes(dictionary) if dictionary is not None else None
        return _decompressor(zdict, _format(data)).decompress(data)
    raise ArchiveError(f"unknown codec {codec!r}")


def compress_with_prefix(data: bytes, prefix: bytes) -> bytes:
    """``data`` compressed with ``prefix`` as a raw-content dictionary (zstd's own errors
    when it refuses the prefix)."""
    return zstandard.ZstdCompressor(
        dict_data=_raw(prefix), compression_params=_params(dict_id=False)
    ).compress(data)


def decompress_with_prefix(data: bytes, prefix: bytes) -> bytes:
    """What :func:`compress_with_prefix` was given, from its output and the same prefix."""
    data = bytes(data)
    return zstandard.ZstdDecompressor(dict_data=_raw(prefix), format=_format(data)).decompress(data)


def frame_dict_id(frame: bytes) -> int:
    """The id of the trained dictionary a frame names (0 when it names none); zstd's
    error when ``frame`` does not open a frame."""
    frame = bytes(frame)
    return int(zstandard.get_frame_parameters(frame, format=_format(frame)).dict_id)


def with_magic(frame: bytes) -> bytes:
    """``frame`` as zstd writes it by default, with its magic number (revision 0033's
    downgrade: the program before it reads only such frames)."""
    frame = bytes(frame)
    return frame if frame[:4] == FRAME_MAGIC else FRAME_MAGIC + frame


def without_magic(frame: bytes) -> bytes:
    """``frame`` without its magic number, as frames are written since revision 0033."""
    frame = bytes(frame)
    return frame[4:] if frame[:4] == FRAME_MAGIC else frame


def varint(n: int) -> bytes:
    """``n`` (>= 0) as a base-128 varint, low group first: the lengths and entries the
    archive keeps in its own small formats (``archive.texts``, ``archive.lsh``)."""
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def compress_open(data: bytes, dictionary: bytes, follower: bytes) -> tuple[bytes, bytes]:
    """(``data`` compressed with the trained ``dictionary`` as a zstd frame left open, its
    last block flushed; ``follower`` compressed as the rest of that frame).

    The first part alone reads back as ``data`` (:func:`decompress_open`); the second,
    read after it, as ``follower``, whose matches in ``data`` cost references: a page's
    text costs little after the page (``archive.texts``, revision 0031). Compressing the
    follower costs what compressing it alone does, since zstd indexed ``data`` on its
    way; a prefix (:func:`compress_with_prefix`) would be indexed again for each use.
    The second part can only follow the very bytes of the first: never recompress one
    without the other."""
    stream = _compressor(dictionary, named=True).compressobj()
    first = stream.compress(data) + stream.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
    rest = stream.compress(follower) + stream.flush(zstandard.COMPRESSOBJ_FLUSH_FINISH)
    return first, rest


def decompress_open(
    first: bytes, dictionary: bytes | None, rest: bytes | None = None
) -> tuple[bytes, bytes]:
    """What :func:`compress_open` was given: (``data``, ``follower``) from its two parts;
    ``follower`` is empty when ``rest`` is None (the first part alone, an open frame)."""
    first = bytes(first)
    stream = _decompressor(dictionary, _format(first)).decompressobj()
    data = stream.decompress(first)
    follower = stream.decompress(bytes(rest)) if rest is not None else b""
    return data, follower


def train(samples: list[bytes], size: int = DICT_SIZE) -> bytes:
    """A zstd dictionary of about ``size`` bytes trained on ``samples``."""
    chunks: list[bytes | bytearray | memoryview] = list(samples)
    return zstandard.train_dictionary(size, chunks, level=ZSTD_LEVEL).as_bytes()


def _raw(prefix: bytes) -> zstandard.ZstdCompressionDict:
    return zstandard.ZstdCompressionDict(bytes(prefix), dict_type=zstandard.DICT_TYPE_RAWCONTENT)


# A dictionary is loaded into its (de)compressor once: loading 110 KB costs more than
# compressing a page with it. zstandard's (de)compressors must not be shared between
# threads, so each thread keeps its own few, keyed by the dictionary's bytes.

_LOCAL = threading.local()
#: (De)compressors a thread keeps, the oldest dropped first: a crawl's writer uses five
#: (the bodies' dictionary to compress a page whole and left open, the texts' to
#: compress a pack, both to read), a reader two or three, so none is made twice.
_KEEP = 8


def _cached(kind: str, dictionary: bytes | None, make: Any) -> Any:
    cache: dict[tuple[str, bytes | None], Any] = _LOCAL.__dict__.setdefault("cache", {})
    key = (kind, dictionary)
    found = cache.get(key)
    if found is None:
        if len(cache) >= _KEEP:
            cache.pop(next(iter(cache)))
        found = cache[key] = make()
    return found


def _params(*, dict_id: bool) -> zstandard.ZstdCompressionParameters:
    """Frames as written since revision 0033: no magic number, no checksum (the archive
    checks what it reads against its own digests), the content's size, and the
    dictionary's id only where ``dict_id``."""
    # The level alone (not ``from_level``, which fixes its parameters for large input):
    # zstd then fits them to each input and dictionary, as ``level=`` did before 0033.
    return zstandard.ZstdCompressionParameters(
        compression_level=ZSTD_LEVEL,
        format=zstandard.FORMAT_ZSTD1_MAGICLESS,
        write_checksum=0,
        write_content_size=1,
        write_dict_id=int(dict_id),
    )


def _format(frame: bytes) -> int:
    """How ``frame`` was written: with zstd's magic number (before revision 0033) or not."""
    if frame[:4] == FRAME_MAGIC:
        return int(zstandard.FORMAT_ZSTD1)
    return int(zstandard.FORMAT_ZSTD1_MAGICLESS)


def _compressor(dictionary: bytes | None, *, named: bool = False) -> zstandard.ZstdCompressor:
    """A compressor with the trained ``dictionary``; ``named``: its frames name it."""

    def make() -> zstandard.ZstdCompressor:
        params = _params(dict_id=named)
        if dictionary is None:
            return zstandard.ZstdCompressor(compression_params=params)
        zdict = zstandard.ZstdCompressionDict(dictionary)
        return zstandard.ZstdCompressor(dict_data=zdict, compression_params=params)

    found: zstandard.ZstdCompressor = _cached("c+" if named else "c", dictionary, make)
    return found


def _decompressor(dictionary: bytes | None, fmt: int) -> zstandard.ZstdDecompressor:
    def make() -> zstandard.ZstdDecompressor:
        if dictionary is None:
            return zstandard.ZstdDecompressor(format=fmt)
        zdict = zstandard.ZstdCompressionDict(dictionary)
        return zstandard.ZstdDecompressor(dict_data=zdict, format=fmt)

    found: zstandard.ZstdDecompressor = _cached(f"d{fmt}", dictionary, make)
    return found


# ---------------------------------------------------------------- small JSON values

#: What the small JSON values a crawl stores beside each fetch say again and again: the
#: status lines and headers of its answers (``captures.http``) and the listing entry that
#: linked the page (``captures.listing``, ``addresses.listing``): their keys, the
#: newsroom's address, common header names and values, the days and months of HTTP
#: dates. Given to zstd as a raw-content prefix (revision 0020), it leaves each value
#: about what it does not share: dates, validators, lengths, a path, a title.
#: Never edited: a value stored with it needs it to be read. Another prefix would take
#: the next format byte (:data:`JSON_FORMATS`).
JSON_PREFIX_1 = "".join(
    (
        '"Mon, Tue, Wed, Thu, Fri, Sat, Sun, ',
        "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec 2024 2025 2026 2027 00:00:00 GMT",
        '"],["Connection","keep-alive"],["Connection","close"],["Transfer-Encoding","chunked"]',
        ',["Expires","Sun, 19 Nov 1978 05:00:00 GMT"],["X-Frame-Options","SAMEORIGIN"]',
        ',["X-Content-Type-Options","nosniff"],["Strict-Transport-Security","max-age=',
        '"],["Set-Cookie","'
        '"],["Link","<https://www.osce.org/node/'
        '>; rel=\\"shortlink\\""],["X-Generator","Drupal"],["X-Drupal-Cache","HIT"]',
        ',["X-Drupal-Cache","MISS"],["Content-Encoding","gzip"],["Accept-Ranges","bytes"]',
        ',["Age","0"],["X-Cache","HIT"],["X-Cache","MISS"],["Via","1.1 varnish"],["ETag","',
        '[{"url":"https://www.osce.org/","status":301,"reason":"Moved Permanently",'
        '"protocol":"HTTP/1.1","headers":[["Location","https://www.osce.org/"]]},',
        '{"url":"https://www.osce.org/","status":302,"reason":"Found",',
        '{"url":"https://www.osce.org/","status":304,"reason":"Not Modified",',
        '{"url":"https://www.osce.org/","status":404,"reason":"Not Found",',
        '{"url":"https://www.osce.org/","title":"OSCE ","published":"20',
        '","kind_label":"Press Release","kind_label":"News","kind_label":"Statement",',
        '"kind_label":"Story","where":null,"what":null,"lastmod":null,"source":"sitemap"}',
        ',"lastmod":"20T00:00:00+00:00","source":"rss"}',
        '","where":"Vienna","what":"',
        '","lastmod":"20',
        '","source":"listing"}',
        '[{"url":"https://www.osce.org/","status":200,"reason":"OK","protocol":"HTTP/1.1",',
        '"headers":[["Content-Length","',
        '"],["Date","',
        ' GMT"],["Server","Apache"],["Content-Type","text/html; charset=utf-8"],["Etag","W/\\"',
        '\\""],["Last-Modified","',
        ' GMT"],["Cache-Control","public, max-age=300"],["Vary","Accept-Encoding"]',
        ',["Content-Language","en"]]}]',
    )
).encode("utf-8")
#: Revision 0032's prefix: before the first, what a listing entry kept beside its version
#: repeats (``archive.listings``: the letters of the fields its version says, a kind's
#: label, a source's index); placed first, so that the answers' repeats stay as near the
#: end, where zstd reaches them most cheaply (the answers take what they took with the
#: first; the entries about 15 B/page less on ``bench/archive_storage.py``).
JSON_PREFIX_2 = (
    b'{"~":"utw","published":"20'
    b'","kind_label":"Press Release","kind_label":"News","kind_label":"Statement",'
    b'"kind_label":"Story","where":'
    b'{"~":"utwp","kind_label":"Story"}{"~":"utwp","kind_label":"Press release","where":1}'
) + JSON_PREFIX_1
#: Format byte of a stored JSON value -> its prefix.
JSON_FORMATS = {1: JSON_PREFIX_1, 2: JSON_PREFIX_2}
JSON_FORMAT = 2
#: Level 6: on the storage bench's values 4 % larger than level 19 (headers 113 bytes
#: against 108, listing entries 128 against 126) at a quarter to a sixth of the time
#: (8-11 µs a value against 38-48), which a crawl pays three times a fetch on its ingest
#: thread.
JSON_LEVEL = 6
_JSON = threading.local()


def pack_json(value: Any, fmt: int = JSON_FORMAT) -> bytes:
    """``value`` as stored since revision 0020: a format byte and a zstd frame (no magic
    number, no checksum) of its compact JSON, compressed against the format's prefix
    (a revision that packs names its format, so a later default does not change it)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    data = text.encode("utf-8", "surrogatepass")  # a lone surrogate, as JSON kept it
    return bytes((fmt,)) + _json_compressor(fmt).compress(data)


def unpack_json(stored: bytes | str) -> Any:
    """A value :func:`pack_json` stored, or JSON text as stored before revision 0020."""
    if isinstance(stored, str):
        return json.loads(stored)
    data = bytes(stored)
    prefix = JSON_FORMATS.get(data[0]) if data else None
    if prefix is None:
        raise ArchiveError(f"a stored JSON value of unknown format {data[:1]!r}")
    text = _json_decompressor(data[0]).decompress(data[1:]).decode("utf-8", "surrogatepass")
    return json.loads(text)


def _json_compressor(fmt: int) -> zstandard.ZstdCompressor:
    cache: dict[int, zstandard.ZstdCompressor] = _JSON.__dict__.setdefault("writers", {})
    found = cache.get(fmt)
    if found is None:
        params = zstandard.ZstdCompressionParameters.from_level(
            JSON_LEVEL,
            format=zstandard.FORMAT_ZSTD1_MAGICLESS,
            write_checksum=0,
            write_content_size=1,
            write_dict_id=0,
        )
        found = cache[fmt] = zstandard.ZstdCompressor(
            dict_data=_raw(JSON_FORMATS[fmt]), compression_params=params
        )
    return found


def _json_decompressor(fmt: int) -> zstandard.ZstdDecompressor:
    cache: dict[int, zstandard.ZstdDecompressor] = _JSON.__dict__.setdefault("readers", {})
    found = cache.get(fmt)
    if found is None:
        found = cache[fmt] = zstandard.ZstdDecompressor(
            dict_data=_raw(JSON_FORMATS[fmt]), format=zstandard.FORMAT_ZSTD1_MAGICLESS
        )
    return found
