"""How the read commands (``status``, ``export``, ``history``, ``verify``) open the
archive: read-only (``archive.db.open_read_only``), never creating or migrating it."""

from __future__ import annotations

from archive.api import ArchiveReader
from archive.db import open_read_only
from archive.store import Archive


def read_archive(url: str) -> Archive:
    """The archive at ``url``, opened so that nothing can write to it."""
    return Archive(open_read_only(url))


def read_records(url: str) -> ArchiveReader:
    """The readers' API on the archive at ``url``, read-only."""
    return ArchiveReader(open_read_only(url))
