"""Raw bodies: stored once per distinct sha256, compressed with zstandard.

Each body row names its codec and, when one is used, the trained dictionary it was
compressed with (``compression_dicts``), so a dictionary can be introduced later
without rewriting old rows: reading dispatches on ``codec`` and ``dict_id``.
"""

from __future__ import annotations

import hashlib

import zstandard

from archive.errors import ArchiveError

#: zstd level 10: about 5 % smaller than the default 3 on HTML at a cost that is small
#: beside a polite crawl's fetch time (see bench/archive_storage.py).
ZSTD_LEVEL = 10
CODEC_ZSTD = "zstd"
CODEC_IDENTITY = "identity"


def body_hash(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def compress(data: bytes) -> tuple[str, bytes]:
    """(codec, stored bytes). Tiny bodies are kept as they are."""
    if len(data) < 64:
        return CODEC_IDENTITY, data
    return CODEC_ZSTD, zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(data)


def decompress(codec: str, data: bytes, dictionary: bytes | None = None) -> bytes:
    if codec == CODEC_IDENTITY:
        return bytes(data)
    if codec == CODEC_ZSTD:
        if dictionary is not None:
            zdict = zstandard.ZstdCompressionDict(dictionary)
            return zstandard.ZstdDecompressor(dict_data=zdict).decompress(bytes(data))
        return zstandard.ZstdDecompressor().decompress(bytes(data))
    raise ArchiveError(f"unknown body codec {codec!r}")
