"""End-to-end: a date corrected where only the listing shows it is still caught.

Some items carry no date of their own: their date comes from the listing page that
lists them. When such an item's date is corrected, its page changes nothing a crawl can
date, and the listing page holding it may sit far below the pages an incremental run
reads. The benchmark found 11 such misses at 25,000 items; this test pins the case on a
small site, with an item deep enough that ordinary paging never reaches its page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from replica import ReplicaServer, Site
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


def test_incremental_run_catches_a_date_corrected_on_a_deep_listing_page(
    crawl: Any, tmp_path: Path
) -> None:
    site = Site(items=600, seed=4)  # seed 4: one such edit, on page 3 of 4+
    server = ReplicaServer(site).start()
    try:
        db = f"sqlite:///{tmp_path / 'archive.sqlite'}"
        base = server.url
        before = site.ground_truth()
        assert crawl(base, db).returncode == 0

        site.set_epoch(1)
        deep = _deep_listing_dated_date_edits(site, before)
        assert deep, "the site has no deep listing-dated date edit: the test could not fail"
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
        assert len(listing_pages) <= 2 + 2 * len(deep) + 2, listing_pages
    finally:
        server.stop()
