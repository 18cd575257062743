"""Re-extraction speed against the extraction floor on both cores, same run.

    python bench/reextract_speed.py [--items 25000] [--db FILE] [--workers 2] [--serial]

Builds (once: ``--db FILE`` keeps it for the next run) an SQLite archive of ``--items``
replica item pages: each capture holds the page as the replica renders it
(``replica.Site(...).render``), ingested through the archive's own ``ingest_many`` with
the record the current extraction reads from it, stamped with an older extractor
version; one document in ten was stored with the navigation menu leaked into its text
(as yesterday's extractor did), so re-extraction writes a version for those. Then, in
the same run, over the very same stored bodies:

(a) the extraction floor on both cores: bare ``trafilatura.extract`` in 2 processes, each
    over half of the bodies (read from the archive beforehand, untimed), started
    together; items/s = bodies / wall time of the two;
(b) ``osce-archive reextract --workers N --json`` in a subprocess, on a copy of the
    archive (the base stays reusable), timed from start to exit; every document is read
    again and compared (the stored versions carry another extractor version);
(c) the floor on one core: the same in 1 process;
(d) with ``--serial``: ``osce-archive reextract --workers 1`` on another copy.

Prints items/s of each, the ratio reextract / floor(both cores) (issue 17's goal: at
least 0.85) and the load average before and after. Speed is never asserted in tests.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BASE = "https://www.osce.org"
OLD_VERSION = "bench-old"
LEAK = "Our work\n\nFields of work\n\n"


_SITE: Any = None


def _url(path: str) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def _init_builder(items: int) -> None:
    """A builder process: the replica's site model, made once."""
    global _SITE
    from replica import Site

    _SITE = Site(items=items, seed=1, epoch=0)


def _render_extract(paths: list[str]) -> list[tuple[str, bytes, Any]]:
    """(address, body, record) of each path: rendered and read as a crawl would."""
    from crawler.sites import extract

    out = []
    for path in paths:
        status, _headers, body = _SITE.render(path, host="www.osce.org")
        if status != 200:
            continue
        body = body if isinstance(body, bytes) else body.encode()
        out.append((BASE + path, body, extract(body, BASE + path)))
    return out


def build(db: str, items: int) -> dict[str, Any]:
    """The archive of ``items`` replica item pages (skipped when ``db`` has documents)."""
    from sqlalchemy import text

    from archive.records import Capture
    from archive.store import Archive

    started = time.monotonic()
    with Archive.open(_url(db)) as archive:
        with archive.engine.connect() as conn:
            have = conn.execute(text("select count(*) from documents")).scalar_one()
        if have:
            return {"documents": have, "built_s": 0, "reused": True}
        from replica import Site

        paths = Site(items=items, seed=1, epoch=0).item_paths()
        chunks = [paths[i : i + 100] for i in range(0, len(paths), 100)]
        when = datetime(2026, 1, 5, 6, 0, tzinfo=timezone.utc)
        run = archive.start_run({"bench": "reextract_speed"})
        n = 0
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(2, mp_context=context, initializer=_init_builder,
                                 initargs=(items,)) as pool:  # fmt: skip
            for pages in pool.map(_render_extract, chunks):
                batch = []
                for url, body, record in pages:
                    record.extractor_version = OLD_VERSION
                    if record.is_item and n % 10 == 0:
                        record.text = LEAK + record.text
                    n += 1
                    capture = Capture(url=url, status=200, fetched_at=when, body=body,
                                      content_type="text/html", run_id=run)  # fmt: skip
                    batch.append((capture, record))
                archive.ingest_many(batch)
                if n % 5000 < 100:
                    print(f"  built {n} pages, {time.monotonic() - started:.0f} s", flush=True)
        archive.finish_run(run, "ok", {"pages": n})
        with archive.engine.connect() as conn:
            have = conn.execute(text("select count(*) from documents")).scalar_one()
    return {"documents": have, "built_s": round(time.monotonic() - started), "reused": False}


def _capture_ids(db: str) -> list[int]:
    from archive.reextract import latest_captures
    from archive.store import Archive

    with Archive.open(_url(db), migrate=False) as archive:
        return latest_captures(archive._sessions)


def _floor_worker(db: str, ids: list[int], barrier: Any, out: Any) -> None:
    """Bare trafilatura.extract over the bodies ``ids``, read beforehand; puts
    (start, end) of the timed loop on ``out``."""
    from archive.reextract import _read_batch
    from archive.store import Archive
    from crawler.extraction.text import bare_extract

    with Archive.open(_url(db), migrate=False) as archive:
        bodies = [p.body for i in range(0, len(ids), 500)
                  for p in _read_batch(archive._sessions, ids[i : i + 500])]  # fmt: skip
    bare_extract(bodies[0])  # imports and caches warm
    barrier.wait()
    start = time.monotonic()
    for body in bodies:
        bare_extract(body)
    out.put((start, time.monotonic()))


