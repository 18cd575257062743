"""The second peer, side by side: trafilatura's own crawler (``trafilatura.spider``)
crawling the replica, then trafilatura extracting every page it found; items per second
and date and title accuracy against the replica's truth.

    .venv/bin/python bench/peer_trafilatura.py --items 500           # serves its own replica
    .venv/bin/python bench/peer_trafilatura.py --items 500 --ours    # and our crawl, same replica
    .venv/bin/python bench/peer_trafilatura.py --items 500 --ours --newsplease   # all three

``bench/run.py`` calls :func:`run_peer` on the replica it already serves, after news-please
(``bench/peer_newsplease.py``). trafilatura is one of our own dependencies, so it runs from
this environment, in a child process of its own (the spider keeps its frontier in a module
global, and the child's wall time is the peer's alone).

It runs trafilatura's documented crawling workflow (trafilatura.readthedocs.io, "Web
crawling"): ``focused_crawler(homepage, max_seen_urls, max_known_urls)`` (robots.txt,
then link by link, navigation pages first, one request at a time: the spider has no
concurrency), then the links it returns downloaded with ``buffered_downloads`` (16 threads,
the requests our crawl has in flight on loopback) and each page given to
``bare_extraction(..., with_metadata=True)`` in the consumer loop, as trafilatura's command
line does. The spider does not classify pages: every page it found is downloaded again
and extracted, and an "item" is an extraction whose URL is a replica item's.

Settings, all in trafilatura's own configuration (``settings.cfg``):

- ``SLEEP_TIME = 0`` (default 5 s between two requests to one host), the loopback
  transport our crawl gets (no throttle);
- ``SSRF_PROTECTION = off``: trafilatura 2.3 refuses loopback and private addresses;
- ``max_seen_urls`` and ``max_known_urls`` both ``MAX_URLS`` (10**6, defaults 10 and
  100,000), far above any replica run, so the crawl ends when its frontier is empty; the
  result says whether it did.

``trafilatura --crawl URL`` on the command line is the same spider, but stops after 30
pages per host (``cli_crawler``'s ``n``, not an option) and prints links only, so it cannot
cover the site. Like news-please, the spider needs the replica without a port:
courlan's ``check_url`` drops every link of ``http://127.0.0.1:8800``, so the replica is
served on port 80 of ``127.0.0.80`` (:func:`peer_newsplease.serve_portless`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
#: The spider's two limits (pages visited, links known): far above the site, never reached.
MAX_URLS = 10**6
#: Download threads for the extraction pass: the requests our crawl has in flight.
THREADS = 16


def _child(base: str, result: Path) -> None:
    """In the child process: crawl ``base``, download and extract what was found; write
    timings and per-URL metadata to ``result``."""
    import trafilatura
    from trafilatura import bare_extraction
    from trafilatura.downloads import buffered_downloads
    from trafilatura.settings import Extractor, use_config
    from trafilatura.spider import focused_crawler

    config = use_config()
    config.set("DEFAULT", "SLEEP_TIME", "0")
    config.set("DEFAULT", "SSRF_PROTECTION", "off")
    started = time.perf_counter()
    todo, known = focused_crawler(
        base + "/", max_seen_urls=MAX_URLS, max_known_urls=MAX_URLS, config=config
    )
    crawled = time.perf_counter()
    pages: dict[str, dict[str, Any]] = {}
    fetched = 0
    for url, html in buffered_downloads(known, THREADS, options=Extractor(config=config)):
        if not html:
            continue
        fetched += 1
        doc = bare_extraction(html, url=url, with_metadata=True)
        if doc is not None:
            pages[url] = {"title": doc.title, "date": doc.date}
    finished = time.perf_counter()
    result.write_text(
        json.dumps(
            {
                "version": trafilatura.__version__,
                "known": len(known),
                "todo": len(todo),
                "fetched": fetched,
                "crawl_s": crawled - started,
                "extract_s": finished - crawled,
                "seconds": finished - started,
                "pages": pages,
            }
        ),
        encoding="utf-8",
    )


def run_peer(
    base: str,
    truth: dict[str, dict[str, Any]],
    item_urls: set[str] | None = None,
    timeout: float = 1800.0,
) -> dict[str, Any]:
    """Crawl ``base`` with trafilatura's spider and extract what it finds; date and title
    accuracy against ``truth`` (ground-truth records keyed by id, ``url`` rooted at
    ``base``). The rate counts the extracted pages among ``item_urls`` (every item page of
    the replica, of every kind, as our crawl's and news-please's rates do; by default
    ``truth``'s)."""
    OUT.mkdir(parents=True, exist_ok=True)
    result = OUT / "trafilatura-peer.json"
    result.unlink(missing_ok=True)
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, __file__, "--child", base, str(result)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"ok": False, "why": f"trafilatura did not finish within {timeout:.0f} s"}
    wall = time.perf_counter() - started
    (OUT / "trafilatura-peer.log").write_text(proc.stderr, encoding="utf-8")
    if proc.returncode != 0 or not result.exists():
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"ok": False, "why": f"trafilatura's crawl exited {proc.returncode}: {last[:200]}"}
    got = json.loads(result.read_text(encoding="utf-8"))
    pages = {url.rstrip("/"): meta for url, meta in got["pages"].items()}
    hits = dated = titled = 0
    for expected in truth.values():
        page = pages.get(expected["url"])
        if page is None:
            continue
        hits += 1
        dated += (page["date"] or "")[:10] == expected["published"]
        titled += (page["title"] or "").strip() == expected["title"]
    seconds = got["seconds"]
    items = {u.rstrip("/") for u in item_urls} if item_urls else {t["url"] for t in truth.values()}
    found = len(items & pages.keys())
    return {
        "ok": True,
        "version": got["version"],
        # The crawl and the extraction pass, in the child; wall adds the child's start-up.
        "seconds": round(seconds, 2),
        "wall_s": round(wall, 2),
        "crawl_s": round(got["crawl_s"], 2),
        "extract_s": round(got["extract_s"], 2),
        "pages_visited": got["known"] - got["todo"],
        "links_known": got["known"],
        # An empty frontier: the crawl ended by itself, not at max_seen/max_known_urls.
        "frontier_left": got["todo"],
        "max_seen_urls": MAX_URLS,
        "max_known_urls": MAX_URLS,
        "pages_fetched": got["fetched"],
        "pages_extracted": len(pages),
        "item_pages": len(items),
        "item_pages_found": found,
        "truth_items": len(truth),
        "matched": hits,
        "items_per_s": round(found / wall, 2),
        "pages_per_s": round(len(pages) / wall, 2),
        # Over every truth item: an item trafilatura did not find has no right date.
        "date_accuracy": round(dated / max(1, len(truth)), 4),
        "date_accuracy_of_found": round(dated / max(1, hits), 4),
        "title_exact_of_found": round(titled / max(1, hits), 4),
        "exit": proc.returncode,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument(
        "--ours", action="store_true", help="also our crawl on the same replica, first"
    )
    parser.add_argument(
        "--newsplease", action="store_true", help="also news-please on the same replica"
    )
    parser.add_argument("--child", nargs=2, metavar=("BASE", "RESULT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], Path(args.child[1]))
        return 0
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    from peer_newsplease import serve_portless
    from run import KINDS, SEED, archived, crawl, date_accuracy, wanted

    from replica import Site

    out: dict[str, Any] = {"items": args.items, "kinds": list(KINDS)}
    with serve_portless(args.items, SEED) as server:
        every = Site(args.items, seed=SEED).ground_truth(server.url)
        truth = wanted(every)
        item_urls = {t["url"] for t in every.values()}
        if args.ours:
            db = OUT / "peer-trafilatura-ours.sqlite"
            OUT.mkdir(parents=True, exist_ok=True)
            db.unlink(missing_ok=True)
            got = crawl(server.url, f"sqlite:///{db}", "peer-trafilatura-ours", "--full")
            records = archived(f"sqlite:///{db}")
            out["ours"] = {
                "seconds": round(got["seconds"], 2),
                "item_pages": got["item_pages"],
                "items_per_s": round(got["items_per_s"], 2),
                "date_accuracy": round(date_accuracy(records, truth), 4),
                "title_exact": round(
                    sum(records.get(k, {}).get("title") == t["title"] for k, t in truth.items())
                    / max(1, len(truth)),
                    4,
                ),
            }
        if args.newsplease:
            from peer_newsplease import run_peer as run_newsplease

            out["newsplease"] = run_newsplease(server.url, truth)
        out["trafilatura"] = run_peer(server.url, truth, item_urls)
    out["load_average"] = list(os.getloadavg())
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
