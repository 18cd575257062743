"""The change feed's names, for callers written against ``archive.feed``.

Reading the archive back, the change feed included, lives in ``archive.query`` (one
door for every reader); ``archive.api.ArchiveReader.changes`` is the feed's public
form. This module only re-exports what was read from here before.
"""

from __future__ import annotations

from archive.query import Selection, Snapshot, Stats, read_body, snapshot

__all__ = ["Selection", "Snapshot", "Stats", "read_body", "snapshot"]