def floor(db: str, ids: list[int], processes: int) -> dict[str, float]:
    """Items/s of bare trafilatura over the bodies ``ids`` in ``processes`` processes."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes)
    out = context.Queue()
    shares = [ids[k::processes] for k in range(processes)]
    procs = [context.Process(target=_floor_worker, args=(db, share, barrier, out))
             for share in shares]  # fmt: skip
    for p in procs:
        p.start()
    spans = [out.get() for _ in procs]
    for p in procs:
        p.join()
    seconds = max(e for _, e in spans) - min(s for s, _ in spans)
    return {"items": len(ids), "seconds": round(seconds, 1), "items_per_s": len(ids) / seconds}


def reextract(db: str, workers: int) -> dict[str, Any]:
    """``osce-archive reextract --workers N --json`` on a copy of ``db``."""
    copy = Path(tempfile.mkdtemp(prefix="reextract-bench-")) / "copy.sqlite"
    shutil.copy(db, copy)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "crawler.cli", "reextract", "--db", str(copy),
           "--workers", str(workers), "--json"]  # fmt: skip
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        proc = subprocess.Popen(cmd, stdout=stdout, stderr=stderr, text=True, env=env, cwd=ROOT)
        peak, peak_parent = 0, 0
        while proc.poll() is None:  # resident memory of the command and its workers
            parent, tree = _rss_tree(proc.pid)
            peak, peak_parent = max(peak, tree), max(peak_parent, parent)
            time.sleep(0.2)
        seconds = time.monotonic() - started
        stdout.seek(0)
        stderr.seek(0)
        out, err = stdout.read(), stderr.read()
    shutil.rmtree(copy.parent, ignore_errors=True)
    if proc.returncode != 0:
        raise SystemExit(f"reextract failed ({proc.returncode}): {err[-2000:]}")
    counters = json.loads(out.strip().splitlines()[-1])
    return {
        "workers": workers,
        "seconds": round(seconds, 1),
        "items_per_s": counters["captures"] / seconds,
        "peak_rss_mb": round(peak / 2**20),
        "peak_rss_parent_mb": round(peak_parent / 2**20),
        "counters": counters,
    }


def _rss_tree(pid: int) -> tuple[int, int]:
    """Resident bytes of ``pid``, and of it with its children (Linux /proc)."""

    def rss(p: int) -> int:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def parent_of(p: str) -> int:
        try:  # the field after the command's name, which may hold spaces and ")"
            return int(Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            return 0

    children = [int(p) for p in os.listdir("/proc") if p.isdigit() and parent_of(p) == pid]
    own = rss(pid)
    return own, own + sum(rss(c) for c in children)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=25_000)
    parser.add_argument("--db", help="the archive file to build or reuse (default: a temp file)")
    parser.add_argument("--workers", type=int, default=2, help="reextract --workers (default 2)")
    parser.add_argument("--serial", action="store_true", help="also time --workers 1")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    tmp = None
    if args.db is None:
        tmp = tempfile.mkdtemp(prefix="reextract-bench-")
        args.db = str(Path(tmp) / "archive.sqlite")
    r: dict[str, Any] = {"items": args.items, "db": args.db, "load_before": os.getloadavg()}
    print(f"building {args.items} items into {args.db}", flush=True)
    r["build"] = build(args.db, args.items)
    ids = _capture_ids(args.db)
    r["captures"] = len(ids)
    print("floor, 2 processes", flush=True)
    r["floor_2"] = floor(args.db, ids, 2)
    print(f"reextract --workers {args.workers}", flush=True)
    r["reextract"] = reextract(args.db, args.workers)
    print("floor, 1 process", flush=True)
    r["floor_1"] = floor(args.db, ids, 1)
    if args.serial:
        print("reextract --workers 1", flush=True)
        r["reextract_serial"] = reextract(args.db, 1)
    r["load_after"] = os.getloadavg()
    r["ratio_reextract_to_floor_2"] = r["reextract"]["items_per_s"] / r["floor_2"]["items_per_s"]
    r["ratio_reextract_to_floor_1"] = r["reextract"]["items_per_s"] / r["floor_1"]["items_per_s"]
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        print(json.dumps(r, default=str))
        return
    print(f"captures replayed             {r['captures']}")
    print(f"floor, both cores             {r['floor_2']['items_per_s']:.1f} items/s")
    print(f"floor, one core               {r['floor_1']['items_per_s']:.1f} items/s")
    print(f"reextract --workers {args.workers:<10}{r['reextract']['items_per_s']:.1f} items/s "
          f"({r['reextract']['seconds']} s, peak {r['reextract']['peak_rss_mb']} MB with "
          f"its workers; {r['reextract']['counters']})")  # fmt: skip
    if args.serial:
        print(f"reextract --workers 1         {r['reextract_serial']['items_per_s']:.1f} items/s")
    print(f"reextract / floor(both cores) {r['ratio_reextract_to_floor_2']:.2f} (goal 0.85)")
    print(f"load average before / after   {r['load_before']} / {r['load_after']}")


if __name__ == "__main__":
    main()
