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

from archive.db import display_url
from archive.errors import ArchiveError

DEMO_DB = "demo-archive.sqlite"
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


def refuse_real_archive(db: str) -> None:
    """ArchiveError unless ``db`` is new or holds only demo crawls: the demo must not mix
    its made-up site into a real archive (``--force`` does it anyway)."""
    from crawler.cli.reading import read_archive
    from crawler.cli.status import collect

    try:
        archive = read_archive(db)
    except ArchiveError as exc:
        if "no archive at" in str(exc):
            return
        raise
    with archive:
        info = collect(archive)
    options = [run.get("options") or {} for run in info["runs"]]
    real = sorted({str(o.get("site")) for o in options if not o.get("demo")})
    if real or (info["documents"] and not info["runs"]):
        where = f" (crawls of {', '.join(real)})" if real else ""
        raise ArchiveError(
            f"{display_url(db)} holds a real archive{where}, not a demo: "
            "choose another --db, or add --force to crawl the demo site into it"
        )


def run(args: argparse.Namespace) -> int:
    from crawler.cli.crawl import FAST_SETTINGS, build_settings, print_summary, run_crawl
    from replica.server import spawn

    if args.db:
        db = args.db
        if not args.force:
            refuse_real_archive(db)
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
        fast = {k: str(v) for k, v in FAST_SETTINGS.items()}
        settings = build_settings(db, fast, verbose=args.verbose)
        summary = run_crawl(
            settings,
            verbose=args.verbose,
            site=server.url,
            full=False,
            kinds=None,
            max_items=None,
            demo=True,
        )
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
