"""Pagination read from the site (issue 13, point 4), end to end against the replica.

The replica serves 10 rows a page whatever ``rows=`` asks and answers 404 past the last
page, as captures of the real newsroom did (SITE.md). The crawl must still be complete,
within its request budget, and treat the 404 as the listing's end, not a failure: the
next run, when nothing changed, reads only the listings' first pages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from replica import Faults
from tests.crawl.conftest import archived_records, wanted_truth

ITEMS = 500
PAGE = 10
LISTINGS = {"press-release": "/press-releases?", "story": "/stories?"}


def listing_pages(server: Any, prefix: str, rows: int = PAGE) -> int:
    """Pages of a listing as the replica serves it (``rows`` rows each)."""
    return int(server.site.listing_page(prefix.strip("/?"), 0, rows)[1])


def test_ten_rows_and_404_past_the_end_full_then_nothing_changed(
    serve: Any, crawl: Any, tmp_path: Path
) -> None:
    server = serve(items=ITEMS, faults=Faults(listing_rows=PAGE, listing_end_404=True))
    base = server.url
    db = f"sqlite:///{tmp_path / 'archive.sqlite'}"
    truth = wanted_truth(server.site, base)

    full = crawl(base, db, "--full", timeout=600)
    assert full.returncode == 0, full.stderr[-2000:]
    records = archived_records(db)
    assert set(truth) <= set(records), f"missing: {sorted(set(truth) - set(records))[:5]}"
    assert full.summary["failed"] == 0
    pages = sum(listing_pages(server, prefix) for prefix in LISTINGS.values())
    requests = len(server.log)
    assert requests == full.summary["requests"]
    # Items: every item the site lists in its sitemap (an item of an unwanted kind is
    # known for one only once fetched); listing pages: those of the wanted kinds.
    items = len(server.site.ground_truth(base))
    budget = (items + pages) * 1.1
    print(f"full: {requests} requests for {items} items, {pages} listing pages")
    assert requests <= budget, (requests, budget)

    server.log.clear()
    again = crawl(base, db)
    assert again.returncode == 0, again.stderr[-2000:]
    paths = [e.path for e in server.log]
    print(f"nothing changed: {len(paths)} requests: {paths}")
    assert again.summary["new_documents"] == again.summary["new_versions"] == 0
    assert len(paths) <= 10, paths
    for prefix in LISTINGS.values():
        pages = [p for p in paths if p.startswith(prefix)]
        assert len(pages) == 1 and "page=0" in pages[0], pages


def test_without_a_pager_the_page_size_and_the_404_end_the_listing(
    serve: Any, crawl: Any, tmp_path: Path
) -> None:
    """No pager at all: pages are followed by number while they show every row asked
    for; a shorter page or the 404 past the last ends the listing."""
    faults = Faults(listing_end_404=True, listing_no_pager=True)
    server = serve(items=200, faults=faults)
    base = server.url
    db = f"sqlite:///{tmp_path / 'archive.sqlite'}"
    truth = wanted_truth(server.site, base)
    full = crawl(base, db, "--full")
    assert full.returncode == 0, full.stderr[-2000:]
    assert set(truth) <= set(archived_records(db))
    for prefix in LISTINGS.values():
        n = listing_pages(server, prefix, rows=50)
        read = [e for e in server.log if e.path.startswith(prefix)]
        # every page of the listing once, plus at most the 404 past a last full page
        assert n <= len(read) <= n + 1, (prefix, n, [e.path for e in read])
        assert all(e.status == 200 for e in read[:-1])

    server.log.clear()
    again = crawl(base, db)
    assert again.returncode == 0, again.stderr[-2000:]
    assert len(server.log) <= 10, [e.path for e in server.log]
