"""Every benchmark of issue 7 in one run: speed, daily-run cost, storage, memory, export,
and a peer, side by side, as ratios within the run.

    .venv/bin/python bench/run.py [--items N] [--json] [--no-peer]
    .venv/bin/python bench/run.py --crawl-only [--items N] [--code CHECKOUT]

N items (default 25,000) of the replica (``replica/``) are served from a child process
(``python -m replica serve``), so the crawl's own CPU and memory are measured cleanly;
every crawl is ``osce-archive crawl`` in a child process, exactly as cron runs it, with
the throttle relaxed for loopback (``-s AUTOTHROTTLE_ENABLED=0 -s DOWNLOAD_DELAY=0
-s CONCURRENT_REQUESTS_PER_DOMAIN=16``). Measured, in this order:

1. a small full crawl of min(5,000, N/5) items (its peak memory, the date accuracy of
   what it archived), news-please crawling the same replica (``bench/peer_newsplease.py``)
   and trafilatura's own crawler with its extraction (``bench/peer_trafilatura.py``);
2. the full crawl of N items: items/s (item pages archived per wall-clock second,
   start-up included), peak RSS of the crawl's process tree (the crawl and its extraction
   workers, summed, polled from ``/proc``) and CPU ms per item (``RUSAGE_CHILDREN``),
   split by stage from the crawl's ``cpu_s`` (fetch/parse, extract, ingest, commit:
   :func:`stages`);
3. the floors over the same item pages: Scrapy fetching them with an empty callback
   (``bench/fetch_floor.py``), and bare ``trafilatura.extract`` over a sample of them in
   one process (``bench/extract_speed.py``);
4. a no-op incremental run, then the replica moves one epoch (1 % of items edited, plus
   new, deleted, moved and republished items) and an incremental run: requests, seconds
   and every change of the epoch the archive failed to reflect;
5. storage: the archive per item page against a gzip WARC (warcio) of the
   responses it holds (``bench/archive_storage.py``), as the crawls left it and
   rewritten packed (``VACUUM INTO`` a copy). The replica is served on loopback, so
   the archive keeps its addresses (``http://127.0.0.1:PORT/...``) whole, where those of
   www.osce.org begin with a one-character code (``archive.schema.URL_PREFIXES``); so
   the full crawl and epoch 1's are made again of a fresh replica under the site's own
   addresses (``http://www.osce.org/...``, the replica serving them as the crawl's HTTP
   proxy), and that archive is measured against its own WARC
   (:func:`storage_at_site_addresses`): what a crawl of the site stores;
6. export records/s, JSONL and Parquet (``bench/export_speed.py``), and the replica's own
   speed (``bench/replica_speed.py``) against the crawl's request rate.

With ``--json`` the last line of output is one JSON object with every figure.
``--crawl-only`` runs steps 2 and 3 alone and prints one JSON object; ``--code DIR``
runs the crawls with another checkout's crawler (its ``PYTHONPATH``), so two versions
are measured by the same bench, alternated on the same machine.
Everything is written under ``bench/out/`` (gitignored).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: The checkout whose crawler the crawls run (``--code``): this one unless comparing.
CODE = ROOT
BENCH = ROOT / "bench"
OUT = BENCH / "out"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from archive.records import CONTENT_FIELDS  # noqa: E402
from replica import Site  # noqa: E402
from replica.server import ReplicaProcess, spawn  # noqa: E402

SEED = 1
KINDS = ("press-release", "story")
LOOPBACK = [
    "-s",
    "AUTOTHROTTLE_ENABLED=0",
    "-s",
    "DOWNLOAD_DELAY=0",
    "-s",
    "CONCURRENT_REQUESTS_PER_DOMAIN=16",
    "-s",
    "OSCE_PROGRESS=off",
]
#: The newsroom's own address, which ``storage_at_site_addresses`` crawls through the
#: replica.
SITE_ADDRESS = "http://www.osce.org"
EXTRACT_FLOOR_PAGES = 1500
REPLICA_SPEED_PAGES = 3000
PEER_ITEMS = 5000


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- process trees


def _children_map() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of ``pid`` so far (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK
    except (OSError, ValueError, IndexError):
        return 0.0


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeMemory(threading.Thread):
    """Polls the resident memory of a process and all its descendants, keeps the peak,
    and the last CPU time seen of each descendant (the extraction workers, for crawls
    whose summary does not report them)."""

    def __init__(self, pid: int, every: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.every = every
        self.peak_kb = 0
        self.main_peak_kb = 0
        self.children_cpu_s: dict[int, float] = {}
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            tree = _children_map()
            pids, todo = [], [self.pid]
            while todo:
                pid = todo.pop()
                pids.append(pid)
                todo.extend(tree.get(pid, []))
            for pid in pids[1:]:
                self.children_cpu_s[pid] = max(self.children_cpu_s.get(pid, 0.0), _cpu_s(pid))
            main = _rss_kb(self.pid)
            self.main_peak_kb = max(self.main_peak_kb, main)
            self.peak_kb = max(self.peak_kb, main + sum(_rss_kb(p) for p in pids[1:]))
            self._halt.wait(self.every)

    def stop(self) -> None:
        self._halt.set()
        self.join()


def _child_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def crawl(site: str, db: str, name: str, *options: str, proxy: str | None = None) -> dict[str, Any]:
    """``osce-archive crawl`` in a child process: its summary, wall time, CPU and memory;
    ``proxy``: the replica's address, which serves ``site`` (the site's own addresses)
    as an HTTP proxy."""
    cmd = [
        sys.executable,
        "-m",
        "crawler.cli",
        "crawl",
        "--site",
        site,
        "--db",
        db,
        "--json",
        *LOOPBACK,
        *options,
    ]
    err = open(OUT / f"{name}.log", "w", encoding="utf-8")  # noqa: SIM115
    cpu0 = _child_cpu_s()
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=OUT,
        stdout=subprocess.PIPE,
        stderr=err,
        text=True,
        env={**os.environ, "PYTHONPATH": str(CODE), **_proxy_env(proxy)},
    )
    memory = TreeMemory(proc.pid)
    memory.start()
    out, _ = proc.communicate()
    seconds = time.perf_counter() - started
    memory.stop()
    err.close()
    cpu = _child_cpu_s() - cpu0
    if proc.returncode != 0:
        raise RuntimeError(f"crawl {name} exited {proc.returncode}; see {OUT / (name + '.log')}")
    summary = json.loads(out.strip().splitlines()[-1])
    item_pages = int(summary.get("items", 0)) + int(summary.get("skipped", 0))
    return {
        "summary": summary,
        "cpu_ms_per_item": stages(summary, cpu, sum(memory.children_cpu_s.values()), item_pages),
        "seconds": seconds,
        "cpu_s": cpu,
        "peak_rss_mb": memory.peak_kb / 1024,
        "main_peak_rss_mb": memory.main_peak_kb / 1024,
        "item_pages": item_pages,
        "items_per_s": item_pages / seconds,
        "pages_per_s": int(summary["requests"]) / seconds,
    }


def stages(summary: dict[str, Any], cpu_s: float, polled_workers_s: float, items: int) -> dict:
    """CPU ms per item archived, by stage: ``fetch_parse`` (the crawl process outside the
    archive thread: reactor, downloads, parsing, frontier, start-up), ``extract`` (the
    extraction workers), ``ingest`` and ``commit`` (the archive thread writing pages),
    ``archive_other`` (the archive thread's other calls: the frontier's look-ups, the
    run's lock and heartbeat, end-of-run corrections) and ``total`` (the crawl and its
    workers, ``RUSAGE_CHILDREN``). A crawl whose summary has no ``cpu_s`` (older code)
    gets only ``extract`` (polled from ``/proc``) and ``crawl_process`` beside the total."""
    per = 1000 / max(1, items)
    out = {"total": cpu_s * per}
    split = summary.get("cpu_s")
    if not split:
        out["extract"] = polled_workers_s * per
        out["crawl_process"] = (cpu_s - polled_workers_s) * per
        return out
    thread = split["archive_thread"]
    out.update(
        fetch_parse=(split["process"] - thread) * per,
        extract=split["workers"] * per,
        ingest=split["ingest"] * per,
        commit=split["commit"] * per,
        archive_other=(thread - split["ingest"] - split["commit"]) * per,
    )
    return out


# --------------------------------------------------------------------------- measurements


def wanted(truth: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in truth.items() if v["kind"] in KINDS}


def archived(db: str) -> dict[str, dict[str, Any]]:
    from archive.api import open_archive

    with open_archive(db) as reader:
        return {r["id"]: r for r in reader.records()}


def date_accuracy(records: dict[str, dict[str, Any]], truth: dict[str, dict[str, Any]]) -> float:
    right = sum(
        1 for k, t in truth.items() if records.get(k, {}).get("published") == t["published"]
    )
    return right / max(1, len(truth))


def missed_changes(
    db: str, site: Site, base: str, epoch: int, before: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """Every change of ``epoch`` (new, edited, deleted, moved, republished items of the
    crawled kinds) that the archive does not reflect, and records that differ at all;
    ``before`` is the ground truth of the epoch before."""
    truth = site.ground_truth(base)
    changes = site.changes(epoch)
    records = archived(db)
    crawled = {k for k, v in {**before, **truth}.items() if v["kind"] in KINDS}
    missed: list[str] = []

    def differs(key: str) -> bool:
        got = records.get(key)
        want = truth[key]
        return (
            got is None
            or bool(got.get("deleted"))
            or got.get("url") != want["url"]
            or any(got.get(f) != want[f] for f in CONTENT_FIELDS)
        )

    expected = 0
    for key in {
        *changes["new"],
        *changes["edited"],
        *(m["id"] for m in changes["moved"]),
        *(r["id"] for r in changes["republished"]),
    }:
        if key in crawled and key in truth:
            expected += 1
            if differs(key):
                missed.append(key)
    for rep in changes["republished"]:
        if rep["id"] in crawled and rep["id"] in records:
            if records[rep["id"]].get("duplicate_of") != rep["duplicate_of"]:
                missed.append(rep["id"] + " (duplicate_of)")
    for key in changes["deleted"]:
        if key in crawled:
            expected += 1
            if not records.get(key, {}).get("deleted"):
                missed.append(key + " (deletion)")
    wrong = sum(1 for k in wanted(truth) if differs(k))
    return {
        "changes": expected,
        "missed": missed,
        "records_wrong": wrong,
        "markup_only": len(changes["markup_only"]),
    }


def _proxy_env(proxy: str | None) -> dict[str, str]:
    if proxy is None:
        return {}
    # https too, so that no request of the crawl could go past the replica
    return {
        "http_proxy": proxy,
        "HTTP_PROXY": proxy,
        "https_proxy": proxy,
        "HTTPS_PROXY": proxy,
        "no_proxy": "",
        "NO_PROXY": "",
    }


def storage_at_site_addresses(items: int) -> dict[str, Any]:
    """Step 5 again under the newsroom's own addresses: the same crawls of a fresh replica
    of ``items`` items (the full one, then epoch 1's), made of ``SITE_ADDRESS`` with the
    replica as the crawl's HTTP proxy, and their archive against the gzip WARC of its
    responses. Addresses of the site's own host are stored with their beginning coded
    (``archive.schema.URL_PREFIXES``), the replica's loopback ones whole: this archive
    is what a crawl of the site keeps."""
    db_path = OUT / "bench-site.sqlite"
    _fresh(db_path)
    db = f"sqlite:///{db_path}"
    site = Site(items, seed=SEED)
    server = spawn(items=items, seed=SEED)
    try:
        full = crawl(SITE_ADDRESS, db, "site-full", "--full", proxy=server.url)
        before = site.ground_truth(SITE_ADDRESS)
        server.set_epoch(1)
        site.set_epoch(1)
        crawl(SITE_ADDRESS, db, "site-epoch", proxy=server.url)
        check = missed_changes(db, site, SITE_ADDRESS, 1, before)
    finally:
        server.stop()
    from archive_storage import split_search, warc_gz_bytes

    pages = full["item_pages"]
    stored, _search = split_search(table_bytes(db_path))
    warc = warc_gz_bytes(stored_responses(db))
    con = sqlite3.connect(db_path)
    try:
        coded = con.execute("select count(*), sum(unicode(url) < 32) from addresses").fetchone()
    finally:
        con.close()
    return {
        "site": SITE_ADDRESS,
        "item_pages": pages,
        "items_per_s": full["items_per_s"],
        "epoch_missed_changes": len(check["missed"]),
        "addresses": coded[0],
        "addresses_coded": coded[1],
        "archive_bytes_per_item": stored / pages,
        "warc_gz_bytes_per_item": warc / pages,
        "archive_vs_warc": stored / warc,
    }


def sqlite_bytes(db_path: Path) -> int:
    con = sqlite3.connect(db_path)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()
    wal = db_path.with_name(db_path.name + "-wal")
    return db_path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def stored_responses(db: str) -> Any:
    """(url, status, headers, raw body) of every capture with a body, from the archive:
    the headers its final answer had, as the archive kept them."""
    from sqlalchemy import select

    from archive.bodies import BodyReader
    from archive.schema import Body, answers_read_back
    from archive.schema import Capture as CaptureRow
    from archive.store import Archive

    archive = Archive.open(db, migrate=False)
    try:
        with archive.session() as s:
            reader = BodyReader(s)
            query = (
                select(
                    CaptureRow.url,
                    CaptureRow.final_url,
                    CaptureRow.status,
                    CaptureRow.content_type,
                    CaptureRow.etag,
                    CaptureRow.last_modified,
                    CaptureRow.http,
                    CaptureRow.fetched_at,
                    Body,
                )
                .join(Body, Body.sha256 == CaptureRow.body_sha256)
                .order_by(CaptureRow.id)
                .execution_options(yield_per=500)
            )
            for url, final, status, ctype, etag, modified, http, at, body in s.execute(query):
                # The final answer's headers as the server sent them, which the archive
                # keeps too (captures.http, less what the capture says: read back whole);
                # only the validators for a capture without.
                answers = answers_read_back(http, url, at)
                if answers:
                    headers = {name: value for name, value in answers[-1]["headers"]}
                else:
                    headers = {"Content-Type": ctype or "text/html"}
                    if etag:
                        headers["ETag"] = etag
                    if modified:
                        headers["Last-Modified"] = modified
                raw = reader.decode(body)
                yield final or url, status, headers, raw
    finally:
        archive.close()


def extract_floor(site: Site, base: str) -> dict[str, Any]:
    from extract_speed import bare_rate

    paths = site.item_paths()
    step = max(1, len(paths) // EXTRACT_FLOOR_PAGES)
    pages = []
    host = base.split("://", 1)[1]
    for path in paths[::step][:EXTRACT_FLOOR_PAGES]:
        status, _headers, body = site.render(path, host=host)
        if status == 200:
            pages.append((base + path, body if isinstance(body, bytes) else body.encode()))
    return {"pages": len(pages), "pages_per_s": bare_rate(pages)}


def fetch_floor(site: Site, base: str) -> dict[str, Any]:
    urls = OUT / "fetch-floor-urls.txt"
    urls.write_text("\n".join(base + p for p in site.item_paths()) + "\n", encoding="utf-8")
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(BENCH / "fetch_floor.py"), str(urls)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    seconds = time.perf_counter() - started
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    return {
        "pages": got["pages"],
        "seconds": seconds,
        "pages_per_s": got["pages"] / seconds,
        "statuses": got["statuses"],
    }


def export_rates(db: str) -> dict[str, float]:
    from export_speed import measure

    rates = {}
    for fmt in ("jsonl", "parquet"):
        got = measure(db, fmt, OUT / f"export.{fmt}")
        rates[fmt] = got["count"] / got["seconds"]
    return rates


def replica_rate(server: ReplicaProcess, site: Site) -> float:
    from replica_speed import fetch_all

    paths = site.item_paths()
    step = max(1, len(paths) // REPLICA_SPEED_PAGES)
    sample = paths[::step][:REPLICA_SPEED_PAGES]
    seconds, _statuses, _tags = fetch_all(server.url, sample, 4)
    return len(sample) / seconds


# --------------------------------------------------------------------------- the run


def machine() -> str:
    mem_kb = 0
    with open("/proc/meminfo", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            cpu = next(
                (line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), cpu
            )
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), {mem_kb / 1024 / 1024:.1f} GB RAM"


def run(items: int, peer: bool) -> dict[str, Any]:
    OUT.mkdir(parents=True, exist_ok=True)
    r: dict[str, Any] = {
        "items": items,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "notes": {},
    }
    # The small crawl is both memory's reference size and the peer's replica: 5,000 of
    # 25,000 items (the figures); a fifth of N with --items.
    small = min(PEER_ITEMS, max(100, items // 5))

    # 1. the small crawl and the peer, on one replica
    log(f"small full crawl of {small} items")
    db_small = OUT / "bench-small.sqlite"
    _fresh(db_small)
    peer_server = None
    if peer:
        try:
            from peer_newsplease import serve_portless

            peer_server = serve_portless(small, SEED)
        except (RuntimeError, OSError) as exc:
            r["notes"]["peer"] = str(exc)
    server = peer_server or spawn(items=small, seed=SEED)
    try:
        site_small = Site(small, seed=SEED)
        got = crawl(server.url, f"sqlite:///{db_small}", "small", "--full")
        r["small_items"] = got["item_pages"]
        r["rss_mb_small"] = got["peak_rss_mb"]
        r["small_items_per_s"] = got["items_per_s"]
        truth_small = wanted(site_small.ground_truth(server.url))
        r["our_date_accuracy"] = date_accuracy(archived(f"sqlite:///{db_small}"), truth_small)
        if peer_server is not None:
            from peer_newsplease import run_peer

            log("news-please on the same replica")
            result = run_peer(server.url, truth_small)
            r["peer"] = result
            if result["ok"]:
                r["peer_newsplease_items_per_s"] = result["items_per_s"]
                r["peer_newsplease_date_accuracy"] = result["date_accuracy"]
            else:
                r["notes"]["peer"] = result["why"]
            from peer_trafilatura import run_peer as run_trafilatura

            log("trafilatura's spider and extraction on the same replica")
            every = {t["url"] for t in site_small.ground_truth(server.url).values()}
            result = run_trafilatura(server.url, truth_small, every)
            r["peer_trafilatura"] = result
            if result["ok"]:
                r["peer_trafilatura_items_per_s"] = result["items_per_s"]
                r["peer_trafilatura_date_accuracy"] = result["date_accuracy"]
            else:
                r["notes"]["peer_trafilatura"] = result["why"]
    finally:
        server.stop()
    if not peer:
        r["notes"].setdefault("peer", "skipped (--no-peer)")
    r.setdefault("peer_newsplease_items_per_s", None)
    r.setdefault("peer_newsplease_date_accuracy", None)
    r.setdefault("peer_trafilatura_items_per_s", None)
    r.setdefault("peer_trafilatura_date_accuracy", None)

    # 2-6 on the N-item replica
    db_path = OUT / "bench.sqlite"
    _fresh(db_path)
    db = f"sqlite:///{db_path}"
    log(f"building and serving the replica of {items} items")
    site = Site(items, seed=SEED)
    server = spawn(items=items, seed=SEED)
    try:
        log("full crawl")
        full = crawl(server.url, db, "full", "--full")
        r["full"] = {k: v for k, v in full.items() if k != "summary"} | {"summary": full["summary"]}
        r["full_items_per_s"] = full["items_per_s"]
        r["full_peak_rss_mb"] = full["peak_rss_mb"]
        r["full_main_peak_rss_mb"] = full["main_peak_rss_mb"]
        r["full_cpu_ms_per_item"] = full["cpu_s"] * 1000 / max(1, full["item_pages"])
        r["full_cpu_ms_per_item_by_stage"] = full["cpu_ms_per_item"]
        r["rss_mb_large"] = full["peak_rss_mb"]

        log("fetch floor (Scrapy, empty callback)")
        ff = fetch_floor(site, server.url)
        r["fetch_floor"] = ff
        r["fetch_floor_items_per_s"] = ff["pages_per_s"]
        log("extract floor (bare trafilatura.extract, one process)")
        ef = extract_floor(site, server.url)
        r["extract_floor_pages"] = ef["pages"]
        r["extract_floor_items_per_s"] = ef["pages_per_s"]
        r["full_vs_floor"] = r["full_items_per_s"] / min(
            r["fetch_floor_items_per_s"], r["extract_floor_items_per_s"]
        )

        log("no-op incremental run")
        noop = crawl(server.url, db, "noop")
        r["noop_requests"] = int(noop["summary"]["requests"])
        r["noop_s"] = noop["seconds"]
        r["noop_new_versions"] = noop["summary"]["new_versions"] + noop["summary"]["new_documents"]
        r["noop_share_of_full"] = r["noop_requests"] / int(full["summary"]["requests"])

        log("epoch 1, incremental run")
        before = site.ground_truth(server.url)
        server.set_epoch(1)
        site.set_epoch(1)
        epoch = crawl(server.url, db, "epoch")
        r["epoch_requests"] = int(epoch["summary"]["requests"])
        r["epoch_s"] = epoch["seconds"]
        r["epoch_summary"] = epoch["summary"]
        check = missed_changes(db, site, server.url, 1, before)
        del before
        r["epoch_changes"] = check["changes"]
        r["epoch_missed_changes"] = len(check["missed"])
        r["epoch_missed"] = check["missed"][:20]
        r["epoch_records_wrong"] = check["records_wrong"]

        log("replica speed")
        r["replica_pages_per_s"] = replica_rate(server, site)
        r["crawl_pages_per_s"] = full["pages_per_s"]
        r["replica_vs_crawl"] = r["replica_pages_per_s"] / full["pages_per_s"]
    finally:
        server.stop()

    log("storage")
    from archive_storage import split_search, warc_gz_bytes

    pages = full["item_pages"]
    r["archive_file_bytes"] = sqlite_bytes(db_path)
    r["archive_table_bytes"] = table_bytes(db_path)
    # The reading room's search index is reported apart (issue 17.2).
    r["archive_bytes"], r["search_index_bytes"] = split_search(r["archive_table_bytes"])
    r["warc_gz_bytes"] = warc_gz_bytes(stored_responses(db))
    r["archive_bytes_per_item"] = r["archive_bytes"] / pages
    r["search_index_bytes_per_item"] = r["search_index_bytes"] / pages
    r["warc_gz_bytes_per_item"] = r["warc_gz_bytes"] / pages
    r["archive_vs_warc"] = r["archive_bytes"] / r["warc_gz_bytes"]
    # The same archive rewritten packed: pages a crawl's writes left part empty (bodies
    # are keyed by their digest, so they arrive in no order) are what VACUUM gives back.
    packed = OUT / "bench-vacuumed.sqlite"
    _fresh(packed)
    con = sqlite3.connect(db_path)
    try:
        con.execute(f"VACUUM INTO '{packed}'")
    finally:
        con.close()
    vacuumed = split_search(table_bytes(packed))[0]
    r["archive_vacuumed_bytes_per_item"] = vacuumed / pages
    r["archive_vacuumed_vs_warc"] = vacuumed / r["warc_gz_bytes"]
    _fresh(packed)

    log("storage under the site's own addresses (the replica as the crawl's proxy)")
    site_storage = storage_at_site_addresses(items)
    r["site_storage"] = site_storage
    r["site_archive_bytes_per_item"] = site_storage["archive_bytes_per_item"]
    r["site_archive_vs_warc"] = site_storage["archive_vs_warc"]

    log("export")
    rates = export_rates(db)
    r["export_jsonl_records_per_s"] = rates["jsonl"]
    r["export_parquet_records_per_s"] = rates["parquet"]

    r["rss_mb_at_5k"] = r["rss_mb_small"]
    r["rss_mb_at_25k"] = r["rss_mb_large"]
    r["rss_items"] = [r["small_items"], full["item_pages"]]
    r["rss_ratio"] = r["rss_mb_large"] / r["rss_mb_small"]
    return r


def table_bytes(db_path: Path) -> dict[str, int]:
    """Bytes per table and index (SQLite's dbstat), largest first."""
    con = sqlite3.connect(db_path)
    try:
        rows = con.execute(
            "select name, sum(pgsize) from dbstat group by name order by 2 desc"
        ).fetchall()
    except sqlite3.Error:
        rows = []
    finally:
        con.close()
    return {str(name): int(size) for name, size in rows}


def _fresh(path: Path) -> None:
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        p.unlink(missing_ok=True)


# --------------------------------------------------------------------------- the table


GOALS = {
    "full_vs_floor": ">= 0.85",
    "noop_share_of_full": "<= 0.01",
    "epoch_missed_changes": "== 0",
    "archive_vs_warc": "<= 0.3",
    "rss_ratio": "<= 1.3",
    "rss_mb_at_25k": "< 500",
    "replica_vs_crawl": ">= 2",
}


def _met(key: str, value: Any) -> str:
    goal = GOALS.get(key)
    if goal is None or value is None:
        return ""
    op, limit = goal.split()
    ok = {
        ">=": value >= float(limit),
        "<=": value <= float(limit),
        "==": value == float(limit),
        "<": value < float(limit),
    }[op]
    return f"goal {goal}: {'met' if ok else 'MISSED'}"


def crawl_only(items: int) -> dict[str, Any]:
    """Step 2 and 3 alone (``--crawl-only``): the full crawl of ``items`` items, its CPU
    per item by stage, and the two floors, measured right after it on the same replica."""
    OUT.mkdir(parents=True, exist_ok=True)
    db_path = OUT / "bench-crawl.sqlite"
    _fresh(db_path)
    site = Site(items, seed=SEED)
    server = spawn(items=items, seed=SEED)
    r: dict[str, Any] = {
        "items": items,
        "code": str(CODE),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "load_before": os.getloadavg(),
    }
    try:
        log(f"full crawl of {items} items ({CODE})")
        full = crawl(server.url, f"sqlite:///{db_path}", "crawl-only", "--full")
        r["full_items_per_s"] = full["items_per_s"]
        r["full_seconds"] = full["seconds"]
        r["item_pages"] = full["item_pages"]
        r["full_cpu_ms_per_item"] = full["cpu_s"] * 1000 / max(1, full["item_pages"])
        r["cpu_ms_per_item"] = full["cpu_ms_per_item"]
        r["full_peak_rss_mb"] = full["peak_rss_mb"]
        r["load_after_crawl"] = os.getloadavg()
        log("fetch floor")
        r["fetch_floor_items_per_s"] = fetch_floor(site, server.url)["pages_per_s"]
        log("extract floor")
        r["extract_floor_items_per_s"] = extract_floor(site, server.url)["pages_per_s"]
        r["full_vs_floor"] = r["full_items_per_s"] / min(
            r["fetch_floor_items_per_s"], r["extract_floor_items_per_s"]
        )
    finally:
        server.stop()
    r["load_after"] = os.getloadavg()
    return r


def table(r: dict[str, Any]) -> str:
    def f(value: Any, digits: int = 1) -> str:
        if value is None:
            return "n/a"
        if isinstance(value, float):
            return f"{value:,.{digits}f}"
        return f"{value:,}" if isinstance(value, int) else str(value)

    small, large = r["rss_items"]
    rows = [
        (
            "full crawl, items/s",
            f(r["full_items_per_s"]),
            f"{r['full']['item_pages']} item pages, {r['full']['summary']['requests']} requests "
            f"in {r['full']['seconds']:.0f} s",
        ),
        ("  fetch floor (Scrapy, empty callback), items/s", f(r["fetch_floor_items_per_s"]), ""),
        (
            "  extract floor (bare trafilatura, 1 process), items/s",
            f(r["extract_floor_items_per_s"]),
            f"{r['extract_floor_pages']} pages",
        ),
        (
            "  full / min(floors)",
            f(r["full_vs_floor"], 2),
            _met("full_vs_floor", r["full_vs_floor"]),
        ),
        (
            "  peak RSS, crawl + workers, MB",
            f(r["full_peak_rss_mb"]),
            f"crawl process alone {r['full_main_peak_rss_mb']:.0f} MB",
        ),
        ("  CPU ms per item (crawl + workers)", f(r["full_cpu_ms_per_item"]), ""),
        *(
            (f"    {stage}", f(ms), "CPU ms per item")
            for stage, ms in r["full"]["cpu_ms_per_item"].items()
            if stage != "total"
        ),
        (
            "no-op run: requests",
            f(r["noop_requests"]),
            f"{r['noop_share_of_full']:.2%} of the full crawl's; "
            + _met("noop_share_of_full", r["noop_share_of_full"]),
        ),
        ("no-op run: seconds", f(r["noop_s"]), ""),
        (
            "epoch run: requests",
            f(r["epoch_requests"]),
            f"{r['epoch_changes']} changes of crawled kinds + {r['epoch_summary']['unchanged']} "
            "unchanged revisits",
        ),
        ("epoch run: seconds", f(r["epoch_s"]), ""),
        (
            "epoch run: missed changes",
            f(r["epoch_missed_changes"]),
            _met("epoch_missed_changes", r["epoch_missed_changes"])
            + f"; records differing from truth: {r['epoch_records_wrong']}",
        ),
        (
            "archive, bytes/item (search index apart)",
            f(r["archive_bytes_per_item"], 0),
            f"{r['archive_vs_warc']:.2f} of the WARC; "
            + _met("archive_vs_warc", r["archive_vs_warc"]),
        ),
        (
            "  after VACUUM, bytes/item",
            f(r["archive_vacuumed_bytes_per_item"], 0),
            f"{r['archive_vacuumed_vs_warc']:.2f} of the WARC",
        ),
        (
            "  under the site's own addresses, bytes/item",
            f(r["site_archive_bytes_per_item"], 0),
            f"{r['site_archive_vs_warc']:.2f} of its WARC "
            f"({r['site_storage']['warc_gz_bytes_per_item']:,.0f} B/item); "
            + _met("archive_vs_warc", r["site_archive_vs_warc"])
            + f"; {r['site_storage']['epoch_missed_changes']} changes missed",
        ),
        ("search index, bytes/item", f(r["search_index_bytes_per_item"], 0), ""),
        ("WARC.gz (warcio), bytes/item", f(r["warc_gz_bytes_per_item"], 0), ""),
        (f"peak RSS at {small} items, MB", f(r["rss_mb_at_5k"]), ""),
        (
            f"peak RSS at {large} items, MB",
            f(r["rss_mb_at_25k"]),
            f"x{r['rss_ratio']:.2f}; "
            + _met("rss_ratio", r["rss_ratio"])
            + "; "
            + _met("rss_mb_at_25k", r["rss_mb_at_25k"]),
        ),
        ("export JSONL, records/s", f(r["export_jsonl_records_per_s"], 0), ""),
        ("export Parquet, records/s", f(r["export_parquet_records_per_s"], 0), ""),
        (
            "replica, pages/s (4 clients)",
            f(r["replica_pages_per_s"], 0),
            f"x{r['replica_vs_crawl']:.1f} the crawl's {r['crawl_pages_per_s']:.0f} pages/s; "
            + _met("replica_vs_crawl", r["replica_vs_crawl"]),
        ),
        (
            f"ours at {small} items: items/s, date accuracy",
            f"{r['small_items_per_s']:.1f}, {r['our_date_accuracy']:.1%}",
            "",
        ),
    ]
    if r.get("peer_newsplease_items_per_s") is not None:
        p = r["peer"]
        rows.append(
            (
                f"news-please {p['version']} at {small} items: items/s, date accuracy",
                f"{p['items_per_s']:.1f}, {p['date_accuracy']:.1%}",
                f"{p['articles']} articles in {p['seconds']:.0f} s; dates right on "
                f"{p['date_accuracy_of_found']:.1%} of those it found",
            )
        )
    else:
        rows.append(("news-please", "n/a", r["notes"].get("peer", "")))
    if r.get("peer_trafilatura_items_per_s") is not None:
        p = r["peer_trafilatura"]
        rows.append(
            (
                f"trafilatura {p['version']} spider at {small} items: items/s, date accuracy",
                f"{p['items_per_s']:.1f}, {p['date_accuracy']:.1%}",
                f"{p['item_pages_found']} item pages in {p['wall_s']:.0f} s "
                f"(crawl {p['crawl_s']:.0f} s, {p['pages_visited']} pages, one at a time; "
                f"download + extraction {p['extract_s']:.0f} s); dates right on "
                f"{p['date_accuracy_of_found']:.1%} of the {p['matched']} of "
                f"{p['truth_items']} it found, titles "
                f"{p['title_exact_of_found']:.1%}",
            )
        )
    else:
        why = r["notes"].get("peer_trafilatura") or r["notes"].get("peer", "")
        rows.append(("trafilatura spider", "n/a", why))
    width = max(len(a) for a, _, _ in rows)
    lines = [
        f"osce-archive benchmarks, {r['items']} items, {r['date']}, {r['machine']}",
        f"{'measure':{width}}  {'value':>12}  note",
    ]
    lines += [f"{a:{width}}  {b:>12}  {c}".rstrip() for a, b, c in rows]
    return "\n".join(lines)


KEYS = (
    "full_items_per_s",
    "full_peak_rss_mb",
    "full_cpu_ms_per_item",
    "full_cpu_ms_per_item_by_stage",
    "fetch_floor_items_per_s",
    "extract_floor_items_per_s",
    "full_vs_floor",
    "noop_requests",
    "noop_s",
    "epoch_requests",
    "epoch_s",
    "epoch_missed_changes",
    "archive_bytes_per_item",
    "archive_vacuumed_bytes_per_item",
    "site_archive_bytes_per_item",
    "site_archive_vs_warc",
    "search_index_bytes_per_item",
    "warc_gz_bytes_per_item",
    "rss_mb_at_5k",
    "rss_mb_at_25k",
    "export_jsonl_records_per_s",
    "export_parquet_records_per_s",
    "peer_newsplease_items_per_s",
    "peer_newsplease_date_accuracy",
    "peer_trafilatura_items_per_s",
    "peer_trafilatura_date_accuracy",
    "our_date_accuracy",
    "replica_pages_per_s",
    "replica_vs_crawl",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=25000, help="replica items (default 25000)")
    parser.add_argument("--json", action="store_true", help="end with one JSON object")
    parser.add_argument(
        "--no-peer", action="store_true", help="skip the peers (news-please, trafilatura)"
    )
    parser.add_argument(
        "--crawl-only",
        action="store_true",
        help="only the full crawl (CPU per item by stage) and the two floors",
    )
    parser.add_argument(
        "--code",
        metavar="DIR",
        help="crawl with the crawler of another checkout (to compare two versions)",
    )
    args = parser.parse_args()
    global CODE
    if args.code:
        CODE = Path(args.code).resolve()
    started = time.perf_counter()
    if args.crawl_only:
        r = crawl_only(args.items)
        r["bench_seconds"] = round(time.perf_counter() - started, 1)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        text = json.dumps(r, default=str)
        (OUT / f"crawl-{args.items}-{stamp}.json").write_text(text + "\n", encoding="utf-8")
        print(text)
        return 0
    r = run(args.items, peer=not args.no_peer)
    r["bench_seconds"] = round(time.perf_counter() - started, 1)
    text = table(r)
    print(text)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    (OUT / f"run-{args.items}-{stamp}.txt").write_text(text + "\n", encoding="utf-8")
    (OUT / f"run-{args.items}-{stamp}.json").write_text(
        json.dumps(r, indent=1, default=str), encoding="utf-8"
    )
    if args.json:
        out = {k: (round(r[k], 4) if isinstance(r[k], float) else r[k]) for k in KEYS}
        out.update({k: r[k] for k in ("items", "date", "machine", "bench_seconds")})
        out["rss_items"] = r["rss_items"]
        out["notes"] = r["notes"]
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
