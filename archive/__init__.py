"""The archive: storage, versions, deduplication, queries and exports.

It knows storage and time and never imports Scrapy: its input is plain data
(``archive.records``), so the crawl, ``reextract`` or a test can feed it alike.

The public Python API for downstream code (see the README)::

    from archive import open_archive
    with open_archive("sqlite:///archive.sqlite") as archive:
        for record in archive.records():
            ...

Names are imported on first use, so ``import archive`` stays cheap for the CLI.
"""

from __future__ import annotations

from typing import Any

__all__ = ["open_archive", "ArchiveReader", "Changes", "export", "ExportResult"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from archive import api

        return getattr(api, name)
    raise AttributeError(f"module 'archive' has no attribute {name!r}")
