"""End-to-end: a date corrected where only the listing shows it is still caught.

Some items carry no date of their own: their date comes from the listing page that
lists them. When such an item's date is corrected, its page changes nothing a crawl can
date, and the listing page holding it may sit far below the pages an incremental run
reads. The benchmark found 11 such misses at 25,000 items; this test pins the case on a
small site, with an item deep enough that ordinary paging never reaches its page. The
archive's count of the items ahead of it says on which page to look; where items ahead
of it were removed since (the second test), the page it was on shows only older ones,
and the crawl follows the site's dates to the page that holds it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from replica import ReplicaServer, Site
from replica.generator import Rates
from tests.crawl.conftest import archived_records, wanted_truth

ROWS = 50  # the crawl's listing page size (OSCE_FRONTIER_LISTING_ROWS)


def _deep_listing_dated_date_edits(site: Site, before: dict[str, Any]) -> list[str]:
    """Date edits of listing-dated items listed below the first three pages of their chain."""
    after = site.ground_truth()
    deep = []
    for item_id, what in site.changes(site.epoch)["edits"].items():
        old = before.get(item_id)
        if what != "date" or old is None or old["date_source"] != "listing":
            continue
        same_kind = [r for r in after.values() if r["kind"] == old["kind"]]
        newer = sum(1 for r in same_kind if r["published"] > after[item_id]["published"])
        if newer >= 3 * ROWS:
            deep.append(item_id)
    return deep


def _predicted(rank: int, edge: int = 8) -> set[int]:
    """The listing pages the frontier reads for an item at ``rank`` in the archive: its
    page, and a neighbour where it sits within ``edge`` places of that page's edge
    (``crawler.frontier.TARGET_EDGE``)."""
    page, place = divmod(rank, ROWS)
    pages = {page}
    if place < edge and page > 0:
        pages.add(page - 1)
    if place >= ROWS - edge:
        pages.add(page + 1)
    return pages


def _corrections_caught(
    crawl: Any, tmp_path: Path, site: Site, pages_per_edit: int, moved_off: bool = False
) -> None:
    """Crawl ``site``, move it one epoch, crawl again: every deep listing-dated date
    correction is archived, every record is right, and the run read at most
    ``pages_per_edit`` listing pages for each such correction beyond the usual first
    pages. ``moved_off``: the epoch must move one of them off every page its rank in
    the archive points to (else the case is not there and the test could not fail)."""
    server = ReplicaServer(site).start()
    try:
        db = f"sqlite:///{tmp_path / 'archive.sqlite'}"
        base = server.url
        before = site.ground_truth()
        ranks = {it.node: i for i, it in enumerate(site.listing_order["press-releases"])}
        assert crawl(base, db).returncode == 0

        site.set_epoch(1)
        deep = _deep_listing_dated_date_edits(site, before)
        assert deep, "the site has no deep listing-dated date edit: the test could not fail"
        if moved_off:
            now = {it.node: i for i, it in enumerate(site.listing_order["press-releases"])}
            nodes = [int(item_id.rsplit("/", 1)[1]) for item_id in deep]
            moved = [n for n in nodes if n in now and now[n] // ROWS not in _predicted(ranks[n])]
            assert moved, "no correction left the pages its rank points to: could not fail"
        server.log.clear()
        result = crawl(base, db)
        assert result.returncode == 0, result.stderr[-2000:]

        truth = wanted_truth(site, base)
        records = archived_records(db)
        for item_id in deep:
            assert records[item_id]["published"] == truth[item_id]["published"], item_id
            assert records[item_id]["version"] == 2, item_id
        wrong = [
            k
            for k, t in truth.items()
            if any(records.get(k, {}).get(f) != t[f] for f in ("published", "title", "text"))
        ]
        assert wrong == []
        # the catch costs a few listing pages, not a full re-read of the listings
        listing_pages = [e.path for e in server.log if e.path.startswith("/press-releases?")]
        assert len(listing_pages) <= 2 + pages_per_edit * len(deep) + 2, listing_pages
    finally:
        server.stop()


def test_incremental_run_catches_a_date_corrected_on_a_deep_listing_page(
    crawl: Any, tmp_path: Path
) -> None:
    # seed 4: one such edit, on page 3 of 4+
    _corrections_caught(crawl, tmp_path, Site(items=600, seed=4), pages_per_edit=2)


def test_a_date_corrected_item_that_items_removed_ahead_of_it_moved_up_a_page_is_caught(
    crawl: Any, tmp_path: Path
) -> None:
    # seed 4 with 15 % of the items removed: 90 gone, and the one listing-dated date
    # correction deep enough moves from place 227 to 196 of the press releases, off the
    # page (and the page's edges) its rank in the archive points to; the search reads
    # a page or two more, not the listing again.
    site = Site(items=600, seed=4, rates=Rates(delete=0.15))
    _corrections_caught(crawl, tmp_path, site, pages_per_edit=4, moved_off=True)
