"""Export speed and memory: records/s for each format, peak RSS for N records.

Builds an archive of N synthetic press releases through ``Archive.ingest`` (plain
captures and records, no crawl), then runs each export in a fresh child process so
each format's peak RSS (``VmHWM``) is its own. Memory is "flat" when the peak for N
records is close to the peak for N/2 (the same export cut at the middle with --as-of).

    .venv/bin/python bench/export_speed.py            # N = 5,000 (a few minutes at most)
    .venv/bin/python bench/export_speed.py --full     # N = 25,000 (the issue's figure)
    .venv/bin/python bench/export_speed.py --n 2000 --db postgresql://postgres@127.0.0.1/x

Figures are ratios within one run on this machine, never assertions.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive.records import Capture, Record  # noqa: E402
from archive.store import Archive  # noqa: E402

T0 = datetime(2020, 1, 1, tzinfo=timezone.utc)
WORDS = (
    "osce vienna security co-operation forum participating states mission election "
    "observation human rights minority media freedom border police reform dialogue "
    "conference chairmanship secretary general office democratic institutions project "
    "training workshop report ministerial council decision support conflict prevention"
).split()

CHILD = r"""
import json, sys, time
from archive.api import export, open_archive
def rss(field):
    for line in open('/proc/self/status'):
        if line.startswith(field):
            return int(line.split()[1])
url, fmt, out, as_of = sys.argv[1:5]
with open_archive(url) as reader:
    base = rss('VmRSS:')
    start = time.perf_counter()
    result = export(reader, fmt=fmt, output=out, as_of=as_of or None)
    seconds = time.perf_counter() - start
print(json.dumps({"count": result.count, "seconds": seconds, "base_kb": base,
                  "peak_kb": rss('VmHWM:')}))
"""


def synthetic(i: int, rng: random.Random) -> tuple[Capture, Record]:
    node = 100000 + i
    paragraphs = [
        " ".join(rng.choice(WORDS) + str(rng.randrange(1000)) for _ in range(70)) for _ in range(4)
    ]
    record = Record(
        id=f"osce.org/{node}",
        url=f"https://www.osce.org/press-releases/{node}",
        kind="press-release" if i % 3 else "story",
        title=f"Release {node}: " + " ".join(rng.choice(WORDS) for _ in range(8)),
        published=(T0 + timedelta(days=i % 3000)).date().isoformat(),
        date_source="meta",
        place="VIENNA" if i % 2 else None,
        sources=["OSCE Secretariat", "Forum for Security Co-operation"][: 1 + i % 2],
        fields_of_work=["Arms control", "Elections"][: i % 3],
        byline=None,
        language="en",
        text="\n\n".join(paragraphs),
        extractor_version="bench-1",
    )
    html = "".join(f"<p>{p}</p>" for p in paragraphs)
    body = f"<html><body><h1>{record.title}</h1>{html}</body></html>".encode()
    capture = Capture(
        url=record.url,
        status=200,
        fetched_at=T0 + timedelta(seconds=i),
        etag=f'"{node}"',
        content_type="text/html; charset=utf-8",
        body=body,
    )
    return capture, record


def build(url: str, n: int) -> float:
    rng = random.Random(1)
    archive = Archive.open(url)
    start = time.perf_counter()
    try:
        for i in range(n):
            archive.ingest(*synthetic(i, rng))
            if i and i % 5000 == 0:
                print(f"  ingested {i} ({i / (time.perf_counter() - start):.0f}/s)", flush=True)
    finally:
        archive.close()
    return time.perf_counter() - start


def measure(url: str, fmt: str, out: Path, as_of: str = "") -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, url, fmt, str(out), as_of],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    return json.loads(proc.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="records (default 5000)")
    parser.add_argument("--full", action="store_true", help="25,000 records")
    parser.add_argument("--db", default=None, help="an EMPTY database URL (default: temp SQLite)")
    args = parser.parse_args()
    n = 25000 if args.full else args.n
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        print(f"building an archive of {n} records through Archive.ingest ...", flush=True)
        seconds = build(url, n)
        print(f"ingest: {n} records in {seconds:.1f} s ({n / seconds:.0f} records/s)")
        print(
            f"{'format':8} {'records':>8} {'seconds':>8} {'records/s':>10} "
            f"{'base MB':>8} {'peak MB':>8} {'file MB':>8}"
        )
        names = {"warc": "out.warc.gz", "wacz": "out.wacz", "sqlite": "out.db"}
        for fmt in ("jsonl", "csv", "parquet", "sqlite", "warc", "wacz"):
            out = Path(tmp) / names.get(fmt, f"out.{fmt}")
            got = measure(url, fmt, out)
            size = out.stat().st_size / 1e6
            print(
                f"{fmt:8} {got['count']:>8} {got['seconds']:>8.2f} "
                f"{got['count'] / got['seconds']:>10.0f} {got['base_kb'] / 1024:>8.1f} "
                f"{got['peak_kb'] / 1024:>8.1f} {size:>8.1f}"
            )
        half = (T0 + timedelta(seconds=n // 2)).isoformat()
        for fmt in ("jsonl", "parquet"):
            got = measure(url, fmt, Path(tmp) / f"half.{fmt}", as_of=half)
            print(
                f"{fmt:8} N/2 as-of: {got['count']} records, peak "
                f"{got['peak_kb'] / 1024:.1f} MB (flat memory: close to the N peak)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
