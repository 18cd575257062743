"""``export --format sqlite``: a plain SQLite database of records and versions, for Datasette.

The database holds two tables and their full-text indexes, nothing of the archive's
internals:

``records``
    One row per document, exactly the records of a full (or ``--as-of``) export:
    every field of ``record.schema.json`` as a column, in the same order; lists
    (``sources``, ``fields_of_work``, ``aliases``) are JSON arrays in a text column,
    ``deleted`` is 0/1, times are ISO 8601 UTC text with ``Z``. Primary key ``id``.
``versions``
    One row per version (the ``--history`` export), same columns, primary key
    ``(id, version)``.
``records_fts``, ``versions_fts``
    SQLite FTS5 indexes of ``title`` and ``text`` (external content: the text is stored
    once, in the table), which Datasette finds on its own and offers as a search box.

Beside the database, ``metadata.json`` (``<name>.metadata.json`` when ``--output`` is a
file) describes every table and column from the record schema and names useful
facets (kind, deleted, language, date source, place, sources and fields of work as
array facets, publication date); ``datasette FILE -m FILE.metadata.json`` or
``datasette FOLDER`` opens it.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from archive.export import EXPORT_FIELDS, LIST_FIELDS, Record, record_schema, table_schema

TABLES = {
    "records": "One row per document: the archive's current records (tombstones included).",
    "versions": "One row per version of every document, oldest first.",
}
_SQL_TYPES = {"integer": "INTEGER", "boolean": "INTEGER"}
FACETS: list[Any] = [
    "kind",
    "deleted",
    "language",
    "date_source",
    "place",
    {"array": "sources"},
    {"array": "fields_of_work"},
    {"date": "published"},
]


def _create(conn: sqlite3.Connection, table: str, key: list[str]) -> None:
    types = {f["name"]: f["type"] for f in table_schema()["fields"]}
    required = {
        f["name"] for f in table_schema()["fields"] if f.get("constraints", {}).get("required")
    }
    columns = ", ".join(
        f'"{name}" {_SQL_TYPES.get(types[name], "TEXT")}'
        + (" NOT NULL" if name in required else "")
        for name in EXPORT_FIELDS
    )
    conn.execute(f'CREATE TABLE "{table}" ({columns}, PRIMARY KEY ({", ".join(key)}))')


def _row(record: Record) -> tuple[Any, ...]:
    values: list[Any] = []
    for name in EXPORT_FIELDS:
        value = record.get(name)
        if name in LIST_FIELDS:
            value = json.dumps(list(value or []), ensure_ascii=False)
        elif isinstance(value, bool):
            value = int(value)
        values.append(value)
    return tuple(values)


def _fill(conn: sqlite3.Connection, table: str, records: Iterable[Record]) -> int:
    marks = ", ".join("?" for _ in EXPORT_FIELDS)
    insert = f'INSERT INTO "{table}" VALUES ({marks})'
    count = 0
    batch: list[tuple[Any, ...]] = []
    for record in records:
        batch.append(_row(record))
        count += 1
        if len(batch) >= 500:
            conn.executemany(insert, batch)
            batch.clear()
    if batch:
        conn.executemany(insert, batch)
    return count


def _index_text(conn: sqlite3.Connection, table: str) -> None:
    conn.execute(
        f'CREATE VIRTUAL TABLE "{table}_fts" USING fts5('
        f"title, text, content='{table}', content_rowid='rowid')"
    )
    conn.execute(
        f'INSERT INTO "{table}_fts" (rowid, title, text) SELECT rowid, title, text FROM "{table}"'
    )


def write_sqlite(path: Path, records: Iterable[Record], versions: Iterable[Record]) -> int:
    """Write the database to ``path`` (which must not exist yet); returns the record count."""
    conn = sqlite3.connect(path)
    try:
        _create(conn, "records", ["id"])
        _create(conn, "versions", ["id", "version"])
        count = _fill(conn, "records", records)
        _fill(conn, "versions", versions)
        for table in TABLES:
            conn.execute(f'CREATE INDEX "ix_{table}_kind" ON "{table}" (kind)')
            conn.execute(f'CREATE INDEX "ix_{table}_published" ON "{table}" (published)')
            _index_text(conn, table)
        conn.commit()
        conn.execute("VACUUM")
    finally:
        conn.close()
    return count


def metadata(database: str, cursor: str, options: dict[str, Any]) -> dict[str, Any]:
    """Datasette's ``metadata.json``: titles, column descriptions, facets, search."""
    properties = record_schema()["properties"]
    columns = {
        name: properties[name].get("description", "")
        for name in EXPORT_FIELDS
        if properties[name].get("description")
    }
    tables = {
        table: {
            "description": about,
            "columns": columns,
            "facets": FACETS,
            "fts_table": f"{table}_fts",
            "fts_pk": "rowid",
            "sort_desc": "published",
        }
        for table, about in TABLES.items()
    }
    return {
        "title": "OSCE newsroom archive",
        "description": (
            "Records and versions exported by osce-archive "
            f"(cursor {cursor}; options {json.dumps(options, sort_keys=True)})."
        ),
        "databases": {database: {"tables": tables}},
    }


def write_metadata(path: Path, database: str, cursor: str, options: dict[str, Any]) -> None:
    part = path.with_name(path.name + ".part")
    text = json.dumps(metadata(database, cursor, options), indent=2, ensure_ascii=False)
    part.write_text(text + "\n", encoding="utf-8")
    os.replace(part, path)
