"""zstandard as the archive uses it: one level, its codecs' names, trained dictionaries
and raw-content prefixes.

Raw bodies (``archive.bodies``) and version texts (``archive.texts``) are compressed
here, each module deciding what to compress with what: a trained dictionary (the
site's markup, the newsroom's vocabulary) or a *prefix*, bytes the reader can rebuild
(an earlier version's pack, a body's own extracted text), given to zstd as a
raw-content dictionary so that whatever the data repeats of it costs a reference.

Imports: zstandard and ``archive.errors`` only.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

import zstandard

from archive.errors import ArchiveError

#: zstd level 10: about 5 % smaller than the default 3 on HTML at a cost that is small
#: beside a polite crawl's fetch time (see bench/archive_storage.py).
ZSTD_LEVEL = 10
CODEC_ZSTD = "zstd"
CODEC_IDENTITY = "identity"
#: Dictionary size: zstd's own default for ``--train`` (110 KB).
DICT_SIZE = 112_640
#: Data smaller than this is kept as it is.
MIN_COMPRESS = 64


def digest(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``: how the archive names bodies and dictionaries."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def compress(data: bytes, dictionary: bytes | None = None) -> tuple[str, bytes]:
    """(codec, stored bytes). Tiny data is kept as it is. With ``dictionary`` (a trained
    dictionary's bytes) the caller records its id beside the stored bytes."""
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
    raise ArchiveError(f"unknown codec {codec!r}")


def compress_with_prefix(data: bytes, prefix: bytes) -> bytes:
    """``data`` compressed with ``prefix`` as a raw-content dictionary (zstd's own errors
    when it refuses the prefix)."""
    return zstandard.ZstdCompressor(level=ZSTD_LEVEL, dict_data=_raw(prefix)).compress(data)


def decompress_with_prefix(data: bytes, prefix: bytes) -> bytes:
    """What :func:`compress_with_prefix` was given, from its output and the same prefix."""
    return zstandard.ZstdDecompressor(dict_data=_raw(prefix)).decompress(bytes(data))


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
