"""Extraction speed against bare ``trafilatura.extract`` on the same pages, same run.

    .venv/bin/python bench/extract_speed.py [--items 300] [--repeat 1]

Renders item pages from the replica (``replica.Site``), then times, over the very same
bodies: (1) bare ``trafilatura.extract(body)`` with its defaults, (2) our
``crawler.sites.extract(body, url)`` (site profile + structural body + dates
container + furniture + dedup).  Prints pages/s of each and their ratio; speed is
never asserted in tests, only measured here, as a ratio within one run.
"""

from __future__ import annotations

import argparse
import gc
import json
import time


def _pages(items: int) -> list[tuple[str, bytes]]:
    from replica import Site

    site = Site(items=items, seed=1, epoch=0)
    base = "http://127.0.0.1:8000"
    out = []
    for path in site.item_paths():
        status, _headers, body = site.render(path, host="127.0.0.1:8000")
        if status == 200:
            out.append((base + path, body if isinstance(body, bytes) else body.encode()))
    return out


def _time(fn, pages: list[tuple[str, bytes]], repeat: int) -> float:  # noqa: ANN001
    gc.collect()
    start = time.perf_counter()
    for _ in range(repeat):
        for url, body in pages:
            fn(body, url)
    return time.perf_counter() - start


def bare_rate(pages: list[tuple[str, bytes]]) -> float:
    """Pages per second of bare ``trafilatura.extract`` over ``pages`` in this process
    (the extraction floor of bench/run.py); the first page warms imports and caches."""
    from crawler.extraction.text import bare_extract

    bare_extract(pages[0][1])
    return len(pages) / _time(lambda body, url: bare_extract(body), pages, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from crawler.extraction.text import bare_extract
    from crawler.sites import extract

    pages = _pages(args.items)
    n = len(pages) * args.repeat
    bare_extract(pages[0][1])  # warm up imports and caches of both
    extract(pages[0][1], pages[0][0])
    t_bare = _time(lambda body, url: bare_extract(body), pages, args.repeat)
    t_ours = _time(lambda body, url: extract(body, url), pages, args.repeat)
    result = {
        "pages": n,
        "bare_trafilatura_pages_per_s": round(n / t_bare, 1),
        "extract_pages_per_s": round(n / t_ours, 1),
        "ratio_ours_to_bare": round(t_ours / t_bare, 2),
        "mean_page_bytes": sum(len(b) for _, b in pages) // max(1, len(pages)),
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:32} {value}")
        print(f"25,000 pages at this rate: {25000 / (n / t_ours) / 60:.1f} min of extraction")


if __name__ == "__main__":
    main()
