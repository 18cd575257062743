"""How fast the replica builds and serves, so benchmarks measure the crawler, not the replica.

    .venv/bin/python bench/replica_speed.py [--items 25000] [--clients 4] [--pages 3000]

Prints (and with ``--json`` emits) the time to build a site of ``--items`` items, the
time to compute its ground truth, and pages per second served by ``python -m replica
serve`` in a child process to ``--clients`` concurrent keep-alive clients (plain
``http.client`` connections, ``Accept-Encoding: gzip``), three ways: item pages never
served before (cold: generate, render, gzip), the same pages again (warm: re-rendered from
cached content, since the bounded page cache holds fewer pages than a pass), and
conditional revisits answered 304. The requirement (issue 2): at least twice the crawl's
rate; the crawl is expected at 100-300 pages/s on two cores.
"""

from __future__ import annotations

import argparse
import http.client
import json
import signal
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from replica import Site  # noqa: E402
from replica.server import spawn  # noqa: E402


def fetch_all(
    base: str,
    paths: list[str],
    clients: int,
    etags: dict[str, str] | None = None,
) -> tuple[float, dict[int, int], dict[str, str]]:
    """GET every path over ``clients`` keep-alive connections; (seconds, statuses, etags)."""
    netloc = urlsplit(base).netloc
    host, port = netloc.split(":")
    statuses: dict[int, int] = {}
    seen: dict[str, str] = {}
    lock = threading.Lock()
    shares = [paths[i::clients] for i in range(clients)]

    def worker(mine: list[str]) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        local: dict[int, int] = {}
        tags: dict[str, str] = {}
        for path in mine:
            headers = {"Accept-Encoding": "gzip", "User-Agent": "replica-bench"}
            if etags and path in etags:
                headers["If-None-Match"] = etags[path]
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            resp.read()
            local[resp.status] = local.get(resp.status, 0) + 1
            tags[path] = resp.getheader("ETag") or ""
        conn.close()
        with lock:
            for k, v in local.items():
                statuses[k] = statuses.get(k, 0) + v
            seen.update(tags)

    threads = [threading.Thread(target=worker, args=(share,)) for share in shares]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start, statuses, seen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=25000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--pages", type=int, default=3000, help="item pages per pass")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so the child server is stopped

    t0 = time.perf_counter()
    site = Site(args.items, seed=1)
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    truth = site.ground_truth()
    truth_time = time.perf_counter() - t0
    paths = site.item_paths()
    t0 = time.perf_counter()
    Site(args.items, seed=1, epoch=3)
    epochs_time = time.perf_counter() - t0

    proc = spawn(items=args.items, seed=1)
    try:
        step = max(1, len(paths) // args.pages)
        sample = paths[::step][: args.pages]
        cold, st_cold, etags = fetch_all(proc.url, sample, args.clients)
        warm, st_warm, _ = fetch_all(proc.url, sample, args.clients)
        cond, st_cond, _ = fetch_all(proc.url, sample, args.clients, etags)
    finally:
        proc.stop()

    result = {
        "items": args.items,
        "build_seconds": round(build, 3),
        "ground_truth_seconds": round(truth_time, 3),
        "ground_truth_records": len(truth),
        "build_at_epoch_3_seconds": round(epochs_time, 3),
        "clients": args.clients,
        "pages_per_pass": len(sample),
        "cold_pages_per_second": round(len(sample) / cold, 1),
        "warm_pages_per_second": round(len(sample) / warm, 1),
        "conditional_304_per_second": round(len(sample) / cond, 1),
        "statuses": {"cold": st_cold, "warm": st_warm, "conditional": st_cond},
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:28} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
