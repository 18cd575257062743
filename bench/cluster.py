"""Cluster throughput: items/s of ``crawl --cluster`` with 1, 2 and 4 workers.

    python bench/cluster.py [--pg URL] [--items 400] [--latency 0.2] [--workers 1,2,4]
                            [--per-worker 1] [--cap 3]

Serves the replica (``python -m replica serve``, ``--items`` items) answering every
request ``--latency`` seconds late (its ``slow`` fault at rate 1), starts a Redis of its
own on a free loopback port, and for each worker count crawls the replica into a new
PostgreSQL database (made on the server of ``--pg``, default the local one, and dropped
after) with that many ``osce-archive crawl --cluster`` processes started together. Each
process fetches at most ``--per-worker`` pages at once; the cluster as a whole keeps at
most ``--cap`` item pages in progress (``OSCE_CLUSTER_CONCURRENCY``: the politeness limit
that more workers cannot lift).

Prints, for each count, the run's wall time (coordinator start to last exit), the items
archived, and items/s over the item phase (item captures / the time between the first
and the last item capture: discovery reads the listings one page after another whatever
the number of workers, so it is reported apart, in ``discovery_s``), plus the load
average. With latency dominating, items/s rises with workers up to ``--cap`` pages in
progress, then stays there. Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def admin(pg: str) -> Any:
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(pg)
    return psycopg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        dbname=url.database or "postgres",
        autocommit=True,
    )


def new_database(pg: str) -> tuple[str, str]:
    from sqlalchemy.engine import make_url

    name = f"osce_bench_cluster_{uuid.uuid4().hex[:8]}"
    with admin(pg) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, make_url(pg).set(database=name).render_as_string(hide_password=False)


def drop_database(pg: str, name: str) -> None:
    with admin(pg) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_redis(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    import redis

    port = free_port()
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
        ],  # fmt: skip
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(200):
        try:
            redis.Redis.from_url(url).ping()
            return proc, url
        except redis.RedisError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("redis-server did not start")


def crawl(site: str, db: str, redis_url: str, workers: int, args: argparse.Namespace) -> dict:
    """``workers`` processes of ``crawl --cluster``, started together, to their end."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OSCE_PROGRESS": "off"}
    cmd = [
        sys.executable, "-m", "crawler.cli", "crawl", "--site", site, "--db", db,
        "--cluster", redis_url, "--json", "--fast",
        "-s", f"CONCURRENT_REQUESTS={args.per_worker}",
        "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={args.per_worker}",
        "-s", f"OSCE_CLUSTER_CONCURRENCY={args.cap}",
        "-s", "OSCE_EXTRACT_WORKERS=0",
    ]  # fmt: skip
    folder = Path(tempfile.mkdtemp(prefix="cluster-bench-"))
    started = time.monotonic()
    procs = []
    for i in range(workers):
        out = open(folder / f"{i}.out", "w+")  # noqa: SIM115 - closed below
        err = open(folder / f"{i}.err", "w+")  # noqa: SIM115
        procs.append((subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=folder), out, err))
    summaries = []
    for proc, out, err in procs:
        if proc.wait(timeout=1800) != 0:
            err.seek(0)
            raise SystemExit(f"a worker failed ({proc.returncode}): {err.read()[-2000:]}")
        out.seek(0)
        summaries.append(json.loads(out.read().strip().splitlines()[-1]))
        out.close()
        err.close()
    wall = time.monotonic() - started
    shutil.rmtree(folder, ignore_errors=True)
    return {"wall_s": wall, "summaries": summaries}


def item_phase(db: str) -> dict[str, Any]:
    """Item captures and the span between the first and the last; the run's times."""
    from sqlalchemy import text

    from archive.db import make_engine

    engine = make_engine(db)
    try:
        with engine.connect() as conn:
            n, first, last = conn.execute(
                text(
                    "select count(*), min(fetched_at), max(fetched_at) from captures "
                    "where document_id is not null"
                )
            ).one()
            started, finished = conn.execute(
                text("select started_at, finished_at from runs order by id desc limit 1")
            ).one()
    finally:
        engine.dispose()
    span = (last - first).total_seconds() if n > 1 else 0.0
    return {
        "items": int(n),
        "item_phase_s": round(span, 1),
        "items_per_s": round(n / span, 1) if span else None,
        "discovery_s": round((first - started).total_seconds(), 1),
        "run_s": round((finished - started).total_seconds(), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1/postgres",
                        help="a PostgreSQL server's maintenance database")  # fmt: skip
    parser.add_argument("--items", type=int, default=400)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per answer")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--per-worker", type=int, default=1, help="pages at once per process")
    parser.add_argument("--cap", type=int, default=3, help="OSCE_CLUSTER_CONCURRENCY")
    args = parser.parse_args()
    if shutil.which("redis-server") is None:
        raise SystemExit("needs redis-server (Debian's redis-server package)")

    from replica.server import spawn

    faults = f"slow_rate=1,slow_seconds={args.latency}"
    replica = spawn(items=args.items, seed=1, faults=faults)
    folder = Path(tempfile.mkdtemp(prefix="cluster-bench-redis-"))
    redis_proc, redis_url = start_redis(folder)
    results = []
    try:
        for workers in [int(w) for w in args.workers.split(",")]:
            name, db = new_database(args.pg)
            load = os.getloadavg()[0]
            try:
                ran = crawl(replica.url, db, redis_url, workers, args)
                row = {"workers": workers, **item_phase(db), "wall_s": round(ran["wall_s"], 1)}
            finally:
                drop_database(args.pg, name)
            row["load_before"] = round(load, 1)
            row["load_after"] = round(os.getloadavg()[0], 1)
            results.append(row)
            print(json.dumps(row), flush=True)
    finally:
        redis_proc.kill()
        replica.stop()
        shutil.rmtree(folder, ignore_errors=True)
    print(
        f"\n{args.items} replica items, {args.latency * 1000:.0f} ms per answer, "
        f"{args.per_worker} pages at once per process, at most {args.cap} in the cluster"
    )
    print("workers  items/s (item phase)  item phase s  discovery s  run s")
    for r in results:
        print(
            f"{r['workers']:>7}  {r['items_per_s']!s:>20}  {r['item_phase_s']:>12}  "
            f"{r['discovery_s']:>11}  {r['run_s']:>5}"
        )


if __name__ == "__main__":
    main()
