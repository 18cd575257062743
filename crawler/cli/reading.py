"""How the read commands (``status``, ``export``, ``history``, ``verify``) open the
archive: read-only (``archive.db.open_read_only``), never creating or migrating it."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from archive.api import ArchiveReader
from archive.db import open_read_only
from archive.store import Archive


def read_archive(url: str) -> Archive:
    """The archive at ``url``, opened so that nothing can write to it."""
    return Archive(open_read_only(url))


def read_records(url: str) -> ArchiveReader:
    """The readers' API on the archive at ``url``, read-only."""
    return ArchiveReader(open_read_only(url))


_ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)?$")


def zulu(value: Any) -> Any:
    """Times as the exports write them, ISO 8601 UTC ending in ``Z``, all through a JSON
    value: datetimes and ``...+00:00`` strings (the archive stores UTC; a naive time is
    UTC)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value.isoformat() + "Z"
    if isinstance(value, str) and _ISO_TIME.match(value):
        return value.removesuffix("Z").removesuffix("+00:00") + "Z"
    if isinstance(value, dict):
        return {k: zulu(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [zulu(v) for v in value]
    return value
