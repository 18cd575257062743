"""Bytes stored per item: the archive against raw HTML and a gzip WARC (issue 4's note).

For N replica items (default 1,000; ``python bench/archive_storage.py [N]``): render
every item page as the replica's server answers it, ingest each (capture + the real
extraction's record) into a fresh SQLite archive, and write the same responses to a
gzip WARC with warcio. Reports bytes per item of: the raw HTML; the archive's stored
raw bodies (zstd); the whole archive file (bodies + versions + indexes, after VACUUM);
the WARC.gz; and what a trained zstd dictionary would give the bodies (room for it
is in the schema: ``bodies.codec`` / ``bodies.dict_id``). Also ingest time per item,
and one re-crawl of the unchanged site (every capture unchanged) as a ratio to the
first ingest. Run it once; figures are ratios within one run, never asserted.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import time
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import zstandard
from sqlalchemy import func, select, text
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive.bodies import ZSTD_LEVEL
from archive.records import Capture
from archive.schema import Body
from archive.store import Archive
from crawler.sites import extract
from replica import Site

BASE = "https://www.osce.org"


def warc_gz_bytes(responses: Iterable[tuple[str, int, dict[str, str], bytes]]) -> int:
    """Bytes of a gzip WARC (warcio, one response record per answer) of ``responses``:
    (url, status, headers, body). The yardstick of the archive's size (also bench/run.py)."""
    out = _Counter()
    writer = WARCWriter(out, gzip=True)
    for url, status, headers, body in responses:
        http = StatusAndHeaders(f"{status} OK", list(headers.items()), protocol="HTTP/1.1")
        record = writer.create_warc_record(
            url, "response", payload=io.BytesIO(body), http_headers=http
        )
        writer.write_record(record)
    return out.size


class _Counter(io.RawIOBase):
    """A write-only stream that only counts bytes (a 25,000-page WARC needs no memory)."""

    def __init__(self) -> None:
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        n = len(data)
        self.size += n
        return n


def main(n: int = 1000) -> None:
    site = Site(items=n, seed=1, epoch=0)
    paths = site.item_paths()[:n]
    responses = []
    for path in paths:
        status, headers, body = site.render(path, host="www.osce.org")
        responses.append((BASE + path, status, dict(headers), body))
    raw = sum(len(r[3]) for r in responses)

    warc_bytes = warc_gz_bytes(responses)

    records = [extract(body, url) for url, _, _, body in responses]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite"
        archive = Archive.open(f"sqlite:///{path}")
        t0 = datetime(2025, 7, 1, tzinfo=timezone.utc)
        started = time.perf_counter()
        for (url, status, headers, body), record in zip(responses, records, strict=True):
            capture = Capture(
                url=url, status=status, fetched_at=t0, body=body, etag=headers.get("ETag")
            )
            archive.ingest(capture, record)
        first = time.perf_counter() - started
        started = time.perf_counter()
        for (url, status, headers, body), record in zip(responses, records, strict=True):
            capture = Capture(
                url=url,
                status=status,
                fetched_at=t0 + timedelta(days=1),
                body=body,
                etag=headers.get("ETag"),
            )
            archive.ingest(capture, record)
        again = time.perf_counter() - started
        with archive.session() as s:
            stored = int(s.scalar(select(func.sum(func.length(Body.data)))) or 0)
            distinct = int(s.scalar(select(func.count()).select_from(Body)) or 0)
        with archive.engine.connect() as conn:
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        archive.close()
        import sqlite3

        con = sqlite3.connect(path)
        con.execute("VACUUM")
        con.close()
        db_bytes = os.path.getsize(path)

    bodies = [r[3] for r in responses]
    train, rest = bodies[: max(50, n // 10)], bodies
    zdict = zstandard.train_dictionary(112_640, train)
    with_dict = sum(
        len(zstandard.ZstdCompressor(level=ZSTD_LEVEL, dict_data=zdict).compress(b)) for b in rest
    ) + len(zdict.as_bytes())

    def per(x: float) -> str:
        return f"{x / n:>9,.0f} B/item"

    print(f"items                         {n} replica pages (seed 1, epoch 0), {distinct} bodies")
    print(f"raw HTML                      {per(raw)}  (1.00)")
    print(f"WARC.gz (warcio, responses)   {per(warc_bytes)}  ({warc_bytes / raw:.3f} of raw)")
    print(
        f"archive bodies (zstd {ZSTD_LEVEL})       {per(stored)}  ({stored / raw:.3f} of raw, "
        f"{stored / warc_bytes:.2f} of WARC.gz)"
    )
    print(
        f"archive file (all, VACUUMed)  {per(db_bytes)}  ({db_bytes / raw:.3f} of raw, "
        f"{db_bytes / warc_bytes:.2f} of WARC.gz)"
    )
    print(
        f"bodies with a trained dict    {per(with_dict)}  ({with_dict / raw:.3f} of raw; "
        "not used yet)"
    )
    print(f"ingest, first crawl           {first / n * 1000:.2f} ms/item (SQLite, no extraction)")
    print(f"ingest, unchanged re-crawl    {again / n * 1000:.2f} ms/item ({again / first:.2f}x)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
