"""First searches one at a time, in this process: where a first answer's time goes.

    python bench/search_first.py URL [--code CHECKOUT] [--words 80]

For the commonest words of an archive's titles (as ``bench/web_latency.py`` picks them:
words of more than 3 letters in the first 3,000 titles), runs each search once, as the
reading room's first answer does: the page of hits (``page_hits``), the count of
matches when the page did not bring it, the snippets. Prints p50 / p95 of the whole and
the slowest words with their three parts; then p50 / p95 of the reading room's whole
first answer to each word (its window of 200 hits, count, snippets, page rendered; no
HTTP); then the first three hit windows the reading room keeps for deep pages (its
``SEARCH_FIRST`` and ``SEARCH_WINDOW``: 0-200, 200-2,200, 2,200-4,200 now) of three
common words in relevance and date order, built as it builds them (``ranking``: ids and
scores; ``page_hits`` on a checkout older than it). ``--code`` runs another
checkout's code on the same archive, so old and new code can be timed in turn. No
server and no concurrency: the cost of one request, not its wait (``web_latency.py``
measures that).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def some_titles(conn: Any, limit: int = 3000) -> list[str]:
    """Titles of ``limit`` versions, the words searched for: read from the versions'
    packs where the code keeps them there (revision 0024), else from their column."""
    from sqlalchemy import select, text

    from archive import texts

    if not hasattr(texts.TextReader, "fields"):  # a checkout from before revision 0024
        return [r[0] for r in conn.execute(text(f"select title from versions limit {limit}"))]
    reader = texts.TextReader(conn)
    return [reader.fields(r)["title"] for r in conn.execute(select(*texts.columns()).limit(limit))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the archive (sqlite:///FILE or postgresql://...)")
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout whose code runs")
    parser.add_argument("--words", type=int, default=80)
    args = parser.parse_args()
    sys.path.insert(0, str(args.code.resolve()))
    from sqlalchemy import create_engine

    from archive import search

    engine = create_engine(args.url)
    with engine.connect() as conn:
        titles = some_titles(conn)
        common = Counter(
            w.lower() for t in titles for w in t.split() if w.isalpha() and len(w) > 3
        ).most_common(args.words)
        # Warm the process (the text dictionaries, statement caches), as a server is
        # after its first request: else the first word pays for it.
        warm = common[-1][0]  # its time is still measured below, warm like the others
        search.add_snippets(conn, warm, search.page_hits(conn, warm)[0])
        rows = []
        for word, _ in common:
            t0 = time.perf_counter()
            hits, complete = search.page_hits(conn, word, counted=True)
            t1 = time.perf_counter()
            total = complete if complete is not None else search.count(conn, word)
            t2 = time.perf_counter()
            search.add_snippets(conn, word, hits)
            t3 = time.perf_counter()
            rows.append((t3 - t0, word, total, t1 - t0, t2 - t1, t3 - t2))
        whole = sorted(r[0] * 1000 for r in rows)
        print(f"{len(rows)} first searches, one at a time ({args.code}):")
        print(
            f"  p50 {statistics.median(whole):.1f} ms, p95 {whole[int(0.95 * len(whole))]:.1f} ms"
        )
        for ms, word, total, rank, count, snip in sorted(rows, reverse=True)[:8]:
            print(
                f"  {ms * 1000:6.1f} ms  {word:<14} {total:>6} matches: page {rank * 1000:5.1f}, "
                f"count {count * 1000:5.1f}, snippets {snip * 1000:5.1f}"
            )
        whole_answers(args.url, [w for w, _ in common])
        from web.app import SEARCH_FIRST, SEARCH_WINDOW, search_window

        starts = (0, SEARCH_FIRST, SEARCH_FIRST + SEARCH_WINDOW)
        windows = [search_window(begin, begin + 1) for begin in starts]
        shown = ", ".join(f"{o:,}-{o + n:,}" for o, n in windows)
        print(f"hit windows kept for deep pages (ms: {shown}):")
        window = getattr(search, "ranking", search.page_hits)
        for word in [w for w, _ in common[:3]]:
            for sort in ("relevance", "date"):
                spans = []
                for offset, limit in windows:
                    t0 = time.perf_counter()
                    window(conn, word, sort=sort, offset=offset, limit=limit, counted=offset == 0)
                    spans.append(f"{(time.perf_counter() - t0) * 1000:6.1f}")
                print(f"  {word:<14} {sort:<9} {' '.join(spans)}")
    engine.dispose()
    return 0


def whole_answers(url: str, words: list[str]) -> None:
    """The reading room's whole first answer to ``/search?q=WORD`` for each word, one at
    a time, in this process (no HTTP): its window of hits, count, page, snippets and
    page rendered, from a fresh reading room (nothing in its cache), opened read-only
    as ``serve`` opens it."""
    from starlette.requests import Request

    from web.app import ReadingRoom
    from web.db import readonly_engine

    def request(word: str) -> Request:
        return Request({
            "type": "http", "method": "GET", "path": "/search", "root_path": "",
            "query_string": f"q={word}".encode(), "headers": [(b"host", b"bench")],
            "server": ("bench", 80), "scheme": "http",
        })  # fmt: skip

    engine = readonly_engine(url)
    room = ReadingRoom(engine)
    room.search_page(request("zzzz"))  # warm: templates, statements
    times = []
    for word in words:
        t0 = time.perf_counter()
        response = room.search_page(request(word))
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, (word, response.status_code)
    engine.dispose()
    times.sort()
    print(
        f"  whole answers of the reading room (no HTTP): p50 {statistics.median(times):.1f} ms, "
        f"p95 {times[int(0.95 * len(times))]:.1f} ms"
    )


if __name__ == "__main__":
    sys.exit(main())
