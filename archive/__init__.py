"""The archive: storage, versions, deduplication, queries and exports.

It knows storage and time and never imports Scrapy: its input is plain data
(``archive.records``), so the crawl, ``reextract`` or a test can feed it alike.

The public Python API for downstream code (see the README)::

    from archive import open_archive
    with open_archive("sqlite:///archive.sqlite") as archive:
        for record in archive.records():
            ...

Names are imported on first use, so ``import archive`` stays cheap for the CLI.

What it owns, one concern a module, from the readers down to plain data (a module
imports only modules below it; ``pyproject.toml`` checks this with import-linter)::

    known       what the frontier asks of the archive, as plain data
    api         the public read API: open_archive, records, history, changes, export
    store       Archive, the facade the crawler and commands hold (wires the rest)
    feed        the change feed's names, re-exported from query
    reextract   replay stored bodies through the current extraction
    verify      recompute every stored hash; every listing entry reads back
    furniture   learned furniture models per site and version
    ingest      the ingest transaction: addresses, capture, version, dedup, change log
    migrations  the Alembic revisions of the schema
    query       every read: snapshots (records, captures, cursors), history, change
                log, address states for the frontier, the status summary
    versioning  THE versioning rule, and linking duplicates
    runs        runs and the one-crawl-at-a-time lock
    search      the reading room's full-text search, and feeding its index
    texts       version texts: compressed packs, their dictionary and deltas; the one
                reader of a version's text and provenance
    export      the file formats (JSONL, CSV, Parquet, WARC, dataset packages;
                exports/: SQLite, WACZ)
    bodies      raw bodies: compression, the trained dictionary, storing, reading
    listings    a fetch's listing entry kept as what its version does not say
    dedup       near-duplicate texts: MinHash and LSH over word shingles
    schema      the tables (SQLAlchemy models)
    db          engines from URLs, per-dialect settings
    records     plain data in: Capture, Record, ListingEntry
    urls        the address key of a URL
    errors      errors for people, and redaction of secrets

It may import SQLAlchemy, Alembic, zstandard, warcio, pyarrow, jsonschema and the standard
library; never Scrapy, ``crawler`` or ``replica``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["open_archive", "ArchiveReader", "Changes", "export", "ExportResult"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from archive import api

        return getattr(api, name)
    raise AttributeError(f"module 'archive' has no attribute {name!r}")
