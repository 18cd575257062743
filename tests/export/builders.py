"""Plain captures and records for feeding an archive in export tests (no Scrapy).

A document is described by its node number and what a reader sees; the builders
make the Capture (raw HTML body, status, validators) and the Record that the crawl
would hand to ``Archive.ingest``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from archive.records import Capture, Record

BASE = "https://www.osce.org"
T0 = datetime(2024, 1, 1, 8, 0, tzinfo=timezone.utc)


def at(days: float) -> datetime:
    """A fixed time ``days`` after T0: tests pin every fetch to a known moment."""
    return T0 + timedelta(days=days)


def url_of(node: int, section: str = "press-releases") -> str:
    return f"{BASE}/{section}/{node}"


def make_record(node: int, title: str, text: str, **fields: Any) -> Record:
    values: dict[str, Any] = {
        "id": f"osce.org/{node}",
        "url": url_of(node, fields.pop("section", "press-releases")),
        "kind": "press-release",
        "title": title,
        "published": "2024-01-01",
        "date_source": "meta",
        "place": "VIENNA",
        "sources": ["OSCE Secretariat", "Forum for Security Co-operation, Vienna"],
        "fields_of_work": ["Arms control", 'Elections; "observation"'],
        "byline": None,
        "language": "en",
        "text": text,
        "extractor_version": "test-1",
    }
    values.update(fields)
    return Record(**values)


def html_for(record: Record, salt: str = "") -> bytes:
    """A raw page for ``record``; ``salt`` changes the bytes but not what a reader sees."""
    body = "".join(f"<p>{p}</p>" for p in record.text.split("\n\n"))
    page = (
        f"<html><head><title>{record.title}</title><!--{salt}--></head>"
        f"<body><h1>{record.title}</h1>{body}</body></html>"
    )
    return page.encode("utf-8")


@dataclass
class Fetch:
    """One ingest: the capture and the record (None for 304/404)."""

    capture: Capture
    record: Record | None


def ok(record: Record, when: datetime, salt: str = "", url: str | None = None) -> Fetch:
    body = html_for(record, salt)
    etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
    capture = Capture(
        url=url or record.url,
        status=200,
        fetched_at=when,
        etag=etag,
        last_modified="Mon, 01 Jan 2024 08:00:00 GMT",
        content_type="text/html; charset=utf-8",
        body=body,
    )
    return Fetch(capture, record)


def not_modified(url: str, when: datetime, etag: str | None = None) -> Fetch:
    return Fetch(Capture(url=url, status=304, fetched_at=when, etag=etag), None)


def gone(url: str, when: datetime, status: int = 404) -> Fetch:
    body = b"<html><body><h1>Page not found</h1></body></html>"
    capture = Capture(url=url, status=status, fetched_at=when, content_type="text/html", body=body)
    return Fetch(capture, None)


def feed(archive: Any, *fetches: Fetch) -> list[Any]:
    """Ingest ``fetches`` in order; returns the IngestResults."""
    return [archive.ingest(f.capture, f.record) for f in fetches]


def paragraphs(node: int, words: int = 60, variant: int = 0) -> str:
    """Distinct body text per node (so no two documents look like duplicates)."""
    seed = f"{node}-{variant}"
    out = []
    for p in range(3):
        h = hashlib.sha256(f"{seed}-{p}".encode()).hexdigest()
        vocab = [h[i : i + 5] for i in range(0, 60, 5)]
        out.append(" ".join(vocab[(i * 7 + p) % len(vocab)] + str(i % 13) for i in range(words)))
    return "\n\n".join(out)
