"""Bytes stored per item: the archive against a gzip WARC of the same responses (issue 17.2).

``python bench/archive_storage.py [N] [--epochs E] [--json] [--keep FILE]`` (default 2,000 replica
items, 3 epochs): render every item page as the replica's server answers it and ingest
each into a fresh SQLite archive as a crawl does: the capture with the answer's status
line and headers (the replica server's own ``Date``, ``Server`` and ``Content-Length``
included), its media type and the entry of the newsroom listing that linked the item
(read by the crawler's listing reader), and the real extraction's record; then, for
each of E epochs (5 % of the items edited, as `Rates(edit=0.05)`), fetch what an
incremental crawl fetches (the edited, new and re-marked-up items) and ingest those too.
The same responses are written to a gzip WARC with warcio: the yardstick.

Reports bytes per item page of: the raw HTML; the WARC.gz; the archive's stored raw
bodies; its version rows (compressed text, ``archive.texts``); the whole archive file
after VACUUM *without* the search index, and the search index alone (the reading room's
FTS5 tables, reported apart as the issue asks); each table and index (SQLite's dbstat).
Then the time to read one version (a row by document and number, its text read back
through ``archive.texts.TextReader`` as a reader's request does: p50 / p90 / p99 over
2,000 random reads, goal under 1 ms, and of that the text's decompression alone),
ingest time per page, and an unchanged re-crawl as a ratio of the first ingest
(measured after the sizes, so its captures are not counted).
Figures are ratios within one run, never asserted.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive import texts
from archive.records import Capture, ListingEntry
from archive.schema import Body, Version
from archive.store import Archive
from crawler.sites import extract
from crawler.sites.osce import OSCE
from replica import Site
from replica.generator import Rates
from replica.routes import http_date

#: The scheme the replica's pages name themselves with (their canonical links), as a crawl
#: of it requests them: one address per item, as on the site itself (https in both).
#: Until 2026-12-03 the bench requested https, which doubled every item's addresses.
BASE = "http://www.osce.org"
READS = 2000
T0 = datetime(2025, 7, 1, tzinfo=timezone.utc)
#: Rows per newsroom listing page read for the entries (the replica's largest).
LISTING_ROWS = 50

Response = tuple[str, int, dict[str, str], bytes]


def warc_gz_bytes(responses: Iterable[Response]) -> int:
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


def table_bytes(path: Path) -> dict[str, int]:
    """Bytes per table and index (SQLite's dbstat), largest first."""
    con = sqlite3.connect(path)
    try:
        rows = con.execute(
            "select name, sum(pgsize) from dbstat group by name order by 2 desc"
        ).fetchall()
    finally:
        con.close()
    return {str(name): int(size) for name, size in rows}


def split_search(tables: dict[str, int]) -> tuple[int, int]:
    """(archive bytes, search-index bytes) of a dbstat breakdown: the reading room's
    index (every ``search_*`` table: FTS5 and its shadow tables) is counted apart."""
    index = sum(size for name, size in tables.items() if name.startswith("search_"))
    return sum(tables.values()) - index, index


def fetched_at(epoch: int, i: int) -> datetime:
    """When the ``i``-th page of ``epoch`` was fetched (a crawl takes about 20 a second)."""
    return T0 + timedelta(days=epoch, seconds=i // 20)


def _render(site: Site, paths: Iterable[str], epoch: int) -> list[Response]:
    """The answers to ``paths`` with the headers the replica's server sends, as a crawl
    keeps them (``crawler.middlewares.answer_of``): Scrapy's order, ``Content-Length``,
    ``Date`` and ``Server`` first, then the page's, and its spelling (``Etag``)."""
    out = []
    for i, path in enumerate(paths):
        status, headers, body = site.render(path, host="www.osce.org")
        if status == 200:
            sent = {
                "Content-Length": str(len(body)),
                "Date": http_date(fetched_at(epoch, i)),
                "Server": "Apache",
                **{name.title(): value for name, value in headers.items()},
            }
            out.append((BASE + path, status, sent, body))
    return out


def listing_entries(site: Site, urls: set[str]) -> dict[str, ListingEntry]:
    """The newsroom listing's entry for each of ``urls`` it lists, as a crawl reads it:
    the listing pages that hold them, read by the crawler's own listing reader."""
    order = site.listing_order["newsroom"]
    pages = sorted({i // LISTING_ROWS for i, it in enumerate(order) if BASE + it.path in urls})
    found: dict[str, ListingEntry] = {}
    for page in pages:
        path = f"/newsroom?page={page}&rows={LISTING_ROWS}"
        status, _, body = site.render(path, host="www.osce.org")
        if status == 200:
            for entry in OSCE.read_listing(body, BASE + path).entries:
                if entry.url in urls:
                    found[entry.url] = entry
    return found


def crawl_responses(n: int, epochs: int) -> list[tuple[int, Response, ListingEntry | None]]:
    """(epoch, response, listing entry) of a first crawl of ``n`` items and of ``epochs``
    incremental runs, each fetching what changed: edited, new and re-marked-up items."""
    site = Site(items=n, seed=1, epoch=0, rates=Rates(edit=0.05))
    out: list[tuple[int, Response, ListingEntry | None]] = []
    for epoch in range(epochs + 1):
        if epoch == 0:
            paths = site.item_paths()[:n]
        else:
            site.set_epoch(epoch)
            changes = site.changes(epoch)
            wanted = {*changes["edited"], *changes["new"], *changes["markup_only"]}
            paths = [it.path for it in site.items_live() if it.item_id in wanted]
        responses = _render(site, paths, epoch)
        entries = listing_entries(site, {r[0] for r in responses})
        out += [(epoch, r, entries.get(r[0])) for r in responses]
    return out


def capture_of(response: Response, when: datetime, listing: ListingEntry | None) -> Capture:
    """The capture a crawl stores for ``response`` (``crawler.middlewares.answer_of``)."""
    url, status, headers, body = response
    answer = {
        "url": url,
        "status": status,
        "reason": "OK",
        "protocol": "HTTP/1.1",
        "headers": [[name, value] for name, value in headers.items()],
    }
    return Capture(
        url=url,
        status=status,
        fetched_at=when,
        body=body,
        etag=headers.get("Etag"),
        last_modified=headers.get("Last-Modified"),
        content_type=headers.get("Content-Type"),
        listing=listing,
        answers=[answer],
    )


def read_times(archive: Archive, reads: int = READS) -> tuple[list[float], list[float]]:
    """Seconds to read one version, each as a request would (the row by document and
    number, its text, title, byline, attachments, sources and fields of work through a
    fresh ``TextReader``, which looks the names up; the
    dictionary is cached by the process, as in the reading room), and of that the pack's
    decompression alone (from the row in hand)."""
    with archive.session() as s:
        keys = s.execute(select(Version.document_id, Version.number)).all()
    rng = random.Random(7)
    picks = [keys[rng.randrange(len(keys))] for _ in range(reads)]
    whole, decode = [], []
    with archive.engine.connect() as conn:
        for document_id, number in picks:
            started = time.perf_counter()
            row = conn.execute(
                select(Version, *texts.columns()).where(
                    Version.document_id == document_id, Version.number == number
                )
            ).one()
            read = time.perf_counter()
            reader = texts.TextReader(conn)
            text, _provenance, fields = reader.read_all(row)
            fields.update(reader.names(row))
            done = time.perf_counter()
            whole.append(done - started)
            decode.append(done - read)
            assert text is not None and fields["title"] is not None
    return whole, decode


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def measure(n: int, epochs: int, keep: Path | None = None) -> dict[str, Any]:
    fetched = crawl_responses(n, epochs)
    responses = [r for _, r, _ in fetched]
    pages = len(responses)
    raw = sum(len(r[3]) for r in responses)
    warc_bytes = warc_gz_bytes(responses)
    records = [extract(body, url) for url, _, _, body in responses]
    r: dict[str, Any] = {"items": n, "epochs": epochs, "pages": pages}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite"
        archive = Archive.open(f"sqlite:///{path}")
        started = time.perf_counter()
        counted = [0] * (epochs + 1)
        for (epoch, response, listing), record in zip(fetched, records, strict=True):
            when = fetched_at(epoch, counted[epoch])
            counted[epoch] += 1
            archive.ingest(capture_of(response, when, listing), record)
        first = time.perf_counter() - started
        with archive.session() as s:
            r["versions"] = int(s.scalar(select(func.count()).select_from(Version)) or 0)
            r["bodies"] = int(s.scalar(select(func.count()).select_from(Body)) or 0)
            r["body_bytes"] = int(s.scalar(select(func.sum(func.length(Body.data)))) or 0)
            r["pack_bytes"] = int(s.scalar(select(func.sum(func.length(Version.packed)))) or 0)
            codecs = s.execute(select(Version.codec, func.count()).group_by(Version.codec))
            r["codecs"] = {codec: int(count) for codec, count in codecs}
        times, decode_times = read_times(archive)
        archive.close()
        copy = Path(tmp) / "vacuumed.sqlite"
        con = sqlite3.connect(path)
        con.execute(f"VACUUM INTO '{copy}'")
        con.close()
        file_bytes = copy.stat().st_size
        if keep is not None:
            shutil.copyfile(copy, keep)
        tables = table_bytes(copy)
        archive = Archive.open(f"sqlite:///{path}")
        started = time.perf_counter()
        for i, (_, response, listing) in enumerate(fetched):  # every page again, unchanged
            capture = capture_of(response, fetched_at(epochs + 1, i), listing)
            archive.ingest(capture, extract(response[3], response[0]))
        again = time.perf_counter() - started
        archive.close()
    archive_bytes, index_bytes = split_search(tables)
    overhead = file_bytes - sum(tables.values())  # free pages and the header: none after VACUUM
    r.update(
        raw_bytes=raw,
        warc_gz_bytes=warc_bytes,
        file_bytes=file_bytes,
        archive_bytes=archive_bytes + overhead,
        search_index_bytes=index_bytes,
        archive_vs_warc=(archive_bytes + overhead) / warc_bytes,
        with_index_vs_warc=file_bytes / warc_bytes,
        version_bytes=tables.get("versions", 0),
        tables=tables,
        read_ms_p50=statistics.median(times) * 1000,
        read_ms_p90=_pct(times, 0.90) * 1000,
        read_ms_p99=_pct(times, 0.99) * 1000,
        text_ms_p50=statistics.median(decode_times) * 1000,
        text_ms_p99=_pct(decode_times, 0.99) * 1000,
        ingest_ms_per_page=first / pages * 1000,
        recrawl_ms_per_page=again / pages * 1000,
        recrawl_vs_first=again / first,
    )
    return r


def report(r: dict[str, Any]) -> None:
    pages = r["pages"]

    def per(x: float) -> str:
        return f"{x / pages:>8,.0f} B/page"

    warc = r["warc_gz_bytes"]
    print(
        f"pages        {pages} ({r['items']} replica items, then {r['epochs']} epochs of "
        f"edits), {r['versions']} versions ({r['codecs']}), {r['bodies']} bodies"
    )
    print(f"raw HTML     {per(r['raw_bytes'])}")
    print(f"WARC.gz      {per(warc)}  (1.00)")
    print(f"archive      {per(r['archive_bytes'])}  ({r['archive_vs_warc']:.2f} of the WARC.gz, ")
    print("             search index excluded; goal <= 0.30)")
    print(f"search index {per(r['search_index_bytes'])}  (FTS5, reported apart)")
    print(f"whole file   {per(r['file_bytes'])}  ({r['with_index_vs_warc']:.2f} of the WARC.gz)")
    print(
        f"  raw bodies {per(r['body_bytes'])}  (stored bytes: zstd, trained dictionary;"
        " pages fetched again against an earlier page and their text)"
    )
    if "pack_bytes" in r:
        print(f"  text packs {per(r['pack_bytes'])}  (versions' text + provenance, stored bytes)")
    print("per table and index (dbstat):")
    for name, size in r["tables"].items():
        if size / pages >= 5:
            print(f"  {name:38} {per(size)}  {size / warc:5.1%} of the WARC.gz")
    print(
        f"read one version     p50 {r['read_ms_p50']:.3f} ms, p90 {r['read_ms_p90']:.3f} ms, "
        f"p99 {r['read_ms_p99']:.3f} ms (goal < 1 ms)"
    )
    print(
        f"  of which the text  p50 {r['text_ms_p50']:.3f} ms, p99 {r['text_ms_p99']:.3f} ms "
        "(decompression, delta base included)"
    )
    print(f"ingest               {r['ingest_ms_per_page']:.2f} ms/page (SQLite, no extraction)")
    print(
        f"unchanged re-crawl   {r['recrawl_ms_per_page']:.2f} ms/page "
        f"({r['recrawl_vs_first']:.2f}x the first)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("items", nargs="?", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument(
        "--keep", type=Path, metavar="FILE", help="copy the measured (vacuumed) archive here"
    )
    args = parser.parse_args(argv)
    result = measure(args.items, args.epochs, args.keep)
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        report(result)


if __name__ == "__main__":
    main()
