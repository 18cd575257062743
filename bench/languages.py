"""What language versions cost a crawl: requests with and without them, same site.

    .venv/bin/python bench/languages.py [--items 1000] [--share 0.15] [--json]

Serves the replica of ``--items`` items twice (English only, then with ``--share`` of the
items also in Russian, French or German), and crawls each into a fresh SQLite archive with
``osce-archive crawl --fast``: ``--full``, then after ``set_epoch(1)`` incrementally, then
once more with nothing changed. Prints the requests, new documents and new versions of each
run; requests are what to compare (seconds depend on the machine's load).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from replica import ReplicaServer, Site  # noqa: E402

COUNTERS = ("requests", "new_documents", "new_versions", "not_modified")


def _crawl(url: str, db: str, *extra: str) -> dict[str, Any]:
    command = [sys.executable, "-m", "crawler.cli", "crawl", "--site", url, "--db", db]
    started = time.monotonic()
    done = subprocess.run(
        [*command, "--json", "--fast", *extra],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    )
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    return {k: summary[k] for k in COUNTERS} | {"seconds": round(time.monotonic() - started, 1)}


def measure(items: int, share: float, folder: Path) -> dict[str, Any]:
    site = Site(items=items, seed=1, languages=share)
    server = ReplicaServer(site).start()
    db = f"sqlite:///{folder / f'languages-{share}.sqlite'}"
    try:
        full = _crawl(server.url, db, "--full")
        site.set_epoch(1)
        epoch1 = _crawl(server.url, db)
        quiet = _crawl(server.url, db)
    finally:
        server.stop()
    versions = sum(len(site.translations(it)) for it in site.items_live())
    return {"versions": versions, "full": full, "epoch1": epoch1, "no_change": quiet}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--share", type=float, default=0.15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = {str(s): measure(args.items, s, Path(tmp)) for s in (0.0, args.share)}
    if args.json:
        print(json.dumps(results, indent=1))
        return 0
    print(f"{'languages':>9} {'versions':>8} {'run':>9} " + " ".join(f"{c:>13}" for c in COUNTERS))
    for share, result in results.items():
        for run in ("full", "epoch1", "no_change"):
            row = " ".join(f"{result[run][c]:>13}" for c in COUNTERS)
            print(f"{share:>9} {result['versions']:>8} {run:>9} {row}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
