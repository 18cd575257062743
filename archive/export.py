"""Writers for what downstream projects read: JSONL, CSV, Parquet, WARC, and the manifest.

Every writer takes an *iterator* and writes as it goes, in batches, so an export of
25,000 or 250,000 records holds one batch in memory, never the whole archive. The
records are plain dicts in the form of ``record.schema.json`` (the JSONL line is the
reference form); CSV and Parquet rows convert back to exactly that dict with
:func:`csv_row_to_record` and :func:`iter_parquet`, which is how the tests hold every
format to the one schema.

CSV cells and lists
    A list (``sources``, ``fields_of_work``, ``attachments``, ``aliases``,
    ``language_versions``) is a JSON array
    in its cell, e.g. ``["OSCE Secretariat", "Forum for Security Co-operation"]`` or
    ``[{"title": "Final report", "url": "https://www.osce.org/files/f/documents/1/2.pdf"}]``:
    a spreadsheet user
    reads it at a glance, and a program splits it with one ``json.loads``, whatever
    commas, semicolons or quotes the names hold. This is also the ``array`` type of a
    Frictionless Table Schema, so the data package's CSV resource is typed exactly.
    An empty cell is null (an empty string in a nullable field reads back as null);
    ``deleted`` is ``true``/``false``; times are ISO 8601 UTC with ``Z``.

Dataset package
    When ``--output`` names a directory (one that exists, or a path ending in ``/``),
    the export writes ``records.<ext>`` (``captures.warc.gz`` for WARC), a copy of
    ``record.schema.json`` and a Frictionless ``datapackage.json`` into it.

Files are written beside their target as ``*.part`` and renamed when complete, so a
failed or interrupted export never leaves a half file where a good one is expected.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import IO, Any

from archive.errors import ArchiveError
from archive.records import RECORD_FIELDS

#: The archive fields ``export`` adds after the extraction fields (``CONTRACT.md``).
ARCHIVE_FIELDS = (
    "aliases",
    "version",
    "version_seen",
    "content_hash",
    "first_seen",
    "last_seen",
    "deleted",
    "duplicate_of",
    "site",
    "reason",
    "furniture_version",
    "reports_on",
    "reported_by",
    "language_versions",
)
#: Every field of an exported record, in the order every format writes them.
EXPORT_FIELDS = RECORD_FIELDS + ARCHIVE_FIELDS
LIST_FIELDS = (
    "sources",
    "fields_of_work",
    "attachments",
    "aliases",
    "reports_on",
    "reported_by",
    "language_versions",
)
TIME_FIELDS = ("version_seen", "first_seen", "last_seen")
NULLABLE_FIELDS = (
    "published",
    "date_source",
    "place",
    "byline",
    "language",
    "duplicate_of",
    "furniture_version",
)
FORMATS = ("jsonl", "csv", "parquet", "warc", "wacz", "sqlite")
#: File name of each format inside a dataset package directory.
PACKAGE_FILES = {
    "jsonl": "records.jsonl",
    "csv": "records.csv",
    "parquet": "records.parquet",
    "warc": "captures.warc.gz",
    "wacz": "captures.wacz",
    "sqlite": "archive-export.sqlite",
}
MEDIA_TYPES = {
    "jsonl": "application/x-ndjson",
    "csv": "text/csv",
    "parquet": "application/vnd.apache.parquet",
    "warc": "application/warc",
    "wacz": "application/wacz",
    "sqlite": "application/vnd.sqlite3",
}
#: Rows per Parquet row group (and per read-back batch).
BATCH_SIZE = 2000
#: Rows fetched from the database at a time.
FETCH_SIZE = 500
SCHEMA_FILE = "record.schema.json"

Record = dict[str, Any]


# --------------------------------------------------------------------------- times


def iso_time(value: datetime | None) -> str | None:
    """One spelling of a time for every format, so rows compare equal after a round trip.

    A naive datetime is UTC (SQLite hands stored times back without a zone).
    """
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    value = value.astimezone(timezone.utc)
    spec = "microseconds" if value.microsecond else "seconds"
    return value.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def parse_time(text: str) -> datetime:
    """Parse ``--as-of``: ISO 8601 date or date-time; no zone means UTC.

    A user error is an :class:`ArchiveError` with the value in its one line.
    """
    raw = (text or "").strip()
    try:
        if len(raw) == 10:
            parsed = datetime.combine(date.fromisoformat(raw), datetime.max.time())
        else:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ArchiveError(
            f"cannot parse time {text!r}: expected ISO 8601, e.g. 2024-05-01T12:00:00Z"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def _from_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --------------------------------------------------------------------------- schema


def schema_text() -> str:
    """The JSON Schema of an exported record, as shipped in the package."""
    return resources.files("archive").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def record_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(schema_text())
    return schema


def record_validator() -> Any:
    """A validator of ``record.schema.json`` that also checks ``format`` where it can."""
    import jsonschema

    cls = jsonschema.validators.validator_for(record_schema())
    return cls(record_schema(), format_checker=cls.FORMAT_CHECKER)


# --------------------------------------------------------------------------- output


class Output:
    """Where an export goes: stdout, a file, or a file inside a dataset package.

    Writes to ``<path>.part`` and renames on :meth:`commit`, so readers never see a
    half-written file; :meth:`abort` removes the part file.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._part = path.with_name(path.name + ".part") if path else None
        self.part = self._part
        self._handle: IO[bytes] | None = None

    def open(self) -> IO[bytes]:
        if self._part is None:
            return sys.stdout.buffer
        try:
            self._handle = open(self._part, "wb")  # noqa: SIM115 - closed in commit/abort
        except OSError as exc:
            raise ArchiveError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        return self._handle

    def commit(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        if self._part is not None and self.path is not None:
            try:
                os.replace(self._part, self.path)
            except OSError as exc:
                raise ArchiveError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        else:
            sys.stdout.buffer.flush()

    def abort(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        if self._part is not None:
            try:
                self._part.unlink()
            except OSError:
                pass


def resolve_output(output: str | None, fmt: str) -> tuple[Path | None, Path | None]:
    """Decide where ``--output`` writes: ``(file or None for stdout, package dir or None)``.

    An existing directory, or a path ending in ``/``, asks for a dataset package:
    that is the one signal that needs no new option and cannot be mistaken for a file.
    """
    if output is None or output == "-":
        if fmt in ("parquet", "warc", "wacz", "sqlite"):
            raise ArchiveError(f"--format {fmt} needs --output FILE (it is not a text stream)")
        return None, None
    path = Path(output)
    if output.endswith(("/", os.sep)) or path.is_dir():
        if fmt == "wacz":  # a WACZ is a package itself (WARC, index, pages, datapackage)
            raise ArchiveError("--format wacz is a package itself: give --output FILE.wacz")
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ArchiveError(f"cannot create {path}: {exc.strerror or exc}") from None
        return path / PACKAGE_FILES[fmt], path
    if not path.parent.exists():
        raise ArchiveError(f"cannot write {path}: folder {path.parent} does not exist")
    return path, None


# --------------------------------------------------------------------------- JSONL


def write_jsonl(records: Iterable[Record], out: IO[bytes]) -> int:
    """One JSON object per line, fields in ``EXPORT_FIELDS`` order, UTF-8.

    Line by line into the (buffered) stream: nothing larger than one record is held.
    """
    count = 0
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    for record in records:
        out.write(dumps(record).encode("utf-8") + b"\n")
        count += 1
    return count


def iter_jsonl(stream: IO[bytes] | IO[str]) -> Iterator[Record]:
    for line in stream:
        if line.strip():
            yield json.loads(line)


# --------------------------------------------------------------------------- CSV


def _csv_cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if name in LIST_FIELDS:
        return json.dumps(list(value), ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_csv(records: Iterable[Record], out: IO[bytes]) -> int:
    """A header row, then one row per record; see the module docstring for the cells."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(EXPORT_FIELDS)
    count = 0
    for record in records:
        writer.writerow([_csv_cell(name, record.get(name)) for name in EXPORT_FIELDS])
        count += 1
    text.flush()
    text.detach()  # leave ``out`` open: the caller owns it
    return count


def csv_row_to_record(row: dict[str, str]) -> Record:
    """Turn one CSV row back into the record it was written from."""
    record: Record = {}
    for name in EXPORT_FIELDS:
        cell = row.get(name, "")
        if name in LIST_FIELDS:
            record[name] = json.loads(cell) if cell else []
        elif name == "version":
            record[name] = int(cell)
        elif name == "deleted":
            record[name] = cell == "true"
        elif name in NULLABLE_FIELDS:
            record[name] = cell or None
        else:
            record[name] = cell
    return record


def iter_csv(path: str | os.PathLike[str]) -> Iterator[Record]:
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            yield csv_row_to_record(row)


# --------------------------------------------------------------------------- Parquet


def parquet_schema() -> Any:
    """The typed Arrow schema of the Parquet export: dates, UTC timestamps, string lists,
    attachments as a list of ``struct<title: string, url: string>``."""
    import pyarrow as pa

    strings = pa.list_(pa.string())
    when = pa.timestamp("us", tz="UTC")
    attachment = pa.struct(
        [
            pa.field("title", pa.string(), nullable=False),
            pa.field("url", pa.string(), nullable=False),
        ]
    )
    link = pa.struct(
        [
            pa.field("id", pa.string(), nullable=False),
            pa.field("evidence", pa.string(), nullable=False),
            pa.field("detail", pa.string(), nullable=False),
        ]
    )
    types = {
        "published": pa.date32(),
        "sources": strings,
        "fields_of_work": strings,
        "attachments": pa.list_(attachment),
        "aliases": strings,
        "reports_on": pa.list_(link),
        "reported_by": strings,
        "language_versions": strings,
        "version": pa.int32(),
        "version_seen": when,
        "first_seen": when,
        "last_seen": when,
        "deleted": pa.bool_(),
    }
    required = required_fields()
    return pa.schema(
        [
            pa.field(name, types.get(name, pa.string()), nullable=name not in required)
            for name in EXPORT_FIELDS
        ],
        metadata={b"osce_archive.schema": SCHEMA_FILE.encode()},
    )


def _arrow_value(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name == "published":
        return date.fromisoformat(value)
    if name in TIME_FIELDS:
        return _from_iso(value)
    return value


def write_parquet(records: Iterable[Record], out: IO[bytes], batch_size: int = BATCH_SIZE) -> int:
    """Row groups of ``batch_size`` records, written as they fill (flat memory)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = parquet_schema()
    count = 0
    columns: dict[str, list[Any]] = {name: [] for name in EXPORT_FIELDS}
    with pq.ParquetWriter(out, schema, compression="zstd") as writer:

        def flush() -> None:
            batch = pa.RecordBatch.from_pydict(columns, schema=schema)
            writer.write_batch(batch)
            for values in columns.values():
                values.clear()

        for record in records:
            for name in EXPORT_FIELDS:
                columns[name].append(_arrow_value(name, record.get(name)))
            count += 1
            if count % batch_size == 0:
                flush()
        if columns["id"] or count == 0:
            flush()
    return count


def iter_parquet(path: str | os.PathLike[str]) -> Iterator[Record]:
    """Read a Parquet export back as records (batch by batch)."""
    import pyarrow.parquet as pq

    handle = pq.ParquetFile(path)
    for batch in handle.iter_batches(batch_size=BATCH_SIZE):
        for row in batch.to_pylist():
            record: Record = {}
            for name in EXPORT_FIELDS:
                value = row.get(name)
                if name == "published" and value is not None:
                    value = value.isoformat()
                elif name in TIME_FIELDS:
                    value = iso_time(value)
                elif name in LIST_FIELDS:
                    value = list(value or [])
                record[name] = value
            yield record


# --------------------------------------------------------------------------- WARC

REVISIT_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
REVISIT_IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
#: Headers that describe the bytes on the wire, not the stored (decoded, whole) body.
_TRANSFER_HEADERS = ("content-length", "content-encoding", "transfer-encoding")


@dataclass
class StoredCapture:
    """One fetch as the archive keeps it, enough to write its WARC records.

    ``body`` loads the raw body on demand, so a revisit (whose body the archive
    already wrote once) never pays for decompression. ``answers`` are the status lines
    and headers of every answer (redirects first), kept since revision 0003; ``None``
    for older captures, whose answers are rebuilt from ``status``, the validators and
    ``redirects``.
    """

    url: str
    fetched_at: datetime
    status: int
    etag: str | None
    last_modified: str | None
    content_type: str | None
    body_sha256: str | None  # hex digest of the raw body, None when there was none
    body: Callable[[], bytes | None]
    document_id: str | None = None
    requested: str | None = None  # the address asked for (before redirects)
    redirects: list[str] | None = None  # hops between requested and url
    answers: list[dict[str, Any]] | None = None


def payload_digest(body: bytes) -> str:
    """The digest WARC tools (pywb, cdxj-indexer) compare: ``sha1:`` + base32."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def _warc_date(value: datetime) -> str:
    return iso_time(value) or ""


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def capture_answers(capture: StoredCapture) -> list[dict[str, Any]]:
    """Every answer of one fetch, redirects first: as stored, or rebuilt for old captures.

    A rebuilt redirect is a ``301`` whose ``Location`` is the next hop (the archive kept
    the hops, not their status); a rebuilt final answer carries the headers the archive
    always kept (Content-Type, ETag, Last-Modified).
    """
    if capture.answers:
        return capture.answers
    answers: list[dict[str, Any]] = []
    hops: list[str] = []
    for hop in [capture.requested or capture.url, *(capture.redirects or [])]:
        if hop not in hops and hop != capture.url:
            hops.append(hop)
    if hops:
        targets = [*hops[1:], capture.url]
        for hop, target in zip(hops, targets, strict=True):
            answers.append(
                {
                    "url": hop,
                    "status": 301,
                    "reason": _reason(301),
                    "protocol": "HTTP/1.1",
                    "headers": [["Location", target]],
                }
            )
    headers: list[list[str]] = []
    if capture.content_type:
        headers.append(["Content-Type", capture.content_type])
    if capture.etag:
        headers.append(["ETag", capture.etag])
    if capture.last_modified:
        headers.append(["Last-Modified", capture.last_modified])
    answers.append(
        {
            "url": capture.url,
            "status": capture.status,
            "reason": _reason(capture.status),
            "protocol": "HTTP/1.1",
            "headers": headers,
        }
    )
    return answers


def _http_headers(answer: dict[str, Any], length: int | None) -> Any:
    """The HTTP block's head: the answer's status line and headers, with the length of
    the stored body (the archive keeps the body decoded and whole, so the wire's
    Content-Length, Content-Encoding and Transfer-Encoding no longer describe it)."""
    from warcio.statusandheaders import StatusAndHeaders

    headers = [
        (str(name), str(value))
        for name, value in answer.get("headers") or []
        if str(name).lower() not in _TRANSFER_HEADERS
    ]
    if length is not None:
        headers.append(("Content-Length", str(length)))
    status = int(answer["status"])
    line = f"{status} {answer.get('reason') or _reason(status)}"
    return StatusAndHeaders(line, headers, protocol=answer.get("protocol") or "HTTP/1.1")


@dataclass
class _Written:
    """A response record already written: what a revisit refers to."""

    uri: str
    date: str
    digest: str
    record_id: str


def warc_gzipped(path: Path | None) -> bool:
    """A name ending in ``.warc`` is written uncompressed; anything else gzip per record."""
    return path is None or not path.name.endswith(".warc")


def write_warc(
    captures: Iterable[StoredCapture],
    out: IO[bytes],
    info: dict[str, str] | None = None,
    gzip: bool = True,
) -> int:
    """Write captures as WARC/1.1 as Heritrix and Browsertrix do; returns the captures written.

    - every answer is a ``response`` record with its status line and headers: the 200s,
      the 404/410s and other errors, and each redirect (3xx) on the way to the final
      answer (a redirect's and an error's body is not kept: their payload is empty);
    - a body identical to one already written (same sha256) is a ``revisit`` with the
      identical-payload-digest profile and its own status line and headers;
    - a 304 is a ``revisit`` with the server-not-modified profile, its block the 304's
      status line and headers, referring (``WARC-Refers-To-Target-URI``,
      ``-Date``, ``WARC-Refers-To``) to the last response written for that address;
    - fetches with no answer (status 0) are left out.

    The count is of captures (fetches), not records: the warcinfo record and the
    redirect records of a capture are not counted apart.
    """
    from warcio.warcwriter import WARCWriter

    writer = WARCWriter(out, gzip=gzip, warc_version="1.1")
    if info is not None:
        writer.write_record(writer.create_warcinfo_record("", info))
    by_hash: dict[str, _Written] = {}
    last_for_url: dict[str, _Written] = {}
    count = 0
    for capture in captures:
        if capture.status == 0:
            continue
        date_text = _warc_date(capture.fetched_at)
        answers = capture_answers(capture)
        _write_redirect_hops(writer, answers[:-1], date_text)
        final = answers[-1]
        uri = final.get("url") or capture.url
        count += 1
        if capture.status == 304:
            _write_record(
                writer, _not_modified_record(writer, uri, final, date_text, last_for_url.get(uri))
            )
            continue
        seen = by_hash.get(capture.body_sha256) if capture.body_sha256 else None
        if seen is not None:
            _write_record(writer, _identical_revisit_record(writer, uri, final, date_text, seen))
            last_for_url[uri] = seen
            continue
        body = capture.body() if capture.body_sha256 else None
        body = body or b""
        digest = payload_digest(body)
        record_id = _write_record(
            writer, _response_record(writer, uri, final, date_text, body, digest)
        )
        written = _Written(uri, date_text, digest, record_id)
        if capture.body_sha256 and body:
            by_hash[capture.body_sha256] = written
        last_for_url[uri] = written
    return count


def _write_record(writer: Any, record: Any) -> str:
    """Write one WARC record; return its ``WARC-Record-ID``."""
    writer.write_record(record)
    return str(record.rec_headers.get_header("WARC-Record-ID"))


def _write_redirect_hops(writer: Any, hops: list[dict[str, Any]], date_text: str) -> None:
    """One ``response`` record with an empty payload for each redirect on the way."""
    for hop in hops:
        _write_record(
            writer,
            writer.create_warc_record(
                hop["url"],
                "response",
                payload=io.BytesIO(b""),
                length=0,
                http_headers=_http_headers(hop, 0),
                warc_headers_dict={"WARC-Date": date_text},
            ),
        )


def _not_modified_record(
    writer: Any, uri: str, final: dict[str, Any], date_text: str, original: _Written | None
) -> Any:
    """A 304: a server-not-modified ``revisit`` referring to the last response for ``uri``."""
    headers = {
        "WARC-Date": date_text,
        "WARC-Profile": REVISIT_NOT_MODIFIED,
        "WARC-Refers-To-Target-URI": original.uri if original else uri,
    }
    if original is not None:
        headers["WARC-Refers-To-Date"] = original.date
        headers["WARC-Refers-To"] = original.record_id
        headers["WARC-Payload-Digest"] = original.digest
    return writer.create_warc_record(
        uri,
        "revisit",
        http_headers=_http_headers(final, None),
        warc_headers_dict=headers,
    )


def _identical_revisit_record(
    writer: Any, uri: str, final: dict[str, Any], date_text: str, seen: _Written
) -> Any:
    """A body already written: an identical-payload-digest ``revisit`` referring to it."""
    return writer.create_warc_record(
        uri,
        "revisit",
        http_headers=_http_headers(final, None),
        warc_headers_dict={
            "WARC-Date": date_text,
            "WARC-Profile": REVISIT_IDENTICAL,
            "WARC-Refers-To-Target-URI": seen.uri,
            "WARC-Refers-To-Date": seen.date,
            "WARC-Refers-To": seen.record_id,
            "WARC-Payload-Digest": seen.digest,
        },
    )


def _response_record(
    writer: Any, uri: str, final: dict[str, Any], date_text: str, body: bytes, digest: str
) -> Any:
    """A ``response`` record holding the final answer's status line, headers and body."""
    return writer.create_warc_record(
        uri,
        "response",
        payload=io.BytesIO(body),
        length=len(body),
        http_headers=_http_headers(final, len(body)),
        warc_headers_dict={"WARC-Date": date_text, "WARC-Payload-Digest": digest},
    )


# --------------------------------------------------------------------------- dataset package


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_DATE_PATTERN = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    """A property of ``record.schema.json`` with its ``$ref`` (one level) resolved."""
    ref = node.get("$ref")
    if ref:
        resolved = dict(record_schema()["$defs"][ref.rsplit("/", 1)[-1]])
        resolved.update({k: v for k, v in node.items() if k != "$ref"})
        return resolved
    return node


def _unanchored(pattern: str) -> str:
    """A JSON Schema pattern as a Table Schema pattern (which always matches whole values)."""
    return pattern.removeprefix("^").removesuffix("$")


def _table_field(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """One Table Schema field from one JSON Schema property (see :func:`table_schema`)."""
    spec = _resolve(spec)
    nullable = False
    if "anyOf" in spec:
        options = [_resolve(option) for option in spec["anyOf"]]
        nullable = any(option.get("type") == "null" for option in options)
        spec = next(option for option in options if option.get("type") != "null")
    kinds = spec.get("type", "string")
    if isinstance(kinds, list):
        nullable = nullable or "null" in kinds
        kinds = next(kind for kind in kinds if kind != "null")
    if "enum" in spec:
        nullable = nullable or None in spec["enum"]
    constraints: dict[str, Any] = {}
    if kinds == "array":
        kind = "array"
    elif kinds in ("integer", "boolean"):
        kind = kinds
    elif spec.get("format") == "date-time":
        kind = "datetime"
    elif spec.get("format") == "date" or spec.get("pattern") == _DATE_PATTERN:
        kind = "date"
    else:
        kind = "string"
        if "pattern" in spec:
            constraints["pattern"] = _unanchored(spec["pattern"])
        if "enum" in spec:
            constraints["enum"] = [value for value in spec["enum"] if value is not None]
        if "minLength" in spec:
            constraints["minLength"] = spec["minLength"]
    if "minimum" in spec:
        constraints["minimum"] = spec["minimum"]
    if not nullable:
        constraints["required"] = True
    field: dict[str, Any] = {"name": name, "type": kind}
    if spec.get("description"):
        field["description"] = spec["description"]
    if kind == "datetime":
        field["format"] = "any"  # ISO 8601 with or without fractions of a second, "Z"
    if kind == "boolean":
        field["trueValues"] = ["true"]
        field["falseValues"] = ["false"]
    if kind == "string" and not nullable:
        # A required text may be empty ("" is a title, not a missing one).
        field["missingValues"] = []
    if constraints:
        field["constraints"] = constraints
    return field


@lru_cache(maxsize=1)
def table_schema() -> dict[str, Any]:
    """The Frictionless Table Schema of every tabular export, derived from the record schema.

    One schema for the JSONL, CSV and Parquet resources of a data package: JSON Schema
    arrays are ``array`` (a JSON array in a CSV cell), ``date-time`` strings are
    ``datetime``, the ``YYYY-MM-DD`` date is ``date``; a property whose type does not
    allow null is ``required``; patterns, enums and minimums become constraints. The
    same nullability decides which Parquet columns are declared non-null.
    """
    properties = record_schema()["properties"]
    fields = [_table_field(name, properties[name]) for name in EXPORT_FIELDS]
    return {"fields": fields, "primaryKey": ["id", "version"], "missingValues": [""]}


def parquet_table_schema() -> dict[str, Any]:
    """:func:`table_schema` for the Parquet resource: the same fields, except that the
    list columns (Parquet ``list<string>``) are ``any``: Frictionless reads Parquet
    through pandas, which hands lists over as numpy arrays that its ``array`` type
    refuses. The column stays a typed list for every Parquet reader."""
    schema = json.loads(json.dumps(table_schema()))
    for field in schema["fields"]:
        if field["type"] == "array":
            field["type"] = "any"
            kind = {
                "attachments": "list<struct<title, url>>",
                "reports_on": "list<struct<id, evidence, detail>>",
            }.get(field["name"], "list<string>")
            field["description"] = (field.get("description", "") + f" ({kind})").strip()
    return dict(schema)


def required_fields() -> frozenset[str]:
    """The fields no record leaves null (required in the Table Schema, non-null in Parquet)."""
    return frozenset(
        f["name"] for f in table_schema()["fields"] if f.get("constraints", {}).get("required")
    )


_table_schema = table_schema  # the name earlier releases used


def write_package(
    directory: Path,
    fmt: str,
    data_file: Path,
    count: int,
    cursor: str,
    options: dict[str, Any],
    versions: dict[str, Any],
) -> Path:
    """Write ``record.schema.json`` and a Frictionless ``datapackage.json`` into ``directory``.

    The manifest lets a dataset be checked (byte size and sha256 of every file) and
    cited (its cursor says exactly which state of the archive it holds).
    """
    schema_path = directory / SCHEMA_FILE
    part = schema_path.with_name(schema_path.name + ".part")
    part.write_text(schema_text(), encoding="utf-8")
    os.replace(part, schema_path)
    resource = _data_resource(fmt, data_file, count)
    schema_resource = _schema_resource(schema_path)
    manifest = {
        "profile": "data-package",
        "name": "osce-newsroom-archive",
        "title": "OSCE newsroom archive export",
        "created": iso_time(datetime.now(timezone.utc)),
        "resources": [resource, schema_resource],
        "osce_archive": {
            "format": fmt,
            "record_count": count,
            "cursor": cursor,
            "options": options,
            **versions,
        },
    }
    path = directory / "datapackage.json"
    part = path.with_name(path.name + ".part")
    part.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(part, path)
    return path


def _data_resource(fmt: str, data_file: Path, count: int) -> dict[str, Any]:
    """The data file's entry in ``datapackage.json``: size, hash, count and its table schema."""
    resource: dict[str, Any] = {
        "name": "captures" if fmt == "warc" else "records",
        "path": data_file.name,
        "format": {"jsonl": "jsonl", "csv": "csv", "parquet": "parquet", "warc": "warc"}[fmt],
        "mediatype": MEDIA_TYPES[fmt],
        "bytes": data_file.stat().st_size,
        "hash": "sha256:" + sha256_file(data_file),
        "count": count,
    }
    if fmt == "csv":
        resource.update(
            type="table",
            profile="tabular-data-resource",
            encoding="utf-8",
            dialect={"delimiter": ",", "lineTerminator": "\r\n", "header": True},
            schema=table_schema(),
        )
    elif fmt == "jsonl":
        resource.update(
            type="table", profile="tabular-data-resource", encoding="utf-8", schema=table_schema()
        )
    elif fmt == "parquet":
        resource.update(
            type="table", profile="tabular-data-resource", schema=parquet_table_schema()
        )
        # Frictionless reads Parquet through pandas and counts no bytes: the size and
        # hash stay, under names it does not check, for any other reader.
        resource["osce_archive_bytes"] = resource.pop("bytes")
        resource["osce_archive_hash"] = resource.pop("hash")
    if fmt != "warc":
        resource["jsonSchema"] = SCHEMA_FILE
    return resource


def _schema_resource(schema_path: Path) -> dict[str, Any]:
    """The JSON Schema file's entry in ``datapackage.json``."""
    # An explicit type: a file named "*schema.json" is otherwise taken for a Table Schema.
    return {
        "name": "record-schema",
        "type": "json",
        "profile": "data-resource",
        "path": SCHEMA_FILE,
        "format": "json",
        "mediatype": "application/schema+json",
        "bytes": schema_path.stat().st_size,
        "hash": "sha256:" + sha256_file(schema_path),
    }
