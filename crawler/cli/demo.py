"""`osce-archive demo`: crawl the bundled copy of osce.org, with no network at all.

Serves the replica (``replica/``) on a free loopback port from a child process, crawls it into
``demo-archive.sqlite`` (or ``--db``) exactly as ``crawl`` crawls the live site,
with the throttle relaxed for loopback, then prints the run's summary and a few of
the records it archived. Without ``--db`` the demo starts from a fresh file each time,
so what it prints is what one crawl of the copy gives.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from archive.errors import ArchiveError

DEMO_DB = "demo-archive.sqlite"
#: Loopback needs no politeness: the replica answers as fast as it can.
LOOPBACK_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_DELAY": 0,
    "CONCURRENT_REQUESTS": 16,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
    "OSCE_RETRY_BACKOFF_BASE": 0.1,
    "OSCE_RETRY_AFTER_MAX": 2.0,
}
SHOWN_RECORDS = 3


def _shorten(record: dict[str, Any], width: int = 300) -> dict[str, Any]:
    out = {
        k: record.get(k)
        for k in (
            "id",
            "url",
            "kind",
            "title",
            "published",
            "date_source",
            "place",
            "sources",
            "byline",
            "version",
            "duplicate_of",
        )
    }
    text = record.get("text") or ""
    out["text"] = text if len(text) <= width else text[:width].rstrip() + " …"
    return out


def run(args: argparse.Namespace) -> int:
    from crawler.cli.crawl import build_settings, print_summary, run_crawl
    from replica.server import spawn

    if args.db:
        db = args.db
    else:
        path = Path(DEMO_DB).resolve()
        for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)
        db = f"sqlite:///{path}"
    if args.items < 3:
        raise ArchiveError("--items must be at least 3")

    # Its own process, so serving and crawling do not share one interpreter lock.
    server = spawn(items=args.items, seed=1)
    try:
        print(f"serving the bundled copy of osce.org ({args.items} items) at {server.url}")
        settings = build_settings(db, {k: str(v) for k, v in LOOPBACK_SETTINGS.items()})
        summary = run_crawl(settings, site=server.url, full=False, kinds=None, max_items=None)
    finally:
        server.stop()

    print_summary(summary, machine=False)
    print(f"archive: {db}")
    from archive.api import open_archive

    with open_archive(db) as reader:
        shown = 0
        for record in reader.records():
            if record.get("kind") not in ("press-release", "story"):
                continue
            print(json.dumps(_shorten(record), ensure_ascii=False, indent=2))
            shown += 1
            if shown >= SHOWN_RECORDS:
                break
    print("next: osce-archive export --db " + db + " | head, osce-archive status --db " + db)
    return 0 if summary["outcome"] == "ok" else 1
