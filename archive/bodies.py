"""Raw bodies: stored once per distinct sha256, compressed with zstandard.

Each body row names its codec and, when one is used, the trained dictionary it was
compressed with (``compression_dicts``), so reading dispatches on ``codec`` and
``dict_id`` and a body written before a dictionary existed stays readable as it is.

The pages of one site share most of their bytes (head, menus, footer, scripts): alone,
each page's compressed form repeats them; with a dictionary trained on the site's first
pages (:func:`train`, :data:`TRAIN_AFTER` bodies), they are stored once, in the
dictionary, and a page costs little more than what is its own. ``bench/archive_storage.py``
measures it (about 2.4x smaller bodies on the replica).
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
#: Train the archive's dictionary once it holds this many bodies compressed without one.
TRAIN_AFTER = 1000
#: Dictionary size: zstd's own default for ``--train`` (110 KB).
DICT_SIZE = 112_640
#: Bodies smaller than this are kept as they are.
MIN_COMPRESS = 64


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

    return _cached("c", dictionary, make)


def _decompressor(dictionary: bytes | None) -> zstandard.ZstdDecompressor:
    def make() -> zstandard.ZstdDecompressor:
        if dictionary is None:
            return zstandard.ZstdDecompressor()
        return zstandard.ZstdDecompressor(dict_data=zstandard.ZstdCompressionDict(dictionary))

    return _cached("d", dictionary, make)
