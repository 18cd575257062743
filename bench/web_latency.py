"""Latency of the reading room under 8 concurrent clients, on SQLite and PostgreSQL.

    python bench/web_latency.py [--items 25000] [--epochs 3] [--pg URL] [--seconds 20]

Builds an archive of the replica's ground-truth records (``--items`` documents, then
``--epochs`` epochs of edits, deletions and new items, each ingested through the
archive's own ``ingest_many``: versions, change log, search index by its triggers),
serves it with ``osce-archive serve --workers N`` (one process per core by default) in a
child process and drives it with 8 client threads for a while per scenario: search (a
common word, a rare word, a phrase, a filtered search: a few queries asked again and
again, as readers do, so mostly answered from the server's cache; and words from the
archive's titles each asked about once, the uncached path), a document page, a diff
page, the all-changes feed. Prints p50/p95 per scenario, as the clients saw them and as
the server spent them (its ``Server-Timing`` header: the rest is waiting for a core, the
clients' own work and the network), the server's resident memory
(all its processes, now and peak), and the time of a word diff of two 50 KB texts (the
issue's 200 ms bound). Skips PostgreSQL without ``--pg``.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from search_first import some_titles  # noqa: E402 - bench/, beside this script

from web.testing import Server  # noqa: E402

CLIENTS = 8
#: How many of the words titles share most make the common-words scenario.
COMMON = 80
#: Scenarios to run (``--only``); empty: all.
ONLY: list[str] = []


def build(db: str, items: int, epochs: int, seed: int = 1) -> dict[str, object]:
    """Epoch 0: the replica's ground truth (skipped when ``db`` already holds documents,
    so a large archive is built once); then ``epochs`` rounds of edits to 4% of the
    documents (a word changed in a few paragraphs, some titles), ingested as new
    versions through the archive's own ``ingest_many``."""
    from sqlalchemy import text

    from archive.feed import Selection, snapshot
    from archive.records import Capture, Record
    from archive.store import Archive
    from replica import Site

    when = datetime(2026, 1, 5, 6, 0, tzinfo=timezone.utc)
    started = time.monotonic()
    rnd = random.Random(seed)
    with Archive.open(db) as archive:
        with archive.engine.connect() as conn:
            have = conn.execute(text("select count(*) from documents")).scalar_one()
        if not have:
            truth = Site(items=items, seed=seed).ground_truth("https://www.osce.org")
            run = archive.start_run({"bench": "web_latency", "epoch": 0})
            batch: list[tuple[Capture, Record | None]] = []
            for rec in truth.values():
                batch.append((_capture(rec, when, run, 0), Record.from_json(rec)))
                if len(batch) >= 500:
                    archive.ingest_many(batch)
                    batch = []
            archive.ingest_many(batch)
            archive.finish_run(run, "ok", {"epoch": 0})
        with snapshot(archive.engine) as snap:
            records = [r for r in snap.records(Selection()) if not r["deleted"]]
        with archive.engine.connect() as conn:
            edited = conn.execute(text("select count(*) from documents where current_version > 1"))
            has_edits = bool(edited.scalar_one())
        for epoch in range(1, 1 if has_edits else epochs + 1):  # a reused archive has them
            when += timedelta(days=30)
            run = archive.start_run({"bench": "web_latency", "epoch": epoch})
            batch = []
            for rec in rnd.sample(records, max(1, len(records) // 25)):
                paras = rec["text"].split("\n\n")
                for i in range(0, len(paras), 3):
                    words = paras[i].split(" ")
                    words[rnd.randrange(len(words))] = rnd.choice(["revised", "updated", "new"])
                    paras[i] = " ".join(words)
                rec = {**rec, "text": "\n\n".join(paras)}
                if rnd.random() < 0.3:
                    rec["title"] = rec["title"] + " (updated)"
                fields = {k: rec[k] for k in Record.__dataclass_fields__ if k in rec}
                batch.append((_capture(rec, when, run, epoch), Record.from_json(fields)))
            archive.ingest_many(batch)
            archive.finish_run(run, "ok", {"epoch": epoch})
            print(f"  epoch {epoch}: {len(batch)} edits, {time.monotonic() - started:.0f} s",
                  flush=True)  # fmt: skip
        if archive.engine.dialect.name == "postgresql":
            # Statistics for the planner, as autovacuum gathers them after a bulk load
            # (without them it joins every version before the full-text index).
            with archive.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text("ANALYZE"))
        with archive.engine.connect() as conn:
            docs = conn.execute(text("select count(*) from documents")).scalar_one()
            versions = conn.execute(text("select count(*) from versions")).scalar_one()
            changed = [
                r[0]
                for r in conn.execute(
                    text(
                        "select id from documents where current_version > 1 order by id limit 3000"
                    )
                )
            ]
            any_docs = [r[0] for r in conn.execute(
                text("select id from documents order by id limit 5000"))]  # fmt: skip
            titles = some_titles(conn)
    # Words people might look for, each searched once or twice: the uncached path.
    words = sorted({w.lower() for t in titles for w in t.split() if w.isalpha() and len(w) > 4})
    # The words most titles share (each in thousands of documents), most common first.
    common = [w for w, _ in Counter(w.lower() for t in titles for w in t.split()
                                    if w.isalpha() and len(w) > 3).most_common(COMMON)]  # fmt: skip
    return {"documents": docs, "versions": versions, "changed": changed, "docs": any_docs,
            "words": words, "common": common,
            "build_s": round(time.monotonic() - started)}  # fmt: skip


def _capture(rec: dict[str, object], when: datetime, run: int, epoch: int) -> object:
    from archive.records import Capture

    body = f"<html><title>{rec['title']}</title><p>{rec['id']} {epoch}</p></html>"
    return Capture(url=str(rec["url"]), status=200, fetched_at=when, body=body.encode(),
                   content_type="text/html", run_id=run)  # fmt: skip


def drive(
    url: str, paths: list[str], seconds: float, *, once: bool = False
) -> tuple[list[float], list[float]]:
    """Latencies (ms) of ``CLIENTS`` threads fetching ``paths`` in turn for ``seconds``;
    ``once``: each path is asked once in all (client k takes every k-th), so no answer
    can come from the server's cache; and the server's own times (ms) of those answers
    that told them (their ``Server-Timing``)."""
    latencies: list[float] = []
    served: list[float] = []  # the server's own time (its Server-Timing header)
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    errors: list[str] = []

    def client(offset: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as c:
            mine = paths[offset::CLIENTS] if once else paths[offset:] + paths[:offset]
            i = 0
            while time.monotonic() < stop and (i < len(mine) or not once):
                path = mine[i % len(mine)]
                t0 = time.perf_counter()
                r = c.get(path)
                ms = (time.perf_counter() - t0) * 1000
                if r.status_code != 200:
                    errors.append(f"{r.status_code} {path}")
                timing = r.headers.get("server-timing", "")
                with lock:
                    latencies.append(ms)
                    if "dur=" in timing:
                        served.append(float(timing.rpartition("dur=")[2]))
                i += 1

    offsets = [k if once else k * 7 for k in range(CLIENTS)]
    threads = [threading.Thread(target=client, args=(k,)) for k in offsets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        print(f"    {len(errors)} errors, e.g. {errors[:3]}")
    return latencies, served


def memory(pid: int) -> tuple[int, int]:
    """Resident and peak MB of the server: its process and its worker processes."""
    rss = peak = 0
    children = Path(f"/proc/{pid}/task/{pid}/children")
    for one in [pid, *map(int, children.read_text().split())]:
        fields = {}
        for line in Path(f"/proc/{one}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            fields[key] = value.strip()
        rss += int(fields["VmRSS"].split()[0]) // 1024
        peak += int(fields["VmHWM"].split()[0]) // 1024
    return rss, peak


#: Scenarios whose every request is a first (never answered from the server's cache).
FIRST_VISITS = ("search, varied words", "search, common words", "search common word, pages",
                "document page, first visit", "diff page, first visit")  # fmt: skip


def scenarios(info: dict[str, object]) -> dict[str, list[str]]:
    """Requests per scenario. The first four are a few queries asked again and again, as
    readers do (after its first answer each comes from the server's cache); those in
    :data:`FIRST_VISITS` are each asked once: the :data:`COMMON` words titles share
    most (each found in thousands of documents), the other words of titles, the pages
    of three common words in both orders, documents and diffs nobody opened yet."""
    rnd = random.Random(7)
    changed = list(info["changed"]) or list(info["docs"])  # type: ignore[call-overload]
    docs = list(info["docs"])  # type: ignore[call-overload]
    words = list(info["words"])  # type: ignore[call-overload]
    pages = [f"/search?q={w}&page={n}{s}" for w in ("osce", "security", "mission")
             for n in range(1, 101) for s in ("", "&sort=date")]  # fmt: skip
    return {
        "search common word": ["/search?q=osce", "/search?q=security", "/search?q=mission"],
        "search rare word": ["/search?q=ombudsperson", "/search?q=kyrgyz*", "/search?q=roma"],
        "search phrase": ['/search?q="human rights"', '/search?q="press freedom"'],
        "search filtered": [
            "/search?q=osce&kind=press-release&from=2015-01-01&to=2018-12-31",
            "/search?q=election&sort=date&page=3",
        ],  # fmt: skip
        "search, common words": [f"/search?q={w}" for w in info["common"]],  # type: ignore[attr-defined]
        "search, varied words": [
            f"/search?q={w}" for w in rnd.sample(words, len(words)) if w not in info["common"]
        ],  # type: ignore[operator]
        "search common word, pages": rnd.sample(pages, len(pages)),
        "document page": [f"/doc/{d}" for d in rnd.sample(docs, min(100, len(docs)))],
        "document page, first visit": [f"/doc/{d}" for d in rnd.sample(docs, len(docs))],
        "diff page": [f"/doc/{d}/diff" for d in changed[:100]],
        "diff page, first visit": [f"/doc/{d}/diff" for d in rnd.sample(changed, len(changed))],
        "feed (all changes)": ["/feed.atom"],
    }


def diff_50kb() -> float:
    from web.diff import version_diff

    rnd = random.Random(3)
    vocab = [f"w{n}" for n in range(3000)]
    paras = [" ".join(rnd.choice(vocab) for _ in range(60)) for _ in range(140)]
    old = "\n\n".join(paras)[:50_000]
    new_paras = list(paras)
    for i in range(0, len(new_paras), 7):
        words = new_paras[i].split()
        words[rnd.randrange(len(words))] = "CHANGED"
        new_paras[i] = " ".join(words)
    new = "\n\n".join(new_paras)[:50_000]
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        version_diff(1, {"text": old, "title": "a"}, 2, {"text": new, "title": "b"}).summary()
        best = min(best, (time.perf_counter() - t0) * 1000)
    return best


def bench(name: str, db: str, args: argparse.Namespace) -> None:
    print(
        f"{name}: building (or reusing) {args.items} items, {args.epochs} epochs of edits",
        flush=True,
    )
    info = build(db, args.items, args.epochs)
    print(f"{name}: {info['documents']} documents, {info['versions']} versions "
          f"(built in {info['build_s']} s)")  # fmt: skip
    server = Server(db, workers=args.workers).start()
    assert server.proc is not None
    try:
        drive(server.url, ["/", "/search?q=osce"], 2)  # warm up
        load = os.getloadavg()[0]
        print(f"{CLIENTS} clients, {args.workers} server processes; "
              f"load average {load:.1f} on {os.cpu_count()} CPUs")  # fmt: skip
        print(f"{'scenario':<28} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8}"
              f"   {'server p50':>10} {'p95':>6}")  # fmt: skip
        seen: set[str] = set()
        for label, paths in scenarios(info).items():
            if ONLY and label not in ONLY:
                continue
            if label in FIRST_VISITS:
                paths = [p for p in paths if p not in seen]  # not asked by a scenario before
            if not paths:
                print(f"{label:<28} (nothing left to ask)")
                continue
            lat, served = drive(server.url, paths, args.seconds, once=label in FIRST_VISITS)
            lat.sort()
            seen.update(paths[: len(lat)])
            p50 = statistics.median(lat)
            p95 = lat[int(0.95 * (len(lat) - 1))]
            own = sorted(served) or [float("nan")]
            print(f"{label:<28} {len(lat):>8} {p50:>8.1f} {p95:>8.1f}   "
                  f"{statistics.median(own):>10.1f} {own[int(0.95 * (len(own) - 1))]:>6.1f}",
                  flush=True)  # fmt: skip
        rss, peak = memory(server.proc.pid)
        print(f"server memory ({args.workers} processes): {rss} MB resident, {peak} MB peak")
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=25_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--pg", default=None, metavar="URL", help="an empty PostgreSQL database")
    parser.add_argument("--sqlite", default=None, metavar="FILE", help="default: a temp file")
    parser.add_argument("--no-sqlite", action="store_true", help="only PostgreSQL")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (8)")
    parser.add_argument("--only", action="append", default=[], metavar="SCENARIO",
                        help="run only this scenario (repeatable)")  # fmt: skip
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="server processes (one per core)"
    )
    args = parser.parse_args()
    global CLIENTS
    CLIENTS = args.clients
    ONLY.extend(args.only)
    print(f"word diff of two 50 KB texts: {diff_50kb():.1f} ms (best of 5)")
    with tempfile.TemporaryDirectory() as tmp:
        if args.no_sqlite:
            tmp = ""
        if tmp or args.sqlite:
            path = args.sqlite or str(Path(tmp) / "bench.sqlite")
            bench("SQLite", f"sqlite:///{path}", args)
    if args.pg:
        bench("PostgreSQL", args.pg, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
