"""The archive's ingest alone: CPU per page of ``Archive.ingest_many`` on replica pages.

    .venv/bin/python bench/ingest_speed.py [--items N] [--group G] [--db URL] [--profile]

N replica item pages (default 2,000) are rendered and read by the crawl's extraction
once, as the crawl's extraction workers read them (``crawler.pipelines.run_task``: the
record with its text prepared, ``archive.normalise``; kept in
``bench/out/ingest-pages-N-as-workers-read.pickle``), then ingested into a fresh archive in
groups of G pages (default 16), as crawls ingest them: first visits, then the same pages
again (unchanged), then with one page in ten edited (new versions). It prints the
writing thread's CPU ms per page of each pass (``time.thread_time``: what the crawl's
reactor waits for while the archive thread holds the interpreter lock); ``--profile``
adds the top of a cProfile of the first pass. ``--db`` names the archive (default a new
SQLite file under ``bench/out``; a PostgreSQL database must be empty).
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import json
import pickle
import pstats
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))
BASE = "https://www.osce.org"


def pages(items: int) -> list[tuple[str, bytes, Any]]:
    """(address, body, record) of every item page of an ``items``-item replica."""
    cache = OUT / f"ingest-pages-{items}-as-workers-read.pickle"
    if cache.exists():
        with cache.open("rb") as fh:
            got: list[tuple[str, bytes, Any]] = pickle.load(fh)
            return got
    from crawler.pipelines import run_task
    from replica import Site

    site = Site(items=items, seed=1, epoch=0)
    out = []
    for path in site.item_paths():
        status, _headers, body = site.render(path, host="www.osce.org")
        if status != 200:
            continue
        body = body if isinstance(body, bytes) else body.encode()
        # As a crawl's extraction worker makes it (with its text prepared, where the
        # code prepares it: ``archive.normalise``).
        out.append((BASE + path, body, run_task(("extract", body, BASE + path, None, None, None))))
    OUT.mkdir(parents=True, exist_ok=True)
    with cache.open("wb") as fh:
        pickle.dump(out, fh)
    return out


def fresh(url: str | None, items: int) -> str:
    if url is None:
        path = OUT / f"ingest-{items}.sqlite"
        for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            p.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    from sqlalchemy import create_engine, inspect

    engine = create_engine(url)
    try:
        if inspect(engine).get_table_names():
            raise SystemExit(f"{url.split('@')[-1]} holds tables: name an empty database")
    finally:
        engine.dispose()
    return url


def passes(got: list[tuple[str, bytes, Any]]) -> list[tuple[str, list[tuple[str, bytes, Any]]]]:
    """First visits, the same pages again, then every tenth page edited."""
    edited = []
    for n, (url, body, record) in enumerate(got):
        if n % 10 == 0 and record.is_item:
            record = copy.copy(record)
            record.text = (record.text or "") + "\n\nA paragraph added later."
            if getattr(record, "prepared", None) is not None:  # as a worker would
                from archive.normalise import prepare

                record.prepared = prepare(record.text)
            body = body + b"<!-- edited -->"
        edited.append((url, body, record))
    return [("first", got), ("unchanged", got), ("edited", edited)]


def ingest_pass(archive: Any, run_id: int, pages_: list[Any], when: datetime, group: int) -> float:
    from archive.records import Capture

    cpu = 0.0
    for start in range(0, len(pages_), group):
        batch = []
        for url, body, record in pages_[start : start + group]:
            capture = Capture(
                url=url,
                status=200,
                fetched_at=when,
                body=body,
                content_type="text/html",
                run_id=run_id,
            )
            batch.append((capture, copy.copy(record)))
        started = time.thread_time()
        archive.ingest_many(batch)
        cpu += time.thread_time() - started
    return cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--group", type=int, default=16)
    parser.add_argument("--db", help="archive URL (default: a new SQLite file)")
    parser.add_argument("--profile", action="store_true", help="cProfile the first pass")
    args = parser.parse_args()
    from archive.store import Archive

    got = pages(args.items)
    url = fresh(args.db, args.items)
    result: dict[str, Any] = {"items": len(got), "group": args.group, "db": url.split(":")[0]}
    when = datetime(2026, 1, 5, 6, 0, tzinfo=timezone.utc)
    with Archive.open(url) as archive:
        run_id = archive.start_run({"bench": "ingest_speed"})
        for n, (name, pages_) in enumerate(passes(got)):
            profile = cProfile.Profile() if args.profile and n == 0 else None
            if profile is not None:
                profile.enable()
            cpu = ingest_pass(archive, run_id, pages_, when + timedelta(hours=n), args.group)
            if profile is not None:
                profile.disable()
                stats = pstats.Stats(profile, stream=sys.stderr)
                stats.sort_stats("cumulative").print_stats(45)
                stats.sort_stats("tottime").print_stats(30)
            result[f"{name}_cpu_ms_per_page"] = round(cpu * 1000 / len(pages_), 3)
        archive.finish_run(run_id, "ok", {})
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
