"""The small public Python API for downstream code: read the archive without the CLI.

Example::

    from archive.api import open_archive

    with open_archive("sqlite:///archive.sqlite") as archive:
        for record in archive.records(kinds=["press-release"]):
            print(record["id"], record["version"], record["title"])
        for version in archive.history("osce.org/55436"):       # oldest first
            print(version["version"], version["version_seen"])
        with archive.changes(since=saved_cursor) as feed:         # None: from the start
            for record in feed:
                apply(record)                                     # deleted: True = tombstone
        saved_cursor = feed.cursor                                # keep for next time

Records are plain dicts in the form of ``record.schema.json`` (what a JSONL export
line holds). Every iteration reads one consistent snapshot of the archive and streams
it, so an archive of any size is read in flat memory. :func:`export` writes the same
files as ``osce-archive export``.

Imports: ``archive.query`` (every read), ``archive.export`` (the formats),
``archive.migrations`` and ``archive.db`` (opening); never the write side.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from archive.errors import ArchiveError, redact
from archive.export import (
    FORMATS,
    Output,
    Record,
    iso_time,
    parse_time,
    resolve_output,
    warc_gzipped,
    write_csv,
    write_jsonl,
    write_package,
    write_parquet,
    write_warc,
)
from archive.query import Selection, Snapshot, Stats, snapshot

__all__ = ["ArchiveReader", "Changes", "ExportResult", "export", "open_archive"]


def _when(value: datetime | str | None) -> datetime | None:
    """A time given as text (ISO 8601) or a datetime (naive means UTC), in UTC."""
    if value is None:
        return None
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return aware.astimezone(timezone.utc)
    return parse_time(value)


def _kinds(kinds: Iterable[str] | str | None) -> tuple[str, ...] | None:
    if kinds is None:
        return None
    if isinstance(kinds, str):
        kinds = kinds.split(",")
    cleaned = tuple(k.strip() for k in kinds if k.strip())
    if not cleaned or "all" in cleaned:
        return None
    return cleaned


class Changes:
    """The change feed after a cursor: iterate it, then save :attr:`cursor`.

    The snapshot is taken when the feed is made, so :attr:`cursor` is known at once
    and names exactly the state the iteration reads.
    """

    def __init__(self, engine: Engine, since: str | None, kinds: tuple[str, ...] | None) -> None:
        self._stack = ExitStack()
        self._snap: Snapshot = self._stack.enter_context(snapshot(engine))
        self.since = since
        self.cursor: str = self._snap.cursor
        self._selection = Selection(since=since or "0", kinds=kinds)
        try:
            self._snap.parse_cursor(self._selection.since or "0")  # fail early on a bad one
        except BaseException:
            self.close()
            raise

    def __iter__(self) -> Iterator[Record]:
        try:
            yield from self._snap.records(self._selection)
        finally:
            self.close()

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> Changes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ArchiveReader:
    """An open archive, read-only. Make one with :func:`open_archive`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def records(
        self,
        kinds: Iterable[str] | str | None = None,
        as_of: datetime | str | None = None,
        history: bool = False,
    ) -> Iterator[Record]:
        """Current records (one per document, tombstones included), or as at ``as_of``;
        ``history=True`` gives one record per version."""
        selection = Selection(history=history, as_of=_when(as_of), kinds=_kinds(kinds))
        with snapshot(self.engine) as snap:
            yield from snap.records(selection)

    def history(self, id_or_url: str) -> list[Record]:
        """Every version of one document, oldest first; ArchiveError if unknown."""
        with snapshot(self.engine) as snap:
            document_id = snap.resolve(id_or_url)
            if document_id is None:
                raise ArchiveError(f"no document {id_or_url!r} in this archive")
            return snap.history(document_id)

    def changes(
        self, since: str | None = None, kinds: Iterable[str] | str | None = None
    ) -> Changes:
        """Documents created, changed or deleted after ``since`` (None: all of them)."""
        return Changes(self.engine, since, _kinds(kinds))

    @property
    def cursor(self) -> str:
        """The cursor of the archive's current state."""
        with snapshot(self.engine) as snap:
            return snap.cursor

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> ArchiveReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_archive(url: str) -> ArchiveReader:
    """Open the archive at an SQLAlchemy URL (``sqlite:///x.sqlite``, ``postgresql://...``).

    Like every entry point, it creates or migrates the tables on first use.
    """
    from archive import migrations
    from archive.db import make_engine

    engine = make_engine(url)
    try:
        migrations.upgrade(engine)
    except ArchiveError:
        engine.dispose()
        raise
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = redact(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        raise ArchiveError(f"cannot open the archive: {reason}") from exc
    return ArchiveReader(engine)


# --------------------------------------------------------------------------- export


@dataclass
class ExportResult:
    """What an export wrote: the count, the cursor to pass to the next ``--since``."""

    count: int
    cursor: str
    path: Path | None  # None for stdout
    manifest: Path | None = None
    extractor_versions: list[str] = field(default_factory=list)


def export(
    reader: ArchiveReader,
    fmt: str = "jsonl",
    output: str | None = None,
    since: str | None = None,
    history: bool = False,
    as_of: datetime | str | None = None,
    kinds: Iterable[str] | str | None = None,
    extractor_version: str | None = None,
) -> ExportResult:
    """Write an export exactly as ``osce-archive export`` does (see ``archive.export``)."""
    _check_export_options(fmt, since, history)
    selection = Selection(history=history, as_of=_when(as_of), kinds=_kinds(kinds), since=since)
    path, package_dir = resolve_output(output, fmt)
    stats = Stats()
    target = Output(path)
    with snapshot(reader.engine) as snap:
        cursor = snap.cursor
        if selection.since is not None:
            snap.parse_cursor(selection.since)  # a bad cursor fails before any file is made
        snap.check_as_of(selection.as_of)  # so does a time before the archive or to come
        stream = target.open()
        try:
            count = _write_export(snap, fmt, selection, stats, target, stream, path, cursor)
            target.commit()
        except BaseException:
            target.abort()
            raise
        revision = snap.schema_revision()
    options = {
        "since": since,
        "history": history,
        "as_of": iso_time(selection.as_of) if selection.as_of else None,
        "kinds": list(selection.kinds) if selection.kinds else None,
    }
    manifest = None
    if fmt == "sqlite" and path is not None:
        from archive.exports.sqlite import write_metadata

        where = package_dir / "metadata.json" if package_dir else _metadata_beside(path)
        write_metadata(where, path.stem, cursor, options)
        manifest = where
    elif package_dir is not None and path is not None:
        manifest = write_package(
            package_dir,
            fmt,
            path,
            count,
            cursor,
            options,
            {
                "archive_version": _package_version(),
                "schema_revision": revision,
                "extractor_versions": sorted(stats.extractor_versions),
                "extractor_version_current": extractor_version,
            },
        )
    return ExportResult(count, cursor, path, manifest, sorted(stats.extractor_versions))


def _check_export_options(fmt: str, since: str | None, history: bool) -> None:
    """Refuse a format we do not write, or options the format cannot honour."""
    if fmt not in FORMATS:
        raise ArchiveError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if fmt in ("warc", "wacz") and (since is not None or history):
        raise ArchiveError(f"--format {fmt} writes every stored capture: no --since or --history")
    if fmt == "sqlite" and (since is not None or history):
        raise ArchiveError(
            "--format sqlite holds the records and every version: no --since or --history"
        )


def _write_export(
    snap: Snapshot,
    fmt: str,
    selection: Selection,
    stats: Stats,
    target: Output,
    stream: IO[bytes],
    path: Path | None,
    cursor: str,
) -> int:
    """Write the export's body in ``fmt`` to ``stream`` (or ``target.part``); return the count."""
    info = {
        "software": f"osce-archive {_package_version()}",
        "format": "WARC File Format 1.1",
        "osce-archive-cursor": cursor,
    }
    captures = snap.captures(selection.as_of, selection.kinds)
    if fmt == "warc":
        return write_warc(captures, stream, info, gzip=warc_gzipped(path))
    if fmt == "wacz":
        from archive.exports.wacz import write_wacz

        return write_wacz(captures, stream, info)
    if fmt == "sqlite":
        from archive.exports.sqlite import write_sqlite

        assert path is not None and target.part is not None
        stream.close()
        target.part.unlink()
        records = snap.records(selection, stats)
        versions = snap.records(
            Selection(history=True, as_of=selection.as_of, kinds=selection.kinds)
        )
        return write_sqlite(target.part, records, versions)
    writer: Any = {"jsonl": write_jsonl, "csv": write_csv, "parquet": write_parquet}
    count: int = writer[fmt](snap.records(selection, stats), stream)
    return count


def _metadata_beside(path: Path) -> Path:
    """Datasette's metadata for ``FILE``: ``<FILE stem>.metadata.json`` in its folder."""
    return path.with_name(path.stem + ".metadata.json")


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("osce-archive")
    except PackageNotFoundError:
        return "unknown"
